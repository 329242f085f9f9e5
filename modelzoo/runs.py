"""Run directories: creation without overwriting, and atomic file writes."""

from __future__ import annotations

import datetime
import json
import os
import stat
import tempfile
from pathlib import Path
from typing import Any


def create_run_dir(parent: str | Path, model_name: str) -> Path:
    """Create and return a new `<parent>/<model_name>/<timestamp>/` folder.

    An existing folder is never reused: when the timestamp is taken, a
    suffix `-1`, `-2`, ... is added.
    """
    base = Path(parent) / model_name
    base.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    for attempt in range(1000):
        candidate = base / (stamp if attempt == 0 else f"{stamp}-{attempt}")
        try:
            candidate.mkdir()
        except FileExistsError:
            continue
        return candidate
    raise FileExistsError(f"Could not create a new run directory under {base}.")


def write_atomic(path: str | Path, data: str | bytes) -> Path:
    """Write `data` to `path` through a temporary file and a rename.

    Readers see either the old file or the complete new one, never a
    truncated file, even if the process is killed mid-write.
    """
    path = Path(path)
    mode = "wb" if isinstance(data, bytes) else "w"
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, mode) as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        # mkstemp creates the file as 0600; give it the mode a plain open() would.
        os.chmod(temporary, _default_file_mode())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def write_json(path: str | Path, values: Any) -> Path:
    """Write `values` as indented JSON, atomically."""
    return write_atomic(path, json.dumps(values, indent=2, sort_keys=True) + "\n")


def save_model_atomic(model, path: str | Path) -> Path:
    """Save a Keras model to `path` (`.keras`) through a temporary file and a rename."""
    path = Path(path)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".keras")
    os.close(handle)
    try:
        model.save(temporary)
        os.chmod(temporary, _default_file_mode())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def _default_file_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return (stat.S_IRUSR | stat.S_IWUSR | stat.S_IRGRP | stat.S_IWGRP | stat.S_IROTH | stat.S_IWOTH) & ~umask
