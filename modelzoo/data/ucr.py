"""UCR time-series classification archive (2018 TSV release) as NumPy arrays.

Layout under a data directory (`data_dir` or `$MODELZOO_DATA_DIR`):

    <root>/ucr/<Name>/<Name>_TRAIN.tsv
    <root>/ucr/<Name>/<Name>_TEST.tsv

Each line is one series: the class label, then the values, separated by
tabs, with no header. The files keep the archive's labels (`-1`/`1`, `0`/`1`,
`1`/`2`, `1`..`5`, ...). This module maps them to `0..n-1` in ascending numeric
order and returns the mapping with the arrays.

When a data set is not on disk and `download` is true, its two files are
fetched from a mirror: the `mirror` argument, else `$MODELZOO_UCR_MIRROR`,
else `DEFAULT_MIRROR`. A file is requested as `<mirror>/<Name>/<Name>_TRAIN.tsv`
and is kept only if its SHA-256 digest equals the one in `UCR_SHA256`. Data
sets missing from that table are never downloaded. The default mirror
is on the internet, so on an offline machine copy the files into the layout
above instead.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import math
import os
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np

from modelzoo.data.checksums import register_digests, verify_known_file
from modelzoo.errors import ConfigError, DataFormatError, DataNotFoundError

logger = logging.getLogger(__name__)

SPLITS = ("TRAIN", "TEST")

# A GitHub folder with the archive's FordA files in the `<Name>/<Name>_<SPLIT>.tsv`
# layout. It needs internet access, so offline, point `$MODELZOO_UCR_MIRROR` at a copy.
# NOTE: not reachable from the build machine, so which other data sets it serves is unchecked.
DEFAULT_MIRROR = "https://raw.githubusercontent.com/hfawaz/cd-diagram/master"
MIRROR_ENV = "MODELZOO_UCR_MIRROR"
DOWNLOAD_TIMEOUT_SECONDS = 60.0

# SHA-256 of the archive's files, as published with the 2018 release and
# checked against independent copies. A download must match these bytes.
UCR_SHA256: dict[str, dict[str, str]] = {
    "FordA": {
        "TRAIN": "f80f6df3336194b2d52bb29fc41c980e7f0a809c80a5c5b79121d74622e0a7de",
        "TEST": "02a17aab8794822957f7d50e3f6904f10b7dfa5c858bbb2b8047c4b0c64bbefe",
    },
    "ECG200": {
        "TRAIN": "bd08b37147ebf205231ad43e02c42dd5c14bc348f4ccc7614f85634c8916bf21",
        "TEST": "c8ac02caf98be23c47c044fde026219301ceaf0b2f97bc107bd0cd96330b867c",
    },
    "GunPoint": {
        "TRAIN": "4d14e4f44a6230087cb4b4ed7844c8b0feb76f07a76108cc367d689e0de8f609",
        "TEST": "5537eb2f3050e1514f3221b5f4c9799b350fb229ea15eed9e78bbae855505ccf",
    },
    "ItalyPowerDemand": {
        "TRAIN": "fab46ef99232ada65773ed89b131954a91ec1da69803159cb1566f320dbaf22e",
        "TEST": "ab22aa53de4ef55f2e2bcbf0518565704aeec8d76f48ef1180903bf5814c47fc",
    },
    "ECG5000": {
        "TRAIN": "df86ac15d7e283e731db6be7865f5004b65bc639014cb8b9753c26e24a9092a1",
        "TEST": "0192997dd1793880633bfb34ae3ad5129c09a8e0f210c469225451b92cdd8548",
    },
    "TwoLeadECG": {
        "TRAIN": "63c29e3f7f0411b729c6c90732cb1c1c08f257a7130b15680f484e82d6ed17a8",
        "TEST": "18dd890ee9963869e22b137aa4e54736d2b2384251a20ec831f2dc7620be2f3f",
    },
    "Earthquakes": {
        "TRAIN": "46dddbb8e1cefc31d419bd377834281f83e1d9746cdd4eb1a5ee63aea18cefbf",
        "TEST": "dc0f183d14e15def2ec5ef3743608c7fea942536733e7bf203b4d03ea55375ce",
    },
    "Strawberry": {
        "TRAIN": "b467b8391dcb79d7259e46dbff0d18728e82ea90462f982228b2b5041bb9e79e",
        "TEST": "6ba0513774dad642f9f6f723f84ec48a13b9419c6b4b6c5480051505c8455561",
    },
}

for _name, _digests in UCR_SHA256.items():
    register_digests(f"ucr/{_name}", {f"{_name}_{split}.tsv": digest
                                      for split, digest in _digests.items()})


@dataclasses.dataclass
class UCRArrays:
    """One UCR data set as arrays.

    Attributes:
        name: Archive name, such as `"FordA"`.
        x_train: float32 series, shape `(N_train, T)`.
        y_train: int32 labels in `0..n-1`, shape `(N_train,)`.
        x_test: float32 series, shape `(N_test, T)`.
        y_test: int32 labels in `0..n-1`, shape `(N_test,)`.
        label_map: Original archive label to class index, such as
            `{-1: 0, 1: 1}`; integral labels are ints, others floats.
        class_names: The original labels as text, index = class.
        files: The TRAIN and TEST files read.
        source: `"local"`, or `"download"` when the files were fetched.
        znormalized: Whether each series was scaled to mean 0, std 1.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    label_map: dict
    class_names: tuple[str, ...]
    files: dict[str, Path]
    source: str
    znormalized: bool

    @property
    def num_classes(self) -> int:
        return len(self.label_map)

    @property
    def length(self) -> int:
        return int(self.x_train.shape[1])


