"""MEOW for JupyterLab: notebooks as recipes, patterns as triggers, jobs as data arrives."""

try:
    from ._version import __version__
except ImportError:  # running from a source tree that was never built
    __version__ = "0.0.0"


def _jupyter_labextension_paths():
    return [{"src": "labextension", "dest": "jupyterlab-meow"}]


def _jupyter_server_extension_points():
    """The server extension that runs the meow service with Jupyter (see serverextension.py)."""
    from .serverextension import MeowServiceApp

    return [{"module": "jupyterlab_meow.serverextension", "app": MeowServiceApp}]
