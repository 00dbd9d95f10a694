"""Rich renderables for the commands' results. Functions return renderables and never print.

Consoles are made per command run (``make_console``), never at import: rich then sees the
terminal as it is, drops colour when piped, and honours NO_COLOR and COLUMNS.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from convcli.document import fmt_number, pair_text


def make_console(stderr: bool = False) -> Console:
    return Console(stderr=stderr, highlight=False)


def _n(value: int | float) -> str:
    if isinstance(value, float) and not value.is_integer():
        return f"{value:g}"
    return f"{int(value):,}"


def _pair(a: Any, b: Any, sep: str = "×") -> str:
    return pair_text((a, b), sep)


def _header(name: str, fields: list[tuple[str, str]]) -> Text:
    text = Text(name, style="bold cyan")
    for label, value in fields:
        text.append(f"   {label} ", style="dim")
        text.append(value, style="bold")
    return text


def _same_axes(axes: dict[str, dict[str, Any]]) -> bool:
    return axes["H"] == axes["W"]


def _formula_block(lhs: str, lines: list[str]) -> Text:
    text = Text()
    pad = " " * len(lhs)
    for i, line in enumerate(lines):
        text.append(f"  {lhs if i == 0 else pad} = ", style="dim" if i else "bold")
        text.append(line + "\n", style="bold green" if i == len(lines) - 1 else "")
    return text


def _conv_lines(a: dict[str, Any], x: str = "H") -> list[str]:
    top, bottom = a["padding"]
    two_p = f"2·{top}" if top == bottom else f"{top} + {bottom}"
    sym = "2P" if top == bottom else "P_before + P_after"
    return [
        f"⌊({x} + {sym} − D·(K − 1) − 1) / S⌋ + 1",
        f"⌊({a['size']} + {two_p} − {a['dilation']}·({a['kernel']} − 1) − 1) / {a['stride']}⌋ + 1",
        f"⌊{a['numerator']} / {a['stride']}⌋ + 1",
        f"{a['numerator'] // a['stride']} + 1",
        str(a["out"]),
    ]


def _lhs(axes: dict[str, Any], name: str) -> str:
    return "H_out = W_out" if _same_axes(axes) else f"{name}_out"


def _axis_blocks(axes: dict[str, Any], lines_for) -> list[Text]:
    names = ["H"] if _same_axes(axes) else ["H", "W"]
    return [_formula_block(_lhs(axes, n), lines_for(axes[n], n)) for n in names]


def _para(text: str, style: str = "") -> Padding:
    """A paragraph indented by two, wrapped lines included."""
    return Padding(Text(text, style=style), (0, 0, 0, 2))


def _notes(notes: list[str]) -> list[Table]:
    if not notes:
        return []
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="bold yellow", no_wrap=True)
    grid.add_column()
    for note in notes:
        grid.add_row(" !", note)
    return [grid]


def _output_line(report: dict[str, Any]) -> Text:
    t = Text("  Output  ", style="bold")
    channels = f"{report['out_channels']} × " if "out_channels" in report else ""
    t.append(f"{channels}{report['H_out']} × {report['W_out']}", style="bold green")
    return t


def _counts(report: dict[str, Any], positions: str) -> list[Text]:
    if "params" not in report:
        return []
    c_in, c_out, g = report["in_channels"], report["out_channels"], report["groups"]
    k = report["axes"]["H"]["kernel"], report["axes"]["W"]["kernel"]
    per_group = f"{c_in}/{g}" if g > 1 else str(c_in)
    return [
        Text(
            f"  Parameters  C_out·(C_in/groups)·KH·KW + C_out = {c_out}·{per_group}·{k[0]}·{k[1]} + {c_out} = {_n(report['params'])}"
        ),
        Text(
            f"  MACs        weights × {positions} = {_n(report['weights'])} × {report['_positions']} = {_n(report['macs'])} per image"
        ),
    ]


def shape_layer(report: dict[str, Any]) -> Group:
    kind = report["kind"]
    axes = report["axes"]
    h, w = axes["H"], axes["W"]
    parts: list[Any] = []
    if kind == "conv":
        pad = report.get("padding_word") or _pair(_pair(*h["padding"], sep="+"), _pair(*w["padding"], sep="+"), sep=",")
        if report.get("padding_word"):
            pad += f" ({_pair(*h['padding'], sep='+')}, {_pair(*w['padding'], sep='+')})"
        parts.append(
            _header(
                "Conv2d (cross-correlation)",
                [
                    ("input", f"{h['size']}×{w['size']}"),
                    ("kernel", f"{h['kernel']}×{w['kernel']}"),
                    ("stride", _pair(h["stride"], w["stride"], ",")),
                    ("padding", pad),
                    ("dilation", _pair(h["dilation"], w["dilation"], ",")),
                ],
            )
        )
        parts.append(Text())
        for name in ["H"] if _same_axes(axes) else ["H", "W"]:
            a = axes[name]
            if a["dilation"] > 1:
                parts.append(
                    Text(
                        f"  {name}: the dilated kernel spans D·(K − 1) + 1 = {a['dilation']}·({a['kernel']} − 1) + 1 = {a['effective_kernel']}",
                        style="dim",
                    )
                )
        parts += _axis_blocks(axes, _conv_lines)
        parts.append(_output_line(report))
        report = {**report, "_positions": f"{report['H_out']}·{report['W_out']}"}
        parts += _counts(report, "H_out·W_out")
        if report["notes"]:
            parts.append(Text())
            parts += _notes(report["notes"])
        parts.append(Text())
        parts.append(_frameworks(report["frameworks"]))
    elif kind == "tconv":
        parts.append(
            _header(
                "ConvTranspose2d",
                [
                    ("input", f"{h['size']}×{w['size']}"),
                    ("kernel", f"{h['kernel']}×{w['kernel']}"),
                    ("stride", _pair(h["stride"], w["stride"], ",")),
                    ("padding", _pair(h["padding"], w["padding"], ",")),
                    ("output_padding", _pair(h["output_padding"], w["output_padding"], ",")),
                    ("dilation", _pair(h["dilation"], w["dilation"], ",")),
                ],
            )
        )
        parts.append(Text())
        parts += _axis_blocks(axes, _tconv_lines)
        parts.append(_output_line(report))
        report = {**report, "_positions": f"{h['size']}·{w['size']}"}
        parts += _counts(report, "H_in·W_in")
        parts.append(Text())
        for name in ["H"] if _same_axes(axes) else ["H", "W"]:
            a = axes[name]
            label = "" if _same_axes(axes) else f"{name}: "
            lo, hi = a["forward_inputs"]
            parts.append(
                _para(
                    f"{label}output_padding may be {a['valid_output_padding'][0]}..{a['valid_output_padding'][1]} "
                    f"(smaller than the stride or the dilation). A Conv2d with the same kernel, stride, padding and "
                    f"dilation maps every input size {lo}..{hi} to {a['size']}; output_padding picks which one "
                    f"comes back (0 gives {lo})."
                )
            )
        parts += _notes(report["notes"])
    else:
        name = "MaxPool2d" if kind == "maxpool" else "AvgPool2d"
        parts.append(
            _header(
                name,
                [
                    ("input", f"{h['size']}×{w['size']}"),
                    ("kernel", f"{h['kernel']}×{w['kernel']}"),
                    ("stride", _pair(h["stride"], w["stride"], ",")),
                    ("padding", _pair(h["padding"], w["padding"], ",")),
                    ("dilation", _pair(h["dilation"], w["dilation"], ",")),
                    ("ceil_mode", str(report["ceil_mode"])),
                ],
            )
        )
        parts.append(Text())
        parts += _axis_blocks(axes, lambda a, x: _pool_lines(a, report["ceil_mode"], x))
        parts.append(_output_line(report))
        parts.append(
            _para(
                "With ceil_mode PyTorch rounds up, then drops a last window that would start past the input "
                "and the left padding.",
                style="dim",
            )
        )
        if report["notes"]:
            parts.append(Text())
            parts += _notes(report["notes"])
    return Group(*parts)


def _tconv_lines(a: dict[str, Any], x: str = "H") -> list[str]:
    return [
        f"({x} − 1)·S − 2P + D·(K − 1) + output_padding + 1",
        f"({a['size']} − 1)·{a['stride']} − 2·{a['padding']} + {a['dilation']}·({a['kernel']} − 1) + {a['output_padding']} + 1",
        str(a["out"]),
    ]


def _pool_lines(a: dict[str, Any], ceil_mode: bool, x: str = "H") -> list[str]:
    lo, hi = ("⌈", "⌉") if ceil_mode else ("⌊", "⌋")
    rounded = a["ceil_out"] - 1 if ceil_mode else a["floor_out"] - 1
    lines = [
        f"{lo}({x} + 2P − D·(K − 1) − 1) / S{hi} + 1",
        f"{lo}({a['size']} + 2·{a['padding']} − {a['dilation']}·({a['kernel']} − 1) − 1) / {a['stride']}{hi} + 1",
        f"{lo}{a['numerator']} / {a['stride']}{hi} + 1",
        f"{rounded} + 1",
    ]
    if ceil_mode and a["dropped"]:
        lines.append(f"{a['ceil_out']} − 1 (the last window would start in the right padding)")
    lines.append(str(a["out"]))
    return lines


def _frameworks(fw: dict[str, Any]) -> Table:
    table = Table(title="What the frameworks give", title_justify="left", box=None, padding=(0, 2), show_edge=False)
    table.add_column("framework", style="cyan")
    table.add_column("output", justify="right")
    table.add_column("padding (top+bottom, left+right)")

    def pads(p: list[list[int]]) -> str:
        return f"{p[0][0]}+{p[0][1]}, {p[1][0]}+{p[1][1]}"

    if fw["pytorch"] is None:
        table.add_row("PyTorch padding='same'", "refused", "only at stride 1")
    else:
        table.add_row(
            "PyTorch (as given, floor)",
            f"{fw['pytorch']['H_out']} × {fw['pytorch']['W_out']}",
            pads(fw["pytorch"]["padding"]),
        )
    half = fw["pytorch_half_padding"]
    table.add_row(
        f"PyTorch padding={_pair(*half['padding'], sep=',')} (half the span)",
        f"{half['H_out']} × {half['W_out']}",
        pads([[half["padding"][0]] * 2, [half["padding"][1]] * 2]),
    )
    valid = fw["tensorflow_valid"]
    valid_out = (
        "kernel does not fit" if None in (valid["H_out"], valid["W_out"]) else f"{valid['H_out']} × {valid['W_out']}"
    )
    table.add_row("TensorFlow 'VALID'", valid_out, "0+0, 0+0")
    same = fw["tensorflow_same"]
    table.add_row(
        "TensorFlow 'SAME'", f"{same['H_out']} × {same['W_out']}", pads(same["padding"]) + "  (extra at bottom/right)"
    )
    return table


def shape_chain(report: dict[str, Any]) -> Group:
    rows = report["layers"]
    with_counts = "params" in report
    table = Table(box=None, padding=(0, 1), show_edge=False, header_style="bold")
    for name, justify in [
        ("#", "right"),
        ("layer", "left"),
        ("output", "right"),
        ("RF", "right"),
        ("jump", "right"),
        ("centre", "right"),
        *([("params", "right"), ("MACs", "right")] if with_counts else []),
    ]:
        table.add_column(name, justify=justify, no_wrap=True, style="cyan" if name == "layer" else None)
    h, w = report["input"]
    table.add_row(
        "", "input", _size(report.get("in_channels"), h, w), "1", "1", "0", *(["", ""] if with_counts else [])
    )
    notes = []
    for i, r in enumerate(rows, start=1):
        cells = [
            str(i),
            r["layer"],
            _size(r.get("channels"), r["H_out"], r["W_out"]),
            _pair(*map(_n, r["receptive_field"])),
            _pair(*map(_n, r["jump"])),
            _pair(*map(_n, r["center"]), sep=", "),
        ]
        if with_counts:
            cells += [_n(r["params"]), _n(r["macs"])]
        if r["warnings"]:
            cells[0] = f"{i}!"
            notes.append(f"layer {i} ({r['layer']}): " + "; ".join(r["warnings"]))
        table.add_row(*cells)
    parts: list[Any] = [
        _header("Layer chain", [("input", f"{h}×{w}"), ("layers", str(len(rows)))]),
        Text(),
        table,
    ]
    if with_counts:
        parts += [Text(), Text(f"  Total: {_n(report['params'])} parameters, {_n(report['macs'])} MACs per image")]
    if notes:
        parts.append(Text())
        parts += _notes(notes)
    parts.append(Text())
    parts.append(
        _para(
            "RF: receptive field and jump: effective stride, both in input pixels; centre: where the first "
            "output's field is centred (pixel 0 is at 0).",
            style="dim",
        )
    )
    return Group(*parts)


def _size(channels: int | None, h: int, w: int) -> str:
    return f"{channels}×{h}×{w}" if channels is not None else f"{h}×{w}"


# --- matrices, images, explanations (apply, kernels) ---------------------------------------------


def _titled(title: str | None, body: Table) -> Table:
    if title is None:
        return body
    outer = Table.grid()
    outer.add_column()
    outer.add_row(Text(title, style="bold"))
    outer.add_row(body)
    return outer


def integer_form(values, max_denominator: int = 1024):
    """(D, values*D) when every entry is a whole number over a common D (1/16 for setosa's blur), else None."""
    import numpy as np

    v = np.asarray(values, dtype=np.float64)
    nonzero = np.abs(v[v != 0])
    if nonzero.size == 0:
        return None
    for d in range(1, max_denominator + 1):
        scaled = v * d
        if np.allclose(scaled, np.round(scaled), atol=1e-9 * d) and np.abs(scaled).max() < 10_000:
            return d, np.round(scaled)
    return None


def kernel_matrix(values, title: str | None = None, max_side: int = 9, digits: int = 3) -> Table:
    """A kernel, shown as "1/16 ×" whole numbers where it has such a form, else to ``digits`` significant digits."""
    form = integer_form(values)
    if form is None:
        return matrix(values, title, max_side, digits=digits)
    d, ints = form
    if d == 1:
        return matrix(ints, title, max_side)
    grid = Table.grid(padding=(0, 1))
    grid.add_column(vertical="middle", style="dim")
    grid.add_column()
    grid.add_row(f"1/{d} ×", matrix(ints, None, max_side))
    return _titled(title, grid)


def matrix(values, title: str | None = None, max_side: int = 9, marks=None, style: str = "", digits: int = 4) -> Table:
    """A matrix as a right-aligned grid in brackets, elided with ⋯/⋮ past max_side; marks: cells to dim."""
    rows, cols = values.shape
    keep_r = list(range(rows)) if rows <= max_side else [*range(max_side - 2), -1, rows - 1]
    keep_c = list(range(cols)) if cols <= max_side else [*range(max_side - 2), -1, cols - 1]
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True, style="dim")
    for _ in keep_c:
        grid.add_column(justify="right", no_wrap=True)
    grid.add_column(no_wrap=True, style="dim")
    for i, r in enumerate(keep_r):
        left = "⎡" if i == 0 else ("⎣" if i == len(keep_r) - 1 else "⎢")
        right = "⎤" if i == 0 else ("⎦" if i == len(keep_r) - 1 else "⎥")
        if len(keep_r) == 1:
            left, right = "[", "]"
        cells = []
        for c in keep_c:
            if r == -1:
                cells.append(Text("⋮", style="dim"))
            elif c == -1:
                cells.append(Text("⋯", style="dim"))
            else:
                cell_style = "dim italic" if marks is not None and marks[r, c] else style
                cells.append(Text(fmt_number(values[r, c], digits), style=cell_style))
        grid.add_row(left, *cells, right)
    return _titled(title, grid)


