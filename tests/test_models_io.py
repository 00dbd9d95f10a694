"""Models in and out: safetensors and torch.save files read with NumPy alone, ONNX out and in, `convcli import`.

The oracles are the formats' own packages (safetensors, onnx, onnxruntime) and PyTorch, each skipped where it is
not installed; the NumPy readers and writers are checked against them both ways.
"""

import json
import struct
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest

from convcli.imageio import load_model
from convcli.imageio.safetensors import SafetensorsError, read_safetensors, safetensors_bytes, write_safetensors
from convcli.imageio.torchfile import TorchFileError, read_state_dict
from tests.conftest import assert_fails, invoke

SAMPLES = Path(__file__).parent.parent / "samples"
WIDE = "conv3s2p1c8,bn,relu,avgpool2,drop0.3,fc16,relu"  # batch norm, a stride, average pooling, dropout, hidden fc
GROUPED = "conv3p1c8,relu,dwconv3p1,conv1c16,relu,pool2,conv3p1c16g4,relu,pool2"  # depthwise, pointwise, groups


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """Two small trained models: the default architecture and WIDE."""
    folder = tmp_path_factory.mktemp("models")
    made = {}
    for name, arch in (("default", None), ("wide", WIDE), ("grouped", GROUPED)):
        out = folder / f"{name}.npz"
        args = ["train", "--samples", "240", "--epochs", "1", "--batch-size", "32", "--out", out]
        result = invoke(*args, *(["--arch", arch] if arch else []), "--no-gradcheck")
        assert result.exit_code == 0, result.output
        made[name] = out
    return made


def probabilities(model, image=SAMPLES / "chelsea.png"):
    data = json.loads(invoke("predict", model, image, "--json").stdout)
    return np.array(list(data[0]["probabilities"].values()))


# --- safetensors ----------------------------------------------------------------------------------


def test_safetensors_written_here_read_there_and_back(tmp_path):
    st = pytest.importorskip("safetensors.numpy")
    tensors = {
        "0.weight": np.random.default_rng(0).standard_normal((4, 1, 3, 3)).astype(np.float32),
        "0.bias": np.arange(4, dtype=np.float64),
        "1.num_batches_tracked": np.array(7, dtype=np.int64),  # 0-d, as PyTorch's counters are
        "half": np.ones((2, 3), np.float16),
        "flags": np.array([True, False]),
    }
    write_safetensors(str(tmp_path / "ours.safetensors"), tensors, {"arch": "conv3"})
    theirs = st.load_file(str(tmp_path / "ours.safetensors"))
    for k, v in tensors.items():
        assert theirs[k].dtype == v.dtype
        np.testing.assert_array_equal(theirs[k], v)
    st.save_file(tensors, str(tmp_path / "theirs.safetensors"), metadata={"who": "them"})
    back, meta = read_safetensors(str(tmp_path / "theirs.safetensors"))
    assert meta == {"who": "them"}
    for k, v in tensors.items():
        assert back[k].shape == v.shape
        np.testing.assert_array_equal(back[k], v)


def test_bfloat16_widens_exactly(tmp_path):
    torch = pytest.importorskip("torch")
    pytest.importorskip("safetensors")
    from safetensors.torch import save_file

    t = torch.randn(5, 3).to(torch.bfloat16)
    save_file({"w": t}, str(tmp_path / "b.safetensors"))
    np.testing.assert_array_equal(read_safetensors(str(tmp_path / "b.safetensors"))[0]["w"], t.float().numpy())


