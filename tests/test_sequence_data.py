"""Sequence data sets through load_dataset: UCR, sequential MNIST, IMDB and user files."""

import string

import numpy as np
import pytest

from modelzoo.data import load_dataset
from modelzoo.data.imdb import (
    load_text_vectorizer,
    read_aclimdb_split,
    save_text_vectorizer,
    vectorize,
)
from modelzoo.errors import ConfigError, DataFormatError, DataNotFoundError


def first_batch(dataset):
    x, y = next(iter(dataset))
    return np.asarray(x), np.asarray(y)


def test_ucr_forda_splits(data_dir):
    splits = load_dataset("ucr/FordA", data_dir=data_dir, batch_size=32, input_shape=(500, 1))
    info = splits.info
    assert (info.num_train, info.num_validation, info.num_test) == (3241, 360, 1320)
    assert info.input_shape == (500, 1)
    assert info.label_map == {"-1": 0, "1": 1}
    assert info.class_names == ("-1", "1")
    x, y = first_batch(splits.train)
    assert x.shape == (32, 500, 1)
    assert x.dtype == np.float32
    assert set(np.unique(y)) <= {0, 1}
    test_labels = np.concatenate([np.asarray(labels) for _, labels in splits.test])
    assert np.bincount(test_labels).tolist() == [681, 639]


def test_ucr_znormalize_option(data_dir):
    splits = load_dataset("ucr/ECG5000", data_dir=data_dir, input_shape=(None, 1),
                          options={"znormalize": True})
    x, _ = first_batch(splits.test)
    np.testing.assert_allclose(x[..., 0].std(axis=1), 1.0, atol=1e-4)
    assert splits.info.num_classes == 5
    assert splits.info.label_map == {"1": 0, "2": 1, "3": 2, "4": 3, "5": 4}


def test_ucr_frame_length_folds_steps(data_dir):
    from modelzoo.data.ucr import load_ucr_arrays

    splits = load_dataset("ucr/GunPoint", data_dir=data_dir, input_shape=(15, 10),
                          options={"frame_length": 10})
    assert splits.info.input_shape == (15, 10)
    assert splits.info.extra["frame_length"] == 10
    x, _ = first_batch(splits.test)
    raw = load_ucr_arrays("GunPoint", data_dir).x_test
    np.testing.assert_array_equal(x[0].reshape(-1), raw[0])
    np.testing.assert_array_equal(x[0, 1], raw[0, 10:20])


def test_ucr_frame_length_must_divide(data_dir):
    with pytest.raises(ConfigError, match=r"frame_length=7 does not divide the 150 values.*such as 2, 3, 5"):
        load_dataset("ucr/GunPoint", data_dir=data_dir, options={"frame_length": 7})


def test_ucr_wrong_model_length(data_dir):
    with pytest.raises(ConfigError, match=r"shape \(150, 1\).*expects \(500, 1\).*input_shape to \[150, 1\]"):
        load_dataset("ucr/GunPoint", data_dir=data_dir, input_shape=(500, 1))


def test_ucr_missing_name(tmp_path):
    with pytest.raises(DataNotFoundError, match="'NoSuchSet'.*copy its TSV files"):
        load_dataset("ucr/NoSuchSet", data_dir=tmp_path)


@pytest.mark.parametrize("steps, shape", [("rows", (28, 28)), ("pixels", (784, 1))])
def test_sequential_mnist_layouts(data_dir, mnist_arrays, steps, shape):
    splits = load_dataset("sequential_mnist", data_dir=data_dir, source="local",
                          validation_fraction=0.0, train_subset=64, test_subset=32,
                          batch_size=64, options={"sequence_steps": steps})
    assert splits.info.input_shape == shape
    assert splits.info.num_classes == 10
    assert splits.validation is None
    x, y = first_batch(splits.test)
    assert x.shape == (32, *shape)
    expected = mnist_arrays.x_test[:32].astype(np.float32).reshape(32, *shape) / 255.0
    np.testing.assert_allclose(x, expected)
    np.testing.assert_array_equal(y, mnist_arrays.y_test[:32])


def test_sequential_mnist_bad_layout(data_dir):
    with pytest.raises(ConfigError, match="sequence_steps must be 'rows'.*'columns'"):
        load_dataset("sequential_mnist", data_dir=data_dir, options={"sequence_steps": "columns"})


@pytest.fixture(scope="module")
def imdb_small(data_dir):
    return load_dataset("imdb", data_dir=data_dir, source="local", train_subset=600,
                        test_subset=200, batch_size=50,
                        options={"vocab_size": 3000, "sequence_length": 80})