def side_by_side(*items, gap: int = 3) -> Table:
    grid = Table.grid(padding=(0, gap))
    for _ in items:
        grid.add_column(vertical="middle")
    grid.add_row(*items)
    return grid


def half_blocks(pixels, width: int, max_rows: int = 40) -> Text:
    """An 8-bit (H, W) or (H, W, 3) image as rich text: one cell shows two pixels with ▀ (fg top, bg bottom)."""
    import numpy as np
    from PIL import Image

    arr = np.asarray(pixels)
    im = Image.fromarray(arr).convert("RGB")
    w = max(1, min(width, im.width))
    h = max(2, round(im.height * w / im.width))
    if h > 2 * max_rows:
        h = 2 * max_rows
        w = max(1, round(im.width * h / im.height))
    h += h % 2
    small = np.asarray(im.resize((w, h), Image.Resampling.BOX))
    text = Text()
    for y in range(0, h, 2):
        for x in range(w):
            top, bottom = small[y, x], small[y + 1, x]
            text.append(
                "▀",
                style=f"rgb({top[0]},{top[1]},{top[2]}) on rgb({bottom[0]},{bottom[1]},{bottom[2]})",
            )
        if y + 2 < h:
            text.append("\n")
    return text


def key_values(pairs: list[tuple[str, Any]]) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim", no_wrap=True)
    grid.add_column()
    for k, v in pairs:
        grid.add_row(k, v if not isinstance(v, str) else Text(v))
    return grid


