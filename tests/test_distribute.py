"""tf.distribute strategies: settings validation, mirrored, multi-worker, fault tolerance.

Strategies and logical CPU devices must be set up before TensorFlow
initialises its devices, which the test process has already done, so every
training run here is a `python -m modelzoo.train` subprocess. The
multi-worker tests start two workers on 127.0.0.1 with free ports picked at
run time, each in its own process group, and kill the groups in a
`finally` so that a failing test leaves no worker behind.
"""

import csv
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from modelzoo.cli import build_train_parser, config_from_args
from modelzoo.cluster import parse_tf_config, resolve_cluster
from modelzoo.config import load_config
from modelzoo.errors import ConfigError

from tests.test_cli import run

TRAIN_FLAGS = [
    "--batch-size", "64", "--seed", "3",
    "--set", "data.train_subset=2000", "--set", "data.test_subset=2000",
    "--set", "training.verbose=2", "--set", "callbacks.tensorboard=false",
    "--set", "output.plots=false",
]
WORKER_TIMEOUT = 240


def free_ports(count):
    """Return `count` distinct TCP ports on 127.0.0.1 that are free now."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def start_workers(data_dir, output_dir, temp_root, *extra, count=2):
    """Start `count` multi-worker training processes; return them, worker 0 first."""
    hosts = ",".join(f"127.0.0.1:{port}" for port in free_ports(count))
    workers = []
    for index in range(count):
        temp_dir = Path(temp_root) / f"worker{index}"
        temp_dir.mkdir(parents=True, exist_ok=True)
        workers.append(subprocess.Popen(
            [sys.executable, "-m", "modelzoo.train", "cnn", *extra,
             "--worker-hosts", hosts, "--task-index", str(index)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "MODELZOO_DATA_DIR": str(data_dir), "TMPDIR": str(temp_dir)},
            start_new_session=True,
        ))
    return workers


def new_run_flags(output_dir, epochs):
    return ["--epochs", str(epochs), "--output-dir", str(output_dir), *TRAIN_FLAGS,
            "--strategy", "multi_worker", "--set", "distribution.timeout_seconds=30"]


def kill_groups(workers):
    for worker in workers:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
        worker.communicate()


def wait_all(workers, timeout=WORKER_TIMEOUT):
    """Wait for every worker; return a list of (exit status, stderr)."""
    deadline = time.monotonic() + timeout
    results = []
    for worker in workers:
        _, stderr = worker.communicate(timeout=max(1.0, deadline - time.monotonic()))
        results.append((worker.returncode, stderr))
    return results


def read_history(run_dir):
    with open(run_dir / "history.csv", newline="") as stream:
        return list(csv.DictReader(stream))


# Settings validation: no TensorFlow, exact messages.

def parse(*argv):
    return config_from_args(build_train_parser().parse_args(["cnn", *argv]))


@pytest.mark.parametrize("argv, message", [
    (["--set", "distribution.strategy=ring"], "'distribution.strategy' must be one of"),
    (["--task-index", "1"], "--task-index 1 (distribution.task_index) needs --worker-hosts"),
    (["--strategy", "multi_worker", "--worker-hosts", "a:1,b:2", "--task-index", "2"],
     "--task-index 2 is out of range: --worker-hosts lists 2 worker(s)"),
    (["--strategy", "multi_worker", "--worker-hosts", "a:1,b:2"],
     "--task-index (distribution.task_index) is not set"),
    (["--strategy", "multi_worker", "--worker-hosts", "node1,node2:2222", "--task-index", "0"],
     "'node1' is not a 'host:port' address"),
    (["--strategy", "multi_worker", "--worker-hosts", "node1:99999", "--task-index", "0"],
     "has the port '99999'"),
    (["--strategy", "multi_worker", "--worker-hosts", "a:1,a:1", "--task-index", "0"],
     "lists a:1 more than once"),
    (["--worker-hosts", "a:1,b:2", "--task-index", "0"],
     "--worker-hosts is set but distribution.strategy is 'auto'"),
])
def test_invalid_cluster_flags(argv, message):
    with pytest.raises(ConfigError) as raised:
        parse(*argv)
    assert message in str(raised.value)


@pytest.mark.parametrize("text, message", [
    ("{'cluster': {}}", "TF_CONFIG is not valid JSON"),
    ('{"task": {"type": "worker", "index": 0}}', "TF_CONFIG has no 'cluster' mapping"),
    ('{"cluster": {"worker": ["a:1"]}}', "TF_CONFIG has no 'task' with 'type' and 'index'"),
    ('{"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": 1}}',
     "TF_CONFIG task index 1 is out of range"),
    ('{"cluster": {"worker": ["a:1"], "ps": ["b:2"]}, "task": {"type": "ps", "index": 0}}',
     "TF_CONFIG task type 'ps' does not train"),
    ('{"cluster": {"worker": ["a"]}, "task": {"type": "worker", "index": 0}}',
     "'a' is not a 'host:port' address"),
])
def test_invalid_tf_config(text, message):
    with pytest.raises(ConfigError) as raised:
        parse_tf_config(text)
    assert message in str(raised.value)


def test_tf_config_roles():
    text = json.dumps({"cluster": {"chief": ["a:1"], "worker": ["b:2", "c:3"]},
                       "task": {"type": "worker", "index": 0}})
    worker = parse_tf_config(text)
    chief = parse_tf_config(text.replace('"type": "worker"', '"type": "chief"'))

    assert worker.num_workers == 3
    assert not worker.is_chief  # the cluster has a chief task, so worker 0 is not it
    assert chief.is_chief


def test_cluster_sources():
    settings = load_config("cnn", overrides=["distribution.strategy=multi_worker"]).distribution
    tf_config = json.dumps({"cluster": {"worker": ["a:1", "b:2"]},
                            "task": {"type": "worker", "index": 1}})
    slurm = {"SLURM_JOB_ID": "7", "SLURM_PROCID": "0", "SLURM_NTASKS": "4"}

    from_tf_config = resolve_cluster(settings, {"TF_CONFIG": tf_config})
    from_slurm = resolve_cluster(settings, slurm)
    local = resolve_cluster(settings, {})

    assert (from_tf_config.source, from_tf_config.task_index, from_tf_config.is_chief) == (
        "tf_config", 1, False)
    assert (from_slurm.source, from_slurm.num_workers, from_slurm.is_chief) == ("slurm", 4, True)
    assert (local.source, local.num_workers) == ("local", 1)
    with pytest.raises(ConfigError, match="SLURM_PROCID, SLURM_NTASKS is not set"):
        resolve_cluster(settings.__class__(strategy="multi_worker", cluster="slurm"),
                        {"SLURM_JOB_ID": "7"})


def test_cluster_errors_before_tensorflow_import():
    code = (
        "import sys\n"
        "from modelzoo.cli import train_main\n"
        "status = train_main(['cnn', '--strategy', 'multi_worker'])\n"
        "print(status, 'tensorflow' in sys.modules)\n"
    )
    result = run("-c", code, env={"TF_CONFIG": "{not json"})

    assert "error: TF_CONFIG is not valid JSON" in result.stderr
    assert result.stdout.split() == ["2", "False"]


def test_resume_accepts_cluster_flags_only(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    config = load_config("cnn", overrides=[
        "distribution.strategy=multi_worker", "distribution.worker_hosts=[a:1,b:2]",
        "distribution.task_index=0"])
    (run_dir / "config.yaml").write_text(config.to_yaml())

    resumed = parse("--resume", str(run_dir), "--worker-hosts", "a:1,b:2", "--task-index", "1")

    assert resumed.distribution.task_index == 1
    with pytest.raises(ConfigError, match="--strategy cannot be combined"):
        parse("--resume", str(run_dir), "--strategy", "none")


# Training runs, each in subprocesses.

def test_mirrored_two_cpu_devices_matches_one_device(tmp_path, data_dir):
    # Plots on, so that the confusion matrix and report are written from the mirrored model.
    # With 1,800 training images, the two test accuracies differed by up to 0.039 across
    # four seeds. With 3,600 they differed by less than 0.01 in two.
    flags = ["--epochs", "2", "--data-dir", str(data_dir), *TRAIN_FLAGS,
             "--set", "data.train_subset=4000",
             "--set", "distribution.cpu_devices=2", "--set", "output.plots=true"]
    single = run("-m", "modelzoo.train", "cnn", *flags, "--strategy", "none",
                 "--output-dir", str(tmp_path / "single"))
    mirrored = run("-m", "modelzoo.train", "cnn", *flags, "--strategy", "mirrored",
                   "--output-dir", str(tmp_path / "mirrored"))
    assert single.returncode == 0, single.stderr[-3000:]
    assert mirrored.returncode == 0, mirrored.stderr[-3000:]

    single_metrics = json.loads(next((tmp_path / "single").glob("cnn/*/metrics.json")).read_text())
    metrics = json.loads(next((tmp_path / "mirrored").glob("cnn/*/metrics.json")).read_text())
    print(f"test accuracy: mirrored {metrics['test_accuracy']:.4f}, "
          f"one device {single_metrics['test_accuracy']:.4f}")
    assert metrics["distribution"]["strategy"] == "mirrored"
    assert metrics["distribution"]["replicas"] == 2
    assert metrics["distribution"]["per_replica_batch_size"] == 32
    assert single_metrics["distribution"]["replicas"] == 1
    assert "global batch size 64 (32 per replica, 2 replica(s))" in mirrored.stderr
    # Keras 3.15's loop of several steps per call fails under MirroredStrategy.
    assert "1 step(s) per call of the training function" in mirrored.stderr
    assert "16 step(s) per call of the training function" in single.stderr
    assert abs(metrics["test_accuracy"] - single_metrics["test_accuracy"]) <= 0.02

    run_dir = next((tmp_path / "mirrored").glob("cnn/*"))
    assert {"evaluation.json", "confusion_matrix.png", "report.html"} <= {
        path.name for path in run_dir.iterdir()}
    assert not (run_dir / "backup").exists()
    evaluation = json.loads((run_dir / "evaluation.json").read_text())
    assert evaluation["num_test"] == 2000
    assert abs(evaluation["accuracy"] - metrics["test_accuracy"]) < 1e-6


def test_multi_worker_two_processes(tmp_path, data_dir):
    output_dir = tmp_path / "runs"
    temp_root = tmp_path / "temp"
    workers = start_workers(data_dir, output_dir, temp_root, *new_run_flags(output_dir, 2))
    try:
        results = wait_all(workers)
    finally:
        kill_groups(workers)

    for index, (status, stderr) in enumerate(results):
        assert status == 0, f"worker {index}:\n{stderr[-3000:]}"
    chief_log, worker_log = results[0][1], results[1][1]
    assert "Worker role: worker 0, chief, 2 worker(s), cluster from hosts" in chief_log
    assert "Worker role: worker 1, non-chief, 2 worker(s), cluster from hosts" in worker_log
    run_dirs = list(output_dir.glob("*/*"))
    assert len(run_dirs) == 1, run_dirs  # the chief's run directory only
    assert list(temp_root.glob("*/modelzoo-worker*")) == []  # temporary dirs removed

    run_dir = run_dirs[0]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    history = read_history(run_dir)
    print(f"multi-worker: loss {history[0]['loss']} -> {history[1]['loss']}, "
          f"test accuracy {metrics['test_accuracy']:.4f}")
    assert metrics["distribution"]["workers"] == 2
    assert metrics["distribution"]["replicas"] == 2
    assert metrics["epochs_run"] == 2
    assert float(history[1]["loss"]) < float(history[0]["loss"])
    assert metrics["test_accuracy"] > 0.8  # 10 classes: chance is 0.1
    assert (run_dir / "model.keras").is_file()


def test_multi_worker_killed_worker_resumes(tmp_path, data_dir):
    output_dir = tmp_path / "runs"
    temp_root = tmp_path / "temp"
    # Batch 32 gives epoch 2 enough steps to kill a worker inside it.
    flags = new_run_flags(output_dir, 2) + ["--batch-size", "32"]
    workers = start_workers(data_dir, output_dir, temp_root, *flags)
    try:
        state_path = wait_for_backup(workers, output_dir, epoch=1)
        os.killpg(workers[1].pid, signal.SIGKILL)
        chief_status, chief_log = wait_all(workers[:1])[0]
        print(f"chief after its peer was killed: exit status {chief_status}, "
              f"last line: {chief_log.strip().splitlines()[-1][:300]}")
    finally:
        kill_groups(workers)
    run_dir = state_path.parent.parent

    # SIGKILL gives the killed worker no chance to remove its temporary directory.
    killed_leftovers = set(temp_root.glob("*/modelzoo-worker*"))
    assert chief_status != 0, "the chief finished although its peer was killed"
    assert json.loads(state_path.read_text())["epoch"] == 1
    assert not (run_dir / "metrics.json").exists()

    resume = ["--resume", str(run_dir)]
    workers = start_workers(data_dir, output_dir, temp_root, *resume)
    try:
        results = wait_all(workers)
    finally:
        kill_groups(workers)

    for index, (status, stderr) in enumerate(results):
        assert status == 0, f"resumed worker {index}:\n{stderr[-3000:]}"
        assert "Resuming" in stderr
    assert [row["epoch"] for row in read_history(run_dir)] == ["0", "1"]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["epochs_run"] == 2
    assert not (run_dir / "backup").exists()
    assert len(list(output_dir.glob("*/*"))) == 1
    assert set(temp_root.glob("*/modelzoo-worker*")) == killed_leftovers


def wait_for_backup(workers, output_dir, *, epoch, timeout=WORKER_TIMEOUT):
    """Return the chief's `state.json` once it records `epoch` completed epochs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for state_path in Path(output_dir).glob("cnn/*/backup/state.json"):
            if json.loads(state_path.read_text())["epoch"] >= epoch:
                return state_path
        for index, worker in enumerate(workers):
            if worker.poll() is not None:
                raise AssertionError(
                    f"worker {index} exited early:\n{worker.communicate()[1][-3000:]}")
        time.sleep(0.05)
    raise AssertionError(f"no backup of epoch {epoch} after {timeout} s")


