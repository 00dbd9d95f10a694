"""Model files: a trained network, its optimizer and its history as one .npz of arrays and JSON (no pickle);
weights from elsewhere by name."""

from __future__ import annotations

from typing import TYPE_CHECKING

from convcli.imageio.files import write_atomically

if TYPE_CHECKING:
    import numpy as np

    from convcli.core.checkpoint import ModelFile


def save_model(path: str, model_file: ModelFile, replace: bool = False) -> None:
    """Write a model file (npz: marker, JSON metadata, parameters, optimizer state) atomically."""
    import json

    import numpy as np

    from convcli.core.checkpoint import MODEL_MARKER

    arrays = {"__convcli__": np.array(MODEL_MARKER), "meta": np.array(json.dumps(model_file.to_meta()))}
    arrays.update({f"param/{k}": v for k, v in model_file.params.items()})
    arrays.update({f"opt/{k}": v for k, v in model_file.optimizer_state.items()})
    if model_file.timeline is not None:
        arrays.update({f"snap/{k}": v for k, v in model_file.timeline.arrays().items()})

    def write(tmp: str) -> None:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)  # type: ignore[arg-type]

    write_atomically(path, write, replace)


MAX_MODEL_BYTES = 1 << 30  # 1 GiB of arrays: far past any model this tool trains


def weights_format(path: str) -> str:
    """What a weights file is, by its bytes: "safetensors", "torch" (torch.save's zip), "npz", "onnx" or ""."""
    import struct
    import zipfile

    with open(path, "rb") as f:
        head = f.read(9)
    if len(head) == 9 and struct.unpack("<Q", head[:8])[0] < (100 << 20) and head[8:9] == b"{":
        return "safetensors"
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
        if any(n.endswith("data.pkl") for n in names):
            return "torch"
        return "npz" if any(n.endswith(".npy") for n in names) else ""
    return "onnx" if head[:1] == b"\x08" else ""  # an ONNX ModelProto starts with field 1, ir_version


def load_state(path: str) -> dict[str, np.ndarray]:
    """Weights named as a torch.nn.Sequential's state_dict ("0.weight", ...), from safetensors, a state_dict
    torch.save wrote (read without running its pickle), or an .npz (a convcli model file's "param/0.weight"
    too; read with allow_pickle=False). Raises ModelFileError."""
    import zipfile

    import numpy as np

    from convcli.core.checkpoint import ModelFileError

    try:
        kind = weights_format(path)
    except FileNotFoundError:
        raise ModelFileError(f"no such weights file: {path}") from None
    except OSError as err:
        raise ModelFileError(f"{path} cannot be read ({err.strerror or err})") from None
    if kind in ("safetensors", "torch"):
        arrays = _foreign_state(path, kind)
        return {k: v.astype(np.float32) if v.dtype.kind == "f" else v for k, v in arrays.items()}
    try:
        with np.load(path, allow_pickle=False) as data:  # a convcli model file: its weights, not its optimizer
            skip = ("opt/", "snap/", "__convcli__", "meta")
            arrays = {k.removeprefix("param/"): np.asarray(data[k]) for k in data.files if not k.startswith(skip)}
    except FileNotFoundError:
        raise ModelFileError(f"no such weights file: {path}") from None
    except (zipfile.BadZipFile, ValueError, OSError, AttributeError, TypeError) as err:
        raise ModelFileError(
            f"{path} is not a file of weights ({type(err).__name__}): convcli reads safetensors, a state_dict "
            "torch.save wrote (.pt), or an .npz of arrays named as the state_dict"
        ) from None
    return {k: v.astype(np.float32) if v.dtype.kind == "f" else v for k, v in arrays.items()}


def _foreign_state(path: str, kind: str) -> dict[str, np.ndarray]:
    """A safetensors file's or a torch.save state_dict's arrays; errors as ModelFileError naming the file."""
    from convcli.core.checkpoint import ModelFileError
    from convcli.imageio.safetensors import SafetensorsError, read_safetensors
    from convcli.imageio.torchfile import TorchFileError, read_state_dict

    try:
        return read_safetensors(path)[0] if kind == "safetensors" else read_state_dict(path)
    except (SafetensorsError, TorchFileError) as err:
        what = "safetensors" if kind == "safetensors" else "PyTorch state_dict"
        raise ModelFileError(f"{path} is not a {what} convcli can read: {err}") from None


def load_model(path: str) -> ModelFile:
    """A model file, loaded with allow_pickle=False; raises ModelFileError for anything else."""
    import json
    import zipfile

    import numpy as np

    from convcli.core.checkpoint import MODEL_MARKER, ModelFile, ModelFileError

    try:
        if zipfile.is_zipfile(path):  # sizes from the directory first: a small file can inflate to gigabytes
            with zipfile.ZipFile(path) as archive:
                inflated = sum(info.file_size for info in archive.infolist())
            if inflated > MAX_MODEL_BYTES:
                raise ModelFileError(
                    f"{path} inflates to {inflated:,} bytes; a model here is at most {MAX_MODEL_BYTES:,}"
                )
        loaded = np.load(path, allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            raise ModelFileError(
                f"{path} is a single array, not a convcli model (an .npz); train one with convcli train"
            )
        with loaded as data:
            marker = str(data["__convcli__"]) if "__convcli__" in data.files else ""
            if marker != MODEL_MARKER:
                raise ModelFileError(_not_this_format(path, marker))
            meta = json.loads(str(data["meta"]))
            params = {k[len("param/") :]: data[k] for k in data.files if k.startswith("param/")}
            state = {k[len("opt/") :]: data[k] for k in data.files if k.startswith("opt/")}
            snaps = {k[len("snap/") :]: data[k] for k in data.files if k.startswith("snap/")}
    except ModelFileError:
        raise
    except FileNotFoundError:
        raise ModelFileError(f"no such model file: {path}") from None
    except EOFError:  # np.load of an empty file
        raise ModelFileError(f"{path} is empty: a model is the .npz file convcli train writes") from None
    except (zipfile.BadZipFile, ValueError, OSError, KeyError, json.JSONDecodeError) as err:
        raise ModelFileError(
            f"{path} is not a convcli model ({type(err).__name__}): a model is the .npz file convcli train "
            "writes, and it comes first: convcli predict MODEL IMAGE..."
        ) from None
    try:
        return ModelFile.from_meta(meta, params, state, snaps)
    except ModelFileError as err:
        raise ModelFileError(f"{path}: {err}") from None


def _not_this_format(path: str, marker: str) -> str:
    """Why a .npz is not a model this convcli reads: no marker at all, or another version's."""
    from convcli import __version__
    from convcli.core.checkpoint import MODEL_MARKER

    if marker.startswith("convcli-model "):
        return (
            f"{path} is a convcli model in format {marker.removeprefix('convcli-model ')!r}, and this convcli "
            f"({__version__}) reads format {MODEL_MARKER.removeprefix('convcli-model ')!r}: open it with the "
            "convcli that wrote it, or train it again"
        )
    return f"{path} is not a convcli model (no convcli marker); train one with convcli train"
