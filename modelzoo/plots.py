"""Plots written into run directories; matplotlib with the file-only Agg backend."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence


def plot_history(history: Mapping[str, Sequence[float]], path: str | Path) -> Path:
    """Draw one panel per metric (training and validation curves) and save a PNG.

    Args:
        history: Keras `History.history`: metric name to one value per epoch.
        path: Where to write the PNG.

    Returns:
        The path written.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [name for name in history if not name.startswith("val_") and name != "learning_rate"]
    figure, axes = plt.subplots(1, max(len(names), 1), figsize=(5 * max(len(names), 1), 3.6),
                                squeeze=False)
    for axis, name in zip(axes[0], names):
        epochs = range(1, len(history[name]) + 1)
        axis.plot(epochs, history[name], marker="o", label="train")
        if f"val_{name}" in history:
            axis.plot(epochs, history[f"val_{name}"], marker="o", label="validation")
        axis.set_title(name)
        axis.set_xlabel("epoch")
        axis.grid(alpha=0.3)
        axis.legend()
    figure.tight_layout()
    path = Path(path)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def plot_confusion_matrix(matrix, class_names: Sequence[str], path: str | Path, *,
                          title: str = "Confusion matrix") -> Path:
    """Draw a confusion matrix with counts in each cell and save a PNG.

    Args:
        matrix: Square array of counts; rows are true classes, columns predicted ones.
        class_names: Name of each class, index = label.
        path: Where to write the PNG.
        title: Figure title.

    Returns:
        The path written.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    matrix = np.asarray(matrix)
    size = len(class_names)
    figure, axis = plt.subplots(figsize=(1.0 + 0.6 * size, 0.8 + 0.6 * size))
    image = axis.imshow(matrix, cmap="Blues")
    figure.colorbar(image, ax=axis, fraction=0.046, pad=0.04)
    axis.set_xticks(range(size), labels=class_names, rotation=45, ha="right")
    axis.set_yticks(range(size), labels=class_names)
    axis.set_xlabel("predicted")
    axis.set_ylabel("true")
    axis.set_title(title)
    # White text on dark cells, black on light ones, so every count stays readable.
    threshold = matrix.max() / 2 if matrix.size else 0
    for row in range(size):
        for column in range(size):
            axis.text(column, row, str(int(matrix[row, column])), ha="center", va="center",
                      fontsize=8, color="white" if matrix[row, column] > threshold else "black")
    figure.tight_layout()
    path = Path(path)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def plot_misclassified(inputs, true_labels, predicted_labels, probabilities,
                       class_names: Sequence[str], path: str | Path, *,
                       max_examples: int = 25) -> Path:
    """Draw a grid of misclassified examples titled with true and predicted labels.

    Inputs of 784 values or of shape `(height, width[, 1 or 3])` are drawn as
    images; any other shape is drawn as a line over its flattened values.
    When nothing is misclassified, the figure shows a note instead.

    Args:
        inputs: The misclassified inputs, one per row.
        true_labels: Their true class indices.
        predicted_labels: The predicted class indices.
        probabilities: The probability of each predicted class.
        class_names: Name of each class, index = label.
        path: Where to write the PNG.
        max_examples: Draw at most this many, in the given order.

    Returns:
        The path written.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    inputs = np.asarray(inputs)[:max_examples]
    count = len(inputs)
    columns = min(5, max(count, 1))
    rows = max(1, -(-count // columns))
    figure, axes = plt.subplots(rows, columns, figsize=(2.2 * columns, 2.4 * rows), squeeze=False)
    for axis in axes.flat:
        axis.axis("off")
    if count == 0:
        axes[0, 0].text(0.5, 0.5, "no misclassified examples", ha="center", va="center")
    for axis, example, true, predicted, probability in zip(
        axes.flat, inputs, true_labels, predicted_labels, probabilities
    ):
        image = _as_image(example)
        if image is None:
            axis.axis("on")
            axis.plot(np.ravel(example), linewidth=0.8)
            axis.set_xticks([])
            axis.set_yticks([])
        else:
            axis.imshow(image, cmap="gray" if image.ndim == 2 else None, vmin=0.0, vmax=1.0)
        axis.set_title(
            f"true: {class_names[int(true)]}\npred: {class_names[int(predicted)]} "
            f"({float(probability):.2f})",
            fontsize=8,
        )
    figure.suptitle("Misclassified test examples")
    figure.tight_layout()
    path = Path(path)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def _as_image(example):
    import numpy as np

    example = np.asarray(example, dtype="float32")
    if example.size == 28 * 28:
        return example.reshape(28, 28)
    if example.ndim == 3 and example.shape[-1] == 1:
        return example[..., 0]
    if example.ndim == 3 and example.shape[-1] == 3:
        return example
    if example.ndim == 2 and min(example.shape) > 1 and example.shape[1] > 3:
        return example
    return None