def _header(text: bytes) -> bytes:
    return struct.pack("<Q", len(text)) + text


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x05\x00", "too short"),
        (struct.pack("<Q", 1 << 40) + b"{}", "header claims"),
        (struct.pack("<Q", 30) + b"{}", "ends inside its header"),
        (struct.pack("<Q", 2) + b"[]", "not a JSON object"),
        (_header(b'{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}') + b"\0" * 8, "outside the file"),
        (_header(b'{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}}') + b"\0" * 16, "16 bytes"),
        (_header(b'{"a":{"dtype":"C64","shape":[1],"data_offsets":[0,16]}}') + b"\0" * 16, "C64"),
    ],
)
def test_a_bad_safetensors_file_is_refused_saying_why(tmp_path, data, message):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(data)
    with pytest.raises(SafetensorsError, match=message):
        read_safetensors(str(path))


def test_the_same_tensors_give_the_same_bytes():
    a = {"b": np.zeros(3, np.float32), "a": np.ones((2, 2), np.float32)}
    assert safetensors_bytes(a, {"k": "v"}) == safetensors_bytes(dict(reversed(list(a.items()))), {"k": "v"})


# --- torch.save files, without PyTorch and without running their pickle ------------------------------


def _zip_with_pickle(path, payload: bytes):
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("archive/data.pkl", payload)


def test_a_pickle_that_asks_to_run_code_is_refused_and_nothing_runs(tmp_path):
    marker = tmp_path / "ran"
    # a pickle calling os.system: what torch.load(weights_only=False) would run
    payload = b"cos\nsystem\n(S'touch " + str(marker).encode() + b"'\ntR."
    _zip_with_pickle(tmp_path / "evil.pt", payload)
    with pytest.raises(TorchFileError, match=r"os\.system"):
        read_state_dict(str(tmp_path / "evil.pt"))
    assert not marker.exists()
    result = invoke("import", tmp_path / "evil.pt", "--arch", "conv3c4", "-o", tmp_path / "m.npz")
    assert_fails(result, 1, "never needs")
    assert not (tmp_path / "m.npz").exists()


def test_a_state_dict_torch_saved_reads_as_torch_reads_it(tmp_path):
    torch = pytest.importorskip("torch")
    net = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.Flatten(), torch.nn.Linear(4, 2)
    )
    state = net.state_dict()
    torch.save(state, tmp_path / "n.pt")
    ours = read_state_dict(str(tmp_path / "n.pt"))
    assert set(ours) == set(state)
    for k, v in state.items():
        np.testing.assert_array_equal(ours[k], v.numpy())
    # views of a larger storage, transposed: offsets and strides as PyTorch keeps them
    t = torch.arange(24.0).reshape(4, 6)
    torch.save({"t": t.t(), "s": t[1:3, 2:5], "h": torch.ones(3, dtype=torch.bfloat16)}, tmp_path / "v.pt")
    views = read_state_dict(str(tmp_path / "v.pt"))
    np.testing.assert_array_equal(views["t"], t.t().numpy())
    np.testing.assert_array_equal(views["s"], t[1:3, 2:5].numpy())
    np.testing.assert_array_equal(views["h"], np.ones(3, np.float32))
    torch.save(net, tmp_path / "whole.pt")  # the module object, not its state_dict: refused
    with pytest.raises(TorchFileError, match="state_dict"):
        read_state_dict(str(tmp_path / "whole.pt"))


# --- export ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["default", "wide", "grouped"])
def test_onnx_export_predicts_as_convcli_does(models, tmp_path, which):
    onnx = pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    from convcli.imageio import model_input

    out = tmp_path / "net.onnx"
    result = invoke("export", models[which], "-o", out, "--json")
    assert result.exit_code == 0, result.output
    model = onnx.load(str(out))
    onnx.checker.check_model(model, full_check=True)
    assert model.ir_version == 8
    assert {p.key for p in model.metadata_props} == {"convcli.arch", "convcli.classes", "convcli.input"}
    mf = load_model(str(models[which]))
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    for image in ("chelsea.png", "scene.png"):
        x = model_input(str(SAMPLES / image), mf.input)[None].astype(np.float32)
        logits = session.run(None, {"input": x})[0][0]
        p = np.exp(logits - logits.max())
        np.testing.assert_allclose(p / p.sum(), probabilities(models[which], SAMPLES / image), atol=1e-4)
    ops = [n.op_type for n in model.graph.node]
    if which == "wide":
        assert {"BatchNormalization", "AveragePool", "Identity", "Gemm"} <= set(ops)
    assert "Netron" in invoke("export", models[which], "-o", tmp_path / "again.onnx").stdout


