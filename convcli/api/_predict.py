"""``convcli.predict``: classify images with a model ``convcli train`` wrote."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from convcli.api._result import Result
from convcli.api._values import at_least
from convcli.explain.text import inert, plural

if TYPE_CHECKING:
    import numpy as np
    from rich.console import RenderableType

    from convcli.core.checkpoint import ModelFile
    from convcli.core.nn import Model

MAX_ROWS = 40  # a labelled folder of hundreds of images: the confusion matrix says it, not a row each


@dataclass(frozen=True)
class PredictResult(Result):
    """Each readable image's class probabilities (``probabilities``, one row per image of ``images``), the
    true classes of those from labelled folders (``truth``), and the images that could not be read (``failed``,
    their errors)."""

    model: str
    model_file: ModelFile
    network: Model
    images: tuple[str, ...]
    inputs: np.ndarray  # (N, C, H, W): each image as the network is fed it
    probabilities: np.ndarray  # (N, classes)
    truth: dict[str, int]
    failed: tuple[str, ...] = ()
    top: int = 3
    explain: bool = False

    @property
    def classes(self) -> list[str]:
        return list(self.model_file.classes)

    @property
    def confusion(self) -> np.ndarray | None:
        """(true, predicted) counts over the labelled images, or None when no image is labelled."""
        import numpy as np

        if not self.truth:
            return None
        n = len(self.classes)
        confusion = np.zeros((n, n), dtype=np.int64)
        for path, p in zip(self.images, self.probabilities, strict=True):
            if path in self.truth:
                confusion[self.truth[path], int(p.argmax())] += 1
        return confusion

    @property
    def accuracy(self) -> float | None:
        import numpy as np

        confusion = self.confusion
        return None if confusion is None else float(np.trace(confusion) / confusion.sum())

    def to_json(self) -> object:
        classes = self.classes
        results = [
            {
                "image": path,
                "label": classes[int(p.argmax())],
                **({"true": classes[self.truth[path]]} if path in self.truth else {}),
                "probabilities": {name: float(v) for name, v in zip(classes, p, strict=True)},
            }
            for path, p in zip(self.images, self.probabilities, strict=True)
        ]
        confusion = self.confusion
        if confusion is None:
            return results
        return {"accuracy": self.accuracy, "confusion": confusion.tolist(), "classes": classes, "images": results}

    def renderable(self, width: int, colour: bool) -> RenderableType:
        import numpy as np
        from rich.console import Group
        from rich.text import Text

        from convcli.render.train import confusion_matrix, predictions

        classes = self.classes
        parts: list[Any] = []
        if self.explain:
            from convcli.explain.inspect_report import inspect_image
            from convcli.render.inspect import overview

            for path, x in zip(self.images, self.inputs, strict=True):
                with np.errstate(all="ignore"):
                    report = inspect_image(self.network, self.network.names, classes, path, x[None])
                parts += [overview(report, colour, width), ""]
        rows = []
        for path, p in zip(self.images, self.probabilities, strict=True):
            order = np.argsort(-p)[: self.top]
            rows.append((path, classes[int(p.argmax())], "  ".join(f"{classes[i]} {p[i]:.1%}" for i in order)))
        confusion, accuracy = self.confusion, self.accuracy
        if confusion is None or len(rows) <= MAX_ROWS:
            parts.append(predictions(rows, min(self.top, len(classes))))
        if confusion is not None and accuracy is not None:
            parts.append(Text(f"\n  accuracy {accuracy:.2%} on {int(confusion.sum())} labelled images", style="bold"))
            parts.append(confusion_matrix(confusion, classes))
        mf = self.model_file
        parts.append(Text(inert(f"  model {self.model}: {_provenance(mf)}"), style="dim"))
        if self.failed:
            total = len(self.failed) + len(self.images)
            parts.append(Text(f"  {len(self.failed)} of {total} images could not be read (above)", style="red"))
        return Group(*parts)


def predict(model: str, images: list[str] | str, top: int = 3, explain: bool = False) -> PredictResult:
    """The class of each image (or of each image in a folder of class folders, which also gives the accuracy),
    with the model's own preprocessing. An image that cannot be read is listed in ``failed``; the others are
    still classified. Raises ModelFileError for a model that gives non-finite probabilities."""
    import numpy as np

    from convcli import imageio

    at_least(top, 1, "--top")
    mf = imageio.load_model(model)
    net = mf.model()
    paths, truth = _expand([images] if isinstance(images, str) else list(images), mf.classes)
    prepared, failed = [], []
    for path in paths:  # one unreadable image is reported; the others are still classified
        try:
            prepared.append((path, imageio.model_input(path, mf.input)))
        except imageio.ImageReadError as err:
            failed.append(str(err))
    read = tuple(path for path, _ in prepared)
    if prepared:
        batch = np.stack([x for _, x in prepared])
        with np.errstate(all="ignore"):
            probs = net.predict_proba(batch)
    else:
        batch = np.zeros((0, mf.input.channels, *mf.input.size), np.float32)
        probs = np.zeros((0, len(mf.classes)))
    if not np.all(np.isfinite(probs)):
        from convcli.core.checkpoint import ModelFileError

        raise ModelFileError(f"{model} gives non-finite probabilities: its weights overflow on these images")
    known = {path: truth[path] for path in read if path in truth}
    return PredictResult(model, mf, net, read, batch, probs, known, tuple(failed), top, explain)


def _expand(paths: list[str], classes: list[str]) -> tuple[list[str], dict[str, int]]:
    """Images as given, a folder of class folders opened into its images; the true class of those."""
    from convcli.imageio import DataError, class_folders

    images: list[str] = []
    truth: dict[str, int] = {}
    for given in paths:
        if not Path(given).is_dir():
            images.append(given)
            continue
        folders = class_folders(given)
        if not folders:
            raise DataError(f"{given} is a folder without class folders; give images, or one subfolder per class")
        for name, files in folders.items():
            if name not in classes:
                raise DataError(f"{Path(given) / name} is not one of the model's classes ({', '.join(classes)})")
            images += files
            truth.update(dict.fromkeys(files, classes.index(name)))
    return images, truth


def _provenance(mf: ModelFile) -> str:
    """Where the model's weights come from: convcli's training, or a file imported."""
    if mf.data.source.startswith("import:"):
        return mf.data.description
    return f"trained {plural(mf.epoch, 'epoch')} on {mf.data.description}"