# --- training ----------------------------------------------------------------------------------


class training_progress:
    """A transient progress bar on ``console`` for one epoch; the context value is an on_step callback."""

    def __init__(self, console: Console, title: str, total: int):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]}  acc {task.fields[acc]}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self.task = self.progress.add_task(title, total=total, loss="-", acc="-")

    def __enter__(self):
        if self.progress.console.is_terminal:  # a bar makes no sense in a log file
            self.progress.start()

        def step(done: int, loss: float, acc: float) -> None:
            self.progress.update(self.task, completed=done, loss=f"{loss:.4f}", acc=f"{acc:.1%}")

        return step

    def __exit__(self, *exc) -> None:
        if self.progress.live.is_started:
            self.progress.stop()


def gradcheck_table(errors: dict[str, float]) -> Table:
    """Largest relative error per parameter, and a verdict."""
    worst = max(errors.values())
    table = Table(box=None, padding=(0, 2), show_header=False)
    table.add_column(style="dim", no_wrap=True)
    table.add_column(justify="right", no_wrap=True)
    for name, value in errors.items():
        table.add_row(name, f"{value:.1e}")
    ok = worst < 1e-5
    table.add_row(
        Text("largest", style="bold"), Text(f"{worst:.1e} {'✓' if ok else '!'}", style="green" if ok else "yellow")
    )
    return _titled("gradient check: backprop against central differences (float64, 4 random images)", table)