def test_safetensors_export_holds_the_state_dict(models, tmp_path):
    out = tmp_path / "net.safetensors"
    assert invoke("export", models["wide"], "-o", out).exit_code == 0
    tensors, meta = read_safetensors(str(out))
    mf = load_model(str(models["wide"]))
    assert set(tensors) == set(mf.params)
    for k, v in mf.params.items():
        np.testing.assert_array_equal(tensors[k], v)
    assert meta["convcli.arch"] == WIDE
    torch = pytest.importorskip("torch")
    from safetensors.torch import load_file

    assert set(load_file(str(out))) == set(mf.params)
    del torch


def test_export_says_what_a_wrong_name_or_format_is(models, tmp_path):
    assert_fails(invoke("export", models["default"], "-o", tmp_path / "x.txt"), 2, "neither .py, .onnx nor")
    assert_fails(invoke("export", models["default"], "-o", tmp_path / "x.py", "-f", "onnx"), 2, "does not end in .onnx")
    assert_fails(invoke("export", models["default"], "-f", "keras"), 2, "--format must be")


def test_onnx_export_without_the_package_says_how_to_get_it(models, tmp_path, monkeypatch):
    import builtins

    real = builtins.__import__

    def no_onnx(name, *args, **kwargs):
        if name == "onnx" or name.startswith("onnx."):
            raise ImportError(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_onnx)
    result = invoke("export", models["default"], "-o", tmp_path / "n.onnx")
    assert_fails(result, 1, "pip install 'convcli[onnx]'")
    assert not (tmp_path / "n.onnx").exists()


# --- import ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["wide", "grouped"])
@pytest.mark.parametrize("suffix", [".onnx", ".safetensors"])
def test_an_exported_model_comes_back_whole(models, tmp_path, suffix, which):
    if suffix == ".onnx":
        pytest.importorskip("onnx")
    exported = tmp_path / f"net{suffix}"
    assert invoke("export", models[which], "-o", exported).exit_code == 0
    result = invoke("import", exported, "-o", tmp_path / "back.npz", "--json")
    assert result.exit_code == 0, result.output
    back, original = load_model(str(tmp_path / "back.npz")), load_model(str(models[which]))
    assert back.classes == original.classes
    assert back.input == original.input
    np.testing.assert_allclose(probabilities(tmp_path / "back.npz"), probabilities(models[which]), atol=1e-6)
    assert json.loads(result.stdout)["format"] == suffix[1:]
    for command in (["inspect", tmp_path / "back.npz", SAMPLES / "scene.png"], ["export", tmp_path / "back.npz",
                                                                                  "-o", tmp_path / "n.py"]):  # fmt: skip
        assert invoke(*command).exit_code == 0


