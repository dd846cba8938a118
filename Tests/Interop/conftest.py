"""Shared fixtures for the interop tests: where the built binaries are."""
import os
import pathlib

import pytest

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
