"""The library API: one function per command, whose result is what the command prints.

For each command, ``convcli X ... --json`` equals ``convcli.X(...).to_json()``; results draw themselves as the
command draws them, give HTML for a notebook (MathML, inline SVG, no network), and raise convcli's own errors.
"""

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import convcli
from convcli.api._train import Listener, Trainer, TrainingInterrupted
from convcli.core.errors import ConvcliError, OptionError

from .conftest import invoke

SAMPLES = Path(__file__).parent.parent / "samples"


def cli_json(*args):
    result = invoke(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """One small trained model for the API's model commands (predict, inspect, export)."""
    out = tmp_path_factory.mktemp("api") / "m.npz"
    convcli.train(samples=120, epochs=1, batch_size=32, out=str(out), gradcheck=False)
    return out


def test_the_issue_example_prints_13():
    code = "import convcli; print(convcli.shape(H=28, K=3, stride=2).to_json()['H_out'])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "13"


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        (["--H", "28", "--K", "3", "--stride", "2"], {"H": 28, "K": 3, "stride": 2}),
        (
            [
                "--H",
                "32",
                "--W",
                "24",
                "--KH",
                "5",
                "--KW",
                "3",
                "--padding",
                "2,1",
                "--in-channels",
                "3",
                "--out-channels",
                "16",
            ],
            {"H": 32, "W": 24, "KH": 5, "KW": 3, "padding": (2, 1), "in_channels": 3, "out_channels": 16},
        ),
        (
            ["--H", "14", "--K", "4", "--stride", "2", "--padding", "1", "--transposed"],
            {"H": 14, "K": 4, "stride": 2, "padding": 1, "transposed": True},
        ),
        (
            ["--H", "7", "--K", "3", "--stride", "2", "--pool", "max", "--ceil-mode"],
            {"H": 7, "K": 3, "stride": "2", "pool": "max", "ceil_mode": True},
        ),
        (
            ["--H", "28", "--layers", "conv3p1c8,relu,pool2,fc10", "--in-channels", "1"],
            {"H": 28, "layers": "conv3p1c8,relu,pool2,fc10", "in_channels": 1},
        ),
        (["--H", "224", "--layers", str(SAMPLES / "vgg16.txt")], {"H": 224, "layers": str(SAMPLES / "vgg16.txt")}),
    ],
)
def test_shape_json_is_the_commands(args, kwargs):
    assert convcli.shape(**kwargs).to_json() == cli_json("shape", *args)


@pytest.mark.parametrize("name", [None, "sobel", "gaussian:7,1.5"])
def test_kernels_json_is_the_commands(name):
    args = [] if name is None else [name]
    assert convcli.kernels(name).to_json() == cli_json("kernels", *args)


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        (["--H", "5", "--K", "3", "--stride", "2", "--padding", "1"], {"H": 5, "K": 3, "stride": 2, "padding": 1}),
        (["--H", "4", "--K", "3", "--values", "--seed", "1"], {"H": 4, "K": 3, "values": True, "seed": 1}),
        (
            ["--H", "6", "--W", "5", "--K", "3", "--pool", "max", "--ceil-mode"],
            {"H": 6, "W": 5, "K": 3, "pool": "max", "ceil_mode": True},
        ),
        (["--H", "5", "--K", "3", "--stride", "2", "--grad"], {"H": 5, "K": 3, "stride": 2, "grad": True}),
        (
            ["--H", "3", "--K", "3", "--stride", "2", "--transposed", "--view", "scatter"],
            {"H": 3, "K": 3, "stride": 2, "transposed": True, "view": "scatter"},
        ),
        (
            ["--H", "2", "--K", "2", "--x", "1,2;3,4", "--k", "1,0;0,-1"],
            {"H": 2, "K": 2, "x": np.array([[1, 2], [3, 4]]), "k": [[1, 0], [0, -1]]},
        ),
    ],
)
def test_animate_json_is_the_commands(args, kwargs):
    assert convcli.animate(**kwargs).to_json() == cli_json("animate", *args)


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        ([], {}),
        (
            ["--x", "1,2,3;4,5,6;7,8,9", "--k", "1,0;-1,2", "--stride", "1", "--padding", "1"],
            {"x": "1,2,3;4,5,6;7,8,9", "k": "1,0;-1,2", "stride": 1, "padding": 1},
        ),
        (
            ["--random", "--H", "5", "--W", "6", "--K", "3", "--stride", "2", "--padding", "1"],
            {"random": True, "H": 5, "W": 6, "K": 3, "stride": 2, "padding": 1},
        ),
        (["--channels", "2", "--filters", "3", "--H", "4", "--K", "2"], {"channels": 2, "filters": 3, "H": 4, "K": 2}),
        (
            ["--x", "1,2,3,4,5", "--k", "1,0,-1", "--mode", "conv"],
            {"x": [1, 2, 3, 4, 5], "k": "1,0,-1", "mode": "conv"},
        ),
    ],
)
def test_backprop_json_is_the_commands(args, kwargs):
    assert convcli.backprop(**kwargs).to_json() == cli_json("backprop", *args)