def epoch_header(with_val: bool) -> Text:
    cols = (
        f"{'epoch':>5}  {'loss':>8}  {'train acc':>9}  "
        + (f"{'val acc':>8}  " if with_val else "")
        + f"{'test acc':>8}  {'time':>7}"
    )
    return Text(cols, style="bold")


def epoch_row(epoch: int, loss: float, train_acc: float, val_acc, test_acc, seconds: float) -> Text:
    def pct(v):
        return f"{v:>8.2%}" if v is not None else f"{'-':>8}"

    text = (
        f"{epoch:>5}  {loss:>8.4f}  {train_acc:>9.2%}  "
        + (f"{pct(val_acc)}  " if val_acc is not None else "")
        + f"{pct(test_acc)}  {seconds:>6.2f}s"
    )
    return Text(text)


def confusion_matrix(confusion, classes: list[str]) -> Table:
    table = Table(
        title="confusion matrix (rows: true class, columns: predicted)", title_justify="left", box=None, padding=(0, 1)
    )
    table.add_column("", style="cyan", no_wrap=True)
    for name in classes:
        table.add_column(name[:8], justify="right", no_wrap=True)
    for i, name in enumerate(classes):
        cells = [
            Text(str(v), style="bold green" if i == j else ("red" if v else "dim")) for j, v in enumerate(confusion[i])
        ]
        table.add_row(name, *cells)
    return table