def test_a_network_trained_in_pytorch_predicts_here_as_there(tmp_path):
    torch = pytest.importorskip("torch")
    from convcli.imageio import load_dataset

    ds = load_dataset("shapes", 300, (28, 28), 0.2)
    mean, std = float(ds.x_train.mean()), float(ds.x_train.std())
    x = torch.from_numpy(((ds.x_train - mean) / std).astype(np.float32))
    y = torch.from_numpy(ds.y_train).long()
    torch.manual_seed(0)
    nn = torch.nn
    net = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.BatchNorm2d(6), nn.ReLU(), nn.AvgPool2d(2), nn.Flatten(),
                        nn.Linear(6 * 14 * 14, 32), nn.ReLU(), nn.Dropout(0.2), nn.Linear(32, 6))  # fmt: skip
    opt = torch.optim.Adam(net.parameters(), 1e-2)
    for _ in range(15):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(x), y).backward()
        opt.step()
    net.eval()
    torch.save(net.state_dict(), tmp_path / "net.pt")
    arch = "conv5p2c6,bn,relu,avgpool2,fc32,relu,drop0.2"
    result = invoke("import", tmp_path / "net.pt", "--arch", arch, "--mean", mean, "--std", std,
                    "--classes", ",".join(ds.classes), "-o", tmp_path / "m.npz")  # fmt: skip
    assert result.exit_code == 0, result.output
    mf = load_model(str(tmp_path / "m.npz"))
    xt = ((ds.x_test - mf.input.mean) / mf.input.std).astype(np.float32)
    with torch.no_grad():
        theirs = torch.softmax(net(torch.from_numpy(xt)), 1).numpy()
    np.testing.assert_allclose(mf.model().predict_proba(xt), theirs, atol=1e-5)
    if pytest.importorskip("onnx"):  # the same network through PyTorch's own ONNX export (BN folded into the conv)
        with warnings.catch_warnings():  # the TorchScript exporter, deprecated but the one that needs no onnxscript
            warnings.simplefilter("ignore", DeprecationWarning)
            torch.onnx.export(net, (torch.zeros(1, 1, 28, 28),), str(tmp_path / "t.onnx"), dynamo=False)
        assert invoke("import", tmp_path / "t.onnx", "-o", tmp_path / "o.npz", "--mean", mean, "--std", std,
                      "--classes", ",".join(ds.classes)).exit_code == 0  # fmt: skip
        np.testing.assert_allclose(load_model(str(tmp_path / "o.npz")).model().predict_proba(xt), theirs, atol=1e-4)


def test_training_starts_from_safetensors_weights(models, tmp_path):
    assert invoke("export", models["default"], "-o", tmp_path / "w.safetensors").exit_code == 0
    args = ["train", "--samples", "240", "--epochs", "1", "--out", tmp_path / "m.npz", "--no-gradcheck"]
    result = invoke(*args, "--init-from", tmp_path / "w.safetensors", "--lr", "1e-9")
    assert result.exit_code == 0, result.output
    start, after = load_model(str(models["default"])), load_model(str(tmp_path / "m.npz"))
    for k, v in start.params.items():  # a learning rate of 1e-9: the weights are where they started
        np.testing.assert_allclose(after.params[k], v, atol=1e-5)


def test_import_refuses_what_it_cannot_take_and_says_why(models, tmp_path):
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Sigmoid", ["x"], ["y"], name="squash")],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 4, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1, 4, 4])],
    )
    onnx.save(helper.make_model(graph), str(tmp_path / "s.onnx"))
    assert_fails(invoke("import", tmp_path / "s.onnx", "-o", tmp_path / "a.npz"), 1, "node 1 (Sigmoid 'squash')")
    assert invoke("export", models["default"], "-o", tmp_path / "w.safetensors").exit_code == 0
    state = read_safetensors(str(tmp_path / "w.safetensors"))[0]
    write_safetensors(str(tmp_path / "bare.safetensors"), state)  # no metadata: the architecture must be given
    assert_fails(invoke("import", tmp_path / "bare.safetensors", "-o", tmp_path / "b.npz"), 2, "--arch")
    arch = load_model(str(models["default"])).arch
    wrong = invoke("import", tmp_path / "bare.safetensors", "--arch", arch, "--size", "32", "-o", tmp_path / "c.npz")
    assert_fails(wrong, 1, "--size/--channels")
    assert_fails(invoke("import", tmp_path / "w.safetensors", "--classes", "a,b", "-o", tmp_path / "d.npz"), 2,
                 "the network gives 6")  # fmt: skip
    assert_fails(invoke("import", SAMPLES / "chelsea.png", "-o", tmp_path / "e.npz"), 1, "is neither ONNX")
    for name in "abcde":
        assert not (tmp_path / f"{name}.npz").exists()


