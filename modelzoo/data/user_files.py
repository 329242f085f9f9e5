"""Labelled sequences from the user's own `.npz` or `.csv` files.

`npz:PATH`: a NumPy archive with
- `x`: float array of shape `(N, T)` (one feature per step) or `(N, T, F)`;
- `y`: `N` labels (integers or strings);
- optionally `x_test` and `y_test` for a separate test split.

`csv:PATH`: a text file with one sequence per line: the label, then the
values of the steps, separated by commas (no header). Rows may have
different lengths; each step has one feature.

Variable-length sequences: in `.npz` files, trailing steps whose features are
all NaN mark a shorter sequence. In `.csv` files a row simply ends earlier. Every sequence is right-padded to the longest (or cut to
`sequence_length` steps when set) with `pad_value`, 0.0 by default, in every
feature. A model skips the padding with `Masking(mask_value=pad_value)`,
which the `lstm` builder adds for `mask_value: <pad_value>`. A sequence with
no real step is rejected.

Labels are mapped to `0..n-1` in sorted order; the mapping is kept in
`DatasetInfo.label_map` and written to `labels.json` in the run directory.
Without `x_test`, a `test_fraction` of the examples (fixed permutation of
`split_seed + 1`) becomes the test split.
"""

from __future__ import annotations

import csv
import logging
import math
from pathlib import Path

import numpy as np

from modelzoo.errors import DataFormatError, DataNotFoundError

logger = logging.getLogger(__name__)


def read_npz(path: Path) -> dict[str, np.ndarray]:
    """Return the arrays of an `.npz` file, without allowing pickled objects."""
    if not path.is_file():
        raise DataNotFoundError(f"File {path} not found. Check the path after 'npz:'.")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except ValueError as error:
        raise DataFormatError(
            f"{path} could not be read as an .npz archive of numeric arrays ({error}). "
            "Save x and y with numpy.savez, as plain (not object) arrays."
        ) from None
    except OSError as error:
        raise DataFormatError(f"{path} is not a valid .npz file: {error}.") from None
    for key in ("x", "y"):
        if key not in arrays:
            raise DataFormatError(
                f"{path} has no array {key!r} (it has {sorted(arrays)}). Save the sequences "
                "as x, shape (N, T) or (N, T, F), and the labels as y."
            )
    return arrays


def npz_sequences(x: np.ndarray, path: Path, key: str) -> list[np.ndarray]:
    """Split an `(N, T)` or `(N, T, F)` array into `(T_i, F)` sequences, dropping trailing NaN steps."""
    if x.ndim == 2:
        x = x[..., None]
    if x.ndim != 3:
        raise DataFormatError(
            f"{path}: array {key!r} has shape {x.shape}; expected (N, T) or (N, T, F)."
        )
    if not np.issubdtype(x.dtype, np.number):
        raise DataFormatError(f"{path}: array {key!r} has dtype {x.dtype}; expected numbers.")
    x = x.astype(np.float32)
    missing = np.all(np.isnan(x), axis=-1)
    sequences = []
    for row in range(len(x)):
        # The real length ends after the last step that is not all NaN.
        present = np.flatnonzero(~missing[row])
        length = int(present[-1]) + 1 if len(present) else 0
        sequence = x[row, :length]
        if np.isnan(sequence).any() or np.isinf(sequence).any():
            raise DataFormatError(
                f"{path}: {key}[{row}] contains NaN or infinite values before its last step. "
                "Only trailing all-NaN steps may mark a shorter sequence."
            )
        sequences.append(sequence)
    return sequences


def read_csv_sequences(path: Path) -> tuple[list[np.ndarray], list[str]]:
    """Return the `(T_i, 1)` sequences and the label text of each row of a CSV file."""
    if not path.is_file():
        raise DataNotFoundError(f"File {path} not found. Check the path after 'csv:'.")
    sequences: list[np.ndarray] = []
    labels: list[str] = []
    with path.open(newline="", encoding="utf-8") as handle:
        for line_number, row in enumerate(csv.reader(handle), start=1):
            if not row or not any(field.strip() for field in row):
                continue
            label, *fields = (field.strip() for field in row)
            while fields and fields[-1] == "":
                fields.pop()
            values = []
            for column, field in enumerate(fields, start=2):
                try:
                    value = float(field)
                except ValueError:
                    value = math.nan
                if not math.isfinite(value):
                    raise DataFormatError(
                        f"{path}, line {line_number}, column {column}: {field!r} is not a finite "
                        "number. Each row is a label followed by numeric values."
                    )
                values.append(value)
            sequences.append(np.array(values, dtype=np.float32).reshape(-1, 1))
            labels.append(label)
    if not sequences:
        raise DataFormatError(
            f"{path} contains no rows. Write one sequence per line: label,value,value,..."
        )
    return sequences, labels


