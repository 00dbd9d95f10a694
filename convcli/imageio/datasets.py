"""Data sets for training: the built-in shapes, folders of class folders, MNIST IDX files; one image as a model
is fed it."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from convcli.core.errors import ConvcliError
from convcli.imageio.images import reading

if TYPE_CHECKING:
    from pathlib import Path

    import numpy as np

    from convcli.core.checkpoint import InputSpec


# --- datasets and model files (train, predict) ----------------------------------------------------


class DataError(ConvcliError):
    """A dataset folder or file that cannot be used, with what is wrong and where."""


IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm"}


def prepare_image(path: str, size: tuple[int, int], channels: int = 1) -> np.ndarray:
    """One image as the model sees it: EXIF-oriented, greyscale (``channels`` 3: RGB), resized (bilinear) to
    size, in [0, 1]: (H, W), or (3, H, W) in colour.

    Training on folders and `predict` both go through here, so they cannot drift apart.
    """
    import warnings

    import numpy as np
    from PIL import Image, ImageOps

    with reading(path, "resize it first"):
        with warnings.catch_warnings():
            # past Pillow's warning threshold an image is still read (and resized to the model's input); past
            # its error threshold it is refused, by reading()
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as opened:
                im = ImageOps.exif_transpose(opened).convert("RGB" if channels == 3 else "L")
        if im.size != (size[1], size[0]):
            im = im.resize((size[1], size[0]), Image.Resampling.BILINEAR)
        pixels = np.asarray(im, dtype=np.float32) / 255.0
        return np.ascontiguousarray(pixels.transpose(2, 0, 1)) if channels == 3 else pixels


def model_input(path: str, spec: InputSpec) -> np.ndarray:
    """One image as a model with input ``spec`` (checkpoint.InputSpec) takes it: prepare_image's pixels
    normalised by the training set's mean and std, (C, H, W) float32. `predict` and `inspect` feed this."""
    import numpy as np

    x: np.ndarray = (prepare_image(path, spec.size, spec.channels) - spec.mean) / spec.std
    return (x[None] if x.ndim == 2 else x).astype(np.float32)


def class_folders(root: str) -> dict[str, list[str]]:
    """ImageFolder layout, root/<class>/<image>: each class folder's images (hidden files and folders left out),
    sorted; empty for a folder of no class folders."""
    from pathlib import Path

    folders = sorted(p for p in Path(root).iterdir() if p.is_dir() and not p.name.startswith("."))
    return {
        f.name: sorted(str(p) for p in f.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith("."))
        for f in folders
    }