def _without_times(data):
    if isinstance(data, dict):
        return {k: _without_times(v) for k, v in data.items() if "seconds" not in k}
    if isinstance(data, list):
        return [_without_times(v) for v in data]
    return data


def test_apply_json_is_the_commands(tmp_path):
    image = str(SAMPLES / "scene.png")
    cli = cli_json("apply", image, "-k", "emboss", "--at", "19,24", "-o", tmp_path / "a.png")
    api = convcli.apply(image, "emboss", output=str(tmp_path / "b.png"), at=(19, 24)).to_json()
    cli["output"] = api["output"] = "out"
    assert _without_times(api) == _without_times(cli)


def test_apply_batch_and_sheet_json_are_the_commands(tmp_path):
    images = [str(SAMPLES / "scene.png"), str(SAMPLES / "chelsea.png")]
    cli = cli_json("apply", *images, "-k", "sobel,box:3", "-o", tmp_path / "cli")
    api = convcli.apply(images, ["sobel", "box:3"], output=str(tmp_path / "api")).to_json()
    for row in cli + api:
        row["output"] = Path(row["output"]).name
    assert _without_times(api) == _without_times(cli)
    cli_sheet = cli_json("apply", images[0], "-k", "sobel-x,emboss", "--sheet", tmp_path / "s.png")
    api_sheet = convcli.apply(images[0], "sobel-x,emboss", sheet=str(tmp_path / "t.png")).to_json()
    assert cli_sheet["tiles"] == api_sheet["tiles"]


def test_apply_takes_an_array_as_its_kernel(tmp_path):
    kernel = np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]])
    result = convcli.apply(str(SAMPLES / "scene.png"), kernel, output=str(tmp_path / "same.npy"))
    assert result.report.kernel.matrix.tolist() == kernel.tolist()
    original = convcli.apply(str(SAMPLES / "scene.png"), "1", output=str(tmp_path / "one.npy"))
    assert np.array_equal(np.load(tmp_path / "same.npy"), np.load(tmp_path / "one.npy"))
    assert original.report.output.endswith("one.npy")


def test_train_json_is_the_commands(tmp_path):
    args = ["--samples", "120", "--epochs", "1", "--batch-size", "32", "--no-gradcheck"]
    cli = cli_json("train", *args, "--out", tmp_path / "cli.npz")
    api = convcli.train(samples=120, epochs=1, batch_size=32, gradcheck=False, out=str(tmp_path / "api.npz"))
    data = api.to_json()
    for d in (cli, data):
        d["model"] = d["kernels_png"] = None
    assert _without_times(data) == _without_times(cli)


def test_model_commands_json_are_the_commands(model, tmp_path):
    image = str(SAMPLES / "scene.png")
    assert convcli.predict(str(model), [image], top=2).to_json() == cli_json("predict", model, image, "--top", "2")
    assert convcli.inspect(str(model), image).to_json() == cli_json("inspect", model, image)
    exported = convcli.export(str(model), output=None)
    assert exported.output is None
    exported.save(str(tmp_path / "net.py"))
    result = invoke("export", model, "-o", tmp_path / "cli.py", "--json")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "net.py").read_text() == (tmp_path / "cli.py").read_text()
    api = convcli.export(str(model), output=str(tmp_path / "api.py")).to_json()
    assert json.loads(result.stdout) == {**api, "output": str(tmp_path / "cli.py")}


def test_results_draw_as_the_command_prints():
    result = invoke("shape", "--H", "28", "--K", "3", "--stride", "2", columns=100)
    assert convcli.shape(H=28, K=3, stride=2).text(100) == result.stdout
    result = invoke("backprop", "--verbose", columns=100)
    assert convcli.backprop(verbose=True).text(100) == result.stdout
    result = invoke("animate", "--H", "4", "--K", "3", "--values", "--frames", columns=100)
    assert convcli.animate(H=4, K=3, values=True).text(100) == result.stdout


