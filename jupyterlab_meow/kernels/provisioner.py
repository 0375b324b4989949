"""The ``meow-fork`` kernel provisioner (see ``__init__.py``).

The provisioner runs inside the Jupyter server. The kernels it forks are
children of the template, not of the server: the template reaps them and
reports their exit codes on its socket; signals (interrupt, terminate, kill)
go straight to the kernel's process group (every child starts its own
session). A kernel whose template died lives on (its exit is then seen as
its pid disappearing); the next launch starts a new template. Each kernel
exits when the process that launched it (the server) is gone, as ipykernel
kernels do.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from typing import Any

from jupyter_client.connect import KernelConnectionInfo
from jupyter_client.provisioning import LocalProvisioner

TEMPLATE_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "template.py")
#: Room in the template's command line for a kernel's command (its process title).
TITLE_ROOM = 2048
#: How long a template may take to import ipykernel before launches go the usual way.
READY_TIMEOUT_S = 60.0
#: How long a fork request may take.
FORK_TIMEOUT_S = 30.0
#: After a template failed to start, launches go the usual way for this long.
FAILURE_BACKOFF_S = 30.0
#: Environment read by the interpreter only when it starts: kernels whose
#: values differ get different templates.
STARTUP_ENV = ("LD_PRELOAD", "LD_LIBRARY_PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE")
KERNEL_MODULES = ("ipykernel_launcher", "ipykernel")


def fork_plan(cmd: list[str]) -> tuple[str, tuple[str, ...], list[str]] | None:
    """(python, interpreter flags, kernel args) when `cmd` runs ipykernel, else None."""
    if len(cmd) < 3:
        return None
    python = cmd[0]
    flags: list[str] = []
    i = 1
    while i < len(cmd) and cmd[i] != "-m":
        arg = cmd[i]
        # Only flags that stand alone (-X opt, -E, -s, ...); anything else (a
        # script, -c, -W with a separate value) is not ipykernel's launcher.
        if not arg.startswith("-") or arg in ("-c", "-W", "-X"):
            return None
        flags.append(arg)
        i += 1
    if i + 1 >= len(cmd) or cmd[i + 1] not in KERNEL_MODULES:
        return None
    return python, tuple(flags), list(cmd[i + 2 :])


def fork_supported() -> str | None:
    """Why fork kernels cannot be used here (None when they can)."""
    if not hasattr(os, "fork") or sys.platform == "win32":
        return "this platform has no fork()"
    if os.environ.get("MEOW_FORK_KERNELS", "1") == "0":
        return "MEOW_FORK_KERNELS=0"
    return None


def _pid_gone(pid: int) -> bool:
    """True when `pid` no longer runs (or is a zombie waiting for its reaper)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] in (b"Z", b"X")
    except OSError:
        return False


