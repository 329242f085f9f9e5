"""UCR loader on the real archive files, on broken files, and over loopback HTTP."""

import functools
import http.server
import shutil
import threading

import numpy as np
import pytest

from modelzoo.data.ucr import (
    UCR_SHA256,
    load_ucr_arrays,
    read_ucr_tsv,
    sha256_of,
)
from modelzoo.errors import DataFormatError, DataNotFoundError

# Rows, series length, label mapping and class counts of the archive's files.
EXPECTED = {
    "FordA": (3601, 1320, 500, {-1: 0, 1: 1}, [1846, 1755], [681, 639]),
    "ECG200": (100, 100, 96, {-1: 0, 1: 1}, [31, 69], [36, 64]),
    "Earthquakes": (322, 139, 512, {0: 0, 1: 1}, [264, 58], [104, 35]),
    "GunPoint": (50, 150, 150, {1: 0, 2: 1}, [24, 26], [76, 74]),
    "ItalyPowerDemand": (67, 1029, 24, {1: 0, 2: 1}, [34, 33], [513, 516]),
    "ECG5000": (500, 4500, 140, {1: 0, 2: 1, 3: 2, 4: 3, 5: 4},
                [292, 177, 10, 19, 2], [2627, 1590, 86, 175, 22]),
    "TwoLeadECG": (23, 1139, 82, {1: 0, 2: 1}, [12, 11], [569, 570]),
    "Strawberry": (613, 370, 235, {1: 0, 2: 1}, [219, 394], [132, 238]),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_real_files_counts_and_labels(data_dir, name):
    n_train, n_test, length, label_map, train_counts, test_counts = EXPECTED[name]
    arrays = load_ucr_arrays(name, data_dir, download=False)
    assert arrays.x_train.shape == (n_train, length)
    assert arrays.x_test.shape == (n_test, length)
    assert arrays.x_train.dtype == np.float32
    assert arrays.y_train.dtype == np.int32
    assert arrays.label_map == label_map
    assert arrays.class_names == tuple(str(label) for label in label_map)
    assert np.bincount(arrays.y_train).tolist() == train_counts
    assert np.bincount(arrays.y_test).tolist() == test_counts
    assert arrays.source == "local"


def test_label_mapping_follows_the_file(data_dir):
    # The first FordA training row carries the archive label -1 -> class 0.
    first_line = (data_dir / "ucr/FordA/FordA_TRAIN.tsv").open().readline()
    original = int(float(first_line.split("\t")[0]))
    arrays = load_ucr_arrays("FordA", data_dir, download=False)
    assert arrays.y_train[0] == arrays.label_map[original]
    assert float(arrays.x_train[0, 0]) == pytest.approx(float(first_line.split("\t")[1]))


def test_znormalize_scales_each_series(tmp_path, data_dir):
    _write(tmp_path, "Scaled", "1\t10.0\t20.0\t30.0\n2\t5.0\t5.0\t5.0\n", "1\t0.0\t1.0\t5.0\n")
    arrays = load_ucr_arrays("Scaled", tmp_path, znormalize=True, download=False)
    np.testing.assert_allclose(arrays.x_train[0], [-1.2247449, 0.0, 1.2247449], rtol=1e-6)
    np.testing.assert_array_equal(arrays.x_train[1], [0.0, 0.0, 0.0])  # constant series
    assert arrays.znormalized
    # The archive's own files use the sample deviation; ours is the population one.
    real = load_ucr_arrays("GunPoint", data_dir, znormalize=True, download=False)
    np.testing.assert_allclose(real.x_test.mean(axis=1), 0.0, atol=1e-5)
    np.testing.assert_allclose(real.x_test.std(axis=1), 1.0, atol=1e-4)


def _write(folder, name, train_text, test_text="1\t1.0\t2.0\n"):
    target = folder / "ucr" / name
    target.mkdir(parents=True)
    (target / f"{name}_TRAIN.tsv").write_text(train_text)
    (target / f"{name}_TEST.tsv").write_text(test_text)
    return target


def test_ragged_row_names_file_and_line(tmp_path):
    _write(tmp_path, "Ragged", "1\t1.0\t2.0\n2\t3.0\t4.0\n1\t5.0\n")
    with pytest.raises(DataFormatError, match=r"Ragged_TRAIN\.tsv, line 3: 1 values, but line 1 has 2"):
        load_ucr_arrays("Ragged", tmp_path, download=False)


def test_text_value_names_line_and_column(tmp_path):
    _write(tmp_path, "Texty", "1\t1.0\t2.0\n2\t3.0\tabc\n")
    with pytest.raises(DataFormatError, match=r"Texty_TRAIN\.tsv, line 2, column 3: 'abc' is not a number"):
        load_ucr_arrays("Texty", tmp_path, download=False)


def test_nan_value_is_rejected_with_its_position(tmp_path):
    _write(tmp_path, "Holes", "1\t1.0\t2.0\n", "1\tNaN\t2.0\n")
    with pytest.raises(DataFormatError, match=r"Holes_TEST\.tsv, line 1, column 2: 'NaN' is not a finite"):
        load_ucr_arrays("Holes", tmp_path, download=False)


def test_empty_file_is_rejected(tmp_path):
    _write(tmp_path, "Empty", "", "1\t1.0\n")
    with pytest.raises(DataFormatError, match=r"Empty_TRAIN\.tsv contains no rows"):
        load_ucr_arrays("Empty", tmp_path, download=False)


def test_split_lengths_must_agree(tmp_path):
    _write(tmp_path, "Mixed", "1\t1.0\t2.0\n", "1\t1.0\t2.0\t3.0\n")
    with pytest.raises(DataFormatError, match="length 2 but .*Mixed_TEST.tsv has length 3"):
        load_ucr_arrays("Mixed", tmp_path, download=False)


def test_test_label_unknown_to_training_is_rejected(tmp_path):
    _write(tmp_path, "Labels", "1\t1.0\n2\t2.0\n", "1\t1.0\n3\t2.0\n")
    with pytest.raises(DataFormatError, match=r"Labels_TEST\.tsv, line 2: label 3 does not occur"):
        load_ucr_arrays("Labels", tmp_path, download=False)


def test_missing_split_without_download(tmp_path, data_dir):
    target = tmp_path / "ucr" / "GunPoint"
    target.mkdir(parents=True)
    shutil.copy(data_dir / "ucr/GunPoint/GunPoint_TRAIN.tsv", target)
    with pytest.raises(DataNotFoundError, match=r"GunPoint_TEST\.tsv and downloads are disabled"):
        load_ucr_arrays("GunPoint", tmp_path, download=False)


def test_unknown_name_is_never_downloaded(tmp_path):
    with pytest.raises(DataNotFoundError, match=r"'Forda'.*Did you mean 'FordA'\?.*copy its TSV"):
        load_ucr_arrays("Forda", tmp_path, mirror="http://127.0.0.1:9/")


def test_real_file_parses_to_table(data_dir):
    series, labels = read_ucr_tsv(data_dir / "ucr/ECG200/ECG200_TEST.tsv")
    assert series.shape == (100, 96)
    assert set(labels.tolist()) == {-1.0, 1.0}


@pytest.fixture
def mirror(tmp_path, data_dir):
    """An HTTP server on 127.0.0.1 serving copies of the shared UCR files."""
    root = tmp_path / "mirror"
    for name in ("GunPoint", "ECG200"):
        shutil.copytree(data_dir / "ucr" / name, root / name)
    # A corrupted ECG200 test split: one value changed, same length.
    corrupted = root / "ECG200" / "ECG200_TEST.tsv"
    text = corrupted.read_text()
    corrupted.write_text(text.replace("\t", "\t9", 1))
    class QuietHandler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(root))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_download_from_loopback_mirror_verifies_sha256(tmp_path, mirror, monkeypatch):
    monkeypatch.setenv("MODELZOO_UCR_MIRROR", mirror)
    target = tmp_path / "data"
    arrays = load_ucr_arrays("GunPoint", target)
    assert arrays.source == "download"
    assert arrays.x_train.shape == (50, 150)
    assert arrays.x_test.shape == (150, 150)
    for split in ("TRAIN", "TEST"):
        path = target / "ucr/GunPoint" / f"GunPoint_{split}.tsv"
        assert sha256_of(path) == UCR_SHA256["GunPoint"][split]
    # A second load reads the verified local copies.
    assert load_ucr_arrays("GunPoint", target, download=False).source == "local"


def test_corrupted_download_is_rejected_and_not_kept(tmp_path, mirror):
    target = tmp_path / "data"
    with pytest.raises(DataFormatError, match=r"ECG200_TEST\.tsv has c8ac02ca.*nothing was saved"):
        load_ucr_arrays("ECG200", target, mirror=mirror)
    folder = target / "ucr" / "ECG200"
    # The good TRAIN file was kept; the corrupted TEST file left nothing behind.
    assert sorted(path.name for path in folder.iterdir()) == ["ECG200_TRAIN.tsv"]


def test_unreachable_mirror_says_how_to_fix(tmp_path, mirror):
    with pytest.raises(DataNotFoundError, match=r"Could not download UCR 'GunPoint'.*MODELZOO_UCR_MIRROR"):
        load_ucr_arrays("GunPoint", tmp_path, mirror=mirror + "/no-such-folder")