def kernel_heatmaps(weights, title: str, colour: bool = True, width: int = 80) -> Table:
    """Each kernel (channel 0) as coloured cells: red positive, blue negative, white near zero.

    Without colour (piped, NO_COLOR) the kernels are shown as numbers instead.
    """
    import numpy as np

    k = np.asarray(weights)[:, 0]
    scale = float(np.abs(k).max()) or 1.0
    maps = []
    for kernel in k:
        if not colour:
            maps.append(matrix(kernel, digits=2))
            continue
        text = Text()
        for r, row in enumerate(kernel / scale):
            for v in row:
                red = int(255 * min(1.0, 1 + min(v, 0)))
                green = int(255 * (1 - abs(v)))
                blue = int(255 * min(1.0, 1 - max(v, 0)))
                text.append("  ", style=f"on rgb({red},{green},{blue})")
            if r < kernel.shape[0] - 1:
                text.append("\n")
        maps.append(text)
    per_row = len(maps) if colour else max(1, min(len(maps), width // (8 * k.shape[2] + 6)))
    grid = Table.grid(padding=(0, 2))
    for _ in range(per_row):
        grid.add_column()
    for i in range(0, len(maps), per_row):
        chunk = maps[i : i + per_row]
        grid.add_row(*chunk, *[""] * (per_row - len(chunk)))
    return _titled(title, grid)