def load_image_folder(
    root: str, size: tuple[int, int] = (28, 28), channels: int = 1
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """ImageFolder layout: root/<class>/<image>. Returns (x (N, C, H, W) in [0, 1], y (N,), class names)."""
    from pathlib import Path

    import numpy as np

    folders = class_folders(root)
    classes = list(folders)
    if len(classes) < 2:
        raise DataError(f"{root} must hold one folder per class (at least 2), found {len(classes)}")
    images, labels = [], []
    for label, name in enumerate(classes):
        if not folders[name]:
            raise DataError(f"class folder {Path(root) / name} has no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
        for f in folders[name]:
            images.append(prepare_image(f, size, channels))
            labels.append(label)
    x = np.stack(images)
    return (x if channels == 3 else x[:, None]), np.array(labels, dtype=np.int64), classes


IDX_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


MAX_IDX_BYTES = 1 << 30  # 1 GiB: MNIST's largest file is 47 MB


def _read_idx(path: Path, expect_dims: int) -> np.ndarray:
    import gzip

    import numpy as np

    opener = gzip.open if str(path).endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            # read at most the limit and a byte: a gzip that inflates past it is refused, not inflated
            data = f.read(MAX_IDX_BYTES + 1)
    except (OSError, EOFError) as err:
        raise DataError(f"{path} could not be read: {err}") from None
    if len(data) > MAX_IDX_BYTES:
        raise DataError(f"{path} holds more than {MAX_IDX_BYTES:,} bytes; an IDX data set here is at most that")
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08 or data[3] != expect_dims:
        raise DataError(f"{path} is not an IDX file of unsigned bytes with {expect_dims} dimension(s)")
    header = 4 + 4 * expect_dims
    if len(data) < header:
        raise DataError(f"{path} ends inside its header ({len(data)} bytes of {header})")
    dims = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(expect_dims))
    count = math.prod(dims)  # Python integers: a product of 32-bit sizes cannot wrap round to 0 here
    if count == 0:
        raise DataError(f"{path} holds no data: its header says {dims}")
    body = np.frombuffer(data, dtype=np.uint8, offset=header)
    if body.size != count:
        raise DataError(f"{path} does not match its header: it says {dims}, it holds {body.size:,} bytes of data")
    return body.reshape(dims)


def load_idx_dir(root: str) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """MNIST-format IDX files (gzipped or not) from a folder: ((x_train, y_train), (x_test, y_test)), x in [0, 1]."""
    from pathlib import Path

    import numpy as np

    found = {}
    for key, name in IDX_FILES.items():
        for candidate in (Path(root) / name, Path(root) / (name + ".gz")):
            if candidate.is_file():
                found[key] = candidate
                break
        else:
            raise DataError(f"{root} has no {name} (or {name}.gz); an IDX folder needs {', '.join(IDX_FILES.values())}")
    splits = []
    for part in ("train", "test"):
        x = _read_idx(found[f"{part}_images"], 3)
        y = _read_idx(found[f"{part}_labels"], 1)
        if len(x) != len(y):
            raise DataError(f"{part}: {len(x)} images but {len(y)} labels")
        splits.append((x[:, None].astype(np.float32) / 255.0, y.astype(np.int64)))
    return splits[0], splits[1]


@dataclass(frozen=True)
class Dataset:
    """Images (N, 1, H, W) in 0..1 and integer labels, split; classes by label."""

    x_train: Any
    y_train: Any
    x_test: Any
    y_test: Any
    classes: list[str]
    description: str
    split_here: bool = False  # the test set was held out with --test-split (a folder of class folders)


DATA_SEED = 20251122  # the built-in dataset and folder splits are fixed whatever --seed says


def load_dataset(data: str, samples: int, size: tuple[int, int], test_split: float, channels: int = 1) -> Dataset:
    """'shapes' (built in, ``samples`` images), a folder of class folders, or a folder of MNIST IDX files;
    ``channels`` 3 reads image folders in colour (the others are greyscale: refused)."""
    from pathlib import Path

    from convcli.core.synthetic import CLASSES, make_shapes

    if channels == 3 and (data == "shapes" or (Path(data).is_dir() and _is_idx(Path(data)))):
        raise DataError(f"--color reads image folders in colour; {data} is greyscale: drop --color")
    if data == "shapes":
        x, y = make_shapes(samples, seed=DATA_SEED, size=size[0] if size[0] == size[1] else 28)
        n_test = max(len(CLASSES), round(samples * 0.2))
        return Dataset(
            x[n_test:], y[n_test:], x[:n_test], y[:n_test], list(CLASSES), f"built-in shapes, {samples} images"
        )
    path = Path(data)
    if path.is_file():
        raise DataError(
            f"--data {data} is a file; give the folder that holds it (MNIST: the folder with train-images-idx3-ubyte.gz "
            "and its three companions; images: a folder of class folders)"
        )
    if not path.is_dir():
        raise DataError(f"--data {data}: no such folder (use 'shapes', a folder of class folders, or an IDX folder)")
    if _is_idx(path):
        (xtr, ytr), (xte, yte) = load_idx_dir(data)
        classes = [str(i) for i in range(int(max(ytr.max(), yte.max())) + 1)]
        return Dataset(xtr, ytr, xte, yte, classes, f"IDX files in {data}")
    _refuse_cifar(path)
    if (path / "train").is_dir() and (path / "test").is_dir():  # torchvision's split: train/<class>, test/<class>
        xtr, ytr, classes = load_image_folder(str(path / "train"), size, channels)
        xte, yte, test_classes = load_image_folder(str(path / "test"), size, channels)
        if test_classes != classes:
            raise DataError(f"{data}/test has the classes {test_classes}, {data}/train {classes}: they must match")
        return Dataset(xtr, ytr, xte, yte, classes, f"image folders in {data} (train/ and test/)")
    x, y, classes = load_image_folder(data, size, channels)
    test, train = stratified_split(y, test_split, DATA_SEED)
    return Dataset(x[train], y[train], x[test], y[test], classes, f"image folders in {data}", split_here=True)


def _is_idx(path: Path) -> bool:
    return any((path / (name + ext)).is_file() for name in IDX_FILES.values() for ext in ("", ".gz"))


def stratified_split(labels: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(held-out, kept) indices: ``fraction`` of each class held out (rounded, at least one of a class with
    two or more images when fraction > 0), shuffled with ``seed``: every class is tested in proportion."""
    import numpy as np

    rng = np.random.default_rng(seed)
    held, kept = [], []
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        n = round(len(members) * fraction)
        if fraction > 0 and n == 0 and len(members) > 1:
            n = 1
        held.append(members[:n])
        kept.append(members[n:])
    return rng.permutation(np.concatenate(held)), rng.permutation(np.concatenate(kept))


def _refuse_cifar(path: Path) -> None:
    """CIFAR-10's python batches are pickled, which convcli never loads (unpickling runs code): say how to convert."""
    batches = list(path.glob("data_batch_*")) + list(path.glob("*/data_batch_*"))
    if batches:
        raise DataError(
            f"{path} holds CIFAR-10's python batches ({batches[0].name}); they are pickled, and convcli never "
            "unpickles (it can run code). Convert them once to image folders, trusting the file: "
            "torchvision.datasets.CIFAR10(root, download=False) then save each image as "
            "<out>/train/<class>/<i>.png and <out>/test/<class>/<i>.png, and train with --data <out>"
        )
