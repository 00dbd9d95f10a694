"""Fair timing of convcli against its peers: each library in its own process, runs interleaved.

In one process the libraries' idle worker threads spin and steal each other's cores, and a
machine's speed drifts over a minute; so every measurement here is one fresh process that times
one library on one case a few times, and the rounds alternate the libraries. The verdict is the
ratio of the medians over all rounds (below 1: convcli is faster).

A benchmark script calls ``main(script, cases, libraries, measure)``: run plainly it is the
parent and prints the table; run with ``--worker LIB --case NAME`` it is one measurement and
prints JSON ``{label: [seconds, ...]}`` (or ``{"missing": why}`` when the library is absent).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

Measure = Callable[[str, str, int, int], dict[str, list[float]]]


def timings(fn: Callable[[], object], repeat: int, warmup: int = 5) -> list[float]:
    """Seconds of ``repeat`` calls of fn after ``warmup`` untimed ones (first-touch pages, thread start)."""
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def wall_times(cmd: Sequence[str], repeat: int) -> list[float]:
    """Seconds of ``repeat`` runs of a command as a fresh process, start-up included."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    return times


def thread_env(threads: int) -> dict[str, str]:
    """The environment that caps BLAS and OpenMP pools at ``threads`` in a child process."""
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    return env


def run_worker(script: str, library: str, case: str, repeat: int, threads: int, extra: Sequence[str]) -> dict:
    cmd = [sys.executable, script, "--worker", library, "--case", case, "--repeat", str(repeat)]
    cmd += ["--threads", str(threads), *extra]
    done = subprocess.run(cmd, capture_output=True, text=True, env=thread_env(threads), check=False)
    if done.returncode != 0:
        raise SystemExit(f"{library} on {case} failed:\n{done.stderr}")
    result: dict = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main(
    script: str,
    cases: Sequence[str],
    libraries: Sequence[str],
    measure: Measure,
    describe: Callable[[str], str] = str,
    extra_options: Callable[[argparse.ArgumentParser], None] | None = None,
    defaults: tuple[int, int] = (5, 5),
) -> None:
    """Parse the command line; be one worker, or the parent that interleaves the workers and reports."""
    parser = argparse.ArgumentParser(description=(sys.modules["__main__"].__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=defaults[0], help="processes per library and case")
    parser.add_argument("--repeat", type=int, default=defaults[1], help="timed runs in each process")
    parser.add_argument("--threads", type=int, default=2, help="BLAS / OpenMP / torch threads")
    parser.add_argument("--case", action="append", choices=list(cases), help="only these cases (repeatable)")
    parser.add_argument("--json", action="store_true", help="print the medians and ratios as JSON")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    if extra_options is not None:
        extra_options(parser)
    args, extra = parser.parse_known_args()
    if args.worker:
        try:
            result = measure(args.worker, args.case[0], args.repeat, args.threads)
        except ImportError as exc:
            result = {"missing": str(exc)}
        print(json.dumps(result))
        return

    chosen = args.case or list(cases)
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    passthrough = [a for a in sys.argv[1:] if a not in ("--json",)]
    passthrough = _strip(passthrough, ("--rounds", "--repeat", "--threads", "--case"))
    samples: dict[tuple[str, str, str], list[float]] = {}
    missing: dict[str, str] = {}
    for round_ in range(args.rounds):
        for case in chosen:
            # alternate which library goes first, so neither always runs on a cooler machine
            order = list(libraries) if round_ % 2 == 0 else list(reversed(libraries))
            for lib in order:
                if lib in missing:
                    continue
                print(f"round {round_ + 1}/{args.rounds}: {lib} on {case}", file=sys.stderr, flush=True)
                result = run_worker(script, lib, case, args.repeat, args.threads, passthrough)
                if "missing" in result:
                    missing[lib] = result["missing"]
                    continue
                for label, secs in result.items():
                    samples.setdefault((case, label, lib), []).extend(secs)
    del extra
    report = []
    for case in chosen:
        labels = sorted({label for (c, label, _) in samples if c == case}, key=_label_order)
        for label in labels:
            row: dict = {"case": case, "what": describe(case), "measure": label}
            scale = 1 if "memory" in label else 1000  # memory: a multiple of the input, not seconds
            for lib in libraries:
                if (case, label, lib) in samples:
                    row[f"{lib}_ms"] = scale * statistics.median(samples[(case, label, lib)])
            ours = row.get(f"{libraries[0]}_ms")
            for lib in libraries[1:]:
                if ours is not None and f"{lib}_ms" in row:
                    row[f"ratio_vs_{lib}"] = ours / row[f"{lib}_ms"]
            report.append(row)
    where = machine(load_before)
    if args.json:
        print(json.dumps({"threads": args.threads, "rounds": args.rounds, "repeat": args.repeat, "machine": where,
                          "missing": missing, "results": report}, indent=2))  # fmt: skip
        return
    print(" · ".join(f"{k}: {v}" for k, v in where.items()))
    print(f"median over {args.rounds} processes x {args.repeat} runs per library, {args.threads} threads;")
    print(f"ratio = {libraries[0]} / peer (below 1: {libraries[0]} is faster)")
    for lib, why in missing.items():
        print(f"  {lib}: not measured ({why})")
    last = None
    for row in report:
        if row["case"] != last:
            print(f"\n{row['case']}: {row['what']}")
            last = row["case"]
        unit = "x input" if "memory" in row["measure"] else "ms"
        cells = [f"{lib} {row[f'{lib}_ms']:9.1f} {unit}" for lib in libraries if f"{lib}_ms" in row]
        ratios = [f"{row[f'ratio_vs_{lib}']:.2f}x {lib}" for lib in libraries[1:] if f"ratio_vs_{lib}" in row]
        print(f"  {row['measure']:18s} " + "   ".join(cells) + ("   ratio " + ", ".join(ratios) if ratios else ""))


def _label_order(label: str) -> tuple[int, str]:
    return (0 if label.startswith("forward") and "backward" not in label else 1, label)


def _strip(argv: list[str], options: tuple[str, ...]) -> list[str]:
    out: list[str] = []
    skip = False
    for a in argv:
        if skip:
            skip = False
            continue
        if a in options:
            skip = True
            continue
        if any(a.startswith(o + "=") for o in options):
            continue
        out.append(a)
    return out


def machine(load_before: float | None = None) -> dict[str, str]:
    """Where the numbers were taken: the processor, its cores, the BLAS kernel NumPy's OpenBLAS runs (and the
    variables that choose it: these machines set OPENBLAS_CORETYPE, users' machines do not), the load."""
    import platform

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    found = {"machine": cpu, "cores": str(cores), "numpy BLAS kernel": _numpy_kernel()}
    for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        found[name] = os.environ.get(name, "unset")
    # start-up: an editable install adds its import finder, and without written bytecode every module of
    # convcli is compiled again on each run (these machines set PYTHONDONTWRITEBYTECODE; a pip install compiles)
    found["convcli install"] = _install_kind()
    found["PYTHONDONTWRITEBYTECODE"] = "set" if os.environ.get("PYTHONDONTWRITEBYTECODE") else "unset"
    if load_before is not None and hasattr(os, "getloadavg"):
        found["load (1 min) before, after"] = f"{load_before:.2f}, {os.getloadavg()[0]:.2f}"
    return found


def _install_kind() -> str:
    """How the convcli on PATH is installed: "regular" (as pip install gives users), "editable" or "unknown"."""
    import shutil

    exe = shutil.which("convcli")
    if exe is None:
        return "not on PATH"
    python = Path(exe).parent / "python"
    code = (
        "import importlib.metadata as m, json\n"
        "d = m.distribution('convcli').read_text('direct_url.json')\n"
        "print(json.loads(d).get('dir_info', {}).get('editable', False) if d else False)\n"
    )
    python_exe = str(python) if python.exists() else sys.executable
    # run beside the executable, not here: a source tree's own metadata would answer instead
    done = subprocess.run([python_exe, "-c", code], capture_output=True, text=True, cwd=Path(exe).parent)
    answer = done.stdout.strip()
    return {"True": "editable", "False": "regular"}.get(answer, "unknown")


def _numpy_kernel() -> str:
    """OpenBLAS's name for the kernel it chose (Haswell: AVX2; SkylakeX: AVX-512), asked in a fresh process so
    that this one's environment is the one measured."""
    code = (
        "import ctypes, glob, os, numpy as np\n"
        "d = os.path.join(os.path.dirname(np.__file__), os.pardir, 'numpy.libs')\n"
        "for p in sorted(glob.glob(os.path.join(d, '*openblas*'))):\n"
        "    lib = ctypes.CDLL(p)\n"
        "    for n in ('scipy_openblas_get_corename64_', 'scipy_openblas_get_corename', 'openblas_get_corename64_',"
        " 'openblas_get_corename'):\n"
        "        if hasattr(lib, n):\n"
        "            f = getattr(lib, n); f.restype = ctypes.c_char_p; print(f().decode()); raise SystemExit\n"
        "print('unknown')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    return done.stdout.strip() or "unknown"
