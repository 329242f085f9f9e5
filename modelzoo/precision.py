"""Floating-point precision of training: float32 or a Keras mixed-precision policy.

`training.precision` takes `float32`, `mixed_bfloat16`, `mixed_float16` or
`auto`. Under a mixed policy, layers compute in 16 bits and keep float32
weights. Every modelzoo builder gives its last layer `dtype="float32"`, so
model outputs, and the losses computed from them, stay float32.

`auto` chooses:

- `mixed_bfloat16` on a CPU with bf16 instructions in hardware: the
  `amx_bf16` or `avx512_bf16` flag in `/proc/cpuinfo` (Linux only);
- `mixed_float16` on a CUDA GPU with tensor cores (compute capability 7.0
  or higher);
- `float32` otherwise.

Keras keeps the policy as global state, which layers read when they are
created. `precision_policy` sets it for a block and restores the previous
policy afterwards, so a process can build models of different precisions.

This module imports Keras and TensorFlow only inside the functions that need
them.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import Iterator

logger = logging.getLogger(__name__)

PRECISIONS = ("auto", "float32", "mixed_bfloat16", "mixed_float16")

# /proc/cpuinfo flags of bf16 matrix (AMX) or vector (AVX512-BF16) instructions.
BF16_CPU_FLAGS = ("amx_bf16", "avx512_bf16")

# Tensor cores, which run float16 matrix products fast, start with Volta.
TENSOR_CORE_COMPUTE_CAPABILITY = (7, 0)

CPUINFO_PATH = Path("/proc/cpuinfo")


def cpu_flags(cpuinfo_path: str | Path = CPUINFO_PATH) -> set[str] | None:
    """Return the CPU feature flags listed in `cpuinfo_path`, or None where it cannot be read.

    The file exists on Linux only. On other systems the flags are unknown and
    the function returns None.
    """
    try:
        text = Path(cpuinfo_path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        key, _, value = line.partition(":")
        # x86 kernels call the field "flags", ARM kernels "Features".
        if key.strip() in ("flags", "Features"):
            return set(value.split())
    return set()


def resolve_precision(request: str, device: str, *,
                      cpuinfo_path: str | Path = CPUINFO_PATH) -> tuple[str, str]:
    """Return the Keras policy name for `request` on `device`, and the reason for it.

    Args:
        request: One of `PRECISIONS`.
        device: The TensorFlow device name the model trains on, such as
            `/CPU:0` or `/GPU:0`.
        cpuinfo_path: Where the CPU flags are read from.

    Raises:
        ConfigError: `request` is not one of `PRECISIONS`.
    """
    from modelzoo.errors import ConfigError

    if request not in PRECISIONS:
        raise ConfigError(
            f"training.precision must be one of {', '.join(PRECISIONS)}; received {request!r}."
        )
    if request != "auto":
        return request, "requested in training.precision"
    if "GPU" in device.upper():
        return _gpu_precision()
    flags = cpu_flags(cpuinfo_path)
    if flags is None:
        # NOTE: only Linux exposes CPU flags here, so macOS and Windows stay in float32.
        return "float32", f"the CPU flags are unknown ({cpuinfo_path} is not readable)"
    found = sorted(flags.intersection(BF16_CPU_FLAGS))
    if found:
        return "mixed_bfloat16", f"the CPU has bf16 instructions ({', '.join(found)})"
    return "float32", f"the CPU has none of the bf16 flags {', '.join(BF16_CPU_FLAGS)}"


def _gpu_precision() -> tuple[str, str]:
    # NOTE: this branch has not run on a GPU; the tests cover the CPU branches only.
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return "float32", "no GPU is visible to TensorFlow"
    details = tf.config.experimental.get_device_details(gpus[0])
    capability = details.get("compute_capability")
    name = details.get("device_name", gpus[0].name)
    if capability is None:
        return "float32", f"GPU {name} reports no CUDA compute capability"
    if tuple(capability) >= TENSOR_CORE_COMPUTE_CAPABILITY:
        return "mixed_float16", (
            f"GPU {name} has tensor cores (compute capability {capability[0]}.{capability[1]})"
        )
    return "float32", (
        f"GPU {name} has no tensor cores (compute capability {capability[0]}.{capability[1]}, "
        "below 7.0)"
    )


@contextlib.contextmanager
def precision_policy(policy: str) -> Iterator[None]:
    """Set Keras's global dtype policy to `policy` inside the block, then restore the previous one."""
    import keras

    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)