def _no_network(html):
    if html.startswith("<iframe srcdoc="):  # a page in a frame: its document forbids every request itself
        import html as markup

        inner = markup.unescape(html.split('srcdoc="', 1)[1].split('"', 1)[0])
        assert "default-src 'none'" in inner
        assert 'sandbox="allow-scripts"' in html
        html = inner.split("<script", 1)[0] + "".join(p.split("</script>", 1)[-1] for p in inner.split("<script")[1:])
    for attribute in ("src=", "href="):
        for value in html.split(attribute)[1:]:
            assert value[1:].startswith(("data:", "#")), value[:60]
    assert "<script" not in html


def test_the_walk_is_mathml_a_browser_can_parse():
    html = convcli.backprop(verbose=True).html()
    assert html.count("<math") > 20
    _no_network(html)
    for chunk in html.split('<math xmlns="http://www.w3.org/1998/Math/MathML"')[1:]:
        ET.fromstring('<math xmlns="http://www.w3.org/1998/Math/MathML"' + chunk.split("</math>")[0] + "</math>")


def test_the_animation_is_an_inline_animated_svg():
    html = convcli.animate(H=5, K=3, stride=2, padding=1).html()
    assert "<svg" in html
    assert "<animate " in html
    _no_network(html)


def test_every_result_has_html_and_text(model, tmp_path):
    image = str(SAMPLES / "scene.png")
    results = [
        convcli.shape(H=7, K=3),
        convcli.kernels("sobel"),
        convcli.predict(str(model), image),
        convcli.inspect(str(model), image),
        convcli.apply(image, "blur", output=str(tmp_path / "a.png"), at=(3, 4)),
        convcli.animate(H=5, K=3),
        convcli.backprop(),
        convcli.apply(image, "blur", output=str(tmp_path / "b.png")),
    ]
    for result in results:
        html = result._repr_html_()
        assert html.strip()
        _no_network(html)
        assert str(result).strip()
    assert 'src="data:image/png;base64,' in results[-1]._repr_html_()  # no pixel explained: no page, pictures
    paged = [r for r in results if type(r).__name__ not in ("KernelsResult", "PredictResult")][:-1]
    assert len(paged) == 5
    for result in paged:  # the same page as the command writes, in a frame
        assert result._repr_html_().startswith("<iframe srcdoc=")


def test_save_writes_by_suffix_and_never_over_a_file(tmp_path):
    walk = convcli.backprop(verbose=True)
    for suffix in (".md", ".tex", ".html", ".json", ".txt"):
        walk.save(str(tmp_path / f"walk{suffix}"))
    assert json.loads((tmp_path / "walk.json").read_text()) == walk.to_json()
    assert (tmp_path / "walk.md").read_text() == walk.markdown()
    with pytest.raises(ConvcliError, match="exists"):
        walk.save(str(tmp_path / "walk.md"))
    walk.save(str(tmp_path / "walk.md"), force=True)
    anim = convcli.animate(H=4, K=3)
    anim.save(str(tmp_path / "a.gif"))
    anim.save(str(tmp_path / "a.svg"), frames=[0, 2])
    assert (tmp_path / "a.gif").read_bytes()[:6] == b"GIF89a"
    with pytest.raises(OptionError, match="stills go to"):
        anim.save(str(tmp_path / "b.gif"), frames=[0])


@pytest.mark.parametrize(
    ("call", "option", "words"),
    [
        (lambda: convcli.shape(H=28), "--K", "give the kernel size"),
        (lambda: convcli.shape(H=28, K=3, stride=0), "--stride", "at least 1"),
        (lambda: convcli.shape(H=28, K=3, stride="2,x"), "--stride", "not a valid stride"),
        (lambda: convcli.shape(H=0, K=3), "--H", "at least 1"),
        (lambda: convcli.animate(H=5, K=3, view="scatter"), "--view", "add --transposed"),
        (lambda: convcli.animate(H=2, K=2, x=[[1, 2, 3]]), "--x", "--H/--W say 2×2"),
        (lambda: convcli.backprop(x="1,2;3", k="1"), "--x", "row 2 has 1 value"),
        (lambda: convcli.backprop(symbolic=True, channels=2), "--symbolic", "one channel"),
        (lambda: convcli.kernels("nope"), "NAME", "unknown kernel"),
        (lambda: convcli.train(lr_schedule="bad", out="never.npz"), "--lr-schedule", "cosine"),
    ],
)
def test_bad_values_raise_option_errors_naming_the_option(call, option, words):
    with pytest.raises(OptionError) as caught:
        call()
    assert caught.value.option == option
    assert words in caught.value.message


