"""`convcli train` and `convcli predict` as a user runs them, on small data the tests make."""

import gzip
import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from convcli.core.synthetic import make_shapes
from convcli.imageio import load_dataset, load_model, prepare_image
from tests.conftest import assert_fails, invoke, opened

SAMPLES = Path(__file__).parent.parent / "samples"
SMALL = ["--samples", "300", "--epochs", "2", "--batch-size", "32"]


def test_train_json_and_model_file(tmp_path):
    out = tmp_path / "m.npz"
    result = invoke("train", *SMALL, "--out", out, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert len(data["epoch_seconds"]) == 2
    assert data["train_samples"] == 240
    mf = load_model(str(out))
    assert mf.epoch == 2
    # the reported accuracy is the saved model's on the held-out images, recomputed here apart
    ds = load_dataset("shapes", 300, (28, 28), 0.2)
    probs = mf.model().predict_proba(((ds.x_test - mf.input.mean) / mf.input.std).astype(np.float32))
    assert data["test_accuracy"] == pytest.approx(float((probs.argmax(axis=1) == ds.y_test).mean()))
    assert mf.history["test_accuracy"][-1] == data["test_accuracy"]
    assert mf.classes == ["circle", "square", "triangle", "plus", "cross", "bars"]
    assert mf.input.size == (28, 28)
    assert {"0.weight", "0.bias", "7.weight"} <= set(mf.params)
    assert any(k.endswith("/m") for k in mf.optimizer_state)
    assert (tmp_path / "m-kernels.png").exists()
    picture = np.asarray(opened(tmp_path / "m-kernels.png").convert("RGB")).astype(int)
    # the colour bar under the kernels: blue at the left, red at the right (its numbers under it)
    row = next(r for r in picture[-45:] if ((r == [0, 0, 255]).all(-1)).any())
    blue, red = (int(np.flatnonzero((row == c).all(-1))[0]) for c in ([0, 0, 255], [255, 0, 0]))
    assert blue < red


def test_terminal_report(tmp_path):
    result = invoke("train", *SMALL, "--out", tmp_path / "m.npz", "--gradcheck", "--val-split", "0.1")
    assert result.exit_code == 0, result.output
    for piece in (
        "gradient check",
        "largest",
        "epoch     loss*  train acc*   val acc     time",
        "* running means over the epoch's minibatches",
        "confusion matrix",
        "first layer's kernels",
        "loss curve",
        "test accuracy",
    ):
        assert piece in result.stdout, piece
    assert "test acc " not in result.stdout  # with a validation split, the test set is looked at once


def test_the_gradient_check_runs_by_default_on_small_models_only(tmp_path):
    small = invoke("train", *SMALL, "--out", tmp_path / "a.npz")
    assert "gradient check" in small.stdout
    assert "initial loss" in small.stdout
    assert "✓" in small.stdout.split("initial loss", 1)[1].splitlines()[0]
    off = invoke("train", *SMALL, "--out", tmp_path / "b.npz", "--no-gradcheck")
    assert "gradient check" not in off.stdout
    big = invoke("train", *SMALL, "--out", tmp_path / "c.npz", "--arch", "conv3p1c8,relu,fc64")  # 400k weights
    assert big.exit_code == 0, big.output
    assert "gradient check" not in big.stdout


def test_layers_of_the_same_spec_each_get_their_own_gradient_check_row(tmp_path):
    arch = "conv3p1c4,relu,conv3p1c4,relu,pool2"  # the second conv keeps size and channels (full correlation)
    result = invoke("train", *SMALL, "--out", tmp_path / "m.npz", "--arch", arch, "--gradcheck")
    assert result.exit_code == 0, result.output
    check = result.stdout.split("gradient check", 1)[1].split("largest", 1)[0]
    for row in ("conv3p1c4 #1 weight", "conv3p1c4 #1 bias", "conv3p1c4 #2 weight", "conv3p1c4 #2 bias"):
        assert row in check, row


def test_resume_continues_as_if_never_stopped(tmp_path):
    straight, halves = tmp_path / "a.npz", tmp_path / "b.npz"
    assert invoke("train", "--samples", "200", "--epochs", "2", "--out", straight).exit_code == 0
    assert invoke("train", "--samples", "200", "--epochs", "1", "--out", halves).exit_code == 0
    resumed = invoke("train", "--epochs", "2", "--resume", "--out", halves)
    assert resumed.exit_code == 0, resumed.output
    a, b = load_model(str(straight)), load_model(str(halves))
    assert b.epoch == 2
    for k in a.params:
        np.testing.assert_array_equal(a.params[k], b.params[k])
    for k in a.optimizer_state:
        np.testing.assert_array_equal(a.optimizer_state[k], b.optimizer_state[k])


def test_predict(tmp_path):
    out = tmp_path / "m.npz"
    assert invoke("train", *SMALL, "--out", out).exit_code == 0
    x, _y = make_shapes(2, seed=3)
    paths = []
    for i in range(2):
        p = tmp_path / f"img{i}.png"
        Image.fromarray((x[i, 0] * 255).astype(np.uint8)).resize((56, 56)).save(p)
        paths.append(p)
    data = json.loads(invoke("predict", out, *paths, "--json").stdout)
    assert [set(d) for d in data] == [{"image", "label", "probabilities"}] * 2
    # the same numbers by hand: the model's own preprocessing, then the core's forward pass
    mf = load_model(str(out))
    batch = np.stack([(prepare_image(str(p), mf.input.size) - mf.input.mean) / mf.input.std for p in paths])
    expected = mf.model().predict_proba(batch[:, None].astype(np.float32))
    for d, p in zip(data, expected, strict=True):
        np.testing.assert_allclose(list(d["probabilities"].values()), p, rtol=1e-5, atol=1e-7)
        assert d["label"] == mf.classes[int(p.argmax())]
    table = invoke("predict", out, *paths, columns=400)  # a row per image, however long the temporary path
    assert table.exit_code == 0, table.output
    for d in data:  # each row names its image, then the same label as the JSON
        row = next(line for line in table.stdout.splitlines() if Path(d["image"]).name in line)
        assert row.split()[1] == d["label"]


def test_image_folder_data(tmp_path):
    x, y = make_shapes(60, seed=4)
    for i in range(60):
        folder = tmp_path / "data" / ["circle", "square", "triangle", "plus", "cross", "bars"][y[i]]
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray((x[i, 0] * 255).astype(np.uint8)).convert("RGB").resize((40, 40)).save(folder / f"{i}.png")
    result = invoke(
        "train", "--data", tmp_path / "data", "--size", "20", "--epochs", "1", "--out", tmp_path / "f.npz", "--json"
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["classes"] == ["bars", "circle", "cross", "plus", "square", "triangle"]
    assert data["train_samples"] + data["test_samples"] == 60
    assert load_model(str(tmp_path / "f.npz")).input.size == (20, 20)


def _folders(root, n, seed):
    x, y = make_shapes(n, seed=seed)
    names = ["circle", "square", "triangle", "plus", "cross", "bars"]
    for i in range(n):
        folder = root / names[y[i]]
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray((x[i, 0] * 255).astype(np.uint8)).save(folder / f"{i}.png")
    return y


def test_train_and_test_subfolders_are_the_split(tmp_path):
    """torchvision's layout: data/train/<class>, data/test/<class>; --test-split does not apply to it."""
    _folders(tmp_path / "data" / "train", 48, seed=1)
    _folders(tmp_path / "data" / "test", 18, seed=2)
    args = ["train", "--data", tmp_path / "data", "--epochs", "1", "--json"]
    result = invoke(*args, "--out", tmp_path / "m.npz")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["train_samples"], data["test_samples"]) == (48, 18)
    refused = invoke(*args, "--out", tmp_path / "n.npz", "--test-split", "0.3")
    assert_fails(refused, 2, "come with their own test set")
    assert_fails(invoke("train", "--test-split", "0.3", "--out", tmp_path / "o.npz"), 2, "--test-split")


def test_predict_on_a_labelled_folder_gives_accuracy_and_confusion(tmp_path):
    model = tmp_path / "m.npz"
    assert invoke("train", "--samples", "300", "--epochs", "2", "--out", model).exit_code == 0
    y = _folders(tmp_path / "labelled", 30, seed=9)
    result = invoke("predict", model, tmp_path / "labelled", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    confusion = np.array(data["confusion"])
    assert confusion.sum() == 30
    names = ["circle", "square", "triangle", "plus", "cross", "bars"]
    assert confusion.sum(axis=1).tolist() == [int((y == names.index(c)).sum()) for c in data["classes"]]
    right = sum(r["label"] == r["true"] for r in data["images"])
    assert data["accuracy"] == pytest.approx(right / 30)
    shown = invoke("predict", model, tmp_path / "labelled")
    assert "accuracy" in shown.stdout
    assert "confusion matrix" in shown.stdout
    (tmp_path / "labelled" / "dragon").mkdir()
    assert_fails(invoke("predict", model, tmp_path / "labelled"), 1, "dragon is not one of the model's classes")


def test_the_loss_curve_is_drawn_on_a_log_scale_and_numbers_on_request(tmp_path):
    from convcli.core.training import curve_levels

    levels = curve_levels([1.0, 0.1, 0.01])
    assert levels == pytest.approx([1.0, 0.5, 0.0])  # equal ratios, equal steps
    result = invoke("train", *SMALL, "--out", tmp_path / "m.npz", "--numbers", env={"NO_COLOR": "", "TERM": "xterm"})
    assert "(log scale)" in result.stdout


def test_learning_rate_schedules():
    from convcli.core.optim import scheduled_lr

    assert scheduled_lr(0.1, "constant", 7, 1) == 0.1
    assert [scheduled_lr(1.0, "cosine", e, 4) for e in range(6)] == pytest.approx(
        [1.0, 0.8535534, 0.5, 0.1464466, 0.0, 0.0]
    )
    assert [scheduled_lr(1.0, "step", e, 2) for e in range(5)] == pytest.approx([1, 1, 0.1, 0.1, 0.01])


@pytest.mark.parametrize("schedule", ["cosine:4", "step:1"])
def test_a_schedule_resumes_bit_for_bit(tmp_path, schedule):
    """Two runs of two epochs equal one of four, the schedule's horizon stored in the model file."""
    args = ["--samples", "200", "--batch-size", "32", "--lr-schedule", schedule, "--val-split", "0.1"]
    one, two = tmp_path / "one.npz", tmp_path / "two.npz"
    assert invoke("train", *args, "--epochs", "4", "--out", one).exit_code == 0
    assert invoke("train", *args, "--epochs", "2", "--out", two).exit_code == 0
    resumed = invoke("train", "--epochs", "4", "--resume", "--out", two)
    assert resumed.exit_code == 0, resumed.output
    a, b = load_model(str(one)), load_model(str(two))
    for k in a.params:
        np.testing.assert_array_equal(a.params[k], b.params[k])
    assert a.history["lr"] == b.history["lr"]
    assert len(set(a.history["lr"])) > 1
    refused = invoke("train", "--epochs", "5", "--resume", "--out", two, "--lr-schedule", "constant")
    assert_fails(refused, 2, "--lr-schedule would")


def test_batch_norm_and_dropout_train_and_resume_bit_for_bit(tmp_path):
    args = ["--samples", "200", "--batch-size", "32", "--arch", "conv3p1c6,bn,relu,drop0.25,pool2,fc16,bn,relu,drop0.5"]
    one, two = tmp_path / "one.npz", tmp_path / "two.npz"
    first = invoke("train", *args, "--epochs", "2", "--out", one)
    assert first.exit_code == 0, first.output
    assert "gradient check" in first.stdout
    assert invoke("train", *args, "--epochs", "1", "--out", two).exit_code == 0
    assert invoke("train", "--epochs", "2", "--resume", "--out", two).exit_code == 0
    a, b = load_model(str(one)), load_model(str(two))
    assert "1.running_var" in a.params
    for k in a.params:
        np.testing.assert_array_equal(a.params[k], b.params[k])


def test_augmentation_flips_and_shifts_and_resumes_bit_for_bit(tmp_path):
    from convcli.core.training import augment

    x = np.arange(2 * 1 * 5 * 6, dtype=np.float32).reshape(2, 1, 5, 6)
    rng = np.random.default_rng(0)
    flipped = augment(x, ("flip",), rng)
    for a, b in zip(flipped, x, strict=True):
        assert np.array_equal(a, b) or np.array_equal(a, b[..., ::-1])
    shifted = augment(x, ("shift",), np.random.default_rng(3))
    for a, b in zip(shifted, x, strict=True):  # a window of the edge-padded image, at most 2 pixels off
        padded = np.pad(b, ((0, 0), (2, 2), (2, 2)), mode="edge")
        assert any(
            np.array_equal(a, padded[:, 2 - dy : 7 - dy, 2 - dx : 8 - dx]) for dy in range(-2, 3) for dx in range(-2, 3)
        )
    assert np.array_equal(
        augment(x, ("flip", "shift"), np.random.default_rng(5)), augment(x, ("flip", "shift"), np.random.default_rng(5))
    )
    assert augment(x, (), rng) is x
    args = ["--samples", "200", "--batch-size", "32", "--augment", "flip,shift"]
    one, two = tmp_path / "one.npz", tmp_path / "two.npz"
    result = invoke("train", *args, "--epochs", "2", "--out", one)
    assert "augmented by flip and shift" in result.stdout
    assert invoke("train", *args, "--epochs", "1", "--out", two).exit_code == 0
    assert invoke("train", "--epochs", "2", "--resume", "--out", two).exit_code == 0
    a, b = load_model(str(one)), load_model(str(two))
    assert b.augment == ("flip", "shift")
    for k in a.params:
        np.testing.assert_array_equal(a.params[k], b.params[k])
    assert_fails(invoke("train", "--augment", "rotate", "--out", tmp_path / "r.npz"), 2, "give flip, shift")


def test_patience_stops_early(tmp_path):
    args = ["train", "--samples", "200", "--epochs", "30", "--val-split", "0.2", "--patience", "2"]
    result = invoke(*args, "--optimizer", "sgd", "--lr", "1e-9", "--out", tmp_path / "m.npz")  # learns nothing
    assert result.exit_code == 0, result.output
    assert "early stop" in result.stdout
    assert load_model(str(tmp_path / "m.npz")).epoch == 3  # the first epoch is the best; two more without better
    assert_fails(invoke("train", "--patience", "2", "--out", tmp_path / "n.npz"), 2, "add --val-split")
    assert_fails(invoke("train", "--lr-schedule", "linear", "--out", tmp_path / "o.npz"), 2, "cosine[:T]")


def test_predict_explain_shows_the_layers(tmp_path):
    model = tmp_path / "m.npz"
    assert invoke("train", "--samples", "200", "--epochs", "1", "--out", model).exit_code == 0
    result = invoke("predict", model, SAMPLES / "scene.png", "--explain")
    assert result.exit_code == 0, result.output
    for piece in ("0 conv3p1c8", "probabilities", "saliency"):
        assert piece in result.stdout


def test_a_flat_folder_is_split_class_by_class():
    from convcli.imageio import stratified_split

    labels = np.array([0] * 50 + [1] * 10 + [2] * 3)
    held, kept = stratified_split(labels, 0.2, seed=0)
    assert sorted(np.concatenate([held, kept]).tolist()) == list(range(63))
    assert [int((labels[held] == c).sum()) for c in range(3)] == [10, 2, 1]


def test_cifar_batches_are_refused_with_the_way_to_convert(tmp_path):
    (tmp_path / "cifar-10-batches-py").mkdir()
    (tmp_path / "cifar-10-batches-py" / "data_batch_1").write_bytes(b"\x80\x04pickle")
    result = invoke("train", "--data", tmp_path, "--out", tmp_path / "m.npz")
    assert_fails(result, 1, "pickled")
    assert "train/<class>" in " ".join(result.stderr.split())


def write_idx(path, array, gz):
    header = bytes([0, 0, 8, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    opener = gzip.open if gz else open
    with opener(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


@pytest.mark.parametrize("gz", [False, True])
def test_idx_data(tmp_path, gz):
    x, y = make_shapes(120, seed=8)
    pixels = (x[:, 0] * 255).astype(np.uint8)
    suffix = ".gz" if gz else ""
    write_idx(tmp_path / f"train-images-idx3-ubyte{suffix}", pixels[:100], gz)
    write_idx(tmp_path / f"train-labels-idx1-ubyte{suffix}", y[:100], gz)
    write_idx(tmp_path / f"t10k-images-idx3-ubyte{suffix}", pixels[100:], gz)
    write_idx(tmp_path / f"t10k-labels-idx1-ubyte{suffix}", y[100:], gz)
    result = invoke("train", "--data", tmp_path, "--epochs", "1", "--out", tmp_path / "i.npz", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["train_samples"] == 100
    assert data["test_samples"] == 20
    assert data["classes"] == [str(i) for i in range(6)]


def test_divergence_keeps_a_clear_message(tmp_path):
    result = invoke("train", *SMALL, "--optimizer", "sgd", "--lr", "1e9", "--out", tmp_path / "d.npz", columns=200)
    assert result.exit_code == 1
    assert "Try a lower --lr" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--optimizer", "rmsprop"], 2, "'rmsprop' is not one of 'adam', 'sgd'"),
        (["--lr", "-1"], 2, "--lr must be a positive, finite number"),
        (["--arch", "conv3"], 2, "give the output channels"),
        (["--arch", "conv3c4,blah"], 2, "unknown layer type"),
        (["--arch", "conv29c4"], 2, "larger than the padded input"),
        (["--data", "no/such/folder"], 1, "no such folder"),
        (["--resume"], 1, "does not exist; train without --resume first"),
        (["--epochs", "0"], 2, "--epochs"),
        (["--val-split", "0.95"], 2, "--val-split"),
    ],
)
def test_train_errors(tmp_path, args, code, message):
    result = invoke("train", "--samples", "100", "--epochs", "1", "--out", tmp_path / "e.npz", *args, columns=200)
    assert_fails(result, code, message, stdout_empty=False)


def test_existing_model_needs_resume_or_force(tmp_path):
    out = tmp_path / "m.npz"
    assert invoke("train", "--samples", "100", "--epochs", "1", "--out", out).exit_code == 0
    again = invoke("train", "--samples", "100", "--epochs", "1", "--out", out)
    assert again.exit_code == 1
    assert "--resume" in again.stderr
    done = invoke("train", "--epochs", "1", "--resume", "--out", out)
    assert done.exit_code == 1
    assert "trained 1 epochs already" in done.stderr
    assert invoke("train", "--samples", "100", "--epochs", "1", "--out", out, "--force").exit_code == 0


def test_predict_errors(tmp_path):
    (tmp_path / "fake.npz").write_bytes(b"not a zip")
    result = invoke("predict", tmp_path / "fake.npz", tmp_path / "x.png")
    assert result.exit_code == 1
    assert "is not a convcli model" in result.stderr
    np.savez(tmp_path / "other.npz", a=np.zeros(3))
    assert "not a convcli model" in invoke("predict", tmp_path / "other.npz", tmp_path / "x.png").stderr
    assert "no such model file" in invoke("predict", tmp_path / "none.npz", tmp_path / "x.png").stderr
    out = tmp_path / "m.npz"
    invoke("train", "--samples", "100", "--epochs", "1", "--out", out)
    missing = invoke("predict", out, tmp_path / "missing.png")
    assert missing.exit_code == 1
    assert "no such file" in missing.stderr


def test_the_watch_panel_shows_curves_norms_and_kernels():
    from rich.console import Console

    from convcli.core.nn import DEFAULT_ARCH, build_model, softmax_cross_entropy
    from convcli.render.layout import Frozen
    from convcli.render.train import watch_panel

    model = build_model(DEFAULT_ARCH, (1, 28, 28), 6)
    x = np.random.default_rng(0).standard_normal((8, 1, 28, 28)).astype(np.float32)
    _, d, _ = softmax_cross_entropy(model.forward(x), np.arange(8) % 6)
    model.backward(d)
    norms = model.norms()
    assert norms["0.weight"][0] == pytest.approx(float(np.linalg.norm(model.layers[0].params["weight"])))
    assert norms["7.bias"][1] == pytest.approx(float(np.linalg.norm(model.layers[7].grads["bias"])))
    labelled = {f"{model.names[int(k.split('.')[0])]} {k.split('.')[1]}": v for k, v in norms.items()}
    console = Console(width=100, record=True, color_system=None, file=io.StringIO())
    panel = watch_panel([1.8, 1.2, 0.7], [0.5, 0.8], [0.6, None], model.layers[0].params["weight"], labelled, 1e-3,
                        False, 100)  # fmt: skip
    console.print(Frozen(panel, console, 100))
    text = console.export_text()
    for piece in ("loss", "0.7000 (log scale)", "train acc", "80.0%", "val acc", "conv3p1c8 weight", "‖dW‖/‖W‖",
                  "first layer's kernels", "lr", "0.001"):  # fmt: skip
        assert piece in text, piece
