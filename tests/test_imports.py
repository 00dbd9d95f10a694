"""The arrows point one way: commands, tui -> api -> render, imageio -> explain -> core.

The front ends (commands, the explorer) stand on the library API; no command imports another command.
Checked twice: statically, by reading every module's imports (those under ``if TYPE_CHECKING:`` name types
only and load nothing, so they are left out); and at run time in a fresh interpreter, by what importing a
layer (or running a command) actually loads.
"""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parent.parent / "convcli"

# what each layer may import from convcli (besides itself)
ALLOWED = {
    "core": set(),
    "explain": {"core"},
    "render": {"explain", "core"},
    "imageio": {"core"},  # files and Pillow; what it shares with explain (colours, display) lives in the core
    "api": {"render", "imageio", "explain", "core"},
    "options": {"api", "render"},  # option values are read by the library's own readers; results printed
    "tui": {"api", "render", "explain", "core", "imageio"},  # the explorer: a front end beside the commands
    "commands": {"api", "render", "options", "tui"},
    "cli": {"commands", "core", "options"},
}
FORBIDDEN_THIRD_PARTY = {
    "core": {"typer", "rich", "PIL", "click", "textual"},
    "explain": {"rich", "PIL", "typer", "textual"},
    "render": {"PIL", "typer", "textual"},
    "imageio": {"textual"},
    "api": {"textual", "typer", "click"},
    "options": {"textual"},
    "cli": {"textual"},
    "tui": {"PIL", "typer"},
}


def layer_of(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return parts[0]


def _type_checking_blocks(tree: ast.AST) -> set[int]:
    """ids of the nodes under ``if TYPE_CHECKING:``."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            inside |= {id(child) for stmt in node.body for child in ast.walk(stmt)}
    return inside


def imports_of(path: Path) -> set[str]:
    names = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = _type_checking_blocks(tree)
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: stays inside the module's own package
                continue
            names.add(node.module or "")
            if node.module == "convcli":  # from convcli import imageio: a layer by name
                names |= {f"convcli.{alias.name}" for alias in node.names if not alias.name.startswith("_")}
    return names


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if layer_of(p) in ALLOWED)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_each_module_imports_only_the_layers_below_it(path):
    layer = layer_of(path)
    for name in imports_of(path):
        top, _, rest = name.partition(".")
        if top == "convcli" and rest:
            target = rest.split(".")[0]
            assert target == layer or target in ALLOWED[layer], f"{layer} imports {name}"
            if layer == "commands" and target == "commands":
                assert name == "convcli.commands", f"{path.name} imports another command: {name}"
        assert top not in FORBIDDEN_THIRD_PARTY.get(layer, set()), f"{layer} imports {name}"


def test_every_layer_is_known():
    """A new top-level module must be given its place in ALLOWED."""
    tops = {layer_of(p) for p in PACKAGE.rglob("*.py")} - {"__init__", "__main__"}
    assert tops <= set(ALLOWED), tops - set(ALLOWED)


def modules_loaded_by(code: str) -> set[str]:
    probe = f"{code}\nimport sys\nprint(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    return set(out.splitlines()[-1].split())


def test_core_loads_neither_typer_rich_nor_pil():
    loaded = modules_loaded_by("import convcli.core\nfrom convcli.core import conv2d, conv2d_backward, vec")
    assert "numpy" in loaded
    assert not {"typer", "rich", "PIL", "click"} & loaded


def test_explain_loads_no_rich():
    names = [
        p.relative_to(PACKAGE.parent).with_suffix("").as_posix().replace("/", ".")
        for p in (PACKAGE / "explain").rglob("*.py")
    ]
    loaded = modules_loaded_by("\n".join(f"import {n.removesuffix('.__init__')}" for n in names))
    assert "convcli.explain.backprop.gradients" in loaded
    assert not {"rich", "PIL", "typer"} & loaded


def test_render_loads_no_pil():
    names = [p.stem for p in (PACKAGE / "render").glob("*.py") if p.stem != "__init__"]
    loaded = modules_loaded_by("\n".join(f"import convcli.render.{n}" for n in names))
    assert "rich" in loaded
    assert "PIL" not in loaded


def test_shape_arithmetic_does_not_load_numpy():
    loaded = modules_loaded_by("from convcli.core.shapes import conv_output_size\nimport convcli.explain.shape_report")
    assert "numpy" not in loaded


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["shape", "--H", "28", "--K", "3", "--stride", "2"],
        ["shape", "--H", "28", "--layers", "conv3,pool2", "--json"],
    ],
)
def test_help_and_shape_load_no_numpy(argv):
    code = f"import sys\nsys.argv = ['convcli', *{argv!r}]\nfrom convcli.cli import app\ntry:\n    app(prog_name='convcli')\nexcept SystemExit:\n    pass"
    loaded = modules_loaded_by(code)
    assert "typer" in loaded
    assert "numpy" not in loaded
    assert "textual" not in loaded  # only `convcli explore` pays for the full-screen app


def test_explore_help_loads_no_textual():
    code = "import sys\nsys.argv = ['convcli', 'explore', '--help']\nfrom convcli.cli import main\ntry:\n    main()\nexcept SystemExit:\n    pass"
    assert "textual" not in modules_loaded_by(code)


def test_every_public_core_name_resolves():
    import convcli.core as core

    for name in core.__all__:
        assert getattr(core, name) is not None
