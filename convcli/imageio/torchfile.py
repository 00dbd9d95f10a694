"""A PyTorch state_dict saved with ``torch.save`` (.pt, .pth), read without PyTorch and without running its pickle.

torch.save writes a zip: ``<name>/data.pkl``, a pickle of the dict whose tensors refer to storages
kept as raw little-endian files ``<name>/data/<key>``. A pickle can name any function to call;
this reader's unpickler answers only the handful a state_dict needs (an OrderedDict, a tensor
rebuilt from a storage, the storage types) and refuses every other name, so a file can describe
arrays and nothing else: the same promise as ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import pickle
import zipfile
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

# torch's storage classes, by the names a pickle gives them, and their NumPy dtypes
STORAGES = {
    "DoubleStorage": "<f8",
    "FloatStorage": "<f4",
    "HalfStorage": "<f2",
    "BFloat16Storage": "bf16",
    "LongStorage": "<i8",
    "IntStorage": "<i4",
    "ShortStorage": "<i2",
    "CharStorage": "i1",
    "ByteStorage": "u1",
    "BoolStorage": "?",
}
MAX_BYTES = 1 << 30


class TorchFileError(ValueError):
    """A file that is not a state_dict torch.save wrote, or that asks for more than arrays."""


class _Storage:
    """A storage's type; the pickle refers to it by class."""

    def __init__(self, name: str):
        self.dtype = STORAGES[name]


def _rebuild_tensor(storage: np.ndarray, offset: int, size: tuple[int, ...], stride: tuple[int, ...], *_: Any) -> Any:
    """torch._utils._rebuild_tensor_v2: a view of ``storage`` (elements, not bytes), copied."""
    import numpy as np

    if not size:
        return np.array(storage[offset])  # a 0-d array, as a 0-d tensor
    items = storage.itemsize
    if any(s < 0 for s in stride) or offset < 0:
        raise TorchFileError("a tensor with a negative stride or offset")
    last = offset + sum((n - 1) * s for n, s in zip(size, stride, strict=True)) if all(size) else offset
    if last >= len(storage) and all(size):
        raise TorchFileError("a tensor reaches past its storage")
    view = np.lib.stride_tricks.as_strided(
        storage[offset:], shape=tuple(size), strides=tuple(s * items for s in stride), writeable=False
    )
    return view.copy()


def _rebuild_parameter(data: Any, requires_grad: bool = False, hooks: Any = None) -> Any:
    return data


class _Unpickler(pickle.Unpickler):
    """Answers the names a state_dict's pickle uses; anything else is refused, never imported."""

    def __init__(self, file: Any, archive: zipfile.ZipFile, prefix: str):
        super().__init__(file)
        self.archive, self.prefix = archive, prefix

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("collections", "OrderedDict"):
            return OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor
        if (module, name) == ("torch._utils", "_rebuild_parameter"):
            return _rebuild_parameter
        if module == "torch" and name in STORAGES:
            return _Storage(name)
        raise TorchFileError(
            f"it asks to run {module}.{name}, which a file of weights never needs; save model.state_dict(), "
            "not the model object"
        )

    def persistent_load(self, pid: Any) -> Any:
        import numpy as np

        if not (isinstance(pid, tuple) and len(pid) >= 3 and pid[0] == "storage" and isinstance(pid[1], _Storage)):
            raise TorchFileError(f"a storage reference convcli cannot read ({pid!r:.60})")
        kind, key = pid[1], str(pid[2])
        try:
            raw = self.archive.read(f"{self.prefix}data/{key}")
        except KeyError:
            raise TorchFileError(f"storage {key} is missing from the archive") from None
        if kind.dtype == "bf16":
            return (np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
        return np.frombuffer(raw, dtype=kind.dtype)


def read_state_dict(path: str) -> dict[str, np.ndarray]:
    """The tensors of a state_dict torch.save wrote (the zip format, PyTorch 1.6 and later), by name."""
    import numpy as np

    if not zipfile.is_zipfile(path):
        raise TorchFileError(
            "it is not the zip torch.save has written since PyTorch 1.6 (an older file: load it in PyTorch and "
            "save it again, or save it as safetensors)"
        )
    with zipfile.ZipFile(path) as archive:
        if sum(info.file_size for info in archive.infolist()) > MAX_BYTES:
            raise TorchFileError(f"it inflates to more than {MAX_BYTES:,} bytes")
        pickles = [n for n in archive.namelist() if n.endswith("data.pkl")]
        if len(pickles) != 1:
            raise TorchFileError("it holds no data.pkl: not a file torch.save wrote")
        prefix = pickles[0][: -len("data.pkl")]
        with archive.open(pickles[0]) as f:
            try:
                state = _Unpickler(f, archive, prefix).load()
            except TorchFileError:
                raise
            except (pickle.UnpicklingError, EOFError, AttributeError, TypeError, ValueError) as err:
                raise TorchFileError(f"its pickle cannot be read as a state_dict ({err})") from None
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]  # a checkpoint dict around the state_dict, as training scripts save
    if not isinstance(state, dict) or not all(isinstance(v, np.ndarray) for v in state.values()):
        raise TorchFileError("it does not hold a dict of tensors (a state_dict)")
    return {str(k): v for k, v in state.items()}
