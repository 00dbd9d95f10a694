"""The app: help, version, and the one place that maps errors to exit codes."""

import subprocess
import sys

import pytest
import typer
from typer.testing import CliRunner

from convcli import __version__
from convcli.cli import ConvcliGroup, app
from convcli.core import ShapeError


@pytest.fixture
def runner(monkeypatch):
    """A bare runner, for the test apps built here; commands of the real app go through tests.conftest.invoke."""
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "100")
    return CliRunner()


def test_version(runner):
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"convcli {__version__}"


@pytest.mark.parametrize("args", [["--help"], ["-h"]])
def test_help(runner, args):
    result = runner.invoke(app, args)
    assert result.exit_code == 0
    assert "Usage" in result.stdout
    assert "Examples" in result.stdout


def test_no_arguments_shows_help(runner):
    result = runner.invoke(app, [])
    assert "Usage" in result.output


def test_unknown_option_is_a_usage_error(runner):
    result = runner.invoke(app, ["--bogus"])
    assert result.exit_code == 2
    assert "No such option" in result.output


def _app_raising(exc):
    demo = typer.Typer(cls=ConvcliGroup)

    @demo.command()
    def boom():
        raise exc

    @demo.command()
    def other():
        pass

    return demo


@pytest.mark.parametrize(
    ("exc", "code", "message"),
    [
        (ShapeError("kernel 5 larger than the padded input 4"), 1, "Error: kernel 5 larger than the padded input 4"),
        (
            FileNotFoundError(2, "No such file or directory", "missing.png"),
            1,
            "Error: No such file or directory: missing.png",
        ),
        (KeyboardInterrupt(), 130, "Error: interrupted"),
    ],
)
def test_errors_become_one_line_on_stderr(runner, exc, code, message):
    result = runner.invoke(_app_raising(exc), ["boom"])
    assert result.exit_code == code
    assert result.stderr.strip() == message
    assert result.stdout == ""
    assert "Traceback" not in result.output


def test_python_dash_m(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "convcli", "--version"], capture_output=True, text=True, cwd=tmp_path
    )
    assert result.returncode == 0
    assert result.stdout.strip() == f"convcli {__version__}"


def test_quick_runs_and_help_load_no_pydantic():
    # issue 26: Typer coerces every parameter through a pydantic adapter (50 ms to import); convcli takes the
    # values that are plainly right itself, and leaves the wrong ones to Typer, which words the error
    code = (
        "import io, sys, contextlib\n"
        "from convcli.cli import main\n"
        "for argv in ({}):\n"
        "    sys.argv = ['convcli', *argv]\n"
        "    with contextlib.redirect_stdout(io.StringIO()):\n"
        "        try:\n"
        "            main()\n"
        "        except SystemExit:\n"
        "            pass\n"
        "print('pydantic' in sys.modules)\n"
    )
    runs = "['shape', '--H', '28', '--K', '3', '--stride', '2'], ['animate', '--H', '5', '--K', '3', '--pool', 'max', '--json'], ['shape', '--help'], ['--help']"
    done = subprocess.run([sys.executable, "-c", code.format(runs)], capture_output=True, text=True)
    assert done.stdout.strip().splitlines()[-1] == "False", done.stdout + done.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["shape", "--H", "0", "--K", "3"], "greater than or equal to 1"),
        (["shape", "--H", "x", "--K", "3"], "valid integer"),
        (["shape", "--H", "5", "--K", "3", "--stride", "2,x"], "not a valid stride"),
        (["animate", "--H", "5", "--K", "3", "--pool", "mean"], "'mean' is not one of"),
    ],
)
def test_wrong_values_are_still_worded_by_typer(args, message):
    from tests.conftest import invoke

    result = invoke(*args)
    assert result.exit_code == 2
    assert message in " ".join(result.stderr.replace("│", " ").split())
