"""Reconstruction-error anomaly detection on UCR series.

An autoencoder trains only on the training series of one normal class. A
series is flagged as an anomaly when its reconstruction error (mean squared
error over its steps) exceeds a threshold chosen on the reconstruction
errors of the normal training series. The test split keeps every class, and
every class other than the normal one counts as an anomaly.

The trainer uses this module for models whose registered task is
`"anomaly_detection"`. It adds the detection metrics (precision, recall, F1,
ROC AUC, threshold) to `metrics.json` and writes `errors.png` (test error
histogram with the threshold) and `reconstructions.png` into the run
directory.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

import numpy as np

from modelzoo.errors import ConfigError

logger = logging.getLogger(__name__)

THRESHOLD_METHODS = ("quantile", "mean_std", "max")


@dataclasses.dataclass
class AnomalyData:
    """Series of one UCR data set, split for anomaly detection.

    Attributes:
        train: Normal training series, shape `(N, steps, 1)`.
        validation: Normal series held out from `train` for early stopping.
        test: Every test series, shape `(N_test, steps, 1)`.
        test_labels: Class index of every test series.
        test_anomalous: Whether each test series is an anomaly.
        normal_class: Archive label of the normal class, as text.
        class_names: Archive labels as text, index = class.
    """

    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray
    test_labels: np.ndarray
    test_anomalous: np.ndarray
    normal_class: str
    class_names: tuple[str, ...]


def load_anomaly_data(
    dataset: str,
    *,
    normal_class: str,
    data_dir=None,
    download: bool = True,
    verify_checksums: bool = True,
    validation_fraction: float = 0.1,
    split_seed: int = 0,
    znormalize: bool = False,
    ucr_mirror: str | None = None,
    train_subset: int | None = None,
    test_subset: int | None = None,
) -> AnomalyData:
    """Load a UCR data set and keep only the normal class for training.

    Args:
        dataset: `"ucr/<Name>"`, such as `"ucr/ECG5000"`.
        normal_class: Archive label of the normal class, such as `"1"`.
        data_dir: Root data folder; `None` falls back to `$MODELZOO_DATA_DIR`.
        download: Allow downloading missing UCR files.
        validation_fraction: Fraction of the normal training series held out.
        split_seed: Seed of that split.
        znormalize: Scale each series to mean 0 and standard deviation 1.
        ucr_mirror: Base URL of UCR downloads; see `modelzoo.data.ucr`.
        train_subset: Keep only the first this many normal training series.
        test_subset: Keep only the first this many test series.
        verify_checksums: Check the archive's files against their SHA-256.
    """
    from modelzoo.data import split_indices
    from modelzoo.data.ucr import load_ucr_arrays

    if not dataset.startswith("ucr/"):
        raise ConfigError(
            f"Anomaly detection reads UCR data sets; received dataset {dataset!r}. "
            "Use a name such as 'ucr/ECG5000'."
        )
    arrays = load_ucr_arrays(dataset[len("ucr/"):], data_dir, znormalize=znormalize,
                             mirror=ucr_mirror, download=download,
                             verify_checksums=verify_checksums)
    class_names = tuple(arrays.class_names)
    if str(normal_class) not in class_names:
        raise ConfigError(
            f"anomaly.normal_class {normal_class!r} is not a label of {dataset}; its labels "
            f"are {', '.join(class_names)}. Set anomaly.normal_class to one of them."
        )
    normal_index = class_names.index(str(normal_class))

    normal = arrays.x_train[arrays.y_train == normal_index]
    if train_subset is not None:
        normal = normal[:train_subset]
    train_index, validation_index = split_indices(len(normal), validation_fraction, split_seed)
    x_test, y_test = arrays.x_test, arrays.y_test
    if test_subset is not None:
        x_test, y_test = x_test[:test_subset], y_test[:test_subset]

    data = AnomalyData(
        train=normal[train_index][..., None],
        validation=normal[validation_index][..., None],
        test=x_test[..., None],
        test_labels=y_test,
        test_anomalous=y_test != normal_index,
        normal_class=str(normal_class),
        class_names=class_names,
    )
    logger.info(
        "Anomaly data %s: normal class %s, %d train and %d validation normal series, "
        "%d test series of which %d anomalous, series length %d",
        dataset, normal_class, len(data.train), len(data.validation), len(data.test),
        int(data.test_anomalous.sum()), data.test.shape[1],
    )
    return data


def make_series_pipeline(series: np.ndarray, *, batch_size: int, shuffle: bool, seed: int):
    """Return a batched `tf.data.Dataset` of `(series, series)` pairs (one tensor, no copy).

    Batches are gathered from the in-memory array by shuffled index. The
    series sets of anomaly detection are small (263 normal ECG5000 beats), and
    for them a full-buffer `shuffle` of the indices costs less per epoch than
    the seeded permutation of `modelzoo.data.batched_array_pipeline`: a probe
    pass over 263 series took about 8 ms against 16 ms (2-core x86-64 CPU,
    TensorFlow 2.21).

    Creating an iterator over it takes about 8 ms, a tenth of a training
    epoch of the ECG5000 config. Its 9 training batches fit in one call of
    the training function, so the trainer repeats the data set and keeps one
    iterator for the whole run (see `modelzoo.trainer.plan_epochs`).
    """
    import tensorflow as tf

    from modelzoo.data import without_default_rewrites

    values = tf.constant(series.astype("float32"))
    dataset = tf.data.Dataset.range(len(series))
    if shuffle:
        dataset = dataset.shuffle(len(series), seed=seed, reshuffle_each_iteration=True)

    def gather(index):
        batch = tf.gather(values, index)
        return batch, batch

    dataset = dataset.batch(batch_size).map(gather, num_parallel_calls=tf.data.AUTOTUNE,
                                            deterministic=True)
    return without_default_rewrites(dataset).prefetch(tf.data.AUTOTUNE)


def make_anomaly_splits(data: AnomalyData, dataset: str, *, batch_size: int, seed: int,
                        validation_fraction: float):
    """Return `DatasetSplits` for training the autoencoder on `data`."""
    from modelzoo.data import DatasetInfo, DatasetSplits

    info = DatasetInfo(
        name=dataset,
        source="UCR archive files",
        num_train=len(data.train),
        num_validation=len(data.validation),
        num_test=len(data.test),
        input_shape=tuple(data.test.shape[1:]),
        num_classes=len(data.class_names),
        class_names=data.class_names,
        validation_fraction=validation_fraction,
        extra={"normal_class": data.normal_class,
               "test_anomalous": int(data.test_anomalous.sum())},
    )
    validation = (make_series_pipeline(data.validation, batch_size=batch_size, shuffle=False,
                                       seed=seed)
                  if len(data.validation) else None)
    return DatasetSplits(
        make_series_pipeline(data.train, batch_size=batch_size, shuffle=True, seed=seed),
        validation,
        make_series_pipeline(data.test, batch_size=batch_size, shuffle=False, seed=seed),
        info,
    )


def reconstruction_errors(model, series: np.ndarray, *, batch_size: int = 256) -> np.ndarray:
    """Return the mean squared reconstruction error of each series."""
    reconstructions = model.predict(series, batch_size=batch_size, verbose=0)
    axes = tuple(range(1, series.ndim))
    return np.mean(np.square(reconstructions - series), axis=axes)


def choose_threshold(errors: np.ndarray, *, method: str = "quantile", quantile: float = 0.95,
                     std_factor: float = 3.0) -> float:
    """Return the error above which a series counts as an anomaly.

    Args:
        errors: Reconstruction errors of normal training series.
        method: `"quantile"` takes the `quantile` of `errors`, `"mean_std"`
            takes `mean + std_factor * std`, `"max"` the largest error.
        quantile: Quantile in (0, 1] for `"quantile"`.
        std_factor: Factor of the standard deviation for `"mean_std"`.
    """
    errors = np.asarray(errors, dtype="float64")
    if errors.size == 0:
        raise ConfigError("No normal training series to choose the anomaly threshold from; "
                          "check anomaly.normal_class and data.train_subset.")
    if method == "quantile":
        if not 0 < quantile <= 1:
            raise ConfigError(f"anomaly.quantile must be in (0, 1]; received {quantile!r}.")
        return float(np.quantile(errors, quantile))
    if method == "mean_std":
        return float(errors.mean() + std_factor * errors.std())
    if method == "max":
        return float(errors.max())
    raise ConfigError(
        f"Unknown anomaly threshold method {method!r}; use one of {', '.join(THRESHOLD_METHODS)}."
    )


def detection_metrics(errors: np.ndarray, anomalous: np.ndarray, threshold: float) -> dict:
    """Return precision, recall, F1, accuracy, ROC AUC and counts; anomalies are positives."""
    errors = np.asarray(errors)
    anomalous = np.asarray(anomalous, dtype=bool)
    flagged = errors > threshold
    true_positives = int(np.sum(flagged & anomalous))
    false_positives = int(np.sum(flagged & ~anomalous))
    false_negatives = int(np.sum(~flagged & anomalous))
    true_negatives = int(np.sum(~flagged & ~anomalous))
    precision = true_positives / max(true_positives + false_positives, 1)
    recall = true_positives / max(true_positives + false_negatives, 1)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "accuracy": (true_positives + true_negatives) / len(errors),
        "roc_auc": roc_auc(errors, anomalous),
        "threshold": float(threshold),
        "true_positives": true_positives,
        "false_positives": false_positives,
        "true_negatives": true_negatives,
        "false_negatives": false_negatives,
    }


def roc_auc(scores: np.ndarray, positives: np.ndarray) -> float | None:
    """Return the area under the ROC curve of `scores`, from the Mann-Whitney U statistic.

    Tied scores count half. Returns `None` when one of the two groups is empty.
    """
    scores = np.asarray(scores, dtype="float64")
    positives = np.asarray(positives, dtype=bool)
    count_positive = int(positives.sum())
    count_negative = len(scores) - count_positive
    if not count_positive or not count_negative:
        return None
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    ranks[order] = np.arange(1, len(scores) + 1)
    # Average the ranks of tied scores.
    unique, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    if len(unique) < len(scores):
        sums = np.bincount(inverse, weights=ranks)
        ranks = (sums / counts)[inverse]
    u_statistic = ranks[positives].sum() - count_positive * (count_positive + 1) / 2
    return float(u_statistic / (count_positive * count_negative))


def evaluate_detector(model, data: AnomalyData, *, method: str, quantile: float,
                      std_factor: float, run_dir: str | Path | None = None,
                      plots: bool = True) -> dict[str, Any]:
    """Choose the threshold on the normal training series and score the test split.

    Returns:
        The metrics of `detection_metrics`, prefixed `test_`, plus the
        threshold method and the mean training error. With `run_dir` and
        `plots`, also writes `errors.png` and `reconstructions.png` there.
    """
    train_errors = reconstruction_errors(model, data.train)
    threshold = choose_threshold(train_errors, method=method, quantile=quantile,
                                 std_factor=std_factor)
    test_errors = reconstruction_errors(model, data.test)
    scores = detection_metrics(test_errors, data.test_anomalous, threshold)
    logger.info(
        "Anomaly threshold %.5f (%s on %d normal training series); test precision %.4f, "
        "recall %.4f, F1 %.4f, ROC AUC %s",
        threshold, method, len(train_errors), scores["precision"], scores["recall"],
        scores["f1"], "n/a" if scores["roc_auc"] is None else f"{scores['roc_auc']:.4f}",
    )
    metrics = {f"test_{name}": value for name, value in scores.items()}
    metrics["threshold_method"] = method
    metrics["train_mean_error"] = float(train_errors.mean())

    if run_dir is not None and plots:
        _write_plots(model, data, test_errors, threshold, Path(run_dir))
    return metrics


def _write_plots(model, data: AnomalyData, test_errors, threshold, run_dir: Path) -> None:
    from modelzoo.plots import plot_error_histogram, plot_series_reconstructions

    paths = [plot_error_histogram(
        test_errors, data.test_anomalous, threshold, run_dir / "errors.png",
        title=f"Test reconstruction errors (normal class {data.normal_class})",
    )]
    # Four normal and four anomalous test series, the first of each in file order.
    normal = np.flatnonzero(~data.test_anomalous)[:4]
    anomalous = np.flatnonzero(data.test_anomalous)[:4]
    chosen = np.concatenate([normal, anomalous])
    if len(chosen):
        series = data.test[chosen]
        reconstructions = model.predict(series, verbose=0)
        labels = [
            f"class {data.class_names[data.test_labels[index]]}, error {test_errors[index]:.3f}"
            + (" (flagged)" if test_errors[index] > threshold else "")
            for index in chosen
        ]
        paths.append(plot_series_reconstructions(series, reconstructions,
                                                 run_dir / "reconstructions.png", labels=labels))
    for path in paths:
        logger.info("Wrote %s", path)
