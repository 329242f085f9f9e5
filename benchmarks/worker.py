"""One benchmark measurement in its own process: `python -m benchmarks.worker KIND MODEL ...`.

Each measurement runs in a fresh process, so its peak resident memory
(`ru_maxrss`) and its time to the first training step belong to it alone.
The last line of standard output is `BENCH_RESULT <json>`.

Kinds:

- `modelzoo`: `modelzoo.Trainer(config).run()` on the model's default
  config, as a user runs it (callbacks, validation, backups, TensorBoard).
- `reference`: the plain-Keras model of `benchmarks.reference`, trained
  with `model.fit` on NumPy arrays already in memory, same examples, batch
  size, epochs and precision.
- `torch`: the tutorial's CNN in PyTorch, a CPU eager training loop over
  in-memory tensors, in float32 or, for `--precision mixed_bfloat16`,
  under `torch.autocast` with bfloat16 (`cnn` only; needs the `bench`
  extra).
- `pipeline`: iterate the modelzoo training split with no model, inside
  TensorFlow.

Every training kind reports steady-state samples per second: the training
examples divided by the median time of the epochs after the first (the
first includes tracing or warm-up), each timed from its start to its
validation, or its end without validation. With the median, one epoch that
other work on the machine slowed does not move the result. The pipeline
kind takes the median of its passes after the first in the same way.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import statistics
import sys
import tempfile
import time

import numpy as np

RESULT_PREFIX = "BENCH_RESULT "

# The subset sizes of quick mode keep each run to seconds while every epoch
# still has 9 or more steps. The dense autoencoder trains on all 60,000 images
# (54,000 after the validation split), because its epochs last about a second.
QUICK_TRAIN_SUBSET = {"lstm": 640, "lstm_fcn": 640, "text_lstm": 2560,
                      "sequence_autoencoder": 640, "autoencoder": 60_000}
QUICK_DEFAULT_TRAIN_SUBSET = 12_800
QUICK_TEST_SUBSET = 2_000


def bench_config(model: str, *, epochs: int, seed: int, precision: str, quick: bool,
                 output_dir: str, train_subset: int | None = None):
    """Return the model's default config with the benchmark's settings applied.

    Early stopping is off so that every run trains `epochs` epochs. Plots are
    off because they are drawn after training and only cost wall time.
    `train_subset` replaces the quick mode's subset size.
    """
    from modelzoo.config import load_config
    from modelzoo.models import get_spec

    overrides = [
        f"training.epochs={epochs}",
        f"training.seed={seed}",
        f"training.precision={precision}",
        "training.verbose=0",
        "callbacks.early_stopping.enabled=false",
        f"output.dir={output_dir}",
        "output.plots=false",
    ]
    if quick:
        subset = train_subset or QUICK_TRAIN_SUBSET.get(model, QUICK_DEFAULT_TRAIN_SUBSET)
        overrides += [f"data.train_subset={subset}", f"data.test_subset={QUICK_TEST_SUBSET}"]
    elif train_subset is not None:
        overrides.append(f"data.train_subset={train_subset}")
    source = model if get_spec(model).config else {"model": {"name": model}}
    return load_config(source, overrides=overrides)


def steady_rate(examples: int, seconds: list[float]) -> float:
    """Return `examples` divided by the median of `seconds` after the first (warm-up) entry."""
    return round(examples / statistics.median(seconds[1:] or seconds), 1)


def peak_rss_mb() -> float:
    """Return this process's peak resident memory in MiB.

    On Linux this is `VmHWM` of `/proc/self/status`, the peak of this
    program's own address space. `ru_maxrss` is not: Linux carries it over
    from the parent through fork and exec, so a worker started by a parent
    of 1,100 MiB reported at least 1,100 MiB, whatever it used itself.
    Other systems fall back to `ru_maxrss` (bytes on macOS, KiB elsewhere).
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    divisor = 1024 * 1024 if sys.platform == "darwin" else 1024
    return round(peak / divisor, 1)


