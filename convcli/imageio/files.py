"""Files and the overwrite rules: an output is written to a temporary name beside it and renamed (a failed or
interrupted run leaves nothing), never over an input, over an existing file only when asked."""

from __future__ import annotations

from typing import TYPE_CHECKING

from convcli.core.errors import ConvcliError

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

STDIO = "-"  # a path of "-" means standard input (or output)


def is_file(text: str) -> bool:
    """Whether ``text`` names an existing file; False for text that cannot be a path (too long a name, a NUL):
    options that take text or a file probe the text as a path first."""
    from pathlib import Path

    try:
        return Path(text).is_file()
    except (OSError, ValueError):
        return False


class OutputError(ConvcliError):
    """An output path that cannot or must not be written."""


def output_format(path: str, fmt: str | None = None) -> str:
    """The output's extension, lower case (from ``fmt`` such as "png" for "-", standard output); raises
    OutputError when it is neither .npy nor an image format Pillow writes."""
    from pathlib import Path

    from PIL import Image

    ext = ("." + fmt.lower().lstrip(".")) if fmt else Path(path).suffix.lower()
    if path == STDIO and not fmt:
        raise OutputError("writing to standard output (-o -) needs --format, e.g. --format png")
    Image.init()
    known = Image.registered_extensions()
    if ext in known and known[ext] not in Image.SAVE and ext != ".apng":
        raise OutputError(
            f"cannot write {path}: Pillow reads {ext} but cannot write it; use .png, .jpg, .tif, .webp or .npy"
        )
    if ext != ".npy" and ext not in Image.registered_extensions():
        raise OutputError(
            f"cannot write {path}: unknown image format {ext or '(no extension)'}; use .png, .jpg, .tif, .webp or .npy"
        )
    return ext


def refuse_overwrite(
    path: str, inputs: list[str], force: bool, what: str = "input", fix: str = "add --force to overwrite it"
) -> None:
    """Refuse a path that is one of ``inputs`` (however spelled, --force or not), or that exists (a dangling
    symlink too) without ``force`` (the message ends with ``fix``), or whose folder is missing."""
    import os
    from pathlib import Path

    out = Path(path)
    if not out.parent.exists():
        raise OutputError(f"cannot write {path}: the folder {out.parent} does not exist")
    if os.path.lexists(out):
        for source in inputs:
            if (
                source != STDIO
                and out.exists()
                and Path(source).exists()
                and (out.resolve() == Path(source).resolve() or out.samefile(source))
            ):
                raise OutputError(f"{path} is {what} {source}; convcli never writes over its inputs")
        if not force:
            raise OutputError(f"{path} exists; {fix}")


def check_output(path: str, input_path: str | list[str], force: bool) -> str:
    """Refuse an unknown format, writing over an input, over an existing file without force, or into a missing folder."""
    ext = output_format(path)
    if path != STDIO:
        refuse_overwrite(path, [input_path] if isinstance(input_path, str) else input_path, force)
    return ext


def write_atomically(path: str, write: Callable[[str], object], replace: bool = False) -> None:
    """Call write(tmp_path) on a temporary file beside ``path``, then move it to ``path``.

    A failed or interrupted write leaves no partial file behind. Without ``replace`` the file is
    created exclusively (a hard link, which fails if ``path`` appeared meanwhile, say from a second
    run): nothing is overwritten that the user did not ask to overwrite. The file gets the mode a
    plain open() would give it (0666 less the umask; mkstemp's is 0600), or a replaced file's mode.
    """
    import os
    import stat
    import tempfile
    from pathlib import Path

    out = Path(path)
    if out.is_dir():
        raise OutputError(f"cannot write {path}: it is a folder")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{out.stem}.", suffix=out.suffix, dir=out.parent)
    except OSError as err:  # a read-only or vanished folder: said of the user's path, not the hidden temporary one
        raise OutputError(f"cannot write {path}: {err.strerror or err}") from None
    os.close(fd)
    try:
        try:
            write(tmp)
        except OSError as err:  # name the user's path, never the hidden temporary file
            raise OutputError(f"cannot write {path}: {err.strerror or err}") from None
        if out.is_file():
            mode = stat.S_IMODE(out.stat().st_mode)
        else:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(tmp, mode)
        try:
            if replace:
                os.replace(tmp, out)
            else:
                _create_exclusively(tmp, out)
        except OutputError:
            raise
        except OSError as err:  # the target became a folder, or the rename was refused
            raise OutputError(f"cannot write {path}: {err.strerror or err}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text(path: str, text: str, replace: bool = False) -> None:
    """A UTF-8 text file, written atomically as write_atomically writes."""
    from pathlib import Path

    write_atomically(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"), replace)


def write_bytes(path: str, data: bytes, replace: bool = False) -> None:
    """A binary file, written atomically as write_atomically writes."""
    from pathlib import Path

    write_atomically(path, lambda tmp: Path(tmp).write_bytes(data), replace)


def _create_exclusively(tmp: str, out: Path) -> None:
    import os

    try:
        os.link(tmp, out)
    except FileExistsError:
        raise OutputError(f"{out} appeared while convcli was writing it; add --force to overwrite it") from None
    except OSError:  # a file system without hard links: check, then rename
        if os.path.lexists(out):
            raise OutputError(f"{out} exists; add --force to overwrite it") from None
        os.replace(tmp, out)
        return
    os.unlink(tmp)
