"""Command-line interface: `modelzoo list|train|evaluate|predict|export` and `python -m modelzoo.train`.

Parsing arguments, `--help`, `list` and config validation do not import
TensorFlow; it loads only once training starts. User errors (a bad flag,
config or data path) end with a one-paragraph message and exit status 2.
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Sequence

from modelzoo.errors import ConfigError, ModelzooError

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the `train` options to `parser`."""
    parser.add_argument(
        "model",
        help="registered model name (its configs/<model>.yaml is loaded) or a YAML config path",
    )
    parser.add_argument("--config", metavar="PATH",
                        help="YAML config to start from instead of the model's default config")
    parser.add_argument("--dataset", help="data set name: mnist, fashion_mnist, ucr/<Name> "
                        "(e.g. ucr/FordA), sequential_mnist, imdb, npz:PATH or csv:PATH "
                        "(default: from the config)")
    parser.add_argument("--data-dir", metavar="DIR",
                        help="root folder of local data sets, holding mnist/ and others "
                        "(default: $MODELZOO_DATA_DIR)")
    parser.add_argument("--epochs", type=int, help="maximum number of epochs (default: from the config)")
    parser.add_argument("--batch-size", type=int,
                        help="examples per training step (default: from the config)")
    parser.add_argument("--learning-rate", type=float,
                        help="initial learning rate (default: from the config)")
    parser.add_argument("--seed", type=int, help="random seed (default: from the config)")
    parser.add_argument("--device", choices=("auto", "cpu", "gpu"),
                        help="device to train on (default: auto)")
    parser.add_argument("--output-dir", metavar="DIR",
                        help="parent folder of run directories (default: runs)")
    parser.add_argument("--strategy", choices=("auto", "none", "mirrored", "multi_worker"),
                        help="tf.distribute strategy: auto (one device, or MirroredStrategy over "
                        "all GPUs when there are several), none, mirrored, or multi_worker "
                        "(MultiWorkerMirroredStrategy); --batch-size is the global batch "
                        "(default: from the config)")
    parser.add_argument("--worker-hosts", metavar="HOST:PORT,...",
                        help="multi_worker: host:port of every worker, chief first, the same "
                        "list on every worker; instead of TF_CONFIG or Slurm")
    parser.add_argument("--task-index", type=int, metavar="N",
                        help="multi_worker: this worker's position in --worker-hosts, from 0")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override any config key, e.g. --set data.train_subset=2000; "
                        "repeatable, applied after the other flags")
    parser.add_argument("--resume", metavar="RUN_DIR",
                        help="continue an interrupted run from the backup of its last completed "
                        "epoch, with the config.yaml saved in RUN_DIR; takes no other config "
                        "flags except --worker-hosts and --task-index. Every worker of a "
                        "multi-worker run passes the chief's RUN_DIR")
    parser.add_argument("--log-level", default="INFO",
                        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
                        help="logging level (default: INFO)")
    parser.add_argument("--smoke", action="store_true",
                        help="instead of training, run a few steps on a small subset, check "
                        "that the loss fell and that the saved model reloads; exit 1 if not. "
                        "--learning-rate 0 is accepted here and must fail the check")


