"""`python -m modelzoo.evaluate RUN_DIR_OR_MODEL`: test-split metrics of a trained model.

For classifiers it prints and writes accuracy, loss, per-class precision,
recall and F1, a confusion matrix (`confusion_matrix.png`) and a grid of
misclassified test examples (`misclassified.png`). For autoencoders it
reports the reconstruction error. Results go to `evaluation.json` in the run
directory (or `--output-dir`), and the run's `report.html` is rewritten.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from modelzoo.artifacts import CLASSIFICATION, load_run, task_of
from modelzoo.errors import ConfigError

logger = logging.getLogger(__name__)

EVALUATION_FILE = "evaluation.json"
CONFUSION_MATRIX_FILE = "confusion_matrix.png"
MISCLASSIFIED_FILE = "misclassified.png"


@dataclasses.dataclass
class Evaluation:
    """Test-split results of one model.

    Attributes:
        metrics: JSON-ready values, as written to `evaluation.json`.
        confusion_matrix: Rows are true classes, columns predicted ones;
            `None` for autoencoders.
        files: Files written.
    """

    metrics: dict[str, Any]
    confusion_matrix: np.ndarray | None
    files: list[Path]


def predicted_classes(outputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return `(class index, probability of that class)` for each row of classifier outputs.

    A single sigmoid unit is read as the probability of class 1.
    """
    outputs = np.asarray(outputs, dtype="float64")
    if outputs.ndim == 2 and outputs.shape[1] == 1:
        positive = outputs[:, 0]
        classes = (positive >= 0.5).astype("int64")
        return classes, np.where(classes == 1, positive, 1.0 - positive)
    classes = outputs.argmax(axis=-1)
    return classes, outputs[np.arange(len(outputs)), classes]


def confusion_matrix(true_labels, predicted_labels, num_classes: int) -> np.ndarray:
    """Return the `num_classes x num_classes` count matrix; rows are true classes."""
    matrix = np.zeros((num_classes, num_classes), dtype="int64")
    np.add.at(matrix, (np.asarray(true_labels, "int64"), np.asarray(predicted_labels, "int64")), 1)
    return matrix


def per_class_metrics(matrix: np.ndarray, class_names: Sequence[str]) -> list[dict[str, Any]]:
    """Return precision, recall, F1 and support of each class from a confusion matrix.

    A class never predicted gets precision 0, and a class absent from the
    labels gets recall 0, instead of a division by zero.
    """
    rows = []
    for index, name in enumerate(class_names):
        true_positive = float(matrix[index, index])
        predicted = float(matrix[:, index].sum())
        support = int(matrix[index, :].sum())
        precision = true_positive / predicted if predicted else 0.0
        recall = true_positive / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        rows.append({"class": name, "precision": precision, "recall": recall, "f1": f1,
                     "support": support})
    return rows


