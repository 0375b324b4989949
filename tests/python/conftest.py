"""Fixtures for the Python tests (run with `make test-python`).

The proxy tests start a real Jupyter server with the jupyterlab_meow server
extension (pytest-jupyter's ``jp_serverapp`` / ``jp_fetch``), whose "Node.js"
is :data:`FAKE_SERVICE`: a tiny HTTP server on the extension's Unix socket that
answers every request with what it received, so a test sees exactly what the
proxy forwarded.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest

pytest_plugins = ("pytest_jupyter.jupyter_server",)

REPO = Path(__file__).resolve().parents[2]

# Started by the extension as `<this> --enable-source-maps meow.js serve WG
# --unix-socket SOCK --exit-with-stdin`, like the real service. It refuses
# requests without the secret from its environment (401), as the real one
# does, echoes the others as JSON, appends each request to $FAKE_SERVICE_LOG,
# and exits when its stdin closes.
FAKE_SERVICE = r'''#!{python}
import json, os, socketserver, sys, threading
from http.server import BaseHTTPRequestHandler

SOCK = sys.argv[sys.argv.index("--unix-socket") + 1]
SECRET = os.environ.get("MEOW_SERVICE_SECRET")
LOG = os.environ["FAKE_SERVICE_LOG"]
LOCK = threading.Lock()


class Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _echo(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        seen = {{"method": self.command, "path": self.path, "headers": list(self.headers.items()),
                 "body": body, "argv": sys.argv[1:], "env_secret": SECRET}}
        with LOCK, open(LOG, "a") as log:
            log.write(json.dumps(seen) + "\n")
        ok = SECRET and self.headers.get("X-Meow-Secret") == SECRET
        out = json.dumps(seen if ok else {{"error": "missing or wrong secret"}}).encode()
        self.send_response(200 if ok else 401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _echo


def exit_with_stdin():
    sys.stdin.read()
    os._exit(0)


threading.Thread(target=exit_with_stdin, daemon=True).start()
socketserver.ThreadingUnixStreamServer.daemon_threads = True
socketserver.ThreadingUnixStreamServer(SOCK, Echo).serve_forever()
'''


@pytest.fixture
def fake_service_log(tmp_path) -> Path:
    log = tmp_path / "fake-service-requests.jsonl"
    log.touch()
    return log


@pytest.fixture
def fake_node(tmp_path, fake_service_log, monkeypatch) -> Path:
    script = tmp_path / "fake-node"
    script.write_text(FAKE_SERVICE.format(python=sys.executable))
    script.chmod(0o755)
    monkeypatch.setenv("FAKE_SERVICE_LOG", str(fake_service_log))
    return script


@pytest.fixture
def jp_server_config(fake_node):
    return {
        "ServerApp": {"jpserver_extensions": {"jupyterlab_meow": True}},
        "MeowServiceApp": {"node": str(fake_node), "max_restarts": 0, "stop_timeout": 3.0},
    }


@pytest.fixture
def meow_service(jp_serverapp):
    """The extension's MeowService, started (on the fake node) and reachable."""
    apps = jp_serverapp.extension_manager.extension_apps.get("jupyterlab_meow")
    assert apps, "the jupyterlab_meow server extension was not loaded"
    (app,) = apps
    service = app.service
    assert service is not None and service.error is None, service and service.error
    service.start()  # what the extension does once the server listens
    deadline = time.monotonic() + 30
    while not os.path.exists(service.socket_path):
        assert service.running, "the fake service exited before listening"
        assert time.monotonic() < deadline, "the fake service did not listen within 30 s"
        time.sleep(0.05)
    yield service
    service.stop_now()


@pytest.fixture
def forwarded(fake_service_log):
    """A function returning the requests the fake service received, oldest first."""
    def read() -> list[dict]:
        return [json.loads(line) for line in fake_service_log.read_text().splitlines() if line.strip()]
    return read
