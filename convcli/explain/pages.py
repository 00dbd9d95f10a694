"""One-file HTML pages: what convcli draws and walks, opened from file:// with nothing fetched.

Every page is one document: its style, its data and (where it plays or answers a click) a small script
inline; a Content-Security-Policy that forbids every request; light and dark (``prefers-color-scheme``),
a print stylesheet, and keys for everything a mouse does. The numbers on a page are the core's, written
in by Python; a script only chooses which of them to show.
"""

from __future__ import annotations

import json
from html import escape
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

    from convcli.explain.animation import Figure
    from convcli.explain.document import Document

# no request may leave the page: images only as data: addresses, style and script only inline
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'"
STYLE = """
:root { --fg: #1e1e1e; --bg: #ffffff; --muted: #666; --line: #9a9a9a; --input: #5682c4; --pad: #dedede;
  --zero: #f4f4f4; --lit: #e69f00; --written: #82cdf0; --current: #0072b2; --empty: #ecf4f8; --tie: #cc79a7; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e8e8e8; --bg: #161616; --muted: #aaa; --line: #666; --pad: #3a3a3a; --zero: #2a2a2a;
    --empty: #22303a; }
}
body { font-family: system-ui, sans-serif; margin: 1.5rem; color: var(--fg); background: var(--bg);
  line-height: 1.45; }
h1 { font-size: 1.3rem; } .muted { color: var(--muted); }
button, select, input { font: inherit; }
table.cells { border-collapse: collapse; margin: 0.3rem 1.2rem 0.3rem 0; }
table.cells td { width: 2.1rem; height: 2.1rem; border: 1px solid var(--line); text-align: center;
  font-variant-numeric: tabular-nums; padding: 0; }
td.input { background: var(--input); color: #fff; } td.padding { background: var(--pad); }
td.zero, td.beyond { background: var(--zero); } td.gap { border: none; background: none; }
td.out { background: var(--empty); } td.out.written { background: var(--written); }
td.out:not(.written):not([data-lit]) .v { visibility: hidden; }
td[data-lit] { background: var(--lit); color: #000; } td.padding[data-lit] { background: #f3cf80; } td.out[data-lit] { background: var(--current); color: #fff; }
td.tied { outline: 3px solid var(--tie); outline-offset: -3px; }
td.kernel { background: var(--pad); } tr.plane td { border-top: 4px solid var(--fg); }
table.plain { border-collapse: collapse; margin: 0.5rem 0; } table.plain td, table.plain th { border: 1px solid var(--line);
  padding: 0.2rem 0.6rem; text-align: left; }
.grids { display: flex; flex-wrap: wrap; align-items: flex-start; gap: 1rem; }
.controls { display: flex; flex-wrap: wrap; gap: 0.5rem; align-items: center; margin: 0.8rem 0; }
.caption { font-family: ui-monospace, monospace; white-space: pre-wrap; min-height: 3.2em; }
:focus-visible { outline: 3px solid var(--current); }
@media print { .controls { display: none; } body { margin: 0; } td[data-lit] { outline: 2px solid #000; } }
"""


def shell(title: str, body: str, script: str = "") -> str:
    """A whole page around ``body``: its policy, its style, and an inline ``script``."""
    code = f"<script>\n{script}\n</script>\n" if script else ""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>convcli {escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}\n{code}</body>\n"
        "</html>\n"
    )


# --- the animation: a player over the figure's frames ---------------------------------------------------


def _input_coordinates(fig: Figure, gr: int, gc: int) -> tuple[int, ...] | None:
    """A drawn input cell's coordinates as --json gives them: (row, col) in the real input (padding outside
    0..H-1), (channel, row, col) with channels; None for an inserted zero or a cell no coordinate names."""
    from convcli.core.animation import StackedGrid
    from convcli.core.roles import GAP, ZERO

    grid = fig.grid
    if isinstance(grid, StackedGrid):
        at = grid.plane_at(gr, gc)
        if at is None:
            return None
        (r, c), base = at[1], grid.base
        return at[0], r - base.origin[0], c - base.origin[1]
    role = fig.roles[gr][gc]
    if fig.kind == "transposed" or role in (GAP, ZERO):  # the zero-inserted grid: only real cells have coordinates
        return grid.input_cell(gr, gc)
    return gr - grid.origin[0], gc - grid.origin[1]


def _output_coordinates(fig: Figure, i: int, j: int) -> tuple[int, ...] | None:
    if (i, j) in fig.output_zeros:
        return None
    if fig.view == "gather":  # dL/dO drawn zero-stuffed: every stride-th cell holds dL/dO(i, j)
        size = fig.reads_size
        sy = (fig.output_size[0] - 1) // (size[0] - 1) if size[0] > 1 else 1
        sx = (fig.output_size[1] - 1) // (size[1] - 1) if size[1] > 1 else 1
        return i // sy, j // sx
    if fig.sizes is not None and len(fig.sizes[1]) == 3:  # the channels' figure: filters' planes stacked
        oh = fig.sizes[1][1]
        return i // oh, i % oh, j
    return i, j