def evaluate_model(model, test, *, class_names: Sequence[str] | None = None,
                   output_dir: str | Path | None = None, max_misclassified: int = 25,
                   extra_metrics: dict[str, Any] | None = None) -> Evaluation:
    """Evaluate `model` on a batched `(inputs, targets)` test set and write the results.

    Args:
        model: A compiled `keras.Model`.
        test: A `tf.data.Dataset` (or any iterable) of `(inputs, targets)` batches.
        class_names: Class names for a classifier; `None` names them by index.
        output_dir: Where to write `evaluation.json` and the plots; `None` writes nothing.
        max_misclassified: Examples in the misclassified grid.
        extra_metrics: Values added to the metrics, such as the model and data set names.

    Returns:
        An `Evaluation`.
    """
    from modelzoo.plots import plot_confusion_matrix, plot_misclassified
    from modelzoo.runs import write_json

    compiled = model.evaluate(test, verbose=0, return_dict=True)
    metrics: dict[str, Any] = {f"test_{name}": float(value) for name, value in compiled.items()}
    inputs, targets, outputs = _collect(model, test)
    metrics["num_test"] = int(len(inputs))
    metrics.update(extra_metrics or {})
    files: list[Path] = []
    output_dir = Path(output_dir) if output_dir is not None else None

    if task_of(model) != CLASSIFICATION:
        squared = np.mean((outputs - targets).reshape(len(outputs), -1) ** 2, axis=1)
        absolute = np.mean(np.abs(outputs - targets).reshape(len(outputs), -1), axis=1)
        metrics.update({
            "task": "reconstruction",
            "reconstruction_mse": float(squared.mean()),
            "reconstruction_mae": float(absolute.mean()),
            "reconstruction_mse_median": float(np.median(squared)),
            "reconstruction_mse_p95": float(np.percentile(squared, 95)),
        })
        if output_dir is not None:
            files.append(write_json(output_dir / EVALUATION_FILE, metrics))
        return Evaluation(metrics, None, files)

    labels = targets.reshape(len(targets)).astype("int64")
    predicted, probability = predicted_classes(outputs)
    num_classes = max(2, outputs.shape[-1]) if outputs.ndim == 2 else 2
    names = list(class_names) if class_names else [str(index) for index in range(num_classes)]
    if len(names) != num_classes:
        raise ConfigError(
            f"The model predicts {num_classes} classes but {len(names)} class names were "
            f"given ({names}). Pass one name per output class."
        )
    matrix = confusion_matrix(labels, predicted, num_classes)
    classes = per_class_metrics(matrix, names)
    metrics.update({
        "task": "classification",
        "accuracy": float((predicted == labels).mean()),
        "macro_precision": float(np.mean([row["precision"] for row in classes])),
        "macro_recall": float(np.mean([row["recall"] for row in classes])),
        "macro_f1": float(np.mean([row["f1"] for row in classes])),
        "misclassified": int((predicted != labels).sum()),
        "class_names": names,
        "per_class": classes,
        "confusion_matrix": matrix.tolist(),
    })
    if output_dir is not None:
        files.append(write_json(output_dir / EVALUATION_FILE, metrics))
        files.append(plot_confusion_matrix(matrix, names, output_dir / CONFUSION_MATRIX_FILE))
        wrong = np.flatnonzero(predicted != labels)
        # Most confident mistakes first: those are the ones worth looking at.
        wrong = wrong[np.argsort(-probability[wrong], kind="stable")][:max_misclassified]
        files.append(plot_misclassified(
            inputs[wrong], labels[wrong], predicted[wrong], probability[wrong], names,
            output_dir / MISCLASSIFIED_FILE, max_examples=max_misclassified,
        ))
    return Evaluation(metrics, matrix, files)


def evaluate_run(path: str | Path, *, dataset: str | None = None, data_dir: str | None = None,
                 batch_size: int = 256, test_subset: int | None = None,
                 output_dir: str | Path | None = None) -> Evaluation:
    """Load a run directory or `.keras` file, evaluate it on its test split and write the results.

    Args:
        path: A run directory or a `.keras` file.
        dataset: Data set to evaluate on; `None` takes the run's `data.dataset`.
        data_dir: Root data folder; `None` takes the run's, then `$MODELZOO_DATA_DIR`.
        batch_size: Examples per evaluation batch.
        test_subset: Evaluate only the first this many test examples; `None`
            takes the run's `data.test_subset`, so the numbers match its
            `metrics.json`.
        output_dir: Where to write; `None` writes into the run directory, or
            beside a bare model file.

    Returns:
        An `Evaluation`; its `metrics` also name the model, data set and source.
    """
    from modelzoo.data import load_dataset
    from modelzoo.report import write_report

    run = load_run(path)
    dataset = dataset or run.dataset
    if dataset is None:
        raise ConfigError(
            f"{run.model_path} has no run config that names its data set. "
            "Pass --dataset, for example --dataset mnist."
        )
    data_config = run.config.get("data", {})
    if test_subset is None:
        test_subset = data_config.get("test_subset")
    splits = load_dataset(
        dataset,
        data_dir=data_dir or data_config.get("data_dir"),
        batch_size=batch_size,
        validation_fraction=0.0,
        test_subset=test_subset,
        input_shape=run.model.input_shape[1:],
        targets="labels" if run.task == CLASSIFICATION else "inputs",
    )
    if output_dir is None:
        output_dir = run.run_dir or run.model_path.parent
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    logger.info("Evaluating %s on %d %s test examples", run.model_path, splits.info.num_test, dataset)
    evaluation = evaluate_model(
        run.model,
        splits.test,
        class_names=splits.info.class_names if run.task == CLASSIFICATION else None,
        output_dir=output_dir,
        extra_metrics={
            "model": run.model_name,
            "model_path": str(run.model_path),
            "dataset": dataset,
            "data_source": splits.info.source,
        },
    )
    if run.run_dir is not None and output_dir == run.run_dir:
        evaluation.files.append(write_report(run.run_dir))
    return evaluation


