"""Jupyter server configuration for the galata UI tests.

galata's helper sets a temporary root folder, no token and no browser; meow
then watches that folder as its workgroup, exactly as for a user.
"""
from jupyterlab.galata import configure_jupyter_server

configure_jupyter_server(c)  # noqa: F821 (c is the config object)

# Jobs should finish quickly in tests; one worker keeps ordering readable.
c.MeowServiceApp.extra_args = ["--settle", "50"]  # noqa: F821

# CI machines and containers often run as root.
c.ServerApp.allow_root = True  # noqa: F821