# --- training replayed ------------------------------------------------------------------------------


def test_snapshots_keep_the_first_convolution_as_it_was(tmp_path):
    from convcli.core.nn import build_model

    out = tmp_path / "r.npz"
    args = ["train", "--samples", "240", "--epochs", "2", "--batch-size", "32", "--no-gradcheck"]
    result = invoke(*args, "--snapshots", "5", "--out", out)
    assert result.exit_code == 0, result.output
    mf = load_model(str(out))
    timeline = mf.timeline
    per_epoch = -(-192 // 32)  # 240 images, 20% held out for testing
    assert timeline.steps_per_epoch == per_epoch
    total = 2 * per_epoch
    assert [s.step for s in timeline.snapshots] == [round(i * total / 4) for i in range(5)]
    start = build_model(mf.arch, (1, *mf.input.size), len(mf.classes), seed=mf.seed)
    np.testing.assert_array_equal(timeline.snapshots[0].weight, start.state()["0.weight"])  # before any step
    np.testing.assert_array_equal(timeline.snapshots[-1].weight, mf.params["0.weight"])  # after the last
    net = mf.model()
    np.testing.assert_allclose(timeline.snapshots[-1].maps, net.layers[0].forward(timeline.probe[None])[0], atol=1e-6)
    assert not np.array_equal(timeline.snapshots[1].weight, timeline.snapshots[0].weight)
    # resumed without --snapshots, the file keeps the replay it has
    assert invoke("train", "--resume", "--epochs", "3", "--out", out, "--no-gradcheck").exit_code == 0
    assert len(load_model(str(out)).timeline.snapshots) == 5


def test_the_timeline_is_replayed_as_a_gif_with_its_numbers(tmp_path):
    from PIL import Image

    out = tmp_path / "r.npz"
    args = ["train", "--samples", "240", "--epochs", "2", "--no-gradcheck", "--snapshots", "4", "--out", out]
    assert invoke(*args).exit_code == 0
    data = json.loads(invoke("inspect", out, "--timeline", "--json").stdout)
    mf = load_model(str(out))
    steps = [s.step for s in mf.timeline.snapshots]
    assert [s["step"] for s in data["snapshots"]] == steps
    losses = mf.history["step_losses"]
    assert [s["loss"] for s in data["snapshots"]][1:] == [losses[s - 1] for s in steps[1:]]
    assert data["kernel_scale"] == max(float(np.abs(s.weight).max()) for s in mf.timeline.snapshots)
    gif = tmp_path / "replay.gif"
    assert invoke("inspect", out, "--timeline", "-o", gif).exit_code == 0
    with Image.open(gif) as im:
        assert im.n_frames == 4
        frames = []
        for i in range(im.n_frames):
            im.seek(i)
            frames.append(np.asarray(im.convert("RGB")))
    assert not np.array_equal(frames[0], frames[-1])  # the kernels, the caption and the marker move


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["train", "--snapshots", "1"], 2, "--snapshots keeps 2 to"),
        (["train", "--snapshots", "5", "--resume"], 2, "give one"),
        (["train", "--snapshots", "5", "--arch", "fc16"], 2, "has none"),
    ],
)
def test_snapshots_are_refused_where_they_cannot_be_kept(tmp_path, args, code, message):
    assert_fails(invoke(*args, "--samples", "100", "--epochs", "1", "--out", tmp_path / "x.npz"), code, message)


def test_a_timeline_asks_for_what_it_needs(models, tmp_path):
    assert_fails(invoke("inspect", models["default"], "--timeline"), 2, "--snapshots N")
    assert_fails(invoke("inspect", models["default"], "--timeline", "-o", tmp_path / "r.png"), 2, ".gif")
    assert_fails(invoke("inspect", models["default"]), 2, "give an IMAGE")
    assert_fails(invoke("inspect", models["default"], SAMPLES / "scene.png", "--timeline"), 2, "takes no IMAGE")
