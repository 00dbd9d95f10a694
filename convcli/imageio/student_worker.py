"""The child process that runs a student's convolution: ``python -m convcli.imageio.student_worker FILE``.

It sets its own limits (address space), loads FILE, then answers requests on its standard input:
a 4-byte length, a JSON header ({"call": "forward"|"backward", "names": [...], "kwargs": {...},
"cache": id}) and an .npz of the arrays; each answer is a 4-byte length, a JSON header ({"ok",
"error", "cache"}) and an .npz of float64 arrays. Only arrays cross (np.load with allow_pickle=False
on the other side): nothing the student's code returns is ever unpickled by the grader. What the
student's code prints goes to standard error, so it cannot break the protocol.
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import struct
import sys
import traceback
from typing import Any


def _limit_memory(megabytes: int) -> None:
    try:
        import resource
    except ImportError:  # not on this platform (Windows): the time limit still holds
        return
    limit = megabytes << 20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def message(header: dict[str, Any], arrays: dict[str, Any]) -> bytes:
    """One message either way: a 4-byte length and the JSON header, a 4-byte length and an .npz of the arrays."""
    import numpy as np

    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    text, data = json.dumps(header).encode(), buffer.getvalue()
    return struct.pack("<I", len(text)) + text + struct.pack("<I", len(data)) + data


def arrays_of(data: bytes) -> dict[str, Any]:
    """A message's arrays from its .npz bytes; nothing is unpickled."""
    import numpy as np

    with np.load(io.BytesIO(data), allow_pickle=False) as loaded:
        return {k: loaded[k] for k in loaded.files}


def _read(stream: Any) -> tuple[dict[str, Any], dict[str, Any]] | None:
    head = stream.read(4)
    if len(head) < 4:
        return None
    (size,) = struct.unpack("<I", head)
    header = json.loads(stream.read(size))
    (size,) = struct.unpack("<I", stream.read(4))
    return header, arrays_of(stream.read(size))


def _write(stream: Any, header: dict[str, Any], arrays: dict[str, Any]) -> None:
    stream.write(message(header, arrays))
    stream.flush()


def _as_arrays(values: Any, count: int) -> dict[str, Any]:
    """The returned values as float64 arrays (a tuple of ``count``, or one value); raises TypeError otherwise."""
    import numpy as np

    if count > 1:
        if not isinstance(values, tuple | list) or len(values) != count:
            raise TypeError(f"it returned {type(values).__name__}, not a tuple of {count} values")
    else:
        values = (values,)
    out = {}
    for i, v in enumerate(values):
        if v is None:
            continue
        if hasattr(v, "detach"):  # a torch tensor
            v = v.detach().cpu().numpy()
        array = np.asarray(v)
        if array.dtype.kind not in "biuf":
            raise TypeError(f"value {i} is {array.dtype} data, not numbers")
        out[str(i)] = array.astype(np.float64)
    return out


def main() -> None:
    path, forward, backward, api, megabytes = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
    protocol = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # the student's prints go to standard error
    sys.stdout = sys.stderr
    requests = sys.stdin.buffer
    _limit_memory(megabytes)
    try:
        spec = importlib.util.spec_from_file_location("student", path)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load {path} as Python")
        module = importlib.util.module_from_spec(spec)
        sys.modules["student"] = module
        spec.loader.exec_module(module)
    except BaseException as err:  # the student's file may raise anything, SystemExit included
        _write(protocol, {"ok": False, "error": _said(err), "stage": "import"}, {})
        return
    found = {name: getattr(module, name, None) for name in (forward, backward) if name}
    _write(protocol, {"ok": True, "functions": [k for k, v in found.items() if callable(v)]}, {})
    caches: dict[int, Any] = {}
    while (request := _read(requests)) is not None:
        header, arrays = request
        try:
            answer = _call(header, arrays, found, api, caches)
            _write(protocol, {"ok": True, "cache": answer[1]}, answer[0])
        except BaseException as err:
            _write(protocol, {"ok": False, "error": _said(err)}, {})


def _call(header: dict[str, Any], arrays: dict[str, Any], found: dict[str, Any], api: str,
          caches: dict[int, Any]) -> tuple[dict[str, Any], int | None]:  # fmt: skip
    kw = header["kwargs"]
    fn = found[header["function"]]
    if header["call"] == "forward":
        if api == "cs231n":
            out, cache = fn(arrays["x"], arrays["w"], arrays["b"], {"stride": kw["stride"], "pad": kw["pad"]})
            key = len(caches)
            caches[key] = cache
            return _as_arrays(out, 1), key
        args = _torch_args(arrays, api)
        return _as_arrays(fn(*args, **_torch_kwargs(kw)), 1), None
    if api == "cs231n":
        return _as_arrays(fn(arrays["dout"], caches.pop(header["cache"])), 3), None
    args = _torch_args(arrays, api)
    return _as_arrays(fn(arrays["dout"], *args, **_torch_kwargs(kw)), 3), None


def _torch_args(arrays: dict[str, Any], api: str) -> tuple[Any, ...]:
    """x, weight and bias for a PyTorch-style conv2d(x, weight, bias, ...): NumPy arrays."""
    return (arrays["x"], arrays["w"], arrays["b"])


def _torch_kwargs(kw: dict[str, Any]) -> dict[str, Any]:
    return {"stride": kw["stride"], "padding": kw["pad"], "dilation": kw["dilation"], "groups": kw["groups"]}


def _said(err: BaseException) -> str:
    """The error as the student needs it: its type and message, and the line of their file it came from."""
    frames = [f for f in traceback.extract_tb(err.__traceback__) if f.filename == sys.argv[1]]
    where = f" (line {frames[-1].lineno}: {frames[-1].line})" if frames else ""
    text = f"{type(err).__name__}: {err}"
    if isinstance(err, MemoryError):
        text = f"MemoryError: it asked for more than the {sys.argv[5]} MB limit"
    return text[:500] + where


if __name__ == "__main__":
    main()