def build_parser() -> argparse.ArgumentParser:
    """Return the parser of the `modelzoo` console script."""
    parser = argparse.ArgumentParser(
        prog="modelzoo", description="Keras 3 model zoo: list, train, evaluate, predict with and export models."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    list_parser = commands.add_parser("list", help="list registered models")
    list_parser.add_argument("pattern", nargs="?", default="*",
                             help="glob pattern on model names (default: *)")
    train_parser = commands.add_parser("train", help="train a model and write a run directory")
    add_train_arguments(train_parser)
    add_tool_commands(commands)
    return parser


# Subcommands whose options and runner live in their own module: name -> (module, help).
TOOL_COMMANDS = {
    "evaluate": ("modelzoo.evaluate", "evaluate a trained model on its test split"),
    "predict": ("modelzoo.predict", "classify images, .npy arrays or text with a trained model"),
    "export": ("modelzoo.export", "export a trained model and check it against Keras"),
}


def add_tool_commands(commands) -> None:
    """Add the `evaluate`, `predict` and `export` subcommands to a subparsers object."""
    import importlib

    for name, (module_name, help_text) in TOOL_COMMANDS.items():
        module = importlib.import_module(module_name)
        subparser = commands.add_parser(name, help=help_text, description=help_text)
        module.add_arguments(subparser)
        subparser.set_defaults(run_tool=module.run)


def build_train_parser() -> argparse.ArgumentParser:
    """Return the parser of `python -m modelzoo.train`."""
    parser = argparse.ArgumentParser(
        prog="python -m modelzoo.train",
        description="Train a registered model with its default config, or with a YAML "
        "config, and write runs/<model>/<timestamp>/.",
    )
    add_train_arguments(parser)
    return parser


def config_from_args(args: argparse.Namespace):
    """Return the validated `Config` that the parsed train arguments describe."""
    from modelzoo.config import SHORTCUTS, config_from_dict, parse_override, read_source, set_by_path
    from modelzoo.models import get_spec

    _split_worker_hosts(args)
    if args.resume:
        return _resume_config(args)
    data = read_source(args.config or args.model)
    if args.config:
        set_by_path(data, "model.name", args.model)
    for name, key in SHORTCUTS.items():
        value = getattr(args, name, None)
        if value is not None:
            set_by_path(data, key, value)
    for item in args.overrides:
        key, value = parse_override(item)
        set_by_path(data, key, value)
    config = config_from_dict(data)
    get_spec(config.model.name)
    _check_cluster(config)
    return config


# Flags that describe this process's place in a cluster, not the run, so
# each worker of a resumed multi-worker run passes its own.
CLUSTER_FLAGS = ("worker_hosts", "task_index")


def _split_worker_hosts(args: argparse.Namespace) -> None:
    from modelzoo.cluster import parse_worker_hosts

    if isinstance(getattr(args, "worker_hosts", None), str):
        args.worker_hosts = parse_worker_hosts(args.worker_hosts)


def _check_cluster(config) -> None:
    """Validate TF_CONFIG or the Slurm variables now, before TensorFlow is imported."""
    from modelzoo.cluster import resolve_cluster

    resolve_cluster(config.distribution)


def _resume_config(args: argparse.Namespace):
    from pathlib import Path

    from modelzoo.config import SHORTCUTS, config_from_dict, load_config, set_by_path

    given = [f"--{name.replace('_', '-')}" for name in SHORTCUTS
             if name not in CLUSTER_FLAGS and getattr(args, name, None) is not None]
    if args.config:
        given.append("--config")
    if args.overrides:
        given.append("--set")
    if given:
        raise ConfigError(
            f"--resume continues with the config saved in {args.resume}/config.yaml, so "
            f"{', '.join(given)} cannot be combined with it. Drop those flags, or start a new run."
        )
    path = Path(args.resume) / "config.yaml"
    if not path.is_file():
        raise ConfigError(
            f"--resume {args.resume}: no config.yaml there, so it is not a modelzoo run "
            "directory. Pass a folder such as runs/cnn/20240101-120000."
        )
    config = load_config(path)
    if config.model.name != args.model:
        raise ConfigError(
            f"--resume {args.resume} is a run of model {config.model.name!r}, not {args.model!r}. "
            f"Run: python -m modelzoo.train {config.model.name} --resume {args.resume}"
        )
    cluster_values = {name: getattr(args, name, None) for name in CLUSTER_FLAGS}
    if any(value is not None for value in cluster_values.values()):
        data = config.to_dict()
        for name, value in cluster_values.items():
            set_by_path(data, SHORTCUTS[name], value)
        config = config_from_dict(data)
    _check_cluster(config)
    return config


def run_train(args: argparse.Namespace) -> int:
    """Train as `args` describe; return the process exit status."""
    _configure_logging(args.log_level)
    if getattr(args, "smoke", False):
        return run_smoke_command(args)
    config = config_from_args(args)

    from modelzoo.trainer import Trainer

    result = Trainer(config, resume_dir=args.resume).run()
    if result.run_dir is None:
        print("Worker finished; the chief wrote the run directory.")
        return 0
    summary = ", ".join(
        f"{name}={value:.4f}" for name, value in result.metrics.items()
        if name.startswith("test_")
    )
    print(f"Run directory: {result.run_dir}\nTest metrics: {summary}")
    return 0


def run_smoke_command(args: argparse.Namespace) -> int:
    """Run the `--smoke` check as `args` describe; return 0 if it passed, else 1."""
    from modelzoo.smoke import EXIT_FAILED, format_result, run_smoke

    # The schema rejects a zero learning rate, so the smoke check applies
    # --learning-rate itself, after the model is built.
    learning_rate = args.learning_rate
    args.learning_rate = None
    config = config_from_args(args)
    result = run_smoke(config, learning_rate=learning_rate)
    print(format_result(result))
    return 0 if result.passed else EXIT_FAILED


def run_list(pattern: str) -> int:
    """Print the registered models as a table; return the exit status."""
    from modelzoo.models import get_spec, list_models

    rows = [("NAME", "TASK", "PARAMS", "DATASET", "DESCRIPTION")]
    for name in list_models(pattern):
        spec = get_spec(name)
        rows.append((name, spec.task, f"{spec.params:,}", spec.dataset, spec.description))
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[4])
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `modelzoo` console script."""
    args = build_parser().parse_args(argv)
    if args.command == "list":
        return run_list(args.pattern)
    if args.command in TOOL_COMMANDS:
        return _guarded(args.run_tool, args)
    return _guarded(run_train, args)


def train_main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `python -m modelzoo.train`."""
    args = build_train_parser().parse_args(argv)
    return _guarded(run_train, args)


def run_guarded(command, args) -> int:
    """Run `command(args)`; print a `ModelzooError` as `error: ...` and return exit status 2."""
    return _guarded(command, args)


def configure_logging(level: str) -> None:
    """Send log records of `level` and above to standard error."""
    _configure_logging(level)


def _guarded(command, args) -> int:
    try:
        return command(args)
    except ModelzooError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt as interrupted:
        run_dir = getattr(interrupted, "run_dir", None)
        model = getattr(args, "model", "MODEL")
        if run_dir is not None:
            print(f"error: interrupted by {interrupted.signal_name}. The last completed epoch "
                  f"is saved; resume with: python -m modelzoo.train {model} --resume {run_dir}",
                  file=sys.stderr)
            return interrupted.exit_code
        print("error: interrupted.", file=sys.stderr)
        return EXIT_INTERRUPTED


def _configure_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
