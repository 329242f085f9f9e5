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


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _as_images(values) -> "numpy.ndarray":
    """Return `values` as `(count, height, width)` grayscale or `(count, h, w, 3)` images."""
    import numpy

    values = numpy.asarray(values, dtype="float32")
    if values.ndim == 2:
        side = int(round(values.shape[1] ** 0.5))
        if side * side != values.shape[1]:
            raise ValueError(
                f"Cannot draw flat vectors of length {values.shape[1]} as square images; "
                "reshape them to (count, height, width) first."
            )
        values = values.reshape(len(values), side, side)
    if values.ndim == 4 and values.shape[-1] == 1:
        values = values[..., 0]
    if values.ndim not in (3, 4):
        raise ValueError(f"Expected a batch of images; received an array of shape {values.shape}.")
    return numpy.clip(values, 0.0, 1.0)


def plot_reconstructions(
    originals,
    reconstructions,
    path: str | Path,
    *,
    noisy_inputs=None,
    title: str | None = None,
) -> Path:
    """Draw originals above their reconstructions, one column per image, and save a PNG.

    Args:
        originals: Clean images, `(count, height, width[, channels])` or flat
            square vectors such as `(count, 784)`, with values in [0, 1].
        reconstructions: The model's outputs for the same images.
        path: Where to write the PNG.
        noisy_inputs: For a denoising model, the corrupted images the model
            received; they are drawn as a middle row.
        title: Figure title.

    Returns:
        The path written.
    """
    rows = [("original", _as_images(originals))]
    if noisy_inputs is not None:
        rows.append(("noisy input", _as_images(noisy_inputs)))
    rows.append(("reconstruction", _as_images(reconstructions)))
    count = len(rows[0][1])
    if any(len(images) != count for _, images in rows):
        raise ValueError(
            "originals, noisy_inputs and reconstructions must hold the same number of images; "
            f"received {[len(images) for _, images in rows]}."
        )

    plt = _pyplot()
    figure, axes = plt.subplots(len(rows), count, figsize=(1.1 * count, 1.2 * len(rows) + 0.4),
                                squeeze=False)
    for row, (label, images) in enumerate(rows):
        for column in range(count):
            axis = axes[row][column]
            axis.imshow(images[column], cmap="gray", vmin=0.0, vmax=1.0)
            axis.set_xticks([])
            axis.set_yticks([])
        axes[row][0].set_ylabel(label, fontsize=8)
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    return _save(figure, path)


def plot_image_grid(images, path: str | Path, *, columns: int = 10,
                    title: str | None = None) -> Path:
    """Draw images in a grid, row by row, and save a PNG (for samples from a generative model)."""
    images = _as_images(images)
    rows = max(1, -(-len(images) // columns))
    plt = _pyplot()
    figure, axes = plt.subplots(rows, columns, figsize=(1.1 * columns, 1.1 * rows + 0.4),
                                squeeze=False)
    for index, axis in enumerate(axes.flat):
        if index < len(images):
            axis.imshow(images[index], cmap="gray", vmin=0.0, vmax=1.0)
        axis.axis("off")
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    return _save(figure, path)


def plot_latent_scatter(codes, labels, path: str | Path, *, class_names: Sequence[str] = (),
                        title: str | None = None) -> Path:
    """Draw 2-D latent codes as points coloured by label and save a PNG.

    Args:
        codes: Array of shape `(count, 2)`, such as a VAE encoder's means.
        labels: Integer class of each code.
        path: Where to write the PNG.
        class_names: Name of each class, index = label, for the legend.
        title: Figure title.
    """
    import numpy

    codes = numpy.asarray(codes)
    labels = numpy.asarray(labels).reshape(-1)
    if codes.ndim != 2 or codes.shape[1] != 2:
        raise ValueError(f"plot_latent_scatter needs codes of shape (count, 2); "
                         f"received {codes.shape}.")
    if len(labels) != len(codes):
        raise ValueError(f"Received {len(codes)} codes but {len(labels)} labels.")

    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(6.5, 5.5))
    points = axis.scatter(codes[:, 0], codes[:, 1], c=labels, cmap="tab10", s=3, alpha=0.7)
    handles, _ = points.legend_elements()
    names = [class_names[int(value)] if int(value) < len(class_names) else str(int(value))
             for value in numpy.unique(labels)]
    axis.legend(handles, names, fontsize=7, markerscale=0.8, loc="center left",
                bbox_to_anchor=(1.0, 0.5))
    axis.set_xlabel("z[0]")
    axis.set_ylabel("z[1]")
    if title:
        axis.set_title(title)
    figure.tight_layout()
    return _save(figure, path)


def plot_series_reconstructions(originals, reconstructions, path: str | Path, *,
                                labels: Sequence[str] | None = None,
                                title: str | None = None) -> Path:
    """Draw each series with its reconstruction in its own panel and save a PNG.

    Args:
        originals: Array of shape `(count, steps)` or `(count, steps, 1)`.
        reconstructions: The model's outputs for the same series.
        path: Where to write the PNG.
        labels: Panel title of each series, such as its class and error.
        title: Figure title.
    """
    import numpy

    originals = numpy.asarray(originals).reshape(len(originals), -1)
    reconstructions = numpy.asarray(reconstructions).reshape(len(reconstructions), -1)
    if originals.shape != reconstructions.shape:
        raise ValueError(f"originals {originals.shape} and reconstructions "
                         f"{reconstructions.shape} must have the same shape.")
    columns = min(4, len(originals))
    rows = -(-len(originals) // columns)
    plt = _pyplot()
    figure, axes = plt.subplots(rows, columns, figsize=(3.2 * columns, 2.2 * rows + 0.4),
                                squeeze=False)
    for index, axis in enumerate(axes.flat):
        if index >= len(originals):
            axis.axis("off")
            continue
        axis.plot(originals[index], label="original", linewidth=1.0)
        axis.plot(reconstructions[index], label="reconstruction", linewidth=1.0)
        if labels is not None:
            axis.set_title(labels[index], fontsize=8)
        axis.tick_params(labelsize=6)
    axes.flat[0].legend(fontsize=6)
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    return _save(figure, path)


def _save(figure, path: str | Path) -> Path:
    import matplotlib.pyplot as plt

    path = Path(path)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def plot_error_histogram(errors, anomalous, threshold: float, path: str | Path, *,
                         title: str | None = None) -> Path:
    """Draw histograms of normal and anomalous reconstruction errors with the threshold; save a PNG."""
    import numpy

    errors = numpy.asarray(errors, dtype="float64")
    anomalous = numpy.asarray(anomalous, dtype=bool)
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(7, 4))
    bins = numpy.linspace(errors.min(), numpy.quantile(errors, 0.99), 60)
    axis.hist(errors[~anomalous], bins=bins, alpha=0.6, label=f"normal ({(~anomalous).sum()})")
    axis.hist(errors[anomalous], bins=bins, alpha=0.6, label=f"anomalous ({anomalous.sum()})")
    axis.axvline(threshold, color="black", linestyle="--", label=f"threshold {threshold:.3f}")
    axis.set_xlabel("reconstruction error (mean squared error per series)")
    axis.set_ylabel("series")
    axis.legend(loc="upper right")
    if title:
        axis.set_title(title)
    figure.tight_layout()
    return _save(figure, path)
