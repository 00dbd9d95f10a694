"""README keeps its promises: two Quick start commands, every command documented and with help."""

import re
from pathlib import Path

import pytest

from convcli.cli import app
from tests.conftest import invoke

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")


def quick_start_commands() -> list[str]:
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    return [line for line in block.splitlines() if line.strip()]


def test_quick_start_holds_exactly_two_commands():
    first, second = quick_start_commands()
    assert first.startswith("pip install .")
    assert "pytest" in second


def registered_commands() -> list[str]:
    """Every command the app registers, from Typer's registry (not from parsing help text)."""
    return [c.name for c in app.registered_commands if c.name]


def test_the_registry_holds_every_command_module():
    commands_dir = Path(__file__).parent.parent / "convcli" / "commands"
    modules = {p.stem.removesuffix("_") for p in commands_dir.glob("*.py") if p.stem != "__init__"}
    assert set(registered_commands()) == modules


@pytest.mark.parametrize("name", registered_commands())
@pytest.mark.parametrize("columns", [40, 200])
def test_every_command_is_documented_and_has_help_with_examples(name, columns):
    assert f"### `convcli {name}`" in README, name
    result = invoke(name, "--help", columns=columns)
    assert result.exit_code == 0
    assert "Examples" in result.stdout
    assert f"convcli {name}" in result.stdout  # the examples name the command
    assert all(len(line) <= columns for line in result.stdout.splitlines())


ROOT = Path(__file__).parent.parent
DOCS = ROOT / "docs"


def test_readme_is_a_short_front_page():
    assert len(README.splitlines()) <= 200
    for name in registered_commands():  # one example and one picture (or a runnable line) per command
        section = README.split(f"### `convcli {name}`", 1)[1].split("\n### ", 1)[0].split("\n## ", 1)[0]
        assert f"convcli {name}" in section.split("```bash", 1)[1], name


def test_every_link_and_picture_of_the_docs_exists():
    for page in [ROOT / "README.md", *DOCS.glob("*.md"), ROOT / "CHANGELOG.md"]:
        text = page.read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
            if "://" not in target:
                assert (page.parent / target).exists(), f"{page.name} links to {target}"


def test_the_option_tables_are_the_commands_own():
    from tests.docs_tables import COMMANDS_MD, rewritten

    text = COMMANDS_MD.read_text(encoding="utf-8")
    assert rewritten(text) == text, (
        "docs/commands.md's option tables differ from --help: run python -m tests.docs_tables"
    )
    for name in registered_commands():
        assert f"<!-- options: {name} -->" in text, name


def test_the_library_pages_examples_run(tmp_path, monkeypatch):
    """Every Python block of docs/library.md runs as it is, in order, in a folder holding the samples."""
    import shutil

    shutil.copytree(ROOT / "samples", tmp_path / "samples")
    monkeypatch.chdir(tmp_path)
    text = (DOCS / "library.md").read_text(encoding="utf-8")
    namespace: dict[str, object] = {}
    for block in re.findall(r"```python\n(.*?)```", text, re.S):
        exec(compile(block, "docs/library.md", "exec"), namespace)
    assert (tmp_path / "small.npz").exists()


def test_the_documented_probes_sit_where_their_kernel_responds(tmp_path):
    # issue 24: the "probing an edge" example sat on a horizontal edge sobel-x does not see (it printed 0, 0, 0)
    import numpy as np

    root = Path(__file__).parent.parent
    texts = [(root / "docs" / "commands.md").read_text(), (root / "convcli" / "commands" / "explore.py").read_text()]
    probes = {m.groups() for t in texts for m in re.finditer(r"explore (samples/\S+) -k (\S+) --at (\d+),(\d+)", t)}
    assert probes
    for image, kernel, row, col in probes:
        out = tmp_path / "probe.npy"
        assert invoke("apply", root / image, "-k", kernel, "-o", out, "--force").exit_code == 0
        assert np.abs(np.load(out)[int(row), int(col)]).max() > 0, (image, kernel, row, col)


def test_apply_help_says_what_an_inline_zero_sum_kernel_shows():
    import json

    text = " ".join(invoke("apply", "--help", columns=200).stdout.split())
    assert "signed results rescaled" not in text
    scene = Path(__file__).parent.parent / "samples" / "scene.png"
    data = json.loads(invoke("apply", scene, "-k", "1,0,-1;2,0,-2;1,0,-1", "-o", "gx.png", "--json").stdout)
    assert data["display"] == "abs"
    assert "shows |value|" in text
