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

    def write(tmp: str) -> None:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)  # type: ignore[arg-type]

    write_atomically(path, write, replace)


MAX_MODEL_BYTES = 1 << 30  # 1 GiB of arrays: far past any model this tool trains


def load_state(path: str) -> dict[str, np.ndarray]:
    """Weights from an .npz, named as a state_dict ("0.weight", ...) or as in a convcli model file ("param/0.weight");
    read with allow_pickle=False. Raises ModelFileError."""
    import zipfile

    import numpy as np

    from convcli.core.checkpoint import ModelFileError

    try:
        with np.load(path, allow_pickle=False) as data:  # a convcli model file: its weights, not its optimizer
            skip = ("opt/", "__convcli__", "meta")
            arrays = {k.removeprefix("param/"): np.asarray(data[k]) for k in data.files if not k.startswith(skip)}
    except FileNotFoundError:
        raise ModelFileError(f"no such weights file: {path}") from None
    except (zipfile.BadZipFile, ValueError, OSError, AttributeError, TypeError) as err:
        raise ModelFileError(
            f"{path} is not an .npz of weights ({type(err).__name__}); save a state_dict with "
            "numpy.savez(path, **{k: v.numpy() for k, v in model.state_dict().items()})"
        ) from None
    return {k: v.astype(np.float32) if v.dtype.kind == "f" else v for k, v in arrays.items()}


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
        return ModelFile.from_meta(meta, params, state)
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