def ucr_folder(name: str, root: Path) -> Path:
    """Return `<root>/ucr/<name>`."""
    return Path(root) / "ucr" / name


def load_ucr_arrays(
    name: str,
    data_dir: str | os.PathLike | None = None,
    *,
    znormalize: bool = False,
    mirror: str | None = None,
    download: bool = True,
    verify_checksums: bool = True,
) -> UCRArrays:
    """Read a UCR data set's TRAIN and TEST files into arrays.

    Args:
        name: Archive name with its capitalisation, such as `"FordA"`.
        data_dir: Root data folder; `None` falls back to `$MODELZOO_DATA_DIR`.
        znormalize: Scale each series to mean 0 and standard deviation 1
            (a constant series becomes all zeros).
        mirror: Base URL to download from; `None` uses `$MODELZOO_UCR_MIRROR`,
            else `DEFAULT_MIRROR`.
        download: Fetch missing files from the mirror into
            `<data_dir>/ucr/<name>/`, checking their SHA-256.
        verify_checksums: Check local files of the archive's data sets
            against `UCR_SHA256` on their first read, after parsing them, so
            a malformed file still gets its format error.

    Returns:
        A `UCRArrays` with float32 series of shape `(N, T)` and int32 labels.

    Raises:
        DataNotFoundError: The files are missing and cannot be downloaded.
        DataFormatError: A file is malformed (the message names the file and
            line) or a download does not match its SHA-256.
    """
    from modelzoo.data.mnist import resolve_data_dir

    if not name or "/" in name or name.startswith("."):
        raise ConfigError(
            f"Invalid UCR data set name {name!r}: use the archive name, such as 'FordA'."
        )
    root = resolve_data_dir(data_dir)
    if root is None:
        raise DataNotFoundError(
            f"No data directory for UCR data set {name!r}: pass data_dir or set "
            "MODELZOO_DATA_DIR to a folder that holds (or may receive) "
            f"ucr/{name}/{name}_TRAIN.tsv and {name}_TEST.tsv."
        )
    folder = ucr_folder(name, root)
    files = {split: folder / f"{name}_{split}.tsv" for split in SPLITS}
    missing = [split for split, path in files.items() if not path.is_file()]
    source = "local"
    if missing:
        _check_known_name(name, folder, missing)
        if not download:
            raise DataNotFoundError(
                f"UCR data set {name!r} is missing {', '.join(str(files[s]) for s in missing)} "
                "and downloads are disabled. Copy the archive's TSV files there, or allow "
                "downloads (data.download: true)."
            )
        base = mirror or os.environ.get(MIRROR_ENV) or DEFAULT_MIRROR
        for split in missing:
            download_ucr_file(name, split, files[split], mirror=base)
        source = "download"

    rows = {split: read_ucr_tsv(path) for split, path in files.items()}
    if source == "local":
        for path in files.values():
            verify_known_file(f"ucr/{name}", path, enabled=verify_checksums)
    (x_train, labels_train), (x_test, labels_test) = rows["TRAIN"], rows["TEST"]
    if x_train.shape[1] != x_test.shape[1]:
        raise DataFormatError(
            f"{files['TRAIN']} has series of length {x_train.shape[1]} but {files['TEST']} "
            f"has length {x_test.shape[1]}; both splits of a UCR data set must have one length. "
            "Check that the two files belong to the same data set."
        )
    label_map = make_label_map(labels_train)
    y_train = apply_label_map(labels_train, label_map, files["TRAIN"])
    y_test = apply_label_map(labels_test, label_map, files["TEST"])
    if znormalize:
        x_train, x_test = znormalize_series(x_train), znormalize_series(x_test)
    class_names = tuple(str(label) for label in label_map)
    logger.info(
        "UCR %s: %d train and %d test series of length %d, labels %s -> 0..%d (%s)",
        name, len(x_train), len(x_test), x_train.shape[1], list(label_map), len(label_map) - 1,
        folder,
    )
    return UCRArrays(
        name=name,
        x_train=x_train.astype(np.float32),
        y_train=y_train,
        x_test=x_test.astype(np.float32),
        y_test=y_test,
        label_map=label_map,
        class_names=class_names,
        files=files,
        source=source,
        znormalized=znormalize,
    )


