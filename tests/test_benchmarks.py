"""Smoke test of the benchmark harness: real runs on a small MNIST subset, no timing checks."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_harness_writes_results_and_table(tmp_path, data_dir):
    output = tmp_path / "quick.json"
    markdown = tmp_path / "BENCHMARKS.md"
    markdown.write_text("# Benchmarks\n\nHand-written text stays.\n")
    command = [sys.executable, "-m", "benchmarks.run", "--quick", "--models", "autoencoder",
               "--repeats", "1", "--epochs", "2", "--train-subset", "1024", "--skip-extras",
               "--output", str(output), "--markdown", str(markdown)]

    completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600,
                               env={**os.environ, "MODELZOO_DATA_DIR": str(data_dir)})

    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "modelzoo / plain Keras = " in completed.stdout
    results = json.loads(output.read_text())
    entry = results["models"]["autoencoder"]
    assert entry["reference_origin"] == "inline"
    assert entry["modelzoo_samples_per_second"] > 0
    assert entry["reference_samples_per_second"] > 0
    assert entry["pipeline_samples_per_second"] > 0
    assert entry["peak_rss_mb"] > 0
    assert entry["num_train"] == 922  # 1,024 minus the 10% validation split
    assert set(entry["test_metrics"]) == {"test_loss", "test_binary_crossentropy"}
    assert results["hardware"]["cores"] >= 1
    text = markdown.read_text()
    assert text.startswith("# Benchmarks\n\nHand-written text stays.\n")
    assert "| autoencoder | 922 |" in text
    assert text.count("<!-- benchmarks: quick results") == 1


def test_empty_markdown_option_leaves_the_file_alone(tmp_path, data_dir):
    output = tmp_path / "quick.json"
    command = [sys.executable, "-m", "benchmarks.run", "--quick", "--models", "autoencoder",
               "--repeats", "1", "--epochs", "2", "--train-subset", "512", "--skip-extras",
               "--output", str(output), "--markdown", ""]

    completed = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True,
                               timeout=600, env={**os.environ, "MODELZOO_DATA_DIR": str(data_dir),
                                                 "PYTHONPATH": str(ROOT)})

    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "Updated" not in completed.stdout
    assert json.loads(output.read_text())["models"]["autoencoder"]["num_train"] == 461  # 512 minus the 10% validation split
    assert sorted(path.name for path in tmp_path.iterdir()) == ["quick.json"]


@pytest.mark.parametrize("subset, num_train, one_iterator", [
    (300, 270, True),     # 5 batches of 64: one call per epoch, the data set repeats
    (2000, 1800, False),  # 29 batches: a new iterator per pass
])
def test_pipeline_measurement_counts_every_training_example(data_dir, subset, num_train,
                                                            one_iterator):
    code = ("from benchmarks.worker import main\n"
            f"main(['pipeline', 'lstm', '--quick', '--train-subset', '{subset}'])\n")
    completed = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                               text=True, timeout=300,
                               env={**os.environ, "MODELZOO_DATA_DIR": str(data_dir)})

    assert completed.returncode == 0, completed.stderr[-3000:]
    result = json.loads(completed.stdout.strip().splitlines()[-1].split(" ", 1)[1])
    assert result["num_train"] == num_train  # minus the 10% validation split
    assert result["one_iterator"] is one_iterator
    assert len(result["pass_seconds"]) == 4
    assert result["samples_per_second"] > 0


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads Linux's /proc")
def test_peak_memory_excludes_parent():
    # Linux carries ru_maxrss over from the parent through fork and exec. The
    # worker must report its own peak, far below this process's 512 MiB block.
    block = np.ones(512 * 1024 * 1024, dtype=np.uint8)
    code = "from benchmarks.worker import peak_rss_mb; print(peak_rss_mb())"
    completed = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                               text=True, timeout=120)

    assert completed.returncode == 0, completed.stderr[-3000:]
    assert block.sum() == block.size
    assert 5 < float(completed.stdout) < 256


def test_steady_rate_median_after_warmup():
    from benchmarks.worker import steady_rate

    # The first epoch (tracing) is left out; one slow epoch does not move the median.
    assert steady_rate(100, [9.0, 1.0, 5.0, 2.0]) == 50.0
    assert steady_rate(100, [9.0, 1.0, 3.0]) == 50.0
    assert steady_rate(100, [4.0]) == 25.0


def test_torch_measurement_skips_without_torch(data_dir):
    # A None entry in sys.modules makes `import torch` raise ImportError, as on a
    # machine without the bench extra.
    code = (
        "import sys\n"
        "sys.modules['torch'] = None\n"
        "from benchmarks.worker import main\n"
        "main(['torch', 'cnn', '--epochs', '2', '--quick', '--train-subset', '512'])\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                               text=True, timeout=300,
                               env={**os.environ, "MODELZOO_DATA_DIR": str(data_dir)})

    assert completed.returncode == 0, completed.stderr[-3000:]
    result = json.loads(completed.stdout.strip().splitlines()[-1].split(" ", 1)[1])
    assert result["skipped"] == "torch is not installed; pip install 'modelzoo[bench]' to add it"
