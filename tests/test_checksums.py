"""SHA-256 verification of the public data files, with a cache and a documented skip."""

import gzip
import hashlib
import json
import shutil

import pytest

from modelzoo.data import checksums
from modelzoo.data.mnist import FILE_NAMES, load_image_arrays
from modelzoo.errors import DataFormatError


@pytest.fixture
def cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv(checksums.SKIP_ENV_VAR, raising=False)
    return tmp_path / "cache"


@pytest.fixture
def bit_flipped_folder(tmp_path, data_dir):
    """Real MNIST files, with one bit of the uncompressed test labels flipped."""
    folder = tmp_path / "flipped"
    folder.mkdir()
    for file_name in FILE_NAMES.values():
        source = data_dir / "mnist" / f"{file_name}.gz"
        if file_name == "t10k-labels-idx1-ubyte":
            raw = bytearray(gzip.decompress(source.read_bytes()))
            raw[100] ^= 0x01  # a label byte: still a valid digit, same size
            (folder / file_name).write_bytes(bytes(raw))
        else:
            shutil.copy(source, folder / source.name)
    return folder


def test_shipped_digests_match_real_files(data_dir, cache_home):
    for file_name in FILE_NAMES.values():
        path = data_dir / "mnist" / f"{file_name}.gz"
        assert checksums.sha256_file(path) == checksums.KNOWN_DIGESTS["mnist"][path.name]
        raw = gzip.decompress(path.read_bytes())
        assert hashlib.sha256(raw).hexdigest() == checksums.KNOWN_DIGESTS["mnist"][file_name]


def test_bit_flip_names_file_and_digests(bit_flipped_folder, cache_home):
    path = bit_flipped_folder / "t10k-labels-idx1-ubyte"
    actual = checksums.sha256_file(path)

    with pytest.raises(DataFormatError) as raised:
        load_image_arrays("mnist", data_dir=bit_flipped_folder, source="local")

    message = str(raised.value)
    assert str(path) in message
    assert f"expected {checksums.KNOWN_DIGESTS['mnist']['t10k-labels-idx1-ubyte']}" in message
    assert f"got {actual}" in message
    assert "data.verify_checksums: false" in message
    assert "MODELZOO_SKIP_CHECKSUMS=1" in message


def test_skip_by_option_and_env_var(bit_flipped_folder, cache_home, monkeypatch):
    arrays = load_image_arrays("mnist", data_dir=bit_flipped_folder, source="local",
                               verify_checksums=False)
    assert arrays.y_test.shape == (10_000,)

    monkeypatch.setenv(checksums.SKIP_ENV_VAR, "1")
    arrays = load_image_arrays("mnist", data_dir=bit_flipped_folder, source="local")
    assert arrays.y_test.shape == (10_000,)


def test_verified_files_cached_by_size_and_mtime(tmp_path, data_dir, cache_home):
    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    shutil.copy(data_dir / "mnist" / path.name, path)

    assert checksums.verify_known_file("mnist", path)
    cached = json.loads(checksums.cache_path().read_text())
    assert str(path.resolve()) in cached

    # Same size, new content and new mtime: the cache entry no longer applies.
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(DataFormatError, match="failed its SHA-256 check"):
        checksums.verify_known_file("mnist", path)


def test_unknown_names_are_not_checked(tmp_path, cache_home):
    path = tmp_path / "custom-images.gz"
    path.write_bytes(b"anything")

    assert checksums.verify_known_file("mnist", path) is False


def test_register_digests_rejects_malformed_digest():
    with pytest.raises(ValueError, match="not a lower-case SHA-256 hex digest"):
        checksums.register_digests("custom", {"file.tsv": "ABC"})


def ucr_copy_with_changed_value(tmp_path, data_dir):
    """Real GunPoint files; one value of the test file changed, same length and format."""
    folder = tmp_path / "ucr" / "GunPoint"
    folder.mkdir(parents=True)
    shutil.copy(data_dir / "ucr" / "GunPoint" / "GunPoint_TRAIN.tsv", folder)
    text = (data_dir / "ucr" / "GunPoint" / "GunPoint_TEST.tsv").read_text()
    first_tab = text.index("\t")
    value_end = text.index("\t", first_tab + 1)
    value = text[first_tab + 1:value_end]
    changed = value[:-1] + ("1" if value[-1] != "1" else "2")
    (folder / "GunPoint_TEST.tsv").write_text(text[:first_tab + 1] + changed + text[value_end:])
    return folder / "GunPoint_TEST.tsv"


def test_ucr_files_verified_on_first_read(data_dir, cache_home):
    from modelzoo.data.ucr import load_ucr_arrays

    load_ucr_arrays("GunPoint", data_dir)
    cache = json.loads(checksums.cache_path().read_text())

    verified = " ".join(cache)
    assert "GunPoint_TRAIN.tsv" in verified
    assert "GunPoint_TEST.tsv" in verified


def test_ucr_changed_value_names_file_and_digests(tmp_path, data_dir, cache_home):
    from modelzoo.data.ucr import UCR_SHA256, load_ucr_arrays

    path = ucr_copy_with_changed_value(tmp_path, data_dir)

    with pytest.raises(DataFormatError) as raised:
        load_ucr_arrays("GunPoint", tmp_path, download=False)
    assert str(path) in str(raised.value)
    assert f"expected {UCR_SHA256['GunPoint']['TEST']}" in str(raised.value)

    arrays = load_ucr_arrays("GunPoint", tmp_path, download=False, verify_checksums=False)
    assert arrays.x_test.shape == (150, 150)