def run_modelzoo(config) -> dict:
    """Train through `modelzoo.Trainer` and return its timing and test metrics."""
    from modelzoo.trainer import Trainer

    result = Trainer(config).run()
    metrics = result.metrics
    return {
        "samples_per_second": steady_rate(result.info.num_train, metrics["epoch_train_seconds"]),
        "epoch_seconds": metrics["epoch_seconds"],
        "epoch_train_seconds": metrics["epoch_train_seconds"],
        "time_to_first_step_seconds": metrics["time_to_first_step_seconds"],
        "train_time_seconds": metrics["train_time_seconds"],
        "num_train": result.info.num_train,
        "test_metrics": {name: value for name, value in metrics.items()
                         if name.startswith("test_")},
        "precision": metrics["precision"],
    }


def load_training_arrays(config):
    """Return the modelzoo training split of `config` as NumPy arrays `(x, y)`, in memory."""
    from modelzoo.trainer import Trainer

    trainer = Trainer(config)
    model = trainer.build_model()
    splits = trainer.load_data(model)
    inputs, targets = [], []
    for batch_inputs, batch_targets in splits.train:
        inputs.append(batch_inputs.numpy())
        targets.append(batch_targets.numpy())
    return np.concatenate(inputs), np.concatenate(targets)


def run_reference(config) -> dict:
    """Train the plain-Keras reference with `model.fit` on in-memory arrays."""
    import keras

    from benchmarks.reference import build_reference
    from modelzoo.precision import precision_policy, resolve_precision
    from modelzoo.timing import TrainingTimer

    x, y = load_training_arrays(config)
    keras.utils.set_random_seed(config.training.seed)
    policy, _ = resolve_precision(config.training.precision, "/CPU:0")
    started = time.perf_counter()
    with precision_policy(policy):
        model, origin = build_reference(config)
    timer = TrainingTimer(started=started)
    model.fit(x, y, batch_size=config.training.batch_size, epochs=config.training.epochs,
              shuffle=True, verbose=0, callbacks=[timer])
    return {
        "samples_per_second": steady_rate(len(x), timer.train_seconds),
        "epoch_seconds": [round(value, 3) for value in timer.epoch_seconds],
        "time_to_first_step_seconds": timer.time_to_first_step(),
        "num_train": int(len(x)),
        "origin": origin,
        "precision": policy,
    }