class Template:
    """One template process and the line protocol to it (thread-safe, any event loop)."""

    def __init__(self, python: str, flags: tuple[str, ...], env: dict[str, str], log: Any) -> None:
        self.python = python
        self.log = log
        self.dead = False
        self.ready: concurrent.futures.Future = concurrent.futures.Future()
        self.exits: dict[int, int] = {}
        self._pending: dict[int, concurrent.futures.Future] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        ours, theirs = socket.socketpair()
        try:
            self.proc = subprocess.Popen(  # noqa: S603
                [python, *flags, TEMPLATE_SCRIPT, str(theirs.fileno()), " " * TITLE_ROOM],
                pass_fds=[theirs.fileno()],
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,
            )
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        self.sock = ours
        self.pid = self.proc.pid
        threading.Thread(target=self._read, name=f"meow-fork-template-{self.pid}", daemon=True).start()

    # -- the reader thread -------------------------------------------------

    def _read(self) -> None:
        buf = b""
        try:
            while True:
                data = self.sock.recv(1 << 16)
                if not data:
                    break
                buf += data
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    if line.strip():
                        self._handle(json.loads(line))
        except Exception as e:  # noqa: BLE001
            self.log.debug("meow-fork: template %s: %s", self.pid, e)
        finally:
            self._died()

    def _handle(self, msg: dict[str, Any]) -> None:
        if "exit" in msg:
            with self._lock:
                self.exits[int(msg["exit"])] = int(msg["code"])
        elif "ready" in msg:
            if not self.ready.done():
                self.ready.set_result(msg)
        elif "id" in msg:
            with self._lock:
                fut = self._pending.pop(msg["id"], None)
            if fut is not None and not fut.done():
                if "error" in msg:
                    fut.set_exception(RuntimeError(msg["error"]))
                else:
                    fut.set_result(msg)

    def _died(self) -> None:
        with self._lock:
            self.dead = True
            pending = list(self._pending.values())
            self._pending.clear()
        err = RuntimeError(f"the fork template (pid {self.pid}) exited")
        for fut in pending:
            if not fut.done():
                fut.set_exception(err)
        if not self.ready.done():
            self.ready.set_exception(err)
        try:
            self.sock.close()
        except OSError:
            pass
        try:
            code = self.proc.wait(timeout=30)
            self.log.debug("meow-fork: template %s exited with %s", self.pid, code)
        except Exception:  # noqa: BLE001
            pass

    # -- requests ----------------------------------------------------------

    async def request(self, payload: dict[str, Any], timeout: float) -> dict[str, Any]:
        fut: concurrent.futures.Future = concurrent.futures.Future()
        data: bytes
        with self._lock:
            if self.dead:
                raise RuntimeError(f"the fork template (pid {self.pid}) exited")
            rid = next(self._ids)
            self._pending[rid] = fut
            data = (json.dumps({**payload, "id": rid}) + "\n").encode()
            try:
                self.sock.sendall(data)
            except OSError:
                self._pending.pop(rid, None)
                raise
        try:
            return await asyncio.wait_for(asyncio.wrap_future(fut), timeout)
        finally:
            with self._lock:
                self._pending.pop(rid, None)

    async def wait_ready(self, timeout: float) -> dict[str, Any]:
        return await asyncio.wait_for(asyncio.wrap_future(self.ready), timeout)

    def exit_code(self, pid: int) -> int | None:
        with self._lock:
            return self.exits.get(pid)

    def forget(self, pid: int) -> None:
        with self._lock:
            self.exits.pop(pid, None)

    def stop(self) -> None:
        """Close our end: the template exits (taking its remaining kernels along)."""
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


_templates: dict[tuple, Template] = {}
_failed: dict[tuple, float] = {}
_templates_lock = threading.Lock()


def template_for(python: str, flags: tuple[str, ...], env: dict[str, str], log: Any) -> Template:
    """The live template for this Python, its flags and start-up environment (started if needed)."""
    startup = tuple(sorted((k, v) for k, v in env.items() if k.startswith("PYTHON") or k in STARTUP_ENV))
    key = (python, flags, startup)
    with _templates_lock:
        t = _templates.get(key)
        if t is not None and not t.dead:
            return t
        if time.monotonic() < _failed.get(key, 0.0):
            raise RuntimeError("the fork template failed to start a moment ago")
        tenv = {k: v for k, v in env.items() if not k.startswith("JPY_")}
        t = Template(python, flags, tenv, log)
        _templates[key] = t
        log.info("meow-fork: started a kernel template (pid %s) for %s", t.pid, python)
        return t


def _mark_failed(t: Template) -> None:
    with _templates_lock:
        for key, value in list(_templates.items()):
            if value is t:
                del _templates[key]
                _failed[key] = time.monotonic() + FAILURE_BACKOFF_S
    t.stop()


def live_templates() -> list[Template]:
    with _templates_lock:
        return [t for t in _templates.values() if not t.dead]