def read_ucr_tsv(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Parse one UCR TSV file into `(series (N, T) float64, labels (N,) float64)`.

    Raises:
        DataFormatError: The file is empty, a row has a different number of
            values than the first row, a field is not a number, or a value
            is NaN or infinite. The message names the file and line.
    """
    path = Path(path)
    rows: list[np.ndarray] = []
    expected = None
    with path.open("r", encoding="utf-8", errors="replace") as handle:
        for line_number, line in enumerate(handle, start=1):
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            fields = line.split("\t")
            try:
                values = np.array(fields, dtype=np.float64)
            except ValueError:
                column, bad = _first_bad_field(fields)
                raise DataFormatError(
                    f"{path}, line {line_number}, column {column}: {bad!r} is not a number. "
                    "UCR TSV files hold a numeric label then numeric values, separated by tabs; "
                    "fix or remove that row."
                ) from None
            if len(values) < 2:
                raise DataFormatError(
                    f"{path}, line {line_number}: a row needs a label and at least one value; "
                    f"found {len(values)} field(s). Check that the file is tab-separated."
                )
            if expected is None:
                expected = len(values)
            elif len(values) != expected:
                raise DataFormatError(
                    f"{path}, line {line_number}: {len(values) - 1} values, but line 1 has "
                    f"{expected - 1}. Every series of a UCR data set must have the same length; "
                    "fix that row or pad the series to one length."
                )
            if not np.all(np.isfinite(values)):
                column = int(np.flatnonzero(~np.isfinite(values))[0]) + 1
                raise DataFormatError(
                    f"{path}, line {line_number}, column {column}: {fields[column - 1]!r} is "
                    "not a finite number. Missing values (NaN padding of variable-length "
                    "series) are not supported; fill or remove them."
                )
            rows.append(values)
    if not rows:
        raise DataFormatError(
            f"{path} contains no rows. Replace it with the archive's file "
            "(one series per line: label, then tab-separated values)."
        )
    table = np.stack(rows)
    return table[:, 1:], table[:, 0]


def make_label_map(labels: np.ndarray) -> dict:
    """Map each distinct label to `0..n-1` in ascending numeric order."""
    distinct = sorted(set(labels.tolist()))
    return {_label_key(value): index for index, value in enumerate(distinct)}


def apply_label_map(labels: np.ndarray, label_map: dict, path: Path) -> np.ndarray:
    """Return `labels` as int32 class indices; reject labels the map lacks."""
    indices = np.empty(len(labels), dtype=np.int32)
    for position, value in enumerate(labels.tolist()):
        key = _label_key(value)
        if key not in label_map:
            raise DataFormatError(
                f"{path}, line {position + 1}: label {key!r} does not occur in the training "
                f"file, whose labels are {list(label_map)}. Check that both files belong to "
                "the same data set."
            )
        indices[position] = label_map[key]
    return indices


def znormalize_series(x: np.ndarray) -> np.ndarray:
    """Scale each row to mean 0 and standard deviation 1; constant rows become 0."""
    mean = x.mean(axis=1, keepdims=True)
    std = x.std(axis=1, keepdims=True)
    return (x - mean) / np.where(std > 1e-8, std, 1.0)


def sha256_of(path: str | os.PathLike) -> str:
    """Return the hex SHA-256 digest of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download_ucr_file(name: str, split: str, target: Path, *, mirror: str) -> Path:
    """Fetch `<mirror>/<name>/<name>_<split>.tsv` into `target`, checking SHA-256.

    The file is written to a temporary name beside `target` and moved into
    place only after its digest matches `UCR_SHA256`, so an interrupted or
    corrupted download never leaves a file that looks valid.
    """
    expected = UCR_SHA256[name][split]
    url = f"{mirror.rstrip('/')}/{name}/{name}_{split}.tsv"
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DataNotFoundError(
            f"Cannot create {target.parent} to download UCR {name!r} into: {error}. "
            "Set data_dir (or MODELZOO_DATA_DIR) to a writable folder."
        ) from None
    logger.info("Downloading %s to %s", url, target)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as output:
            try:
                with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_SECONDS) as response:
                    while block := response.read(1 << 20):
                        output.write(block)
            except (urllib.error.URLError, OSError, ValueError) as error:
                raise DataNotFoundError(
                    f"Could not download UCR {name!r} {split} split from {url}: {error}. "
                    f"Set {MIRROR_ENV} (or data.ucr_mirror) to a reachable mirror, or copy "
                    f"{target.name} into {target.parent}."
                ) from None
        actual = sha256_of(temporary)
        if actual != expected:
            raise DataFormatError(
                f"The file downloaded from {url} has SHA-256 {actual}, but the archive's "
                f"{target.name} has {expected}. The mirror serves a different or damaged "
                "file; nothing was saved. Use another mirror or copy the file by hand."
            )
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    logger.info("Verified %s (sha256 %s)", target, expected)
    return target


