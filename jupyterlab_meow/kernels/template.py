"""The template process of meow's fork kernels (see ``provisioner.py``).

Run by the provisioner as ``python template.py FD PADDING`` with one end of a
socket pair as FD. It imports ipykernel and IPython once, then forks one
child per kernel launch. Each child starts a new session, applies the
environment and working directory the Jupyter server asked for, closes every
inherited file descriptor but stdio, takes the kernel's command line as its
process title (so ``ps``/``pgrep -f kernel-<id>.json`` find it as any
kernel), and runs ``IPKernelApp`` on the connection file, exactly what
``python -m ipykernel_launcher -f FILE`` would run, without paying for the
interpreter start and the imports.

This process holds no thread and no zmq socket when it forks (checked before
every fork): a child starts from a single-threaded process whose only state
is imported modules.

Protocol, one JSON object a line on the socket:

  → {"id": n, "op": "fork", "args": [...], "env": {...}, "cwd": "...", "watch": pid}
  ← {"id": n, "pid": pid}            or {"id": n, "error": "..."}
  ← {"exit": pid, "code": code}     a child ended (code as Popen.returncode: -N for signal N)
  ← {"ready": pid, "imports": seconds}   once, after the imports

When the socket reaches EOF (the server is gone) the template sends SIGTERM
to the kernels it still has, then SIGKILL to those left after 5 s, and exits.

This file is standalone: it imports nothing from meow, so it runs in any
Python that has ipykernel (the kernelspec's, not necessarily the server's).
"""

import errno
import json
import os
import select
import signal
import socket
import sys
import threading
import time

# What a kernel imports while it starts, imported once here. A module missing
# in this Python is skipped (ipykernel then imports what it needs itself).
PRELOAD = (
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
    "ipykernel.zmqshell",
    "ipykernel.iostream",
    "ipykernel.heartbeat",
    "ipykernel.eventloops",
    "ipykernel.comm",
    "ipykernel.debugger",
    "ipykernel.displayhook",
    "ipykernel.compiler",
    "ipykernel.kernelspec",
    "IPython",
    "IPython.core.interactiveshell",
    "IPython.core.completer",
    "IPython.core.history",
    "IPython.core.magics",
    "IPython.core.formatters",
    "IPython.core.display",
    "IPython.display",
    "IPython.core.profiledir",
    "IPython.core.shellapp",
    "IPython.lib.pretty",
    "IPython.core.completerlib",
    "IPython.core.debugger",
    "IPython.core.oinspect",
    "IPython.extensions.storemagic",
    "IPython.utils.wildcard",
    "tornado.platform.asyncio",
    "faulthandler",
    "pdb",
    "jupyter_client.session",
    "jupyter_client.connect",
    "comm",
    "zmq",
    "zmq.asyncio",
    "tornado.ioloop",
    "asyncio",
    "sqlite3",
    "psutil",
    "debugpy",
    "anyio",
    "json",
    "pickle",
    "inspect",
    "pydoc",
    "uuid",
)


def _preload():
    import importlib

    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - a missing optional module is fine
            pass


def _send(sock, obj):
    data = (json.dumps(obj) + "\n").encode()
    while data:
        try:
            n = sock.send(data)
        except InterruptedError:
            continue
        except OSError:
            return  # the server is gone; the main loop sees EOF
        data = data[n:]


