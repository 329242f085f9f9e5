"""IMDB movie reviews (Large Movie Review Dataset) as token-id sequences.

Sources, tried in this order when `source="auto"`:

1. `local`: the `aclImdb` folder layout under a data directory,
   `<root>/imdb/aclImdb/{train,test}/{pos,neg}/*.txt` (25,000 reviews per
   split; the unlabelled `train/unsup/` folder is ignored).
2. `tfds`: the prepared TFDS `imdb_reviews` data set under `$TFDS_DATA_DIR`
   (a TFDS download when `download` is true and the server is reachable).

Text handling: `<br />` line breaks are replaced by spaces (`clean_review`),
then a `keras.layers.TextVectorization` layer lower-cases, strips
punctuation, splits on whitespace and maps words to ids. The layer is adapted
on the training part of the train split only (never on validation or test
text). Id 0 is padding and id 1 is the out-of-vocabulary token, so models
mask id 0. Each review is cut or right-padded to `sequence_length` tokens.

The vocabulary and the layer settings go into `DatasetInfo.vocabulary` and
`DatasetInfo.extra["text_vectorization"]`. The trainer writes them to the run
directory as `vocabulary.txt` and `text_vectorization.json`.
`load_text_vectorizer(run_dir)` rebuilds the layer from them, so a saved
model can score raw strings with `score_texts`.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Sequence

import numpy as np

from modelzoo.errors import DataFormatError, DataNotFoundError

logger = logging.getLogger(__name__)

CLASS_NAMES = ("neg", "pos")
SPLIT_SIZE = 25_000
VOCABULARY_FILE = "vocabulary.txt"
SETTINGS_FILE = "text_vectorization.json"


def clean_review(text: str) -> str:
    """Replace the HTML line breaks that IMDB reviews contain with spaces."""
    return text.replace("<br />", " ").replace("<br/>", " ").replace("<br>", " ")


def list_aclimdb_split(folder: Path) -> tuple[list[Path], np.ndarray]:
    """List `<folder>/{neg,pos}/*.txt`; return the paths and 0 (neg) / 1 (pos) labels.

    Paths are in sorted name order, negatives first, so the order does not
    depend on the file system.
    """
    paths: list[Path] = []
    labels: list[int] = []
    for label, class_name in enumerate(CLASS_NAMES):
        class_folder = folder / class_name
        if not class_folder.is_dir():
            raise DataNotFoundError(
                f"IMDB folder {class_folder} is missing. The aclImdb layout needs "
                f"{folder}/neg/ and {folder}/pos/ with one review per .txt file."
            )
        class_paths = sorted(class_folder.glob("*.txt"))
        if not class_paths:
            raise DataFormatError(
                f"IMDB folder {class_folder} contains no .txt reviews. Restore the aclImdb files."
            )
        paths += class_paths
        labels += [label] * len(class_paths)
    return paths, np.array(labels, dtype=np.int32)


def read_aclimdb_split(folder: Path, subset: int | None = None,
                       seed: int = 0) -> tuple[list[str], np.ndarray]:
    """Read the reviews of one aclImdb split; return the texts and their labels.

    With `subset`, only that many reviews are read, drawn by a permutation of
    `seed` so that both classes appear (the listing is negatives first).
    """
    paths, labels = list_aclimdb_split(folder)
    if subset is not None:
        order = np.random.default_rng(seed).permutation(len(paths))[:subset]
        paths = [paths[index] for index in order]
        labels = labels[order]
    texts = [clean_review(path.read_text(encoding="utf-8", errors="replace")) for path in paths]
    return texts, labels


def load_imdb_texts(*, data_dir=None, source: str = "auto", download: bool = True,
                    train_subset: int | None = None, test_subset: int | None = None,
                    seed: int = 0):
    """Return `(train_texts, train_labels, test_texts, test_labels, source)`.

    `train_subset` and `test_subset` keep that many reviews of each split,
    drawn by permutations of `seed` and `seed + 1`.
    """
    from modelzoo.data.mnist import resolve_data_dir

    attempts: list[str] = []
    root = resolve_data_dir(data_dir)
    if source in ("auto", "local"):
        if root is None:
            attempts.append("data directory: not set (data_dir or MODELZOO_DATA_DIR)")
        else:
            folder = root / "imdb" / "aclImdb"
            if (folder / "train").is_dir() and (folder / "test").is_dir():
                train_texts, train_labels = read_aclimdb_split(folder / "train", train_subset, seed)
                test_texts, test_labels = read_aclimdb_split(folder / "test", test_subset, seed + 1)
                return train_texts, train_labels, test_texts, test_labels, str(folder)
            attempts.append(f"{folder}: no train/ and test/ folders")
    if source in ("auto", "tfds"):
        result = _from_tfds(attempts, download=download)
        if result is not None:
            train_texts, train_labels, test_texts, test_labels, origin = result
            train_order = np.random.default_rng(seed).permutation(len(train_texts))[:train_subset]
            test_order = np.random.default_rng(seed + 1).permutation(len(test_texts))[:test_subset]
            return ([train_texts[index] for index in train_order], train_labels[train_order],
                    [test_texts[index] for index in test_order], test_labels[test_order], origin)
    raise DataNotFoundError(
        "IMDB reviews not found. Tried: " + "; ".join(attempts) + ". Put the aclImdb folder "
        "at <data_dir>/imdb/aclImdb/ (train/ and test/, each with pos/ and neg/), or set "
        "MODELZOO_DATA_DIR to the folder that contains imdb/."
    )


def _from_tfds(attempts: list[str], *, download: bool):
    # NOTE: this path follows the MNIST TFDS loader but has not run against a prepared
    # imdb_reviews copy, because the build machine has no TFDS data and no network.
    from modelzoo.data.mnist import TFDS_DOWNLOAD_HOST, _probe, _tfds_data_dir

    tfds_dir = _tfds_data_dir()
    prepared = (tfds_dir / "imdb_reviews").is_dir()
    if not prepared and not download:
        attempts.append(f"TFDS data in {tfds_dir / 'imdb_reviews'}: not prepared; download disabled")
        return None
    if not prepared:
        reachable, reason = _probe(*TFDS_DOWNLOAD_HOST)
        if not reachable:
            attempts.append(
                f"TFDS data in {tfds_dir / 'imdb_reviews'}: not prepared; download from "
                f"{TFDS_DOWNLOAD_HOST[0]} failed: {reason}"
            )
            return None
    import tensorflow_datasets as tfds

    try:
        builder = tfds.builder("imdb_reviews", data_dir=str(tfds_dir))
        if not builder.is_prepared():
            builder.download_and_prepare()
        splits = {}
        for split in ("train", "test"):
            texts, labels = tfds.as_numpy(
                builder.as_dataset(split=split, batch_size=-1, as_supervised=True)
            )
            splits[split] = ([clean_review(text.decode("utf-8")) for text in texts],
                             labels.astype(np.int32))
    except Exception as error:  # TFDS raises many unrelated types for one failure.
        attempts.append(f"TFDS imdb_reviews in {tfds_dir}: {type(error).__name__}: {error}")
        return None
    return (*splits["train"], *splits["test"], f"TFDS imdb_reviews in {tfds_dir}")


def make_text_vectorizer(*, vocab_size: int, sequence_length: int, vocabulary=None):
    """Return a `TextVectorization` layer that outputs `sequence_length` int ids."""
    import keras

    return keras.layers.TextVectorization(
        max_tokens=vocab_size,
        output_mode="int",
        output_sequence_length=sequence_length,
        vocabulary=vocabulary,
        name="text_vectorization",
    )


def vectorize(vectorizer, texts: Sequence[str], batch_size: int = 1024) -> np.ndarray:
    """Return the int32 token ids of `texts`, shape `(len(texts), sequence_length)`."""
    import tensorflow as tf

    dataset = tf.data.Dataset.from_tensor_slices(list(texts)).batch(batch_size)
    parts = [np.asarray(vectorizer(batch)) for batch in dataset]
    return np.concatenate(parts).astype(np.int32)


def load_imdb_splits(*, data_dir=None, source: str = "auto", download: bool = True,
                     vocab_size: int = 20_000, sequence_length: int | None = None,
                     validation_fraction: float = 0.1, split_seed: int = 0,
                     train_subset: int | None = None, **pipeline):
    """Load IMDB as `DatasetSplits` of `(sequence_length,)` int32 token ids."""
    from modelzoo.data import split_indices
    from modelzoo.data.sequence import splits_from_arrays

    sequence_length = sequence_length or 200
    train_texts, y_train, test_texts, y_test, origin = load_imdb_texts(
        data_dir=data_dir, source=source, download=download, train_subset=train_subset,
        test_subset=pipeline.get("test_subset"), seed=split_seed,
    )
    # The vocabulary is fitted on the examples that stay in training only.
    train_index, _ = split_indices(len(train_texts), validation_fraction, split_seed)
    vectorizer = make_text_vectorizer(vocab_size=vocab_size, sequence_length=sequence_length)
    vectorizer.adapt([train_texts[index] for index in train_index], batch_size=1024)
    vocabulary = [str(token) for token in vectorizer.get_vocabulary()]
    logger.info(
        "IMDB: adapted a %d-token vocabulary on %d training reviews; sequences of %d tokens",
        len(vocabulary), len(train_index), sequence_length,
    )
    x_train = vectorize(vectorizer, train_texts)
    x_test = vectorize(vectorizer, test_texts)
    splits = splits_from_arrays(
        name="imdb",
        source=origin,
        x_train=x_train,
        y_train=y_train,
        x_test=x_test,
        y_test=y_test,
        class_names=CLASS_NAMES,
        validation_fraction=validation_fraction,
        split_seed=split_seed,
        train_subset=None,
        extra={
            "text_vectorization": {
                "vocab_size": vocab_size,
                "sequence_length": sequence_length,
                "standardize": "lower_and_strip_punctuation",
                "split": "whitespace",
                "preprocess": "clean_review: <br /> -> space",
            },
        },
        **pipeline,
    )
    splits.info.vocabulary = vocabulary
    return splits


def save_text_vectorizer(run_dir: str | os.PathLike, vocabulary: Sequence[str], settings: dict) -> None:
    """Write `vocabulary.txt` (one token per line, id = line index) and the settings."""
    from modelzoo.runs import write_atomic

    run_dir = Path(run_dir)
    # Id 0 is the empty padding token, so the file starts with an empty line.
    write_atomic(run_dir / VOCABULARY_FILE, "\n".join(vocabulary) + "\n")
    write_atomic(run_dir / SETTINGS_FILE, json.dumps(settings, indent=2) + "\n")


def load_text_vectorizer(run_dir: str | os.PathLike):
    """Rebuild the `TextVectorization` layer of a run from its saved vocabulary."""
    run_dir = Path(run_dir)
    vocabulary_path = run_dir / VOCABULARY_FILE
    settings_path = run_dir / SETTINGS_FILE
    for path in (vocabulary_path, settings_path):
        if not path.is_file():
            raise DataNotFoundError(
                f"{path} is missing; it is written by runs trained on a text data set (imdb)."
            )
    settings = json.loads(settings_path.read_text(encoding="utf-8"))
    tokens = vocabulary_path.read_text(encoding="utf-8").split("\n")[:-1]
    # TextVectorization adds the padding ("") and OOV ("[UNK]") tokens itself.
    return make_text_vectorizer(
        vocab_size=settings["vocab_size"],
        sequence_length=settings["sequence_length"],
        vocabulary=tokens[2:],
    )


def score_texts(model, run_dir: str | os.PathLike, texts: Sequence[str]) -> np.ndarray:
    """Return the model's class probabilities for raw review strings.

    Uses the vocabulary saved in `run_dir`, so the ids match training. For a
    binary model the result is the probability of `"pos"`, shape `(N,)`.
    """
    vectorizer = load_text_vectorizer(run_dir)
    ids = vectorize(vectorizer, [clean_review(text) for text in texts])
    probabilities = np.asarray(model.predict(ids, verbose=0))
    return probabilities[:, 0] if probabilities.shape[-1] == 1 else probabilities
