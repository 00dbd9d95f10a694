"""The core stays free of terminals and files, and cheap to import."""

import subprocess
import sys


def modules_loaded_by(code: str) -> set[str]:
    probe = f"{code}\nimport sys\nprint(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_core_loads_neither_typer_rich_nor_pil():
    loaded = modules_loaded_by("import convcli.core\nfrom convcli.core import conv2d, conv2d_backward, vec")
    assert "numpy" in loaded
    assert not {"typer", "rich", "PIL", "click"} & loaded


def test_shape_arithmetic_does_not_load_numpy():
    loaded = modules_loaded_by("from convcli.core.shapes import conv_output_size")
    assert "numpy" not in loaded


def test_every_public_core_name_resolves():
    import convcli.core as core

    for name in core.__all__:
        assert getattr(core, name) is not None