def run_torch(config) -> dict:
    """Train the tutorial's CNN with a PyTorch CPU eager loop; report samples per second."""
    try:
        import torch
    except ImportError:
        return {"skipped": "torch is not installed; pip install 'modelzoo[bench]' to add it"}
    if config.model.name != "cnn":
        return {"skipped": f"no PyTorch version of {config.model.name!r}; only 'cnn' has one"}

    precision = config.training.precision
    if precision not in ("float32", "mixed_bfloat16"):
        return {"skipped": f"the PyTorch loop runs float32 or mixed_bfloat16, not {precision!r}"}
    x, y = load_training_arrays(config)
    torch.manual_seed(config.training.seed)
    inputs = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
    labels = torch.from_numpy(y.astype(np.int64))
    network = torch.nn.Sequential(
        torch.nn.Conv2d(1, 32, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(32, 64, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(64 * 5 * 5, 128), torch.nn.ReLU(),
        torch.nn.Linear(128, 10),
    )
    optimizer = torch.optim.Adam(network.parameters(), lr=config.optimizer.learning_rate)
    loss_function = torch.nn.CrossEntropyLoss()
    batch_size = config.training.batch_size
    epoch_seconds = []
    for _ in range(config.training.epochs):
        started = time.perf_counter()
        order = torch.randperm(len(inputs))
        network.train()
        for begin in range(0, len(inputs), batch_size):
            index = order[begin:begin + batch_size]
            optimizer.zero_grad()
            # Under mixed_bfloat16, autocast runs the convolutions and matrix
            # products in bf16 and keeps float32 weights, as the Keras policy does.
            with torch.autocast("cpu", dtype=torch.bfloat16,
                                enabled=precision == "mixed_bfloat16"):
                loss = loss_function(network(inputs[index]), labels[index])
            loss.backward()
            optimizer.step()
        epoch_seconds.append(time.perf_counter() - started)
    return {
        "samples_per_second": steady_rate(len(inputs), epoch_seconds),
        "epoch_seconds": [round(value, 3) for value in epoch_seconds],
        "num_train": int(len(inputs)),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "precision": precision,
    }


def run_pipeline(config, passes: int = 4) -> dict:
    """Iterate the modelzoo training split `passes` times with no model; time the later passes.

    Each pass pulls one epoch of batches the way the trainer's `fit` does
    (`modelzoo.trainer.plan_epochs`), in a compiled function that takes them
    from an iterator (`fit` takes `steps_per_execution` of them per call):

    - a training set that fits in one call repeats, and one iterator serves
      every pass, as it serves every epoch of a run;
    - any other gets a new iterator per pass, drained until it ends, and the
      time includes creating it, which `fit` pays once per epoch.

    Python work per batch is left out.
    """
    import tensorflow as tf

    from modelzoo.trainer import Trainer, plan_epochs

    trainer = Trainer(config)
    model = trainer.build_model()
    splits = trainer.load_data(model)
    plan = plan_epochs(splits.train, config.training.steps_per_execution)

    def count(batch):
        return tf.shape(tf.nest.flatten(batch)[0], out_type=tf.int64)[0]

    @tf.function
    def drain(iterator):
        examples = tf.constant(0, tf.int64)
        batch = iterator.get_next_as_optional()
        while batch.has_value():
            examples += count(batch.get_value())
            batch = iterator.get_next_as_optional()
        return examples

    @tf.function
    def take(iterator, steps):
        examples = tf.constant(0, tf.int64)
        for _ in tf.range(steps):
            examples += count(iterator.get_next())
        return examples

    repeated = iter(plan.dataset) if plan.repeats else None
    seconds = []
    for _ in range(passes):
        started = time.perf_counter()
        if repeated is not None:
            examples = int(take(repeated, tf.constant(plan.steps_per_epoch)))
        else:
            examples = int(drain(iter(plan.dataset)))
        seconds.append(time.perf_counter() - started)
        if examples != splits.info.num_train:
            raise RuntimeError(f"the training split yielded {examples} examples, "
                               f"expected {splits.info.num_train}")
    num_train = splits.info.num_train
    return {
        "samples_per_second": steady_rate(num_train, seconds),
        "pass_seconds": [round(value, 4) for value in seconds],
        "num_train": num_train,
        "one_iterator": plan.repeats,
    }


RUNNERS = {"modelzoo": run_modelzoo, "reference": run_reference, "torch": run_torch,
           "pipeline": run_pipeline}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.worker",
                                     description="Run one benchmark measurement.")
    parser.add_argument("kind", choices=sorted(RUNNERS))
    parser.add_argument("model", help="registered model name")
    parser.add_argument("--epochs", type=int, default=4, help="epochs to train (default: 4)")
    parser.add_argument("--seed", type=int, default=0, help="training seed (default: 0)")
    parser.add_argument("--precision", default="float32",
                        help="training.precision of the run (default: float32)")
    parser.add_argument("--quick", action="store_true",
                        help="train on a subset of the training split, test on 2,000 examples")
    parser.add_argument("--train-subset", type=int, metavar="N",
                        help="train on the first N training examples (before the validation "
                        "split)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="modelzoo-bench-") as output_dir:
        config = bench_config(args.model, epochs=args.epochs, seed=args.seed,
                              precision=args.precision, quick=args.quick,
                              output_dir=output_dir, train_subset=args.train_subset)
        result = RUNNERS[args.kind](config)
    result.update(kind=args.kind, model=args.model, seed=args.seed,
                  requested_precision=args.precision, peak_rss_mb=peak_rss_mb())
    sys.stdout.flush()
    print(RESULT_PREFIX + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.exit(main())