def _set_title(args):
    """Make /proc/self/cmdline read as the kernel's command (setproctitle's way on Linux)."""
    try:
        import ctypes

        with open("/proc/self/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        # fields[0] is field 3 of proc(5); arg_start and arg_end are fields 48 and 49.
        start, end = int(fields[45]), int(fields[46])
        size = end - start
        title = b"\0".join(os.fsencode(a) for a in args) + b"\0"
        if len(title) > size:
            return False
        buf = title + b"\0" * (size - len(title))
        ctypes.memmove(start, buf, size)
        return True
    except Exception:  # noqa: BLE001 - only cosmetic for people, but tests find kernels by it
        return False


def _watch(pid):
    """Exit when process `pid` (the Jupyter server) is gone, as ipykernel does for its parent."""
    try:
        pidfd = os.pidfd_open(pid)
    except ProcessLookupError:
        os._exit(1)
    except (AttributeError, OSError):
        pidfd = None

    def run():
        if pidfd is not None:
            while True:
                try:
                    select.select([pidfd], [], [])
                    break
                except InterruptedError:
                    continue
        else:
            while True:
                time.sleep(1)
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                except PermissionError:
                    pass
        os._exit(1)

    threading.Thread(target=run, name="meow-server-watch", daemon=True).start()


def _child(req, keep_out):
    """In the forked child: become the kernel. Never returns."""
    code = 1
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        os.setsid()
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        # As Popen(close_fds=True): only stdio is inherited.
        for name in os.listdir("/proc/self/fd") if os.path.isdir("/proc/self/fd") else []:
            fd = int(name)
            if fd > 2 and fd not in keep_out:
                try:
                    os.close(fd)
                except OSError:
                    pass
        if not os.path.isdir("/proc/self/fd"):
            os.closerange(3, 4096)
        os.environ.clear()
        os.environ.update(req.get("env") or {})
        if req.get("cwd"):
            os.chdir(req["cwd"])
        args = list(req["args"])
        _set_title(list(req.get("title") or args))
        if req.get("watch"):
            _watch(int(req["watch"]))
        # As ipykernel_launcher: the launcher's folder is not on sys.path
        # (IPython's init_path puts the working directory back).
        if sys.path and sys.path[0] in ("", os.path.dirname(os.path.abspath(__file__))):
            del sys.path[0]
        try:
            import importlib.util

            argv0 = importlib.util.find_spec("ipykernel_launcher").origin
        except Exception:  # noqa: BLE001
            argv0 = "ipykernel_launcher"
        sys.argv = [argv0] + args
        from ipykernel import kernelapp

        # The parent handle is the server's pid, as for any kernel it starts
        # (it also keeps ipykernel's terminal banner off), but our watcher
        # replaces ipykernel's parent poller: the template is this process's
        # parent, not the server.
        try:
            parent = int(os.environ.get("JPY_PARENT_PID") or 0)
        except ValueError:
            parent = 0
        app = kernelapp.IPKernelApp.instance(parent_handle=parent)
        app.init_poller = lambda: None
        app.initialize(args)
        app.start()
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except BaseException:  # noqa: BLE001
        import traceback

        traceback.print_exc()
        code = 1
    try:
        import atexit

        atexit._run_exitfuncs()
    except BaseException:  # noqa: BLE001
        pass
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001
            pass
    os._exit(code)


def _exit_code(status):
    try:
        return os.waitstatus_to_exitcode(status)
    except (AttributeError, ValueError):
        if os.WIFSIGNALED(status):
            return -os.WTERMSIG(status)
        return os.WEXITSTATUS(status)


def main():
    fd = int(sys.argv[1])
    here = os.path.dirname(os.path.abspath(__file__))
    if sys.path and os.path.abspath(sys.path[0] or ".") == here:
        del sys.path[0]
    sock = socket.socket(fileno=fd)
    sock.setblocking(True)
    # debugpy (imported by ipykernel) warns about frozen modules at import;
    # kernels started the usual way print nothing there. The children
    # replace the whole environment, so this stays in the template.
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    t0 = time.monotonic()
    _preload()
    imports = time.monotonic() - t0
    # What the imports made is moved out of the collector's reach, so that a
    # collection in a child does not write to (copy) every page it inherited.
    import gc

    gc.collect()
    if hasattr(gc, "freeze"):
        gc.freeze()

    rpipe, wpipe = os.pipe()
    os.set_blocking(rpipe, False)
    os.set_blocking(wpipe, False)
    signal.set_wakeup_fd(wpipe)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    # Terminal interrupts are the kernels' business, not the template's.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    children = set()

    def reap():
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            except InterruptedError:
                continue
            if pid == 0:
                return
            children.discard(pid)
            _send(sock, {"exit": pid, "code": _exit_code(status)})

    def fork(req):
        # Refuse to fork a process with threads: the child would inherit
        # locks held by threads that do not exist there.
        if threading.active_count() != 1:
            raise RuntimeError("the template has %d threads" % threading.active_count())
        pid = os.fork()
        if pid == 0:
            _child(req, keep_out=())
        children.add(pid)
        return pid

    _send(sock, {"ready": os.getpid(), "imports": imports, "python": sys.executable})
    buf = b""
    while True:
        try:
            readable, _, _ = select.select([sock, rpipe], [], [])
        except InterruptedError:
            continue
        if rpipe in readable:
            try:
                while os.read(rpipe, 512):
                    pass
            except (BlockingIOError, InterruptedError):
                pass
            reap()
        if sock in readable:
            try:
                data = sock.recv(1 << 16)
            except InterruptedError:
                continue
            except OSError as e:
                if e.errno in (errno.EAGAIN, errno.EINTR):
                    continue
                data = b""
            if not data:
                break
            buf += data
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                if not line.strip():
                    continue
                req = json.loads(line)
                try:
                    if req.get("op") == "fork":
                        _send(sock, {"id": req["id"], "pid": fork(req)})
                    elif req.get("op") == "ping":
                        _send(sock, {"id": req["id"], "pid": os.getpid()})
                    else:
                        _send(sock, {"id": req.get("id"), "error": "unknown op %r" % req.get("op")})
                except Exception as e:  # noqa: BLE001
                    _send(sock, {"id": req.get("id"), "error": "%s: %s" % (type(e).__name__, e)})
            reap()

    # The server is gone: so are its kernels.
    for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 2.0)):
        for pid in list(children):
            try:
                os.killpg(pid, sig)
            except OSError:
                try:
                    os.kill(pid, sig)
                except OSError:
                    pass
        deadline = time.monotonic() + wait
        while children and time.monotonic() < deadline:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                children.clear()
                break
            if pid:
                children.discard(pid)
            else:
                time.sleep(0.05)
        if not children:
            break
    os._exit(0)


if __name__ == "__main__":
    main()
