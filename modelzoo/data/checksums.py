"""SHA-256 verification of known public data files, cached per file version.

A known file (listed in `KNOWN_DIGESTS`) is hashed the first time modelzoo
reads it. A mismatch raises `DataFormatError` with the file, the expected and
the actual digest. A file that passed is recorded with its resolved path,
size and modification time in `<cache>/modelzoo/verified.json`, so later
reads skip the hash. `<cache>` is `$XDG_CACHE_HOME` or `~/.cache`, because
data directories are often read-only.

Files with other names are not checked. To skip the check for custom files
that reuse the public names, set `data.verify_checksums: false` in the config
or the environment variable `MODELZOO_SKIP_CHECKSUMS=1`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path

from modelzoo.errors import DataFormatError

logger = logging.getLogger(__name__)

SKIP_ENV_VAR = "MODELZOO_SKIP_CHECKSUMS"

# SHA-256 of the public files, gzipped as published and uncompressed. The MNIST
# .gz files are the original distribution, whose MD5s match the published ones.
# The Fashion-MNIST files are the upstream ones that Debian's
# dataset-fashion-mnist package installs.
KNOWN_DIGESTS: dict[str, dict[str, str]] = {
    "mnist": {
        "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    },
    "fashion_mnist": {
        "train-images-idx3-ubyte.gz": "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",
        "train-labels-idx1-ubyte.gz": "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",
        "t10k-images-idx3-ubyte.gz": "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
        "t10k-labels-idx1-ubyte.gz": "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",
        "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    },
}


def register_digests(dataset: str, digests: dict[str, str]) -> None:
    """Add the SHA-256 digests of a data set's files, keyed by file name.

    Loaders of other data sets (the UCR archive, for example) call this with
    their own table so that `verify_known_file` checks their files too.
    """
    table = KNOWN_DIGESTS.setdefault(dataset, {})
    for file_name, digest in digests.items():
        if len(digest) != 64 or any(char not in "0123456789abcdef" for char in digest):
            raise ValueError(f"{file_name}: {digest!r} is not a lower-case SHA-256 hex digest.")
        table[file_name] = digest


def checksums_enabled(setting: bool = True) -> bool:
    """Return whether to verify, from the config setting and `$MODELZOO_SKIP_CHECKSUMS`."""
    skip = os.environ.get(SKIP_ENV_VAR, "").strip().lower() in ("1", "true", "yes", "on")
    return setting and not skip


def sha256_file(path: str | Path, chunk_size: int = 1 << 20) -> str:
    """Return the SHA-256 hex digest of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify(path: str | Path, expected: str) -> None:
    """Check the SHA-256 of `path` against `expected`, unless it passed before.

    Raises:
        DataFormatError: The digest differs; the message names the file, both
            digests and how to skip the check for custom files.
    """
    path = Path(path).resolve()
    stat = path.stat()
    key = str(path)
    cache = _read_cache()
    if cache.get(key) == [stat.st_size, stat.st_mtime_ns, expected]:
        return
    actual = sha256_file(path)
    if actual != expected:
        raise DataFormatError(
            f"{path} failed its SHA-256 check: expected {expected}, got {actual}. "
            "The file is corrupted or is not the public file of that name; replace it "
            "with a fresh copy. For a custom file that reuses the name, set "
            f"data.verify_checksums: false or {SKIP_ENV_VAR}=1."
        )
    logger.info("Verified SHA-256 of %s", path)
    cache[key] = [stat.st_size, stat.st_mtime_ns, expected]
    _write_cache(cache)


def verify_known_file(dataset: str, path: str | Path, *, enabled: bool = True) -> bool:
    """Verify `path` if its name is in the digest table of `dataset`.

    Returns:
        True when the file was checked (now or on an earlier read), False when
        checking is disabled or the file name is not known.
    """
    if not checksums_enabled(enabled):
        return False
    expected = KNOWN_DIGESTS.get(dataset, {}).get(Path(path).name)
    if expected is None:
        return False
    verify(path, expected)
    return True


def cache_path() -> Path:
    """Return the file that records verified files."""
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(root) / "modelzoo" / "verified.json"


def _read_cache() -> dict:
    try:
        with open(cache_path(), encoding="utf-8") as stream:
            values = json.load(stream)
    except (OSError, ValueError):
        return {}
    return values if isinstance(values, dict) else {}


def _write_cache(values: dict) -> None:
    from modelzoo.runs import write_json

    path = cache_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_json(path, values)
    except OSError as error:
        # A read-only cache costs a re-hash on the next read, not a failure.
        logger.warning("Could not record verified files in %s: %s", path, error)
