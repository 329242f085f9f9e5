"""Reader for the IDX files of MNIST and Fashion-MNIST, gzipped or not."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np

from modelzoo.errors import DataFormatError

# IDX magic numbers: two zero bytes, the element type (0x08 = unsigned byte)
# and the number of dimensions.
IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801


def read_idx(path: str | Path, *, expected_magic: int) -> np.ndarray:
    """Read an unsigned-byte IDX file and return its array.

    The header is checked: the magic number must equal `expected_magic`, and
    the product of the dimensions must equal the number of data bytes.

    Raises:
        DataFormatError: The file is not valid gzip, is truncated, or its
            header disagrees with `expected_magic` or with its size.
    """
    path = Path(path)
    raw = _read_bytes(path)
    if len(raw) < 4:
        raise DataFormatError(
            f"{path} is not an IDX file: it has {len(raw)} bytes, fewer than the "
            "4-byte magic number. Replace it with a fresh copy."
        )
    magic = int.from_bytes(raw[:4], "big")
    if magic != expected_magic:
        raise DataFormatError(
            f"{path} has IDX magic number {magic:#010x}; expected {expected_magic:#010x}. "
            "The file is corrupted or is not the file its name says "
            "(images and labels swapped?). Replace it with a fresh copy."
        )
    ndim = magic & 0xFF
    header_size = 4 + 4 * ndim
    if len(raw) < header_size:
        raise DataFormatError(
            f"{path} is truncated: its IDX header needs {header_size} bytes, "
            f"the file has {len(raw)}. Replace it with a fresh copy."
        )
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    expected_bytes = int(np.prod(shape, dtype=np.int64))
    actual_bytes = len(raw) - header_size
    if actual_bytes != expected_bytes:
        raise DataFormatError(
            f"{path} is corrupted: its IDX header declares shape {shape} "
            f"({expected_bytes:,} bytes of data) but the file holds {actual_bytes:,}. "
            "Replace it with a fresh copy."
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header_size).reshape(shape)


def _read_bytes(path: Path) -> bytes:
    if path.suffix != ".gz":
        return path.read_bytes()
    try:
        with gzip.open(path, "rb") as stream:
            return stream.read()
    except (EOFError, gzip.BadGzipFile, zlib.error) as error:
        raise DataFormatError(
            f"{path} is not a valid gzip file ({error}). It is probably truncated "
            "or damaged; replace it with a fresh copy."
        ) from None
