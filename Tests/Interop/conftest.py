"""Shared fixtures for the interop tests: where the built binaries are."""
import os
import pathlib

import pytest

from sim_process import SimProcess

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def bin_dir() -> pathlib.Path:
    path = os.environ.get("SWIFTEVSE_BIN")
    if not path:
        raise RuntimeError("SWIFTEVSE_BIN is not set: run the tests through scripts/test")
    return pathlib.Path(path)


@pytest.fixture(scope="session")
def repo_root() -> pathlib.Path:
    return ROOT


@pytest.fixture()
def sim(bin_dir, repo_root):
    """evse-sim on free ports with Board/sim-2x22kw.yaml: the hardware evsed drives. A test
    module that needs another simulator defines its own `sim`."""
    s = SimProcess(bin_dir, "--board", str(repo_root / "Board" / "sim-2x22kw.yaml"))
    yield s
    s.stop()
