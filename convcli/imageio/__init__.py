"""Files and Pillow, by concern. Every file is written to a temporary name beside its target and renamed, so a
failed or interrupted run leaves nothing half-written; NumPy and Pillow load only when a function needs them.

- ``files``: atomic writes and the overwrite rules (never over an input; over a file only when asked)
- ``matrices``: matrices typed on the command line, kernel files, kernels by name or matrix
- ``images``: images in and out, every mode and frame, alpha apart
- ``datasets``: data for training (built-in shapes, class folders, MNIST IDX), images as a model is fed them
- ``models``: model files and state dicts (.npz, no pickle)
- ``pictures``: crops and fits for the terminal, PNG grids of maps and kernels, contact sheets, data: addresses
- ``figures``: the animations as GIF, APNG, PNG stills and SVG (imported by itself, not here)
"""

from typing import Any

from convcli.imageio.datasets import (
    DATA_SEED,
    IDX_FILES,
    IMAGE_SUFFIXES,
    MAX_IDX_BYTES,
    DataError,
    Dataset,
    class_folders,
    load_dataset,
    load_idx_dir,
    load_image_folder,
    model_input,
    prepare_image,
    stratified_split,
)
from convcli.imageio.files import (
    STDIO,
    OutputError,
    check_output,
    output_format,
    refuse_overwrite,
    write_atomically,
    write_bytes,
    write_text,
)
from convcli.imageio.images import (
    BYTES_PER_PIXEL,
    FLOAT_FORMATS,
    FRAME_FORMATS,
    IMAGE_ALPHA_FORMATS,
    ORIENTATION_TAG,
    SIXTEEN_BIT_FORMATS,
    SOFTWARE,
    SOFTWARE_TAG,
    ConvcliWarning,
    ImageReadError,
    LoadedFrames,
    LoadedImage,
    load_frames,
    load_image,
    save_image,
    save_npy,
    written_by_convcli,
)
from convcli.imageio.matrices import (
    MAX_KERNEL_ENTRIES,
    MatrixSyntaxError,
    load_kernel_file,
    parse_matrix,
    read_kernel,
    split_kernel_list,
)
from convcli.imageio.models import (
    MAX_MODEL_BYTES,
    load_model,
    load_state,
    save_model,
    weights_format,
)
from convcli.imageio.pictures import (
    colour_bar,
    crop_around,
    crop_origin,
    fit_half_blocks,
    monospace_font,
    png_data_uri,
    save_contact_sheet,
    save_inspection,
    save_kernel_grid,
    save_timeline,
)

__all__ = [
    "BYTES_PER_PIXEL",
    "DATA_SEED",
    "FLOAT_FORMATS",
    "FRAME_FORMATS",
    "IDX_FILES",
    "IMAGE_ALPHA_FORMATS",
    "IMAGE_SUFFIXES",
    "MAX_IDX_BYTES",
    "MAX_KERNEL_ENTRIES",
    "MAX_MODEL_BYTES",
    "ORIENTATION_TAG",
    "SIXTEEN_BIT_FORMATS",
    "SOFTWARE",
    "SOFTWARE_TAG",
    "STDIO",
    "ConvcliWarning",
    "DataError",
    "Dataset",
    "ImageReadError",
    "LoadedFrames",
    "LoadedImage",
    "MatrixSyntaxError",
    "OutputError",
    "check_output",
    "class_folders",
    "colour_bar",
    "crop_around",
    "crop_origin",
    "fit_half_blocks",
    "load_dataset",
    "load_frames",
    "load_idx_dir",
    "load_image",
    "load_image_folder",
    "load_kernel_file",
    "load_model",
    "load_state",
    "model_input",
    "monospace_font",
    "output_format",
    "parse_matrix",
    "png_data_uri",
    "prepare_image",
    "read_kernel",
    "refuse_overwrite",
    "save_contact_sheet",
    "save_image",
    "save_inspection",
    "save_kernel_grid",
    "save_model",
    "save_npy",
    "save_timeline",
    "split_kernel_list",
    "stratified_split",
    "to_display",
    "weights_format",
    "write_atomically",
    "write_bytes",
    "write_text",
    "written_by_convcli",
]


def __getattr__(name: str) -> Any:
    """``to_display`` lives in the core (NumPy); it is loaded when first asked for, so this package stays cheap."""
    if name == "to_display":
        from convcli.core.display import to_display

        return to_display
    raise AttributeError(f"module 'convcli.imageio' has no attribute {name!r}")
