"""Data set files written into a run directory, and the model/data fit check.

A run on a data set whose labels were remapped writes `labels.json`, and a
run on text writes `vocabulary.txt` and `text_vectorization.json`, so the
saved model's outputs and inputs can be traced back to the raw data.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from modelzoo.errors import ConfigError

logger = logging.getLogger(__name__)

LABELS_FILE = "labels.json"


def write_dataset_files(run_dir: str | Path, info) -> list[Path]:
    """Write `labels.json` and, for text, the vocabulary files; return the paths written."""
    from modelzoo.runs import write_atomic

    run_dir = Path(run_dir)
    written = []
    if info.label_map is not None:
        path = run_dir / LABELS_FILE
        content = {
            "dataset": info.name,
            "class_names": list(info.class_names),
            "label_map": info.label_map,
        }
        write_atomic(path, json.dumps(content, indent=2) + "\n")
        written.append(path)
    if info.vocabulary is not None:
        from modelzoo.data.imdb import SETTINGS_FILE, VOCABULARY_FILE, save_text_vectorizer

        save_text_vectorizer(run_dir, info.vocabulary, info.extra["text_vectorization"])
        written += [run_dir / VOCABULARY_FILE, run_dir / SETTINGS_FILE]
    for path in written:
        logger.info("Wrote %s", path)
    return written


def check_model_fits_data(model, info, *, task: str) -> None:
    """Raise a `ConfigError` when the model's output cannot predict the data set's classes."""
    if task in ("reconstruction", "anomaly_detection"):
        return
    outputs = model.output_shape[-1]
    expected = 1 if info.num_classes == 2 else info.num_classes
    if outputs != expected:
        raise ConfigError(
            f"Dataset {info.name!r} has {info.num_classes} classes, but the model has "
            f"{outputs} output unit(s) (expected {expected}). Set model.args.num_classes to "
            f"{info.num_classes}."
        )
    if info.extra.get("padded"):
        _warn_unmasked_padding(model, info)


def _warn_unmasked_padding(model, info) -> None:
    import keras

    pad_value = info.extra["pad_value"]
    mask_values = [layer.mask_value for layer in model.layers
                   if isinstance(layer, keras.layers.Masking)]
    if pad_value not in mask_values:
        logger.warning(
            "Dataset %s pads shorter sequences with %r, but the model masks %s, so it will "
            "read padding as data. Set model.args.mask_value to %r.",
            info.name, pad_value,
            f"the value(s) {mask_values}" if mask_values else "no value", pad_value,
        )
