"""Dispatch of sequence data set names to their loader modules.

| name | module | one example |
| --- | --- | --- |
| `ucr/<Name>` | `modelzoo.data.ucr` | `(T, 1)` float32 series |
| `sequential_mnist` | `modelzoo.data.sequential_mnist` | `(28, 28)` or `(784, 1)` float32 |
| `imdb` | `modelzoo.data.imdb` | `(sequence_length,)` int32 token ids |
| `npz:<path>`, `csv:<path>` | `modelzoo.data.user_files` | `(T, F)` float32, padded |
"""

from __future__ import annotations

from typing import Sequence

from modelzoo.errors import ConfigError

# Names as `modelzoo list` and error messages show them.
SEQUENCE_DATASETS = ("ucr/<Name>", "sequential_mnist", "imdb", "npz:<path>", "csv:<path>")
PREFIXES = ("ucr/", "npz:", "csv:")


def is_sequence_dataset(name: str) -> bool:
    """Return whether `name` is one of the sequence data sets."""
    return name in ("sequential_mnist", "imdb") or name.startswith(PREFIXES)


def load_sequence_dataset(
    name: str,
    *,
    data_dir=None,
    source: str = "auto",
    download: bool = True,
    batch_size: int = 128,
    validation_fraction: float = 0.1,
    split_seed: int = 0,
    seed: int = 42,
    train_subset: int | None = None,
    test_subset: int | None = None,
    shuffle_buffer: int | None = None,
    cache: bool = True,
    input_shape: Sequence | None = None,
    znormalize: bool = False,
    frame_length: int = 1,
    ucr_mirror: str | None = None,
    sequence_steps: str = "rows",
    vocab_size: int = 20_000,
    sequence_length: int | None = None,
    pad_value: float = 0.0,
    test_fraction: float = 0.2,
    verify_checksums: bool = True,
):
    """Load a sequence data set as `DatasetSplits`.

    Args:
        name: `ucr/<Name>`, `sequential_mnist`, `imdb`, `npz:<path>` or `csv:<path>`.
        znormalize: UCR: scale each series to mean 0, standard deviation 1.
        frame_length: UCR: fold this many consecutive values into one step.
        ucr_mirror: UCR: base URL for downloads; `None` uses
            `$MODELZOO_UCR_MIRROR`, else the default mirror.
        sequence_steps: sequential MNIST: `rows` (28x28) or `pixels` (784x1).
        vocab_size: IMDB: vocabulary size, padding and unknown ids included.
        sequence_length: IMDB: tokens per review (default 200). User files:
            pad or cut every sequence to this many steps (default: the longest).
        pad_value: User files: value of padded steps.
        test_fraction: User files without `x_test`: fraction held out as test.
        verify_checksums: UCR: check the archive's files against their shipped
            SHA-256 digests on first read (see `modelzoo.data.checksums`).

    The other arguments are those of `modelzoo.data.load_dataset`.
    """
    pipeline = dict(
        batch_size=batch_size, validation_fraction=validation_fraction, split_seed=split_seed,
        seed=seed, train_subset=train_subset, test_subset=test_subset,
        shuffle_buffer=shuffle_buffer, cache=cache, input_shape=input_shape,
    )
    if name.startswith("ucr/"):
        from modelzoo.data.ucr import load_ucr_splits

        if source not in ("auto", "local"):
            raise ConfigError(
                f"data.source {source!r} does not apply to UCR data sets, which are read from "
                "the data directory (or downloaded into it). Use 'auto' or 'local'."
            )
        return load_ucr_splits(
            name[len("ucr/"):], data_dir=data_dir, download=download, znormalize=znormalize,
            frame_length=frame_length, mirror=ucr_mirror, verify_checksums=verify_checksums,
            **pipeline,
        )
    if name == "sequential_mnist":
        from modelzoo.data.sequential_mnist import load_sequential_mnist_splits

        return load_sequential_mnist_splits(
            data_dir=data_dir, source=source, download=download,
            sequence_steps=sequence_steps, **pipeline,
        )
    if name == "imdb":
        from modelzoo.data.imdb import load_imdb_splits

        if source not in ("auto", "local", "tfds"):
            raise ConfigError(
                f"data.source {source!r} does not apply to imdb; use 'auto', 'local' or 'tfds'."
            )
        return load_imdb_splits(
            data_dir=data_dir, source=source, download=download, vocab_size=vocab_size,
            sequence_length=sequence_length, **pipeline,
        )
    kind, _, path = name.partition(":")
    if not path:
        raise ConfigError(f"Dataset {name!r} names no file; write {kind}:/path/to/file.{kind}.")
    from modelzoo.data.user_files import load_user_splits

    return load_user_splits(
        kind, path, sequence_length=sequence_length, pad_value=pad_value,
        test_fraction=test_fraction, **pipeline,
    )