def _check_known_name(name: str, folder: Path, missing: list[str]) -> None:
    if name in UCR_SHA256:
        return
    import difflib

    close = difflib.get_close_matches(name, list(UCR_SHA256), n=1)
    if not close:
        lowered = {known.lower(): known for known in UCR_SHA256}
        close = [lowered[name.lower()]] if name.lower() in lowered else []
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise DataNotFoundError(
        f"UCR data set {name!r} has no {' or '.join(f'{name}_{s}.tsv' for s in missing)} in "
        f"{folder}.{hint} Only {', '.join(sorted(UCR_SHA256))} can be downloaded (their SHA-256 "
        "digests ship with modelzoo); for any other archive data set, copy its TSV files there."
    )


def _first_bad_field(fields: list[str]) -> tuple[int, str]:
    for column, field in enumerate(fields, start=1):
        try:
            float(field)
        except ValueError:
            return column, field
    return 1, fields[0] if fields else ""


def _label_key(value: float):
    return int(value) if math.isfinite(value) and float(value).is_integer() else float(value)


def load_ucr_splits(name: str, *, data_dir=None, download: bool = True, znormalize: bool = False,
                    frame_length: int = 1, mirror: str | None = None,
                    verify_checksums: bool = True, **pipeline):
    """Load UCR data set `name` as `DatasetSplits` of `(T / frame_length, frame_length)` series.

    The validation split is drawn from the archive's TRAIN file and the test
    split is its TEST file. `pipeline` takes the batching and split arguments
    of `modelzoo.data.sequence.splits_from_arrays`.

    Raises:
        ConfigError: `frame_length` does not divide the series length.
    """
    from modelzoo.data.sequence import splits_from_arrays

    arrays = load_ucr_arrays(
        name, data_dir, znormalize=znormalize, mirror=mirror, download=download,
        verify_checksums=verify_checksums,
    )
    if frame_length < 1 or arrays.length % frame_length:
        divisors = [size for size in range(2, arrays.length) if arrays.length % size == 0][:8]
        raise ConfigError(
            f"data.frame_length={frame_length} does not divide the {arrays.length} values of "
            f"each ucr/{name} series. Use 1 or a divisor of {arrays.length}, such as "
            f"{', '.join(map(str, divisors)) or 'none above 1'}."
        )
    steps = arrays.length // frame_length
    return splits_from_arrays(
        name=f"ucr/{name}",
        source=f"{arrays.source}: {arrays.files['TRAIN'].parent}",
        x_train=arrays.x_train.reshape(len(arrays.x_train), steps, frame_length),
        y_train=arrays.y_train,
        x_test=arrays.x_test.reshape(len(arrays.x_test), steps, frame_length),
        y_test=arrays.y_test,
        class_names=arrays.class_names,
        label_map={str(label): index for label, index in arrays.label_map.items()},
        extra={
            "files": {split: str(path) for split, path in arrays.files.items()},
            "znormalized": znormalize,
            "series_length": arrays.length,
            "frame_length": frame_length,
        },
        **pipeline,
    )
