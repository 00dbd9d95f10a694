"""`convcli export`: the PyTorch file computes what `convcli predict` computes, from the same model file.

The comparison itself needs PyTorch (skipped without it); that the file is valid Python naming the
right modules, and the command's refusals, are checked everywhere.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from convcli.imageio import load_model, prepare_image
from tests.conftest import assert_fails, invoke

SAMPLES = Path(__file__).parent.parent / "samples"
ARCHS = [
    "",
    "conv5p2c6,relu,avgpool2,conv3c8,relu,pool2s1,fc16,relu",
    "conv3s2p2d2c4,relu,maxpool3s2p1,fc12",
    "conv3p1c6,bn,relu,drop0.2,pool2,fc16,bn,relu,drop0.5",
    "conv3p1c8,relu,dwconv3p1,conv1c16,relu,pool2,conv3p1c16g4,relu,pool2",  # depthwise, pointwise, grouped
]


@pytest.fixture(scope="module", params=ARCHS, ids=["default", "avgpool-fc", "strided-dilated", "bn-dropout", "groups"])
def exported(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp("export")
    model, net = folder / "m.npz", folder / "net.py"
    args = ["train", "--samples", "120", "--epochs", "1", "--batch-size", "32", "--out", model, "--json"]
    result = invoke(*args, *(["--arch", request.param] if request.param else []))
    assert result.exit_code == 0, result.output
    result = invoke("export", model, "-o", net)
    assert result.exit_code == 0, result.output
    return model, net


def test_the_file_is_python_naming_every_layer(exported):
    model, net = exported
    source = net.read_text(encoding="utf-8")
    compile(source, str(net), "exec")
    mf = load_model(str(model))
    for index, name in enumerate(mf.model().names):
        assert f"# {index}: {name}" in source
    assert "allow_pickle=False" in source
    assert "pickle" not in source.replace("allow_pickle=False", "").replace("without pickle", "")


def test_its_logits_are_predicts(exported):
    torch = pytest.importorskip("torch")
    model, net = exported
    module = _module(net)
    torch_net = module.load(str(model))
    mf = load_model(str(model))
    ours = mf.model()
    images = [SAMPLES / "chelsea.png", SAMPLES / "scene.png", SAMPLES / "badge.png"]
    for image in images:
        x = ((prepare_image(str(image), mf.input.size) - mf.input.mean) / mf.input.std)[None, None]
        theirs_in = module.preprocess(str(image))
        np.testing.assert_array_equal(theirs_in.numpy(), x.astype(np.float32))  # the same preprocessing
        with torch.no_grad():
            theirs = torch_net(theirs_in).numpy()
        np.testing.assert_allclose(ours.forward(x.astype(np.float32)), theirs, rtol=1e-4, atol=1e-5)
    result = invoke("predict", model, *images, "--json")
    predicted = [r["label"] for r in json.loads(result.stdout)]
    with torch.no_grad():
        labels = [module.CLASSES[int(torch_net(module.preprocess(str(i))).argmax())] for i in images]
    assert labels == predicted


def test_export_refuses_to_overwrite_and_needs_a_py_file(exported, tmp_path):
    model, net = exported
    assert_fails(invoke("export", model, "-o", net), 1, "exists; add --force")
    assert_fails(invoke("export", model, "-o", tmp_path / "net.txt"), 2, "ends in neither .py, .onnx nor .safetensors")
    assert_fails(invoke("export", tmp_path / "missing.npz", "-o", tmp_path / "n.py"), 1, "no such model file")
    assert invoke("export", model, "-o", net, "--force").exit_code == 0


def test_train_starts_from_a_state_dict(exported, tmp_path):
    """A state named as the Sequential's state_dict, changed, then trained from with a negligible step."""
    model, _ = exported
    mf = load_model(str(model))
    state = {k: v if _buffer(k) else v * 0.5 + 0.01 for k, v in mf.params.items()}
    np.savez(tmp_path / "state.npz", **state)
    out = tmp_path / "from-state.npz"
    args = ["train", "--samples", "120", "--epochs", "1", "--batch-size", "32", "--optimizer", "sgd", "--lr", "1e-12"]
    result = invoke(*args, "--out", out, "--init-from", tmp_path / "state.npz", "--json", *_arch(mf))
    assert result.exit_code == 0, result.output
    trained = load_model(str(out)).params
    for k, v in state.items():
        if not _buffer(k):  # batch norm's running statistics move with every batch, whatever the rate
            np.testing.assert_allclose(trained[k], v, atol=1e-6)


def test_init_from_refuses_what_does_not_fit(exported, tmp_path):
    model, _ = exported
    mf = load_model(str(model))
    state = dict(mf.params)
    state.pop("0.bias")
    np.savez(tmp_path / "short.npz", **state)
    args = ["train", "--samples", "120", "--epochs", "1", "--out", tmp_path / "o.npz", *_arch(mf)]
    assert_fails(invoke(*args, "--init-from", tmp_path / "short.npz"), 1, "lacks 0.bias")
    np.savez(tmp_path / "wide.npz", **{**mf.params, "0.weight": np.zeros((3, 3))})
    assert_fails(invoke(*args, "--init-from", tmp_path / "wide.npz"), 1, "0.weight is (3, 3) but the network needs")
    np.save(tmp_path / "one.npy", np.zeros(3))
    assert_fails(invoke(*args, "--init-from", tmp_path / "one.npy"), 1, "is not a file of weights")
    assert_fails(invoke(*args, "--init-from", model, "--resume"), 2, "give one")
    assert not (tmp_path / "o.npz").exists()


