"""MNIST digits read as sequences: 28 rows of 28 pixels, or 784 single pixels.

The images come from the same sources as the CNN's MNIST (see
`modelzoo.data.mnist`). Pixels are scaled to float32 in [0, 1].

- `sequence_steps="rows"` (default): each image is 28 steps of 28 features,
  one row per step, top to bottom. Shape `(28, 28)`.
- `sequence_steps="pixels"`: each image is 784 steps of 1 feature, pixel by
  pixel in row-major order. Shape `(784, 1)`. This is the long-memory
  benchmark of the RNN literature and trains far slower than rows.
"""

from __future__ import annotations

import numpy as np

from modelzoo.errors import ConfigError

SEQUENCE_STEPS = ("rows", "pixels")


def images_to_sequences(images: np.ndarray, steps: str) -> np.ndarray:
    """Return uint8 `(N, 28, 28)` images as float32 sequences in [0, 1]."""
    if steps not in SEQUENCE_STEPS:
        raise ConfigError(
            f"sequence_steps must be 'rows' (28 steps x 28 features) or 'pixels' "
            f"(784 steps x 1 feature); received {steps!r}."
        )
    scaled = images.astype(np.float32) / 255.0
    if steps == "pixels":
        return scaled.reshape(len(images), 28 * 28, 1)
    return scaled.reshape(len(images), 28, 28)


def load_sequential_mnist_splits(*, data_dir=None, source: str = "auto", download: bool = True,
                                 sequence_steps: str = "rows", **pipeline):
    """Load MNIST as `DatasetSplits` of `(28, 28)` or `(784, 1)` sequences."""
    from modelzoo.data.mnist import IMAGE_DATASETS, load_image_arrays
    from modelzoo.data.sequence import splits_from_arrays

    arrays = load_image_arrays("mnist", data_dir=data_dir, source=source, download=download)
    return splits_from_arrays(
        name="sequential_mnist",
        source=arrays.source,
        x_train=images_to_sequences(arrays.x_train, sequence_steps),
        y_train=arrays.y_train.astype(np.int32),
        x_test=images_to_sequences(arrays.x_test, sequence_steps),
        y_test=arrays.y_test.astype(np.int32),
        class_names=IMAGE_DATASETS["mnist"].class_names,
        extra={"sequence_steps": sequence_steps},
        **pipeline,
    )
