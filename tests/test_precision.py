"""Mixed precision: the `auto` choice, float32 outputs of every builder, and training under bf16."""

import json

import numpy as np
import pytest

import modelzoo
from modelzoo.errors import ConfigError
from modelzoo.precision import cpu_flags, precision_policy, resolve_precision

CPUINFO_AMX = "processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f amx_tile amx_bf16 amx_int8\n"
CPUINFO_AVX512_BF16 = "processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f avx512_bf16\n"
CPUINFO_PLAIN = "processor\t: 0\nflags\t\t: fpu sse2 avx2 fma\n"


@pytest.mark.parametrize("text, expected, flag", [
    (CPUINFO_AMX, "mixed_bfloat16", "amx_bf16"),
    (CPUINFO_AVX512_BF16, "mixed_bfloat16", "avx512_bf16"),
    (CPUINFO_PLAIN, "float32", "none of the bf16 flags"),
])
def test_auto_reads_cpu_flags(tmp_path, text, expected, flag):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(text)

    policy, reason = resolve_precision("auto", "/CPU:0", cpuinfo_path=cpuinfo)

    assert policy == expected
    assert flag in reason


def test_auto_without_cpuinfo_stays_float32(tmp_path):
    missing = tmp_path / "no-cpuinfo"

    policy, reason = resolve_precision("auto", "/CPU:0", cpuinfo_path=missing)

    assert cpu_flags(missing) is None
    assert policy == "float32"
    assert str(missing) in reason


def test_explicit_precision_passes_through(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(CPUINFO_PLAIN)

    for request in ("float32", "mixed_bfloat16", "mixed_float16"):
        policy, reason = resolve_precision(request, "/CPU:0", cpuinfo_path=cpuinfo)
        assert policy == request
        assert "requested" in reason


def test_unknown_precision_rejected():
    with pytest.raises(ConfigError, match=r"training.precision must be one of .*'bf16'"):
        resolve_precision("bf16", "/CPU:0")
    with pytest.raises(ConfigError, match=r"'training.precision' must be one of .*'fp16'"):
        modelzoo.load_config("cnn", training__precision="fp16")


def test_policy_restored_after_block():
    import keras

    before = keras.config.dtype_policy().name
    with precision_policy("mixed_bfloat16"):
        assert keras.config.dtype_policy().name == "mixed_bfloat16"
    assert keras.config.dtype_policy().name == before
    with pytest.raises(RuntimeError):
        with precision_policy("mixed_float16"):
            raise RuntimeError("inside the block")
    assert keras.config.dtype_policy().name == before


@pytest.mark.parametrize("name", modelzoo.list_models())
def test_builders_output_float32_under_bf16(name):
    with precision_policy("mixed_bfloat16"):
        model = modelzoo.build(name)

    compute_dtypes = {layer.dtype_policy.compute_dtype for layer in model._flatten_layers()
                      if layer.weights}
    assert "bfloat16" in compute_dtypes
    for output in model.outputs:
        assert output.dtype == "float32", f"{name} output {output.name} is {output.dtype}"


def test_cnn_trains_under_bf16(tmp_path, data_dir):
    import keras

    result = modelzoo.train_model(
        "cnn", data_dir=str(data_dir), epochs=1, batch_size=64, output_dir=str(tmp_path),
        data__train_subset=2000, data__test_subset=500, training__verbose=0,
        training__precision="mixed_bfloat16", callbacks__tensorboard=False,
        output__plots=False,
    )
    metrics = json.loads((result.run_dir / "metrics.json").read_text())

    assert metrics["precision"] == "mixed_bfloat16"
    assert result.model.get_layer("conv1").dtype_policy.name == "mixed_bfloat16"
    assert result.model.get_layer("conv1").kernel.dtype == "float32"
    assert keras.config.dtype_policy().name == "float32"
    assert np.isfinite(metrics["test_loss"])
    assert metrics["test_accuracy"] > 0.5  # chance is 0.1; one epoch of 29 steps
    reloaded = keras.models.load_model(result.run_dir / "model.keras")
    assert reloaded.get_layer("conv1").dtype_policy.name == "mixed_bfloat16"
