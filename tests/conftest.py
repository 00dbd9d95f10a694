"""Shared test settings: the hypothesis profiles, the CLI runner and the failure check."""

import os

# one BLAS thread per test process: the suite runs a worker per core (pytest-xdist), and the tests' arrays are
# small, so OpenBLAS's own threads would only spin against the other worker (set before NumPy loads)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import pytest
from hypothesis import HealthCheck, settings
from PIL import Image
from typer.testing import CliRunner, Result

from convcli.cli import app

# CI keeps the whole suite well under a minute on two cores; `HYPOTHESIS_PROFILE=thorough` digs deeper.
settings.register_profile("ci", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=500, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def invoke(*args: object, columns: int = 120, env: dict[str, str] | None = None) -> Result:
    """Run convcli as a user would, with NO_COLOR and a fixed width unless ``env`` says otherwise."""
    return CliRunner().invoke(
        app, [str(a) for a in args], env={"NO_COLOR": "1", "COLUMNS": str(columns), **(env or {})}
    )


def assert_fails(result: Result, code: int, message: str, stdout_empty: bool = True) -> None:
    """The run failed with ``code`` and ``message`` on stderr (rich's box folded away), no traceback, no output."""
    assert result.exit_code == code, result.output
    assert message in " ".join(result.stderr.replace("│", " ").split()), result.stderr
    assert "Traceback" not in result.output
    if stdout_empty:
        assert result.stdout == ""


def opened(path: object) -> Image.Image:
    """An image read whole, its file closed (Pillow keeps it open until the pixels are read)."""
    with Image.open(path) as im:  # type: ignore[arg-type]
        return im.copy()


@pytest.fixture(autouse=True)
def _own_folder(tmp_path, monkeypatch):
    """Every test runs in a folder of its own: nothing a user ran in the clone (a model.npz, a filtered image)
    can change what a test sees, and nothing a test writes by a relative name lands in the clone."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def cli():
    """The CLI runner as a fixture, for tests that take their helpers as arguments."""
    return invoke