def test_imdb_splits_and_tokens(imdb_small):
    info = imdb_small.info
    assert (info.num_train, info.num_validation, info.num_test) == (540, 60, 200)
    assert info.input_shape == (80,)
    assert info.class_names == ("neg", "pos")
    assert info.vocabulary[:2] == ["", "[UNK]"]
    assert len(info.vocabulary) <= 3000
    x, y = first_batch(imdb_small.train)
    assert x.shape == (50, 80)
    assert x.dtype == np.int32
    assert x.max() < len(info.vocabulary)
    assert set(np.unique(y)) == {0, 1}


def test_imdb_vocabulary_from_training_text_only(data_dir, imdb_small):
    from modelzoo.data import split_indices
    from modelzoo.data.imdb import load_imdb_texts

    texts, _, _, _, _ = load_imdb_texts(data_dir=data_dir, source="local", train_subset=600,
                                        test_subset=0)
    train_index, validation_index = split_indices(600, 0.1, 0)
    # The same standardisation as TextVectorization: lower case, no punctuation.
    strip = str.maketrans("", "", string.punctuation)
    training_text = " ".join(texts[index] for index in train_index).lower().translate(strip)
    validation_text = " ".join(texts[index] for index in validation_index)
    validation_words = set(validation_text.lower().translate(strip).split())
    vocabulary = imdb_small.info.vocabulary[2:]
    unseen = [word for word in vocabulary if word not in training_text]
    assert unseen == []
    # Words that occur only in validation reviews exist, and none entered the vocabulary.
    only_validation = {word for word in validation_words if word.isalpha() and word not in training_text}
    assert only_validation
    assert not only_validation & set(vocabulary)


def test_imdb_vocabulary_roundtrip(tmp_path, imdb_small):
    info = imdb_small.info
    save_text_vectorizer(tmp_path, info.vocabulary, info.extra["text_vectorization"])
    restored = load_text_vectorizer(tmp_path)
    assert restored.get_vocabulary() == info.vocabulary
    ids = vectorize(restored, ["the movie was great", "zzzqqq"])
    assert ids.shape == (2, 80)
    assert ids[0, 0] == info.vocabulary.index("the")
    assert ids[1, 0] == 1  # unknown word
    assert ids[0, 4:].tolist() == [0] * 76  # padding


def test_imdb_missing_class_folder(tmp_path):
    (tmp_path / "train" / "pos").mkdir(parents=True)
    with pytest.raises(DataNotFoundError, match=r"train/neg is missing.*neg/ and .*pos/"):
        read_aclimdb_split(tmp_path / "train")


def test_imdb_empty_class_folder(tmp_path):
    (tmp_path / "neg").mkdir()
    (tmp_path / "pos").mkdir()
    with pytest.raises(DataFormatError, match=r"neg contains no \.txt reviews"):
        read_aclimdb_split(tmp_path)


def test_imdb_not_found(tmp_path, isolated_home):
    with pytest.raises(DataNotFoundError, match=r"IMDB reviews not found.*imdb/aclImdb"):
        load_dataset("imdb", data_dir=tmp_path, source="local")


def test_npz_fixed_length(tmp_path, data_dir):
    from modelzoo.data.ucr import load_ucr_arrays

    arrays = load_ucr_arrays("ItalyPowerDemand", data_dir, download=False)
    path = tmp_path / "italy.npz"
    np.savez(path, x=arrays.x_train, y=arrays.y_train + 7, x_test=arrays.x_test, y_test=arrays.y_test + 7)
    splits = load_dataset(f"npz:{path}", validation_fraction=0.0, batch_size=2000)
    assert splits.info.input_shape == (24, 1)
    assert splits.info.label_map == {"7": 0, "8": 1}
    assert splits.info.extra["padded"] is False
    x, y = first_batch(splits.test)
    np.testing.assert_array_equal(x[..., 0], arrays.x_test)
    np.testing.assert_array_equal(y, arrays.y_test)


def test_npz_variable_length_padded(tmp_path):
    x = np.full((10, 6, 2), np.nan, dtype=np.float32)
    lengths = [6, 5, 4, 3, 2, 1, 6, 5, 4, 3]
    for row, length in enumerate(lengths):
        x[row, :length] = row + 1.0
    path = tmp_path / "ragged.npz"
    np.savez(path, x=x, y=np.array(["b", "a"] * 5))
    splits = load_dataset(f"npz:{path}", validation_fraction=0.0, batch_size=16,
                          options={"pad_value": -5.0, "test_fraction": 0.2})
    assert splits.info.input_shape == (6, 2)
    assert splits.info.label_map == {"a": 0, "b": 1}
    assert splits.info.extra["padded"] is True
    assert (splits.info.num_train, splits.info.num_test) == (8, 2)
    batches = [first_batch(splits.train), first_batch(splits.test)]
    padded = np.concatenate([batch[0] for batch in batches])
    for sequence in padded:
        row = int(sequence[0, 0]) - 1
        np.testing.assert_array_equal(sequence[:lengths[row]], row + 1.0)
        np.testing.assert_array_equal(sequence[lengths[row]:], -5.0)