def map_labels(*label_arrays) -> tuple[list[np.ndarray], dict[str, int]]:
    """Map the labels of all splits to `0..n-1` in sorted order of their values."""
    values = [np.asarray(labels) for labels in label_arrays]
    combined = np.concatenate([labels.astype(str) if labels.dtype.kind in "USO" else labels
                               for labels in values])
    try:
        distinct = sorted(set(combined.tolist()), key=lambda value: float(value))
    except (TypeError, ValueError):
        distinct = sorted(set(map(str, combined.tolist())))
    keys = [_label_text(value) for value in distinct]
    label_map = {key: index for index, key in enumerate(keys)}
    mapped = [
        np.array([label_map[_label_text(value)] for value in labels.tolist()], dtype=np.int32)
        for labels in values
    ]
    return mapped, label_map


def _label_text(value) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return str(int(number)) if number.is_integer() else str(number)


def load_user_splits(kind: str, path: str, *, sequence_length: int | None = None,
                     pad_value: float = 0.0, test_fraction: float = 0.2,
                     split_seed: int = 0, **pipeline):
    """Load a user `.npz` or `.csv` file as `DatasetSplits` of padded `(T, F)` sequences."""
    from modelzoo.data import split_indices
    from modelzoo.data.sequence import pad_sequences, reject_empty_sequences, splits_from_arrays

    file_path = Path(path).expanduser()
    name = f"{kind}:{path}"
    if kind == "npz":
        arrays = read_npz(file_path)
        train_sequences = npz_sequences(arrays["x"], file_path, "x")
        train_labels = arrays["y"]
        has_test = "x_test" in arrays
        if has_test != ("y_test" in arrays):
            raise DataFormatError(
                f"{file_path} has only one of x_test and y_test; save both or neither."
            )
        test_sequences = npz_sequences(arrays["x_test"], file_path, "x_test") if has_test else None
        test_labels = arrays["y_test"] if has_test else None
    else:
        train_sequences, train_labels = read_csv_sequences(file_path)
        train_labels = np.array(train_labels)
        test_sequences = test_labels = None

    reject_empty_sequences(train_sequences, source=f"{file_path} (x)")
    if test_sequences is not None:
        reject_empty_sequences(test_sequences, source=f"{file_path} (x_test)")
    if len(train_sequences) != len(train_labels):
        raise DataFormatError(
            f"{file_path}: x has {len(train_sequences)} sequences but y has "
            f"{len(train_labels)} labels; they must have one label per sequence."
        )
    if test_sequences is None:
        if not 0.0 < test_fraction < 1.0:
            raise DataFormatError(
                f"{file_path} has no x_test/y_test, so test_fraction must be in (0, 1) to hold "
                f"out a test split; received {test_fraction!r}."
            )
        train_index, test_index = split_indices(len(train_sequences), test_fraction, split_seed + 1)
        test_sequences = [train_sequences[index] for index in test_index]
        test_labels = np.asarray(train_labels)[test_index]
        train_sequences = [train_sequences[index] for index in train_index]
        train_labels = np.asarray(train_labels)[train_index]
    elif len(test_sequences) != len(test_labels):
        raise DataFormatError(
            f"{file_path}: x_test has {len(test_sequences)} sequences but y_test has "
            f"{len(test_labels)} labels."
        )

    (y_train, y_test), label_map = map_labels(train_labels, test_labels)
    if len(label_map) < 2:
        raise DataFormatError(
            f"{file_path}: all labels are {next(iter(label_map))!r}; a classifier needs at "
            "least two classes."
        )
    num_features = {sequence.shape[1] for sequence in train_sequences + test_sequences}
    if len(num_features) != 1:
        raise DataFormatError(f"{file_path}: sequences have different feature counts {sorted(num_features)}.")
    if sequence_length is None:
        sequence_length = max(len(sequence) for sequence in train_sequences + test_sequences)
    x_train, train_lengths = pad_sequences(
        train_sequences, length=sequence_length, pad_value=pad_value, source=f"{file_path} (train)"
    )
    x_test, test_lengths = pad_sequences(
        test_sequences, length=sequence_length, pad_value=pad_value, source=f"{file_path} (test)"
    )
    padded = bool((train_lengths < sequence_length).any() or (test_lengths < sequence_length).any())
    logger.info(
        "%s: %d sequences of %d..%d steps, padded to %d with %r",
        file_path, len(train_lengths) + len(test_lengths),
        int(min(train_lengths.min(), test_lengths.min())),
        int(max(train_lengths.max(), test_lengths.max())), sequence_length, pad_value,
    )
    return splits_from_arrays(
        name=name,
        source=str(file_path),
        x_train=x_train,
        y_train=y_train,
        x_test=x_test,
        y_test=y_test,
        class_names=tuple(label_map),
        label_map=label_map,
        split_seed=split_seed,
        extra={
            "sequence_length": int(sequence_length),
            "pad_value": float(pad_value),
            "padded": padded,
            "masked_steps_train": int(np.sum(sequence_length - train_lengths)),
        },
        **pipeline,
    )
