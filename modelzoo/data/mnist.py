"""MNIST and Fashion-MNIST as NumPy arrays, from the first source that has them.

Sources, tried in this order when `source="auto"`:

1. `local`: a data directory (`data_dir` or `$MODELZOO_DATA_DIR`) holding the
   four IDX files, gzipped or not, in `<root>/<dataset>/` or in `<root>/`.
2. Copies already on the machine: `keras` (Keras's download cache under
   `$KERAS_HOME` or `~/.keras/datasets/`), `system` (Debian's
   `dataset-fashion-mnist` package), and prepared TFDS data under
   `$TFDS_DATA_DIR` or `~/tensorflow_datasets/`.
3. `tfds`: a TFDS download, attempted only when its server is reachable.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import socket
from pathlib import Path

import numpy as np

from modelzoo.data.checksums import verify_known_file
from modelzoo.data.idx import IMAGES_MAGIC, LABELS_MAGIC, read_idx
from modelzoo.errors import DataFormatError, DataNotFoundError

logger = logging.getLogger(__name__)

FILE_NAMES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}

# Host and port of the TFDS download server. It is probed before a download,
# because an offline TFDS download retries for minutes before it fails.
TFDS_DOWNLOAD_HOST = ("storage.googleapis.com", 443)
PROBE_TIMEOUT_SECONDS = 5.0


@dataclasses.dataclass(frozen=True)
class ImageDatasetSpec:
    """Where one IDX image data set can be found.

    Attributes:
        name: modelzoo's data set name.
        folder_names: Sub-folders of a data directory to look in.
        keras_cache: Path under Keras's `datasets/` cache: an `.npz` file or
            a folder of IDX files.
        system_dirs: Folders where operating-system packages install it.
        tfds_name: Its name in TensorFlow Datasets.
        class_names: Label names, index = label.
    """

    name: str
    folder_names: tuple[str, ...]
    keras_cache: str
    system_dirs: tuple[str, ...]
    tfds_name: str
    class_names: tuple[str, ...]


IMAGE_DATASETS = {
    "mnist": ImageDatasetSpec(
        name="mnist",
        folder_names=("mnist",),
        keras_cache="mnist.npz",
        system_dirs=(),
        tfds_name="mnist",
        class_names=tuple(str(digit) for digit in range(10)),
    ),
    "fashion_mnist": ImageDatasetSpec(
        name="fashion_mnist",
        folder_names=("fashion_mnist", "fashion-mnist"),
        keras_cache="fashion-mnist",
        system_dirs=("/usr/share/datasets/fashion-mnist",),
        tfds_name="fashion_mnist",
        class_names=(
            "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
        ),
    ),
}


@dataclasses.dataclass
class ImageArrays:
    """Train and test images (uint8, `(N, 28, 28)`) with integer labels."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str


def resolve_data_dir(data_dir: str | os.PathLike | None) -> Path | None:
    """Return `data_dir`, else `$MODELZOO_DATA_DIR`, else `None`."""
    value = data_dir if data_dir is not None else os.environ.get("MODELZOO_DATA_DIR")
    return Path(value).expanduser() if value else None