def test_multi_worker_after_tensorflow_started():
    # A subprocess, so that a strategy which did start cannot block this
    # process while it waits for a peer that never comes.
    code = (
        "import tensorflow as tf\n"
        "from modelzoo.config import load_config\n"
        "from modelzoo.distribute import create_distribution\n"
        "from modelzoo.errors import ConfigError\n"
        "tf.constant(1.0) + 1.0\n"  # runs an op, so the TensorFlow runtime is initialised
        "config = load_config('cnn', distribution__strategy='multi_worker', "
        f"distribution__worker_hosts=['127.0.0.1:{free_ports(1)[0]}', '127.0.0.1:1'], "
        "distribution__task_index=0)\n"
        "try:\n"
        "    create_distribution(config.distribution)\n"
        "except ConfigError as error:\n"
        "    print(error)\n"
    )
    result = run("-c", code, timeout=120)

    assert "Start each worker as a fresh process" in result.stdout, result.stderr[-2000:]


def test_tf_config_ignored_without_multi_worker(monkeypatch, caplog):
    from modelzoo.distribute import create_distribution

    monkeypatch.setenv("TF_CONFIG", '{"cluster": {"worker": ["127.0.0.1:2222"]}}')
    config = load_config("cnn", overrides=["distribution.strategy=none"])
    with caplog.at_level("WARNING", logger="modelzoo.distribute"):
        distribution = create_distribution(config.distribution)
    assert distribution.name == "none"
    assert "TF_CONFIG is set, but distribution.strategy is 'none'" in caplog.text
    assert "--strategy multi_worker" in caplog.text