def test_npz_sequence_length_cuts(tmp_path):
    x = np.arange(40, dtype=np.float32).reshape(4, 10)
    path = tmp_path / "long.npz"
    np.savez(path, x=x, y=np.array([0, 1, 0, 1]), x_test=x, y_test=np.array([0, 1, 0, 1]))
    splits = load_dataset(f"npz:{path}", validation_fraction=0.0,
                          options={"sequence_length": 3})
    batch, _ = first_batch(splits.test)
    np.testing.assert_array_equal(batch[..., 0], x[:, :3])


def test_npz_all_padding_rows_rejected(tmp_path):
    x = np.ones((6, 4), dtype=np.float32)
    x[[1, 4]] = np.nan
    path = tmp_path / "blank.npz"
    np.savez(path, x=x, y=np.array([0, 1] * 3), x_test=x[:2], y_test=np.array([0, 1]))
    with pytest.raises(DataFormatError, match=r"2 of 6 sequences are entirely padding.*rows 1, 4"):
        load_dataset(f"npz:{path}")


def test_npz_missing_labels(tmp_path):
    path = tmp_path / "nolabels.npz"
    np.savez(path, x=np.ones((4, 3)))
    with pytest.raises(DataFormatError, match=r"no array 'y'.*labels as y"):
        load_dataset(f"npz:{path}")


def test_npz_label_count_mismatch(tmp_path):
    path = tmp_path / "short.npz"
    np.savez(path, x=np.ones((4, 3)), y=np.array([0, 1, 0]))
    with pytest.raises(DataFormatError, match="x has 4 sequences but y has 3 labels"):
        load_dataset(f"npz:{path}")


def test_npz_missing_file(tmp_path):
    with pytest.raises(DataNotFoundError, match=r"missing\.npz not found.*after 'npz:'"):
        load_dataset(f"npz:{tmp_path / 'missing.npz'}")


def test_csv_ragged_rows_padded(tmp_path):
    path = tmp_path / "walks.csv"
    path.write_text("up,1,2,3,4\ndown,4,3\nup,1,2,3\ndown,5,4,3,2,1\nup,0.5\n")
    splits = load_dataset(f"csv:{path}", validation_fraction=0.0, batch_size=8,
                          options={"test_fraction": 0.4, "pad_value": -1.0})
    assert splits.info.input_shape == (5, 1)
    assert splits.info.label_map == {"down": 0, "up": 1}
    assert (splits.info.num_train, splits.info.num_test) == (3, 2)
    x = np.concatenate([first_batch(splits.train)[0], first_batch(splits.test)[0]])[..., 0]
    rows = {tuple(row) for row in x.tolist()}
    assert (4.0, 3.0, -1.0, -1.0, -1.0) in rows
    assert (0.5, -1.0, -1.0, -1.0, -1.0) in rows


def test_csv_text_value(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("1,0.1,0.2\n2,0.3,high\n")
    with pytest.raises(DataFormatError, match=r"bad\.csv, line 2, column 3: 'high' is not a finite number"):
        load_dataset(f"csv:{path}")


def test_csv_label_only_row(tmp_path):
    path = tmp_path / "blank.csv"
    path.write_text("1,0.1,0.2\n2\n1,0.3\n2,0.4\n2,0.5\n")
    with pytest.raises(DataFormatError, match=r"blank\.csv \(x\): 1 of 5 sequences are entirely padding.*rows 1 "):
        load_dataset(f"csv:{path}")


def test_csv_empty_file(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(DataFormatError, match=r"empty\.csv contains no rows"):
        load_dataset(f"csv:{path}")


def test_sequence_dataset_rejects_reconstruction_targets(data_dir):
    with pytest.raises(ConfigError, match="'ucr/FordA' yields labelled sequences"):
        load_dataset("ucr/FordA", data_dir=data_dir, targets="inputs")


def test_unknown_dataset_suggests_sequence_name():
    with pytest.raises(ConfigError, match=r"Unknown dataset 'imbd'\. Did you mean 'imdb'\?.*ucr/<Name>"):
        load_dataset("imbd")


def test_config_rejects_bad_sequence_steps():
    from modelzoo.config import load_config

    with pytest.raises(ConfigError, match=r"'data.sequence_steps' must be one of 'rows', 'pixels'; received 'cols'"):
        load_config("lstm", overrides=["data.sequence_steps=cols"])