def test_a_pytorch_state_dict_round_trips(exported, tmp_path):
    torch = pytest.importorskip("torch")
    model, net = exported
    torch_net = _module(net).load(str(model))
    np.savez(tmp_path / "state.npz", **{k: v.numpy() for k, v in torch_net.state_dict().items()})
    mf = load_model(str(model))
    args = ["train", "--samples", "120", "--epochs", "1", "--optimizer", "sgd", "--lr", "1e-12", "--json"]
    result = invoke(*args, "--out", tmp_path / "o.npz", "--init-from", tmp_path / "state.npz", *_arch(mf))
    assert result.exit_code == 0, result.output
    for k, v in load_model(str(tmp_path / "o.npz")).params.items():
        if not _buffer(k):
            np.testing.assert_allclose(v, mf.params[k], atol=1e-6)
    assert torch is not None


def _module(path: Path):
    """An exported net.py, imported under a name of its own."""
    spec = importlib.util.spec_from_file_location(f"exported_{path.stem}_{abs(hash(path))}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _buffer(name: str) -> bool:
    return name.split(".", 1)[1] in ("running_mean", "running_var", "num_batches_tracked")


def _arch(mf) -> list[str]:
    default = "conv3p1c8,relu,pool2,conv3p1c16,relu,pool2"
    return [] if mf.arch == default else ["--arch", mf.arch]


def test_colour_training_predicts_inspects_and_exports(tmp_path):
    """--color: RGB image folders, three input channels through predict, inspect and the PyTorch file."""
    rng = np.random.default_rng(0)
    for name, channel in (("red", 0), ("green", 1), ("blue", 2)):
        (tmp_path / "data" / name).mkdir(parents=True)
        for i in range(12):
            pixels = rng.integers(0, 60, (16, 16, 3)).astype(np.uint8)
            pixels[..., channel] = rng.integers(150, 255, (16, 16))
            Image.fromarray(pixels).save(tmp_path / "data" / name / f"{i}.png")
    model = tmp_path / "rgb.npz"
    args = ["train", "--data", tmp_path / "data", "--color", "--size", "16", "--epochs", "3", "--test-split", "0.25"]
    result = invoke(*args, "--out", model, "--json")
    assert result.exit_code == 0, result.output
    mf = load_model(str(model))
    assert mf.input.channels == 3
    assert mf.params["0.weight"].shape[1] == 3
    sample = tmp_path / "data" / "green" / "0.png"
    predicted = json.loads(invoke("predict", model, sample, "--json").stdout)[0]
    assert sum(predicted["probabilities"].values()) == pytest.approx(1)
    assert invoke("inspect", model, sample, "--json").exit_code == 0
    assert invoke("predict", model, tmp_path / "data").exit_code == 0  # the labelled folder, in colour
    assert_fails(invoke("train", "--color", "--out", tmp_path / "x.npz"), 1, "drop --color")
    torch = pytest.importorskip("torch")
    assert invoke("export", model, "-o", tmp_path / "rgb.py").exit_code == 0
    module = _module(tmp_path / "rgb.py")
    x = module.preprocess(str(sample))
    assert tuple(x.shape) == (1, 3, 16, 16)
    ours = ((prepare_image(str(sample), (16, 16), 3) - mf.input.mean) / mf.input.std)[None].astype(np.float32)
    np.testing.assert_array_equal(x.numpy(), ours)
    with torch.no_grad():
        theirs = module.load(str(model))(x).numpy()
    np.testing.assert_allclose(mf.model().forward(ours), theirs, rtol=1e-4, atol=1e-5)


HOSTILE = [
    '"""\nimport os; os.system("touch pwned")\n"""',
    "\\\" \\\\ \n__import__('os').system('touch pwned') #",
    "'''; raise SystemExit('pwned') #",
    "\r\x0b\x0c\x1c\x85\u2028 end",
]


def _shape_of(source: str) -> str:
    """The module's syntax tree with every string constant blanked: what runs, whatever the strings say."""
    import ast

    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            node.value = ""
    return ast.dump(tree)


@pytest.mark.parametrize("text", HOSTILE, ids=["docstring", "escapes", "quotes", "line-ends"])
def test_no_text_from_a_model_or_its_path_becomes_code(text, tmp_path):
    """A description, class names, layer names and a model file named so as to close a docstring or start a line
    of code: the exported file runs exactly the code of a plain export, the texts kept as data."""
    from dataclasses import replace

    from convcli import imageio

    plain = tmp_path / "plain.npz"
    assert invoke("train", "--samples", "60", "--epochs", "1", "--out", plain, "--no-gradcheck").exit_code == 0
    mf = imageio.load_model(str(plain))
    hostile_mf = replace(
        mf,
        classes=[text + str(i) for i in range(len(mf.classes))],
        layers=[text for _ in mf.layers],
        data=replace(mf.data, description=text),
    )
    folder = tmp_path / "a folder"
    folder.mkdir()
    hostile = folder / ("m" + text.replace("\x00", "").replace("/", "_") + ".npz")
    imageio.save_model(str(hostile), hostile_mf)
    exported = {}
    for name, model in (("plain", plain), ("hostile", hostile)):
        out = tmp_path / f"{name}.py"
        result = invoke("export", model, "-o", out)
        assert result.exit_code == 0, result.output
        exported[name] = out.read_text(encoding="utf-8")
    assert _shape_of(exported["hostile"]) == _shape_of(exported["plain"])
    import ast

    module = ast.parse(exported["hostile"])
    constants = {
        node.targets[0].id: node.value
        for node in module.body
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
    }
    assert ast.literal_eval(constants["MODEL_PATH"]) == str(hostile)  # the path kept whole, as data
    assert ast.literal_eval(constants["CLASSES"]) == hostile_mf.classes
    assert not (tmp_path / "pwned").exists()