class ForkProvisioner(LocalProvisioner):  # type: ignore[misc]
    """ipykernel kernels forked from a pre-imported template; anything else as LocalProvisioner."""

    _fork_template: Template | None = None
    _fork_pid: int | None = None
    _fork_code: int | None = None

    @property
    def forked(self) -> bool:
        return self._fork_pid is not None

    @property
    def has_process(self) -> bool:
        if self._fork_pid is not None:
            return self._fork_code is None
        return super().has_process

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> KernelConnectionInfo:
        self._fork_template = None
        self._fork_pid = None
        self._fork_code = None
        plan = fork_plan(cmd)
        why = fork_supported()
        if plan is None or why:
            if why:
                self.log.info("meow-fork: starting kernel %s the usual way: %s", self.kernel_id, why)
            else:
                self.log.debug("meow-fork: %s is not an ipykernel command: usual launch", cmd[:3])
            return await super().launch_kernel(cmd, **kwargs)
        python, flags, args = plan
        env = dict(kwargs.get("env") or os.environ)
        if not kwargs.get("independent"):
            env["JPY_PARENT_PID"] = str(os.getpid())
        cwd = kwargs.get("cwd") or os.getcwd()
        t0 = time.monotonic()
        template: Template | None = None
        try:
            template = template_for(python, flags, env, self.log)
            try:
                await template.wait_ready(READY_TIMEOUT_S)
            except Exception:
                _mark_failed(template)
                raise
            reply = await template.request(
                {
                    "op": "fork",
                    "args": args,
                    "env": env,
                    "cwd": str(cwd),
                    "watch": None if kwargs.get("independent") else os.getpid(),
                    "title": list(cmd),
                },
                FORK_TIMEOUT_S,
            )
        except Exception as e:  # noqa: BLE001
            self.log.warning(
                "meow-fork: could not fork kernel %s (%s); starting it the usual way", self.kernel_id, e
            )
            return await super().launch_kernel(cmd, **kwargs)
        self.process = None
        self._fork_template = template
        self._fork_pid = int(reply["pid"])
        self.pid = self._fork_pid
        self.pgid = self._fork_pid
        self.cwd = cwd
        self.log.debug(
            "meow-fork: kernel %s forked as pid %s from template %s in %.0f ms",
            self.kernel_id,
            self.pid,
            template.pid,
            (time.monotonic() - t0) * 1000,
        )
        return self.connection_info

    def _fork_poll(self) -> int | None:
        if self._fork_code is not None:
            return self._fork_code
        t, pid = self._fork_template, self._fork_pid
        assert t is not None and pid is not None
        code = t.exit_code(pid)
        if code is None and t.dead and _pid_gone(pid):
            # Orphaned when its template died, and reaped by init since.
            code = t.exit_code(pid)
            if code is None:
                code = -signal.SIGKILL if hasattr(signal, "SIGKILL") else 1
        if code is not None:
            self._fork_code = code
            t.forget(pid)
        return code

    async def poll(self) -> int | None:
        if self._fork_pid is None:
            return await super().poll()
        return self._fork_poll()

    async def wait(self) -> int | None:
        if self._fork_pid is None:
            return await super().wait()
        while True:
            code = self._fork_poll()
            if code is not None:
                return code
            await asyncio.sleep(0.02)

    async def send_signal(self, signum: int) -> None:
        if self._fork_pid is None:
            return await super().send_signal(signum)
        if self._fork_poll() is not None:
            return  # gone: its pid may belong to another process by now
        try:
            os.killpg(self._fork_pid, signum)
        except ProcessLookupError:
            return
        except OSError:
            os.kill(self._fork_pid, signum)

    async def kill(self, restart: bool = False) -> None:
        if self._fork_pid is None:
            return await super().kill(restart)
        try:
            await self.send_signal(signal.SIGKILL)
        except ProcessLookupError:
            pass

    async def terminate(self, restart: bool = False) -> None:
        if self._fork_pid is None:
            return await super().terminate(restart)
        try:
            await self.send_signal(signal.SIGTERM)
        except ProcessLookupError:
            pass

    async def get_provisioner_info(self) -> dict[str, Any]:
        info = await super().get_provisioner_info()
        if self._fork_template is not None:
            info["fork_template_pid"] = self._fork_template.pid
        return info