def _attributes(grid: str, coords: tuple[int, ...] | None) -> str:
    if coords is None:
        return f'data-grid="{grid}"'
    names = ("data-channel", "data-row", "data-col") if len(coords) == 3 else ("data-row", "data-col")
    if grid == "output" and len(coords) == 3:
        names = ("data-filter", "data-row", "data-col")
    return f'data-grid="{grid}" ' + " ".join(f'{n}="{v}"' for n, v in zip(names, coords, strict=True))


def _input_table(fig: Figure) -> str:
    gh, gw = fig.grid.size
    rows = []
    for r in range(gh):
        cells = []
        for c in range(gw):
            role = fig.roles[r][c]
            value = fig.input_values[r][c] if fig.input_values is not None and role == "input" else ""
            where = _attributes("input", _input_coordinates(fig, r, c)) if role != "gap" else 'aria-hidden="true"'
            cells.append(f'<td class="{role}" id="i{r}_{c}" {where}><span class="v">{escape(value)}</span></td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f'<table class="cells" aria-label="{escape(fig.labels[0])}">' + "".join(rows) + "</table>"


def _output_table(fig: Figure) -> str:
    oh, ow = fig.output_size
    numbers = fig.overlaps if fig.overlaps is not None else fig.output_values
    rows = []
    for i in range(oh):
        cells = []
        for j in range(ow):
            zero = (i, j) in fig.output_zeros
            value = "" if numbers is None or zero else str(numbers[i][j])
            kind = "zero" if zero else "out" + ("" if fig.view == "windows" else " written")
            attrs = _attributes("output", _output_coordinates(fig, i, j))
            cells.append(f'<td class="{kind}" id="o{i}_{j}" {attrs}><span class="v">{escape(value)}</span></td>')
        plane = fig.sizes[1][1] if fig.sizes is not None and len(fig.sizes[1]) == 3 else 0
        start = plane and i and i % plane == 0  # the filters' planes stacked: a rule where each begins
        rows.append(('<tr class="plane">' if start else "<tr>") + "".join(cells) + "</tr>")
    return f'<table class="cells" aria-label="{escape(fig.labels[1])}">' + "".join(rows) + "</table>"


def _kernel_table(fig: Figure) -> str:
    if fig.kernel_values is None:
        return ""
    rows = []
    for m, row in enumerate(fig.kernel_values):
        cells = [f'<td class="kernel" data-grid="kernel" data-row="{m}" data-col="{n}">{escape(v)}</td>'
                 for n, v in enumerate(row)]  # fmt: skip
        rows.append("<tr>" + "".join(cells) + "</tr>")
    label = "kernel as the window applies it, rot180(K)" if fig.kind == "transposed" else "kernel"
    return (
        f'<div><div class="muted">{label}</div><table class="cells" aria-label="{label}">{"".join(rows)}</table></div>'
    )


def animation_page(fig: Figure) -> str:
    """The figure as a page: the grids as cells, a player (play/pause, step, first/last, scrub, speed), the
    frame's caption and numbers; hovering or clicking a cell lights what it reads or feeds."""
    title, *formula = fig.title.split("\n")
    frames = [
        {"in": [list(c) for c in p.lit_input], "out": [list(c) for c in p.lit_output], "caption": p.caption,
         "numbers": p.numbers, "written": p.written}
        for p in fig.pictures
    ]  # fmt: skip
    data = {"frames": frames, "view": fig.view, "width": fig.output_size[1]}
    n = len(frames)
    body = f"""<h1>{escape(title)}</h1>
<p class="muted">{"<br>".join(escape(f) for f in formula)}</p>
<div class="controls" role="toolbar" aria-label="player">
<button id="first" aria-label="first frame (Home)">first</button>
<button id="back" aria-label="previous frame (left arrow)">◀ back</button>
<button id="play" aria-label="play or pause (space)">▶ play</button>
<button id="next" aria-label="next frame (right arrow)">next ▶</button>
<button id="last" aria-label="last frame (End)">last</button>
<input id="scrub" type="range" min="1" max="{n}" value="1" aria-label="frame">
<span>frame <span id="frame" data-frame="1" aria-live="polite">1</span> of {n}</span>
<label>speed <select id="speed" aria-label="frames a second">
<option value="1">1/s</option><option value="2" selected>2/s</option><option value="5">5/s</option>
<option value="10">10/s</option></select></label>
</div>
<div class="grids">
<div><div class="muted">{escape(fig.labels[0])}</div>{_input_table(fig)}</div>
<div><div class="muted">{escape(fig.labels[1])}</div>{_output_table(fig)}</div>
{_kernel_table(fig)}
</div>
<p class="caption" id="caption"></p>
<p class="muted">{escape(fig.legend())}. Keys: ←/→ step, space plays or pauses, Home/End first/last; hover or
click a cell to see what it reads or feeds.</p>
<script type="application/json" id="data">{_json(data)}</script>"""
    return shell(title, body, PLAYER)


def packed(array: np.ndarray, dtype: str = "<f4") -> str:
    """An array's values as base64 of little-endian bytes (float32 unless ``dtype`` says otherwise), for BYTES."""
    import base64

    import numpy as np

    return base64.b64encode(np.ascontiguousarray(array, dtype=dtype).tobytes()).decode()


def _json(data: object) -> str:
    """JSON inside a <script> element: a "</" in any text could close the element, so it is escaped."""
    return json.dumps(data).replace("</", "<\\/")


PLAYER = r"""
const D = JSON.parse(document.getElementById('data').textContent);
const F = D.frames, N = F.length;
let k = 0, timer = null;
const cell = (g, p) => document.getElementById(g + p[0] + '_' + p[1]);
const frameEl = document.getElementById('frame'), scrub = document.getElementById('scrub');
const caption = document.getElementById('caption'), playBtn = document.getElementById('play');
function show(next) {
  k = Math.max(0, Math.min(N - 1, next));
  document.querySelectorAll('[data-lit]').forEach(e => e.removeAttribute('data-lit'));
  if (D.view === 'windows') {
    document.querySelectorAll('td.out').forEach(e => {
      const [i, j] = e.id.slice(1).split('_').map(Number);
      e.classList.toggle('written', i * D.width + j < F[k].written);
    });
  }
  F[k].in.forEach(p => { const e = cell('i', p); if (e) e.setAttribute('data-lit', ''); });
  F[k].out.forEach(p => { const e = cell('o', p); if (e) e.setAttribute('data-lit', ''); });
  frameEl.textContent = String(k + 1); frameEl.setAttribute('data-frame', String(k + 1));
  scrub.value = String(k + 1);
  caption.textContent = F[k].caption + (F[k].numbers ? '\n' + F[k].numbers : '');
}
function play(on) {
  if (timer) { clearInterval(timer); timer = null; }
  if (on) {
    const rate = Number(document.getElementById('speed').value);
    timer = setInterval(() => { if (k >= N - 1) { play(false); } else { show(k + 1); } }, 1000 / rate);
  }
  playBtn.textContent = timer ? '⏸ pause' : '▶ play';
}
document.getElementById('first').onclick = () => show(0);
document.getElementById('last').onclick = () => show(N - 1);
document.getElementById('back').onclick = () => show(k - 1);
document.getElementById('next').onclick = () => show(k + 1);
playBtn.onclick = () => play(!timer);
scrub.oninput = () => show(Number(scrub.value) - 1);
document.getElementById('speed').onchange = () => { if (timer) play(true); };
document.addEventListener('keydown', e => {
  if (e.target.tagName === 'INPUT' || e.target.tagName === 'SELECT') return;
  const keys = { ArrowRight: () => show(k + 1), ArrowLeft: () => show(k - 1), Home: () => show(0),
                 End: () => show(N - 1), ' ': () => play(!timer) };
  if (keys[e.key]) { e.preventDefault(); keys[e.key](); }
});
function tie(e, on) {
  document.querySelectorAll('.tied').forEach(t => t.classList.remove('tied'));
  if (!on) return;
  const [g, rest] = [e.id[0], e.id.slice(1)];
  const p = rest.split('_').map(Number), key = p.join(',');
  F.forEach(f => {
    const mine = (g === 'i' ? f.in : f.out).some(q => q.join(',') === key);
    if (mine) (g === 'i' ? f.out : f.in).forEach(q => { const t = cell(g === 'i' ? 'o' : 'i', q); if (t) t.classList.add('tied'); });
  });
}
document.querySelectorAll('td[id]').forEach(e => {
  e.tabIndex = -1;
  e.addEventListener('mouseenter', () => tie(e, true));
  e.addEventListener('mouseleave', () => tie(e, false));
  e.addEventListener('click', () => tie(e, true));
});
show(0);
"""


# --- documents: the backprop walk, and any Document, in MathML -----------------------------------------


def document_page(doc: Document) -> str:
    """A walk as a page: formulas and matrices in MathML (the browser sets them; no script for that); a
    Jacobian's entry, hovered or focused, lights the cells of X and K it pairs."""
    from convcli.explain.document import to_html

    style = (
        "<style>mtd.tied { background: var(--lit); color: #000; } mtd[data-ties]:focus { outline: 2px solid "
        "var(--current); } mtd[data-ties]:hover, mtd[data-ties]:focus { background: var(--tie); color: #000; } #tie { position: fixed; bottom: 0; left: 0; right: 0; padding: 0.4rem 1.5rem; "
        "background: var(--bg); border-top: 2px solid var(--lit); font-family: ui-monospace, monospace; }"
        " @media print { #tie { display: none; } }</style>"
    )
    # the cells an entry pairs may be a screen away: a line at the foot of the window names them and their values
    status = '<div id="tie" aria-live="polite" hidden></div>'
    return shell(doc.title, style + to_html(doc) + status, TIES)


TIES = r"""
document.querySelectorAll('[data-ties]').forEach(e => {
  const names = e.getAttribute('data-ties').split(' ');
  const light = on => names.forEach(n => document.querySelectorAll('[data-cell="' + n + '"]')
    .forEach(c => c.classList.toggle('tied', on)));
  const named = n => { const [m, at] = n.split(':'); return m + '(' + at.replace(',', ', ') + ')'; };
  const valued = n => { const c = document.querySelector('[data-cell="' + n + '"]');
    return named(n) + (c ? ' = ' + c.textContent.trim() : ''); };
  const tell = on => { const t = document.getElementById('tie'); t.hidden = !on;
    if (on) t.textContent = 'this entry stands for the term ' + names.map(named).join('·') + ' (' +
      names.map(valued).join(', ') + ')'; };
  const both = on => { light(on); tell(on); };
  e.addEventListener('mouseenter', () => both(true)); e.addEventListener('mouseleave', () => both(false));
  e.addEventListener('focus', () => both(true)); e.addEventListener('blur', () => both(false));
});
"""


# --- convcli shape: the formulas worked in MathML, the frameworks, the rows no window reads -------------------


def _tex(plain: str) -> str:
    """A worked line of `convcli shape` as the TeX the MathML writer reads."""
    for a, b in (("H_out", r"H_{\mathrm{out}}"), ("W_out", r"W_{\mathrm{out}}"), ("output_padding", r"\mathrm{op}"),
                 ("P_before", r"P_{\mathrm{before}}"), ("P_after", r"P_{\mathrm{after}}"), ("⌊", r"\lfloor "),
                 ("⌋", r"\rfloor "), ("⌈", r"\lceil "), ("⌉", r"\rceil "), ("·", r"\cdot "), ("−", "-")):  # fmt: skip
        plain = plain.replace(a, b)
    return plain


def _rows_strip(name: str, size: int, unread: list[int]) -> str:
    """One axis's input positions as a row of cells, those no window reads marked."""
    if size > 64:
        return ""
    cells = "".join(
        f'<td class="{"zero" if r in unread else "input"}" data-grid="input" data-{name}="{r}" '
        f'title="{name} {r}{" (never read)" if r in unread else ""}">{r}</td>'
        for r in range(size)
    )
    said = f"never read: {', '.join(map(str, unread))}" if unread else "every one is read"
    return f'<p class="muted">input {name}s ({said})</p><table class="cells"><tr>{cells}</tr></table>'


def shape_page(report: object) -> str:
    """`convcli shape` as a page: one layer's worked formulas, frameworks and unread rows; or a chain's table."""
    from convcli.explain import shape_report as sr
    from convcli.explain.mathml import mathml

    if isinstance(report, sr.ChainReport):
        return _chain_page(report)
    assert isinstance(report, sr.ConvReport | sr.TransposedReport | sr.PoolReport)
    kind = {"conv": "Conv2d (cross-correlation)", "tconv": "ConvTranspose2d", "maxpool": "MaxPool2d",
            "avgpool": "AvgPool2d"}[report.kind]  # fmt: skip
    h, w = report.axes
    title = f"{kind}: input {h.size}×{w.size}, kernel {h.kernel}×{w.kernel} → output {report.out[0]}×{report.out[1]}"
    parts = [f"<h1>{escape(title)}</h1>"]
    for lhs, lines in sr.formula_lines(report):
        parts.append(mathml(_tex(lhs + " = " + " = ".join(lines)), display=True))
    if isinstance(report, sr.ConvReport):
        parts.append(_frameworks(report.frameworks))
    if isinstance(report, sr.ConvReport | sr.PoolReport):  # the input rows and columns no window reads
        from convcli.core.shapes import Unread, unread_ranges

        for name, a in (("row", report.axes[0]), ("column", report.axes[1])):
            before = a.padding[0] if isinstance(a.padding, tuple) else a.padding
            if a.out * a.kernel <= 1_000_000:
                unread = Unread(unread_ranges(a.size, a.kernel, a.stride, before, a.dilation, a.out))
                parts.append(_rows_strip(name, a.size, unread.first(min(unread.count, 64))))
    if report.notes:
        parts.append("<ul>" + "".join(f"<li>{escape(n)}</li>" for n in report.notes) + "</ul>")
    return shell(title, "\n".join(parts))


def _frameworks(fw: object) -> str:
    from convcli.explain.shape_report import Frameworks

    assert isinstance(fw, Frameworks)
    rows = []
    if fw.pytorch is not None:
        (pads, out) = fw.pytorch
        rows.append(
            ("PyTorch (as given)", f"{out[0]} × {out[1]}", f"{pads[0][0]}+{pads[0][1]}, {pads[1][0]}+{pads[1][1]}")
        )
    if fw.half_out is not None:
        hp = fw.half_padding
        rows.append(
            (
                f"PyTorch padding={hp[0]},{hp[1]}",
                f"{fw.half_out[0]} × {fw.half_out[1]}",
                f"{hp[0]}+{hp[0]}, {hp[1]}+{hp[1]}",
            )
        )
    if not fw.tf_refuses:
        valid = "kernel does not fit" if None in fw.tf_valid else f"{fw.tf_valid[0]} × {fw.tf_valid[1]}"
        rows.append(("TensorFlow VALID", valid, "0+0, 0+0"))
        (a, b), (c, d) = fw.tf_same_padding
        rows.append(("TensorFlow SAME", f"{fw.tf_same_out[0]} × {fw.tf_same_out[1]}", f"{a}+{b}, {c}+{d}"))
    body = "".join(f"<tr><td>{escape(a)}</td><td>{escape(b)}</td><td>{escape(c)}</td></tr>" for a, b, c in rows)
    head = "<tr><th>framework</th><th>output</th><th>padding (top+bottom, left+right)</th></tr>"
    return f'<h2>What the frameworks give</h2><table class="plain">{head}{body}</table>'


def _chain_page(report: object) -> str:
    from convcli.explain.shape_report import ChainReport, chain_legend, chain_table
    from convcli.explain.text import fmt_count

    assert isinstance(report, ChainReport)
    columns, rows, lines = chain_table(report)
    head = "<tr>" + "".join(f'<th scope="col">{escape(c)}</th>' for c in columns) + "</tr>"
    body_rows = "".join(
        "<tr>"
        + "".join(f'<td class="{"text" if k == 1 else "num"}">{escape(v)}</td>' for k, v in enumerate(row))
        + "</tr>"
        for row in rows
    )
    title = f"Layer chain: input {report.input[0]}×{report.input[1]}, {len(report.steps)} layers"
    parts = [f"<h1>{escape(title)}</h1>", f'<table class="plain chain">{head}{body_rows}</table>']
    if report.counted:
        parts.append(f"<p>Total: {fmt_count(report.params)} parameters, {fmt_count(report.macs)} MACs per image</p>")
    if lines:
        parts.append("<ul>" + "".join(f"<li>{escape(n)}</li>" for n in lines) + "</ul>")
    parts.append(f'<p class="muted">{escape(chain_legend(report))}</p>')
    style = "<style>table.chain td.num { text-align: right; font-variant-numeric: tabular-nums; }</style>"
    return shell(title, style + "".join(parts))


# --- convcli apply --at: the pixel explained, and any other one at a click --------------------------------------


def apply_page(meta: dict[str, Any], images: tuple[str, str], arrays: dict[str, str | None]) -> str:
    """Before and after, the probed pixel marked and explained (window, kernel, products, sum per channel);
    a click on either image explains that pixel, computed in the page from the image as the filter saw it
    (``arrays``: base64 float32 of the image and the divisor; the boundary's index maps come in ``meta``)."""
    data = {**meta, **arrays}
    title = f"apply {meta['kernel_name']} to {meta['image']}"
    zoom = max(1, 320 // max(meta["shape"][:2]))  # a small image drawn large enough to click one pixel
    widths = (meta["shape"][1] * zoom, meta["out"][1] * meta["stride"][1] * zoom)  # the same scale on both
    body = f"""<h1>{escape(title)}</h1>
<p class="muted">{escape(meta["settings"])}. Click either picture (or move the pixel with the arrow keys) to
explain another output pixel; every number below is computed here from the image as the filter saw it, the same
sums convcli apply --at prints.</p>
<div class="grids">
<figure><figcaption>before</figcaption><div class="pic"><img id="before" alt="the input" src="{images[0]}" style="width: {widths[0]}px">
<div class="mark" id="mark0"></div></div></figure>
<figure><figcaption>after</figcaption><div class="pic"><img id="after" alt="the result" src="{images[1]}" style="width: {widths[1]}px">
<div class="mark" id="mark1"></div></div></figure>
</div>
<h2>Output pixel (<span id="row"></span>, <span id="col"></span>)</h2>
<label>channel <select id="channel" aria-label="channel shown"></select></label>
<div id="explained"></div>
<p class="caption" id="sums"></p>
<script type="application/json" id="data">{_json(data)}</script>"""
    style = (
        "<style>.pic { position: relative; display: inline-block; } .pic img { image-rendering: pixelated; "
        "max-width: 44vw; } .mark { position: absolute; border: 2px solid #e69f00; box-shadow: 0 0 0 1px #000; "
        "pointer-events: none; } figure { margin: 0; }</style>"
    )
    return shell(title, style + body, PROBE)


# the arrays a page carries: base64 of little-endian bytes (Python's packed()), decoded once
BYTES = r"""
const D = JSON.parse(document.getElementById('data').textContent);
const bytes = b64 => { const s = atob(b64), u = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) u[i] = s.charCodeAt(i); return u; };
const floats = b64 => new Float32Array(bytes(b64).buffer);
"""

PROBE = (
    BYTES
    + r"""
const X = D.dtype === 'u8' ? bytes(D.image) : floats(D.image);
const DIV = D.divisor ? floats(D.divisor) : null;
const [H, W, C] = D.shape, [HO, WO] = D.out;
const fmt = v => { const r = Math.round(v * 1e4) / 1e4; return Object.is(r, -0) ? '0' : String(r); };
let at = D.at.slice();
const sel = document.getElementById('channel');
for (let c = 0; c < C; c++) sel.add(new Option(D.channels[c] || String(c), String(c)));
function explain(r, c) {
  // each kernel: taps at padded (r·S + m·D, c·S + n·D), read through the boundary's index maps
  return D.kernels.map(K => {
    const kh = K.length, kw = K[0].length, sums = new Array(C).fill(0), window = [];
    for (let m = 0; m < kh; m++) {
      const row = [];
      for (let n = 0; n < kw; n++) {
        const sr = D.rows[r * D.stride[0] + m * D.dilation[0]], sc = D.cols[c * D.stride[1] + n * D.dilation[1]];
        const px = [];
        for (let ch = 0; ch < C; ch++) {
          const v = sr < 0 || sc < 0 ? 0 : X[(sr * W + sc) * C + ch];
          px.push(v); sums[ch] += v * K[m][n];
        }
        row.push(px);
      }
      window.push(row);
    }
    return { K, window, sums };
  });
}
function totals(parts, r, c) {
  const out = [];
  for (let ch = 0; ch < C; ch++) {
    let v = D.magnitude ? Math.sqrt(parts.reduce((a, p) => a + p.sums[ch] * p.sums[ch], 0)) : parts[0].sums[ch];
    if (DIV) v = DIV[r * WO + c] > 1e-6 ? v / DIV[r * WO + c] : 0;  // no visible pixel in the window: 0, as apply
    out.push(v);
  }
  return out;
}
function table(rows) {
  return '<table class="cells">' + rows.map(r => '<tr>' + r.map(v => '<td>' + v + '</td>').join('') + '</tr>').join('') + '</table>';
}
function show() {
  const [r, c] = at, ch = Number(sel.value || 0), parts = explain(r, c), t = totals(parts, r, c);
  document.getElementById('row').textContent = r; document.getElementById('col').textContent = c;
  document.getElementById('explained').innerHTML = parts.map((p, i) =>
    '<div class="grids"><div><div class="muted">window' + (parts.length > 1 ? ' (kernel ' + (i ? 'y' : 'x') + ')' : '') + '</div>' +
    table(p.window.map(row => row.map(px => fmt(px[ch])))) + '</div><div><div class="muted">kernel as applied</div>' +
    table(p.K.map(row => row.map(fmt))) + '</div><div><div class="muted">products</div>' +
    table(p.window.map((row, m) => row.map((px, n) => fmt(px[ch] * p.K[m][n])))) + '</div></div>').join('');
  const sums = parts.map(p => fmt(p.sums[ch]));
  document.getElementById('sums').textContent = 'sum of products: ' + sums.join(', ') +
    (D.magnitude ? '  → magnitude √(x² + y²) = ' + fmt(t[ch]) : '') +
    (DIV ? (DIV[r * WO + c] > 1e-6 ? '  ÷ the filtered alpha ' + fmt(DIV[r * WO + c]) + ' = ' + fmt(t[ch])
      : '  (no visible pixel in the window: 0)') : '') +
    '\nvalue at this pixel, every channel: ' + t.map(fmt).join(', ');
  document.getElementById('sums').setAttribute('data-values', JSON.stringify(t));
  ['before', 'after'].forEach((id, k) => {
    const img = document.getElementById(id), m = document.getElementById('mark' + k);
    const sy = img.clientHeight / img.naturalHeight, sx = img.clientWidth / img.naturalWidth;
    // on the input, the window's extent (its taps span (K-1)·D + 1); on the result, the one pixel
    const K = D.kernels[0], before = id === 'before';
    const rr = before ? r * D.stride[0] - D.pad[0] : r, cc = before ? c * D.stride[1] - D.pad[1] : c;
    const hh = before ? (K.length - 1) * D.dilation[0] + 1 : 1, ww = before ? (K[0].length - 1) * D.dilation[1] + 1 : 1;
    Object.assign(m.style, { top: (rr * sy - 2) + 'px', left: (cc * sx - 2) + 'px',
      width: Math.max(4, ww * sx) + 'px', height: Math.max(4, hh * sy) + 'px' });
  });
}
['before', 'after'].forEach(id => document.getElementById(id).addEventListener('click', e => {
  const img = e.target, rect = img.getBoundingClientRect();
  let r = Math.floor((e.clientY - rect.top) / rect.height * img.naturalHeight);
  let c = Math.floor((e.clientX - rect.left) / rect.width * img.naturalWidth);
  if (id === 'before') {  // the output whose window is centred nearest the clicked input pixel
    const K = D.kernels[0], cy = (K.length - 1) * D.dilation[0] / 2, cx = (K[0].length - 1) * D.dilation[1] / 2;
    r = Math.round((r + D.pad[0] - cy) / D.stride[0]); c = Math.round((c + D.pad[1] - cx) / D.stride[1]);
  }
  at = [Math.min(HO - 1, Math.max(0, r)), Math.min(WO - 1, Math.max(0, c))]; show();
}));
document.addEventListener('keydown', e => {
  const step = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] }[e.key];
  if (!step || e.target.tagName === 'SELECT') return;
  e.preventDefault();
  at = [Math.min(HO - 1, Math.max(0, at[0] + step[0])), Math.min(WO - 1, Math.max(0, at[1] + step[1]))]; show();
});
sel.onchange = show;
window.explainAt = (r, c) => { at = [r, c]; show(); return totals(explain(r, c), r, c); };
if (document.readyState === 'complete') show(); else window.addEventListener('load', show);
"""
)


# --- inspect: one image through a trained network ----------------------------------------------------


def inspect_page(meta: dict[str, Any], pictures: dict[str, str], layers: list[dict[str, Any]]) -> str:
    """The image and its saliency, the probabilities, and every layer's maps on that layer's own colour scale.

    ``pictures``: data: addresses of the input and the saliency; ``layers``: per layer its name, shape, scale,
    range, each channel's map as a data: address (``maps``) and the values as base64 float32 (``values``), so
    a hovered or focused map cell says its number."""
    title = f"inspect {meta['model']} on {meta['image']}"
    probs = '<tr><th scope="col">class</th><th scope="col">logit</th><th scope="col" colspan="2">probability</th></tr>'
    probs += "".join(
        f'<tr{" class=best" if name == meta["label"] else ""} data-class="{escape(name)}"><th scope="row">'
        f'{escape(name)}</th><td class="num">{z:.4g}</td><td class="num" data-p="{p!r}">{p:.4f}</td>'
        f'<td class="barcell"><div class="bar" style="width: {100 * p:.2f}%"></div></td></tr>'
        for name, p, z in meta["probabilities"]
    )
    size = meta["size"]
    zoom = max(1, 224 // max(size))
    body = [
        f"<h1>{escape(title)}</h1>",
        f'<p class="muted">{escape(meta["network"])}. Predicted <strong>{escape(meta["label"])}</strong>. '
        "Hover a map (or Tab to it and move with the arrow keys) to read its value at a cell; blue is negative, "
        "white 0, red positive, each layer on its own scale.</p>",
        '<div class="grids">',
        f"<figure><figcaption>the image as the network sees it ({size[0]}×{size[1]})</figcaption>"
        f'<img class="map" alt="the input" src="{pictures["input"]}" style="width: {size[1] * zoom}px"></figure>',
        f"<figure><figcaption>saliency |d logit / d pixel| of {escape(meta['label'])}</figcaption>"
        f'<img class="map" data-layer="saliency" data-channel="0" tabindex="0" alt="the saliency" '
        f'src="{pictures["saliency"]}" style="width: {size[1] * zoom}px">'
        f'<div class="scale hot" aria-hidden="true"></div><div class="ends"><span>0</span>'
        f"<span>{meta['saliency_max']:.4g}</span></div></figure>",
        f'<figure><figcaption>probabilities</figcaption><table class="plain probs">{probs}</table></figure>',
        "</div>",
        '<p class="caption" id="probe" aria-live="polite">&nbsp;</p>',
    ]
    for layer in layers:
        body.append(_layer_section(layer))
    data = {"layers": {str(layer["index"]): _layer_data(layer) for layer in layers}, "saliency": meta["saliency"]}
    body.append(f'<script type="application/json" id="data">{_json(data)}</script>')
    style = (
        "<style>img.map { image-rendering: pixelated; display: block; border: 1px solid var(--line); }"
        " .maps { display: flex; flex-wrap: wrap; gap: 0.4rem; } .maps figure { margin: 0; }"
        " .maps figcaption { font-size: 0.8rem; color: var(--muted); } figure { margin: 0; }"
        " .scale { height: 0.7rem; width: 12rem; border: 1px solid var(--line); margin-top: 0.3rem;"
        " background: linear-gradient(to right, rgb(0,0,255), rgb(255,255,255), rgb(255,0,0)); }"
        " .scale.hot { background: linear-gradient(to right, #000, #f00, #ff0, #fff); }"
        " .ends { display: flex; justify-content: space-between; width: 12rem; font-size: 0.8rem; }"
        " .probs .bar { height: 0.8rem; background: var(--current); } .probs .barcell { width: 10rem; }"
        " .probs tr.best th { font-weight: bold; } td.num { font-variant-numeric: tabular-nums; }"
        " .strip { display: flex; flex-wrap: wrap; gap: 1px; max-width: 60rem; }"
        " .strip span { width: 0.9rem; height: 0.9rem; border: 1px solid var(--line); }"
        " img.map.probed, .strip span.probed { outline: 2px solid var(--lit); }</style>"
    )
    return shell(title, style + "\n".join(body), INSPECT)


def _layer_section(layer: dict[str, Any]) -> str:
    shape = "×".join(str(s) for s in layer["shape"])
    head = (
        f'<section aria-label="layer {layer["index"]}"><h2>{layer["index"]} {escape(layer["name"])} '
        f'<span class="muted">→ {shape}</span></h2><p class="muted">values {layer["min"]:.4g} .. {layer["max"]:.4g}, '
        f"{layer['zero']:.0%} zero; colour scale ±{layer['scale']:.4g}</p>"
        f'<div class="scale" aria-hidden="true"></div><div class="ends"><span>−{layer["scale"]:.4g}</span><span>0</span>'
        f"<span>+{layer['scale']:.4g}</span></div>"
    )
    if layer["maps"]:
        h, w = layer["shape"][1:]
        zoom = max(1, 84 // max(h, w))
        maps = "".join(
            f'<figure><figcaption>c{c}</figcaption><img class="map" data-layer="{layer["index"]}" data-channel="{c}" '
            f'tabindex="0" alt="layer {layer["index"]} channel {c}" src="{uri}" style="width: {w * zoom}px"></figure>'
            for c, uri in enumerate(layer["maps"])
        )
        return f'{head}<div class="maps">{maps}</div></section>'
    cells = "".join(
        f'<span data-layer="{layer["index"]}" data-index="{i}" tabindex="0" style="background: {colour}" '
        f'aria-label="feature {i}"></span>'
        for i, colour in enumerate(layer["colours"])
    )
    return f'{head}<div class="strip">{cells}</div></section>'


def _layer_data(layer: dict[str, Any]) -> dict[str, Any]:
    return {"name": layer["name"], "shape": layer["shape"], "values": layer["values"]}


INSPECT = (
    BYTES
    + r"""
const V = {};
for (const k in D.layers) V[k] = floats(D.layers[k].values);
V.saliency = floats(D.saliency.values);
const probe = document.getElementById('probe');
let held = null;  // the focused map and its cell: [element, i, j]
function say(el, i, j) {
  document.querySelectorAll('.probed').forEach(e => e.classList.remove('probed'));
  el.classList.add('probed');
  const key = el.dataset.layer, sal = key === 'saliency';
  const shape = sal ? [1].concat(D.saliency.shape) : D.layers[key].shape;
  let v, where;
  if (el.dataset.index !== undefined) { v = V[key][Number(el.dataset.index)]; where = 'feature ' + el.dataset.index; }
  else {
    const c = Number(el.dataset.channel), [, h, w] = shape;
    v = V[key][(c * h + i) * w + j]; where = (sal ? '' : 'channel ' + c + ', ') + 'row ' + i + ', col ' + j;
  }
  const name = sal ? 'saliency' : 'layer ' + key + ' ' + D.layers[key].name;
  probe.textContent = name + ', ' + where + ': ' + Number(v.toPrecision(6));
  probe.dataset.value = String(v);
}
function cellAt(el, e) {
  const r = el.getBoundingClientRect(), key = el.dataset.layer;
  const [h, w] = key === 'saliency' ? D.saliency.shape : D.layers[key].shape.slice(1);
  return [Math.min(h - 1, Math.floor((e.clientY - r.top) / r.height * h)),
          Math.min(w - 1, Math.floor((e.clientX - r.left) / r.width * w))];
}
document.querySelectorAll('img[data-layer]').forEach(el => {
  el.addEventListener('mousemove', e => { const [i, j] = cellAt(el, e); say(el, i, j); });
  el.addEventListener('focus', () => { held = [el, 0, 0]; say(el, 0, 0); });
});
document.querySelectorAll('.strip span').forEach(el => {
  el.addEventListener('mouseenter', () => say(el, 0, 0));
  el.addEventListener('focus', () => say(el, 0, 0));
});
document.addEventListener('keydown', e => {
  const step = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] }[e.key];
  if (!step || !held || document.activeElement !== held[0]) return;
  e.preventDefault();
  const key = held[0].dataset.layer;
  const [h, w] = key === 'saliency' ? D.saliency.shape : D.layers[key].shape.slice(1);
  held[1] = Math.min(h - 1, Math.max(0, held[1] + step[0])); held[2] = Math.min(w - 1, Math.max(0, held[2] + step[1]));
  say(held[0], held[1], held[2]);
});
"""
)


# --- animate --gallery: the lecture pack's index ---------------------------------------------------------------


def gallery_page(entries: list[tuple[str, str, str, str]], formats: tuple[str, ...]) -> str:
    """The lecture pack's index: each case (name, title, what it shows, its SMIL SVG) playing in place, with
    links to its interactive page and its GIF, SVG and PDF beside this file."""
    kinds = {".html": "page (keys, hover)", ".gif": "GIF", ".svg": "SVG", ".pdf": "PDF, a frame a page"}
    cards = []
    for name, title, said, svg in entries:
        links = " · ".join(f'<a href="{escape(name + ext)}">{kinds.get(ext, ext)}</a>' for ext in formats)
        cards.append(
            f'<figure class="case" id="{escape(name)}"><figcaption><strong>{escape(said)}</strong><br>'
            f'<span class="muted">{escape(title)}</span></figcaption>{svg}<p>{links}</p></figure>'
        )
    title = "Convolution arithmetic: the lecture pack"
    body = (
        f'<h1>{escape(title)}</h1><p class="muted">Dumoulin and Visin\'s cases (<em>A guide to convolution '
        "arithmetic for deep learning</em>), then dilation and pooling, drawn by convcli with its checked geometry. "
        "Each plays here; its page steps with the keys and says what each cell reads; its PDF has a frame a page "
        "(Beamer's \\animategraphics takes it); every file works offline.</p>"
        f'<div class="gallery">{"".join(cards)}</div>'
    )
    style = (
        "<style>.gallery { display: grid; grid-template-columns: repeat(auto-fill, minmax(22rem, 1fr)); gap: 1.2rem; }"
        " .case { margin: 0; } .case svg { max-width: 100%; height: auto; border: 1px solid var(--line); }"
        " a { color: var(--current); }</style>"
    )
    return shell(title, style + body)