def load_image_arrays(
    name: str,
    *,
    data_dir: str | os.PathLike | None = None,
    source: str = "auto",
    download: bool = True,
    verify_checksums: bool = True,
) -> ImageArrays:
    """Load an IDX image data set from the first source that has it.

    IDX files with the public names are checked against the SHA-256 table in
    `modelzoo.data.checksums` on their first read, unless `verify_checksums`
    is False or `$MODELZOO_SKIP_CHECKSUMS` is set.

    Raises:
        DataNotFoundError: No source has the data; the message lists every
            place tried and how to point modelzoo at the files.
        DataFormatError: A file was found but is corrupted or fails its
            SHA-256 check.
    """
    spec = IMAGE_DATASETS[name]
    root = resolve_data_dir(data_dir)
    attempts: list[str] = []
    verify = {"dataset": name, "enabled": verify_checksums}
    finders = {
        "local": lambda: _from_data_dir(spec, root, attempts, verify),
        "keras": lambda: _from_keras_cache(spec, attempts, verify),
        "system": lambda: _from_system_dirs(spec, attempts, verify),
        "tfds": lambda: _from_tfds(spec, attempts, download=download),
    }
    order = list(finders) if source == "auto" else [source]
    for source_name in order:
        arrays = finders[source_name]()
        if arrays is not None:
            _check_arrays(arrays, spec)
            logger.info("Loaded %s from %s", name, arrays.source)
            return arrays

    tried = "\n".join(f"  - {attempt}" for attempt in attempts)
    files = ", ".join(f"{file_name}.gz" for file_name in FILE_NAMES.values())
    raise DataNotFoundError(
        f"{name} was not found and could not be downloaded. Tried:\n{tried}\n"
        f"Put the four files ({files}; gzipped or not) in a folder DIR or in "
        f"DIR/{spec.folder_names[0]}/, then pass --data-dir DIR, set data.data_dir "
        "in the config, or set the environment variable MODELZOO_DATA_DIR=DIR."
    )


def _from_data_dir(spec, root: Path | None, attempts: list[str], verify: dict) -> ImageArrays | None:
    if root is None:
        attempts.append("data directory: none given (--data-dir, data.data_dir, MODELZOO_DATA_DIR)")
        return None
    if not root.is_dir():
        attempts.append(f"data directory {root}: not a directory")
        return None
    for folder in [root / sub for sub in spec.folder_names] + [root]:
        arrays = _from_idx_folder(folder, attempts, verify, label=f"data directory {folder}")
        if arrays is not None:
            return arrays
    return None


def _from_idx_folder(folder: Path, attempts: list[str], verify: dict, *,
                     label: str) -> ImageArrays | None:
    if not folder.is_dir():
        attempts.append(f"{label}: not found")
        return None
    paths = {key: _find_file(folder, file_name) for key, file_name in FILE_NAMES.items()}
    missing = [FILE_NAMES[key] for key, path in paths.items() if path is None]
    if len(missing) == len(FILE_NAMES):
        attempts.append(f"{label}: no IDX files")
        return None
    if missing:
        raise DataNotFoundError(
            f"{folder} contains only some of the IDX files; missing: "
            f"{', '.join(name + '[.gz]' for name in missing)}. Add the missing files."
        )
    arrays = ImageArrays(
        x_train=read_idx(paths["x_train"], expected_magic=IMAGES_MAGIC),
        y_train=read_idx(paths["y_train"], expected_magic=LABELS_MAGIC),
        x_test=read_idx(paths["x_test"], expected_magic=IMAGES_MAGIC),
        y_test=read_idx(paths["y_test"], expected_magic=LABELS_MAGIC),
        source=f"IDX files in {folder}",
    )
    # Digests are checked after parsing, so damage that breaks the format
    # (truncated gzip, wrong magic number, wrong size) gets its specific message,
    # and the digest catches the rest, such as a flipped bit.
    for path in paths.values():
        verify_known_file(verify["dataset"], path, enabled=verify["enabled"])
    return arrays


def _find_file(folder: Path, file_name: str) -> Path | None:
    for candidate in (folder / f"{file_name}.gz", folder / file_name):
        if candidate.is_file():
            return candidate
    return None


def _keras_datasets_dir() -> Path:
    keras_home = os.environ.get("KERAS_HOME") or Path.home() / ".keras"
    return Path(keras_home) / "datasets"


def _from_keras_cache(spec, attempts: list[str], verify: dict) -> ImageArrays | None:
    path = _keras_datasets_dir() / spec.keras_cache
    if path.suffix == ".npz":
        if not path.is_file():
            attempts.append(f"Keras cache {path}: not found")
            return None
        try:
            # allow_pickle=False: an .npz from the cache is never unpickled.
            with np.load(path, allow_pickle=False) as archive:
                return ImageArrays(
                    x_train=archive["x_train"],
                    y_train=archive["y_train"],
                    x_test=archive["x_test"],
                    y_test=archive["y_test"],
                    source=f"Keras cache {path}",
                )
        except (KeyError, ValueError, OSError) as error:
            raise DataFormatError(
                f"{path} is not a valid MNIST .npz file ({error}). Delete it and "
                "use --data-dir instead."
            ) from None
    return _from_idx_folder(path, attempts, verify, label=f"Keras cache {path}")


