"""Device selection for training with TensorFlow."""

from __future__ import annotations

import logging

from modelzoo.errors import DeviceError

logger = logging.getLogger(__name__)


def select_device(request: str = "auto") -> str:
    """Return the TensorFlow device name to train on, such as `/CPU:0`.

    Args:
        request: `"auto"` picks the first GPU TensorFlow sees, else the CPU;
            `"cpu"` and `"gpu"` force one kind.

    Raises:
        DeviceError: `"gpu"` was requested but TensorFlow sees no GPU.
    """
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if request == "gpu" and not gpus:
        visible = ", ".join(device.name for device in tf.config.list_physical_devices()) or "none"
        raise DeviceError(
            "--device gpu was requested, but TensorFlow sees no GPU. "
            f"Visible devices: {visible}. TensorFlow {tf.__version__} was built "
            f"with CUDA: {tf.test.is_built_with_cuda()}. Install a CUDA build of "
            "TensorFlow and its driver, or use --device cpu or --device auto."
        )
    if request == "cpu" or (request == "auto" and not gpus):
        device = "/CPU:0"
        reason = "requested" if request == "cpu" else "no GPU visible to TensorFlow"
    elif request in ("gpu", "auto"):
        device = "/GPU:0"
        reason = "requested" if request == "gpu" else f"{len(gpus)} GPU(s) visible"
    else:
        raise DeviceError(f"device must be 'auto', 'cpu' or 'gpu'; received {request!r}.")
    logger.info("Device: %s (%s)", device, reason)
    return device
