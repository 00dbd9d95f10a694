"""safetensors files with NumPy alone: the format PyTorch users exchange weights in.

A file is an 8-byte little-endian header length N, N bytes of JSON ({name: {"dtype", "shape",
"data_offsets": [begin, end]}, optional "__metadata__": {str: str}}), then the tensors' bytes,
little-endian, C order, packed in the order of their offsets. Nothing in it is executed: reading
one is parsing JSON and slicing bytes.
"""

from __future__ import annotations

import json
import struct
from typing import TYPE_CHECKING

from convcli.imageio.files import write_atomically

if TYPE_CHECKING:
    import numpy as np

# safetensors' dtype names and NumPy's (BF16 has none: it is widened to float32 on reading)
DTYPES = {
    "F64": "<f8",
    "F32": "<f4",
    "F16": "<f2",
    "I64": "<i8",
    "I32": "<i4",
    "I16": "<i2",
    "I8": "i1",
    "U8": "u1",
    "BOOL": "?",
}
MAX_HEADER = 100 << 20  # the reference implementation's limit on the JSON header


class SafetensorsError(ValueError):
    """A file that is not safetensors, or whose header does not describe its bytes."""


def safetensors_bytes(tensors: dict[str, np.ndarray], metadata: dict[str, str] | None = None) -> bytes:
    """``tensors`` (name -> array) as a safetensors file's bytes; ``metadata`` goes in the header's __metadata__."""
    import numpy as np

    names = {np.dtype(v).str: k for k, v in DTYPES.items()}
    header: dict[str, object] = {}
    blobs, offset = [], 0
    for name in sorted(tensors):  # sorted: the same bytes for the same tensors, every time
        array = np.asarray(tensors[name])
        array = array if array.flags.c_contiguous else array.copy(order="C")  # (ascontiguousarray makes 0-d 1-d)
        array = array.astype(array.dtype.newbyteorder("<")) if array.dtype.byteorder == ">" else array
        key = names.get(array.dtype.str)
        if key is None:
            raise SafetensorsError(f"{name} has dtype {array.dtype}, which safetensors cannot hold")
        data = array.tobytes()
        header[name] = {"dtype": key, "shape": list(array.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # the tensors start 8-byte aligned
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


def write_safetensors(
    path: str, tensors: dict[str, np.ndarray], metadata: dict[str, str] | None = None, replace: bool = False
) -> None:
    """Write ``tensors`` as a safetensors file, atomically."""
    data = safetensors_bytes(tensors, metadata)

    def write(tmp: str) -> None:
        with open(tmp, "wb") as f:
            f.write(data)

    write_atomically(path, write, replace)


def read_safetensors(path: str) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """(tensors, metadata) of a safetensors file; raises SafetensorsError saying what does not fit."""
    with open(path, "rb") as f:
        raw = f.read(8)
        if len(raw) < 8:
            raise SafetensorsError("too short for a safetensors header")
        (length,) = struct.unpack("<Q", raw)
        if length > MAX_HEADER:
            raise SafetensorsError(f"its header claims {length:,} bytes (at most {MAX_HEADER:,})")
        text = f.read(length)
        body = f.read()
    if len(text) < length:
        raise SafetensorsError("the file ends inside its header")
    try:
        header = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise SafetensorsError(f"its header is not JSON ({err})") from None
    if not isinstance(header, dict):
        raise SafetensorsError("its header is not a JSON object")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict):
        raise SafetensorsError("its __metadata__ is not an object of strings")
    tensors = {str(name): _tensor(str(name), entry, body) for name, entry in header.items()}
    return tensors, {str(k): str(v) for k, v in metadata.items()}


def _tensor(name: str, entry: object, body: bytes) -> np.ndarray:
    import numpy as np

    if not isinstance(entry, dict) or not {"dtype", "shape", "data_offsets"} <= set(entry):
        raise SafetensorsError(f"{name}: its entry lacks dtype, shape or data_offsets")
    dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
    if not (isinstance(shape, list) and all(isinstance(v, int) and v >= 0 for v in shape)):
        raise SafetensorsError(f"{name}: shape {shape!r} is not a list of sizes")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(isinstance(v, int) for v in offsets)):
        raise SafetensorsError(f"{name}: data_offsets {offsets!r} is not [begin, end]")
    begin, end = offsets
    if not 0 <= begin <= end <= len(body):
        raise SafetensorsError(f"{name}: its bytes {begin}..{end} lie outside the file's {len(body):,}")
    count = 1
    for v in shape:
        count *= v
    if dtype == "BF16":  # the upper half of a float32: widened exactly
        if end - begin != 2 * count:
            raise SafetensorsError(f"{name}: {end - begin} bytes for {count} BF16 values")
        half = np.frombuffer(body, dtype="<u2", count=count, offset=begin).astype(np.uint32) << 16
        return half.view(np.float32).reshape(shape)
    if dtype not in DTYPES:
        raise SafetensorsError(f"{name}: dtype {dtype!r} is not one convcli reads ({', '.join(DTYPES)}, BF16)")
    size = np.dtype(DTYPES[dtype]).itemsize
    if end - begin != size * count:
        raise SafetensorsError(f"{name}: {end - begin} bytes for {count} values of {dtype}")
    return np.frombuffer(body, dtype=DTYPES[dtype], count=count, offset=begin).reshape(shape).copy()
