"""Fixtures for the pywats-api 0.6.0rc1 hotfix tests.

The session fixture `client_venv` builds (once, then reuses) a venv with the
pinned client, the same way the role installs it; building it needs the
package index, so its tests carry the `network` marker. A failed build is a
test error with pip's output, never a skip.
"""

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # also under --import-mode=importlib
import hotfix_support as hs  # noqa: E402

REQUIREMENTS = [f"pywats-api[client-headless]=={hs.HOTFIX_VERSION}", "PySide6-Essentials"]
VENV_FIXTURES = {"client_venv", "overlay_factory"}


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "network: builds the cached client venv from the package index on first use "
        "(fails, never skips, when the index is unreachable)")


def pytest_collection_modifyitems(items):
    for item in items:
        if VENV_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.network)


@dataclass
class ClientVenv:
    root: Path
    python: Path
    site_packages: Path

    @property
    def console_script(self):
        return self.root / "bin" / "pywats-client"


def _build_venv(root, stamp):
    if root.exists():
        if not (root / "pyvenv.cfg").is_file() and any(root.iterdir()):
            pytest.fail(f"{root} is not a venv; not replacing it (see PYWATS_TEST_CACHE)",
                        pytrace=False)
        shutil.rmtree(root)
    subprocess.run([sys.executable, "-m", "venv", str(root)], check=True)
    cmd = [str(root / "bin/python"), "-m", "pip", "install", "--disable-pip-version-check",
           "--quiet", *REQUIREMENTS]
    if os.environ.get("PIP_CACHE_DIR"):
        cmd[4:4] = ["--cache-dir", os.environ["PIP_CACHE_DIR"]]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        pytest.fail(
            "Could not build the client venv (is the package index reachable?)\n"
            f"$ {' '.join(cmd)}\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}",
            pytrace=False)
    stamp.write_text("\n".join(REQUIREMENTS) + "\n")


@pytest.fixture(scope="session")
def client_venv():
    root = Path(os.environ.get("PYWATS_TEST_CACHE") or hs.REPO / ".cache/hotfix-venv")
    root = root.resolve()
    stamp = root / ".hotfix-test-requirements"
    if not stamp.is_file() or stamp.read_text().split() != REQUIREMENTS:
        _build_venv(root, stamp)
    python = root / "bin/python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True).stdout.strip()
    return ClientVenv(root=root, python=python, site_packages=Path(site))


@pytest.fixture
def overlay_factory(client_venv, tmp_path):
    """overlay_factory(patch_ids) -> directory holding a copy of the installed
    pywats_client with those hotfixes applied, to put first on PYTHONPATH."""
    count = iter(range(100))

    def make(patches):
        return hs.make_overlay(client_venv.site_packages,
                               tmp_path / f"overlay{next(count)}", patches)
    return make


@pytest.fixture
def standin():
    server = hs.StandIn()
    yield server
    server.close()


@pytest.fixture
def run_script(client_venv, tmp_path):
    """run_script(name, overlay, *args, timeout, **env) runs scripts/<name>
    with the venv's python against the overlay; returns CompletedProcess, or
    None when it had to be killed at `timeout`."""
    def run(name, overlay, *args, timeout=30, **env):
        try:
            return subprocess.run(
                [str(client_venv.python), str(hs.SCRIPTS / name), *map(str, args)],
                env=hs.client_env(tmp_path, overlay, **env),
                capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            return None
    return run