def _collect(model, test) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    inputs, targets, outputs = [], [], []
    for batch_inputs, batch_targets in test:
        inputs.append(np.asarray(batch_inputs))
        targets.append(np.asarray(batch_targets))
        outputs.append(np.asarray(model.predict_on_batch(batch_inputs)))
    return np.concatenate(inputs), np.concatenate(targets), np.concatenate(outputs)


def format_evaluation(metrics: dict[str, Any]) -> str:
    """Return the evaluation as the text table that the command prints."""
    lines = [f"Model: {metrics.get('model')} ({metrics.get('model_path')})",
             f"Data: {metrics.get('dataset')} test split, {metrics['num_test']} examples"]
    scalars = {key: value for key, value in metrics.items()
               if isinstance(value, float) and not isinstance(value, bool)}
    lines += [f"  {key:<26} {value:.4f}" for key, value in scalars.items()]
    if metrics.get("task") == "classification":
        width = max(len("class"), *(len(row["class"]) for row in metrics["per_class"]))
        lines.append(f"  {'class':<{width}}  precision  recall     f1  support")
        for row in metrics["per_class"]:
            lines.append(f"  {row['class']:<{width}}  {row['precision']:9.4f}  {row['recall']:6.4f}"
                         f"  {row['f1']:.4f}  {row['support']:7d}")
        lines.append(f"  misclassified: {metrics['misclassified']} of {metrics['num_test']}")
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the `evaluate` options to `parser`."""
    parser.add_argument("path", metavar="RUN_DIR_OR_MODEL",
                        help="run directory (runs/<model>/<timestamp>/) or .keras file")
    parser.add_argument("--dataset", help="data set to evaluate on (default: the run's data.dataset)")
    parser.add_argument("--data-dir", metavar="DIR",
                        help="root folder of local data sets (default: the run's, then "
                        "$MODELZOO_DATA_DIR)")
    parser.add_argument("--batch-size", type=int, default=256,
                        help="examples per evaluation batch (default: 256)")
    parser.add_argument("--test-subset", type=int, metavar="N",
                        help="evaluate only the first N test examples (default: the run's "
                        "data.test_subset, else all)")
    parser.add_argument("--output-dir", metavar="DIR",
                        help="where to write evaluation.json and the plots (default: the run "
                        "directory, or beside a .keras file)")
    parser.add_argument("--json", action="store_true", help="print the metrics as JSON")
    parser.add_argument("--log-level", default="WARNING",
                        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
                        help="logging level (default: WARNING)")


def run(args: argparse.Namespace) -> int:
    """Evaluate as `args` describe, print the metrics; return the exit status."""
    from modelzoo.cli import configure_logging

    configure_logging(args.log_level)
    for name in ("batch_size", "test_subset"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise ConfigError(f"--{name.replace('_', '-')} must be at least 1; received {value}.")
    evaluation = evaluate_run(args.path, dataset=args.dataset, data_dir=args.data_dir,
                              batch_size=args.batch_size, test_subset=args.test_subset,
                              output_dir=args.output_dir)
    if args.json:
        print(json.dumps(evaluation.metrics, indent=2))
    else:
        print(format_evaluation(evaluation.metrics))
        print("Wrote: " + ", ".join(str(path) for path in evaluation.files))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `python -m modelzoo.evaluate`."""
    from modelzoo.cli import run_guarded

    parser = argparse.ArgumentParser(
        prog="python -m modelzoo.evaluate",
        description="Evaluate a trained model on its test split; write evaluation.json, "
        "a confusion matrix and misclassified examples.",
    )
    add_arguments(parser)
    return run_guarded(run, parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