def test_import_convcli_loads_no_numpy_pil_or_textual():
    code = "import convcli, sys\nconvcli.shape(H=28, K=3)\nprint(' '.join(sys.modules))"
    loaded = set(
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    )
    assert not {"numpy", "PIL", "textual", "typer"} & loaded


class Recorder(Listener):
    def __init__(self, stop_after_steps=None):
        self.events, self.steps, self.stop_after = [], 0, stop_after_steps

    def started(self, trainer):
        self.trainer = trainer
        self.events.append("started")

    def checked(self, errors, entries):
        self.events.append("checked")
        assert max(errors.values()) < 1e-2

    def initial_loss(self, loss, classes):
        self.events.append("initial")

    def epoch(self, epoch, epochs, samples):
        from contextlib import contextmanager

        @contextmanager
        def stepping():
            self.events.append(f"epoch {epoch}/{epochs}")

            def step(done, loss, acc):
                self.steps += 1
                if self.stop_after is not None and self.steps >= self.stop_after:
                    self.trainer.request_stop()

            yield step

        return stepping()

    def epoch_done(self, report, first_of_run):
        self.events.append(f"done {report.epoch}{' first' if first_of_run else ''}")

    def stopped_early(self, best, best_epoch, waited, epoch):
        self.events.append(f"early stop at {epoch}")


def test_the_trainer_tells_its_listener_each_event_in_order(tmp_path):
    recorder = Recorder()
    out = str(tmp_path / "m.npz")
    result = Trainer(samples=100, epochs=2, batch_size=50, out=out, listener=recorder).run(handle_signals=False)
    assert recorder.events == ["started", "checked", "initial", "epoch 1/2", "done 1 first", "epoch 2/2", "done 2"]
    assert recorder.steps == 2 * 2  # 80 training images in batches of 50
    assert result.to_json()["epochs"] == 2
    resumed = Recorder()
    Trainer(epochs=3, out=out, resume=True, listener=resumed).run(handle_signals=False)
    assert resumed.events == ["started", "checked", "epoch 3/3", "done 3 first"]  # no initial loss: not untrained


def test_a_stop_keeps_the_last_epoch_and_says_so(tmp_path):
    out = tmp_path / "m.npz"
    recorder = Recorder(stop_after_steps=3)
    trainer = Trainer(samples=100, epochs=3, batch_size=50, out=str(out), gradcheck=False, listener=recorder)
    with pytest.raises(TrainingInterrupted, match=re.escape(f"Interrupted during epoch 2: {out} holds epoch 1")):
        trainer.run(handle_signals=False)
    assert out.exists()


def test_patience_stops_early(tmp_path):
    recorder = Recorder()
    # a rate too small to change a prediction: the validation accuracy of epoch 1 is never beaten
    trainer = Trainer(
        samples=100,
        epochs=6,
        batch_size=20,
        val_split=0.3,
        patience=1,
        lr=1e-12,
        out=str(tmp_path / "m.npz"),
        gradcheck=False,
        listener=recorder,
    )
    trainer.run(handle_signals=False)
    assert recorder.events[-1] == "early stop at 2"
    assert len(trainer.model_file.history["val_accuracy"]) == 2


def test_resume_refuses_a_changed_setting_through_the_library(tmp_path):
    out = str(tmp_path / "m.npz")
    convcli.train(samples=100, epochs=1, batch_size=50, gradcheck=False, out=out)
    with pytest.raises(OptionError, match="--seed would change them"):
        convcli.train(epochs=2, out=out, resume=True, seed=3)


def test_a_notebook_displays_results_as_html(tmp_path):
    import html

    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    cells = [
        "import convcli",
        "convcli.animate(H=5, K=3, stride=2, padding=1)",
        'convcli.backprop(x="1,2,3;4,5,6;7,8,9", k="1,0;-1,2", stride=1, padding=1)',
        "convcli.shape(H=28, K=3, stride=2).to_json()['H_out']",
    ]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nbclient.NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    outputs = [cell.outputs for cell in notebook.cells]
    assert "data-frame" in html.unescape(outputs[1][0]["data"]["text/html"])
    assert "<math" in html.unescape(outputs[2][0]["data"]["text/html"])
    assert outputs[3][0]["data"]["text/plain"] == "13"