def _from_system_dirs(spec, attempts: list[str], verify: dict) -> ImageArrays | None:
    if not spec.system_dirs:
        attempts.append(f"system packages: none known for {spec.name}")
    for folder in spec.system_dirs:
        arrays = _from_idx_folder(Path(folder), attempts, verify,
                                  label=f"system folder {folder}")
        if arrays is not None:
            return arrays
    return None


def _tfds_data_dir() -> Path:
    return Path(os.environ.get("TFDS_DATA_DIR") or Path.home() / "tensorflow_datasets")


def _from_tfds(spec, attempts: list[str], *, download: bool) -> ImageArrays | None:
    tfds_dir = _tfds_data_dir()
    if not (tfds_dir / spec.tfds_name).is_dir() and not download:
        attempts.append(f"TFDS data in {tfds_dir / spec.tfds_name}: not prepared; download disabled")
        return None
    if not (tfds_dir / spec.tfds_name).is_dir():
        reachable, reason = _probe(*TFDS_DOWNLOAD_HOST)
        if not reachable:
            attempts.append(
                f"TFDS data in {tfds_dir / spec.tfds_name}: not prepared; "
                f"download from {TFDS_DOWNLOAD_HOST[0]} failed: {reason}"
            )
            return None

    import tensorflow_datasets as tfds

    try:
        builder = tfds.builder(spec.tfds_name, data_dir=str(tfds_dir))
        if not builder.is_prepared():
            if not download:
                attempts.append(f"TFDS data in {tfds_dir}: not prepared; download disabled")
                return None
            logger.info("Downloading %s with TFDS into %s", spec.tfds_name, tfds_dir)
            builder.download_and_prepare()
        splits = {
            split: tfds.as_numpy(builder.as_dataset(split=split, batch_size=-1, as_supervised=True))
            for split in ("train", "test")
        }
    except Exception as error:  # TFDS raises many unrelated types for one failure.
        attempts.append(f"TFDS {spec.tfds_name} in {tfds_dir}: {type(error).__name__}: {error}")
        return None
    (x_train, y_train), (x_test, y_test) = splits["train"], splits["test"]
    return ImageArrays(
        x_train=x_train[..., 0],
        y_train=y_train,
        x_test=x_test[..., 0],
        y_test=y_test,
        source=f"TFDS {spec.tfds_name} in {tfds_dir}",
    )


def _probe(host: str, port: int) -> tuple[bool, str]:
    try:
        with socket.create_connection((host, port), timeout=PROBE_TIMEOUT_SECONDS):
            return True, ""
    except OSError as error:
        return False, f"{type(error).__name__}: {error}"


def _check_arrays(arrays: ImageArrays, spec) -> None:
    for split in ("train", "test"):
        images = getattr(arrays, f"x_{split}")
        labels = getattr(arrays, f"y_{split}")
        if images.ndim != 3 or images.shape[1:] != (28, 28):
            raise DataFormatError(
                f"{spec.name} {split} images from {arrays.source} have shape "
                f"{images.shape}; expected (N, 28, 28)."
            )
        if len(images) != len(labels):
            raise DataFormatError(
                f"{spec.name} {split} split from {arrays.source} has {len(images):,} images "
                f"but {len(labels):,} labels; the files do not belong together."
            )
        if labels.size and labels.max() >= len(spec.class_names):
            raise DataFormatError(
                f"{spec.name} {split} labels from {arrays.source} reach {int(labels.max())}; "
                f"expected 0..{len(spec.class_names) - 1}."
            )
