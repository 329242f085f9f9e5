"""The benchmark harness: `python -m benchmarks.run [--quick]`, or `make bench` / `make bench-quick`.

For each model it alternates modelzoo runs and plain-Keras reference runs
(`benchmarks.worker`, one process per run), pairs run i of each, and reports
the median of the pairwise ratios modelzoo / reference of steady-state
training samples per second. For `cnn` it also measures the
`mixed_bfloat16` policy, and a PyTorch CPU eager loop after each modelzoo
run, which gives the modelzoo / PyTorch ratios as medians of pairs too.
The results go to `benchmarks/results/<mode>.json` (or `--output`), and the
table in `BENCHMARKS.md` between the markers named after that file is
rewritten from them.

Data comes from the loaders' usual sources, so set `MODELZOO_DATA_DIR`.
Runs are timed on whatever else the machine is doing: run it alone.
"""

from __future__ import annotations

import argparse
import datetime
import json
import logging
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.worker import RESULT_PREFIX

logger = logging.getLogger("benchmarks")

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "benchmarks" / "results"
QUICK_MODELS = ("cnn", "lstm", "autoencoder")
# CPU flags worth naming in the hardware line.
LISTED_FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "avx512_fp16",
                "amx_tile", "amx_bf16", "amx_int8")


def run_worker(kind: str, model: str, *, epochs: int, seed: int, precision: str,
               quick: bool, train_subset: int | None = None) -> dict:
    """Run one `benchmarks.worker` process and return its result dictionary."""
    command = [sys.executable, "-m", "benchmarks.worker", kind, model, "--epochs", str(epochs),
               "--seed", str(seed), "--precision", precision]
    if quick:
        command.append("--quick")
    if train_subset is not None:
        command += ["--train-subset", str(train_subset)]
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    started = time.perf_counter()
    completed = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True,
                               text=True, check=False)
    lines = [line for line in completed.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    if completed.returncode != 0 or not lines:
        tail = "\n".join(completed.stderr.splitlines()[-15:])
        raise RuntimeError(
            f"benchmark worker failed with exit status {completed.returncode}: "
            f"{' '.join(command)}\n{tail}"
        )
    result = json.loads(lines[-1][len(RESULT_PREFIX):])
    result["process_seconds"] = round(time.perf_counter() - started, 2)
    return result


def median(values):
    values = [value for value in values if value is not None]
    return round(statistics.median(values), 4) if values else None


def benchmark_model(model: str, *, repeats: int, epochs: int, quick: bool,
                    precision: str = "float32", train_subset: int | None = None,
                    with_torch: bool = False) -> dict:
    """Alternate modelzoo and reference runs of `model`; return the runs and their medians.

    With `with_torch`, each repeat also times the PyTorch CNN, in the same
    precision, right after the modelzoo run, so the modelzoo / PyTorch ratio
    is a median of pairs too. A missing torch skips that comparison for
    every repeat.
    """
    pairs = []
    torch_skipped = None
    for repeat in range(repeats):
        zoo = run_worker("modelzoo", model, epochs=epochs, seed=repeat, precision=precision,
                         quick=quick, train_subset=train_subset)
        pair = {"modelzoo": zoo}
        if with_torch and torch_skipped is None:
            torch_run = run_worker("torch", model, epochs=epochs, seed=repeat,
                                   precision=precision, quick=quick, train_subset=train_subset)
            if "skipped" in torch_run:
                torch_skipped = torch_run["skipped"]
                logger.warning("PyTorch benchmark skipped: %s", torch_skipped)
            else:
                pair["torch"] = torch_run
                pair["torch_ratio"] = round(
                    zoo["samples_per_second"] / torch_run["samples_per_second"], 4)
                logger.info("%s PyTorch run %d: %.0f samples/s, modelzoo %s / PyTorch %.3f",
                            model, repeat + 1, torch_run["samples_per_second"], precision,
                            pair["torch_ratio"])
        reference = run_worker("reference", model, epochs=epochs, seed=repeat,
                               precision=precision, quick=quick, train_subset=train_subset)
        ratio = zoo["samples_per_second"] / reference["samples_per_second"]
        pair.update(reference=reference, ratio=round(ratio, 4))
        pairs.append(pair)
        logger.info("%s %s run %d: modelzoo %.0f samples/s, reference %.0f, ratio %.3f",
                    model, precision, repeat + 1, zoo["samples_per_second"],
                    reference["samples_per_second"], ratio)
    zoo_runs = [pair["modelzoo"] for pair in pairs]
    test_metrics = {}
    for name in zoo_runs[0]["test_metrics"]:
        test_metrics[name] = median(run["test_metrics"][name] for run in zoo_runs)
    return {
        "model": model,
        "precision": zoo_runs[0]["precision"],
        "pairs": pairs,
        "modelzoo_samples_per_second": median(run["samples_per_second"] for run in zoo_runs),
        "reference_samples_per_second": median(
            pair["reference"]["samples_per_second"] for pair in pairs),
        "ratio": median(pair["ratio"] for pair in pairs),
        "seconds_per_epoch": median(median(run["epoch_seconds"][1:] or run["epoch_seconds"])
                                    for run in zoo_runs),
        "time_to_first_step_seconds": median(run["time_to_first_step_seconds"]
                                             for run in zoo_runs),
        "peak_rss_mb": median(run["peak_rss_mb"] for run in zoo_runs),
        "reference_peak_rss_mb": median(pair["reference"]["peak_rss_mb"] for pair in pairs),
        "reference_origin": pairs[0]["reference"]["origin"],
        "num_train": zoo_runs[0]["num_train"],
        "test_metrics": test_metrics,
        **_torch_summary(pairs, torch_skipped, with_torch),
    }


def _torch_summary(pairs: list, skipped: str | None, with_torch: bool) -> dict:
    """Return the PyTorch part of a `benchmark_model` entry (empty without PyTorch runs)."""
    if not with_torch:
        return {}
    if skipped is not None:
        return {"torch": {"skipped": skipped}}
    runs = [pair["torch"] for pair in pairs]
    return {
        "torch": {
            "samples_per_second": median(run["samples_per_second"] for run in runs),
            "torch": runs[0]["torch"],
            "threads": runs[0]["threads"],
        },
        "over_torch": median(pair["torch_ratio"] for pair in pairs),
    }


def benchmark_pipeline(model: str, *, quick: bool, train_subset: int | None = None) -> dict:
    """Measure input-pipeline-only throughput of `model`'s default config."""
    return run_worker("pipeline", model, epochs=1, seed=0, precision="float32", quick=quick,
                      train_subset=train_subset)


def hardware() -> dict:
    """Return the CPU model, core count, listed instruction sets and memory of this machine."""
    from modelzoo.precision import cpu_flags

    cpu_model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu_model = line.partition(":")[2].strip()
                break
    except OSError:
        pass
    flags = cpu_flags() or set()
    memory_gib = None
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        memory_gib = round(pages / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        pass
    return {
        "cpu": cpu_model,
        "cores": os.cpu_count(),
        "instruction_sets": [flag for flag in LISTED_FLAGS if flag in flags],
        "memory_gib": memory_gib,
        "machine": platform.machine(),
        "gpu": _gpu_names(),
    }


def _gpu_names() -> str:
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    return ", ".join(gpu.name for gpu in gpus) if gpus else "no GPU visible to TensorFlow"


def git_commit() -> str | None:
    """Return the checked-out commit, with `+changes` when tracked files differ; None outside git."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                                capture_output=True, text=True, check=True).stdout.strip()
        changed = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                                 cwd=ROOT, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return commit + ("+changes" if changed.strip() else "")


def versions() -> dict:
    import keras
    import numpy
    import tensorflow as tf

    values = {"python": platform.python_version(), "tensorflow": tf.__version__,
              "keras": keras.__version__, "numpy": numpy.__version__}
    try:
        import torch
        values["torch"] = torch.__version__
    except ImportError:
        values["torch"] = None
    return values


def run(args) -> dict:
    """Run every benchmark `args` selects and return the results document."""
    import modelzoo

    models = args.models or (list(QUICK_MODELS) if args.quick else modelzoo.list_models())
    started = time.perf_counter()
    results = {
        "mode": "quick" if args.quick else "full",
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": args.command_line,
        "commit": git_commit(),
        "hardware": hardware(),
        "versions": versions(),
        "settings": {"epochs": args.epochs, "repeats": args.repeats, "quick": args.quick,
                     "train_subset": args.train_subset},
        "models": {},
    }
    extras = "cnn" in models and not args.skip_extras
    for model in models:
        entry = benchmark_model(model, repeats=args.repeats, epochs=args.epochs,
                                quick=args.quick, train_subset=args.train_subset,
                                with_torch=extras and model == "cnn")
        pipeline = benchmark_pipeline(model, quick=args.quick, train_subset=args.train_subset)
        entry["pipeline_samples_per_second"] = pipeline["samples_per_second"]
        entry["pipeline_over_training"] = round(
            pipeline["samples_per_second"] / entry["modelzoo_samples_per_second"], 1)
        results["models"][model] = entry
        print(format_model_line(entry), flush=True)

    if extras:
        bf16 = benchmark_model("cnn", repeats=args.repeats, epochs=args.epochs,
                               quick=args.quick, precision="mixed_bfloat16",
                               train_subset=args.train_subset, with_torch=True)
        fp32 = results["models"]["cnn"]
        cnn_extras = {
            "cnn_mixed_bfloat16": bf16,
            "bf16_over_float32": round(bf16["modelzoo_samples_per_second"]
                                       / fp32["modelzoo_samples_per_second"], 3),
            "reference_bf16_over_float32": round(bf16["reference_samples_per_second"]
                                                 / fp32["reference_samples_per_second"], 3),
            "torch": fp32["torch"],
            "torch_bf16": bf16["torch"],
        }
        if "over_torch" in fp32:
            cnn_extras["float32_over_torch"] = fp32["over_torch"]
            cnn_extras["bf16_over_torch_bf16"] = bf16["over_torch"]
            # Not paired: modelzoo's bf16 runs against PyTorch's float32 runs.
            cnn_extras["bf16_over_torch_float32"] = round(
                bf16["modelzoo_samples_per_second"] / fp32["torch"]["samples_per_second"], 3)
        results["cnn_extras"] = cnn_extras
        print(format_extras(cnn_extras), flush=True)
    results["harness_seconds"] = round(time.perf_counter() - started, 1)
    return results


def format_model_line(entry: dict) -> str:
    return (
        f"{entry['model']}: modelzoo {entry['modelzoo_samples_per_second']:,.0f} samples/s, "
        f"plain Keras {entry['reference_samples_per_second']:,.0f} samples/s, "
        f"modelzoo / plain Keras = {entry['ratio']:.3f} (median of {len(entry['pairs'])} pairs); "
        f"input pipeline {entry['pipeline_samples_per_second']:,.0f} samples/s "
        f"({entry['pipeline_over_training']:.1f}x training); "
        f"peak memory {entry['peak_rss_mb']:,.0f} MiB"
    )


def format_extras(extras: dict) -> str:
    bf16 = extras["cnn_mixed_bfloat16"]
    lines = [
        f"cnn mixed_bfloat16: modelzoo {bf16['modelzoo_samples_per_second']:,.0f} samples/s, "
        f"bf16 / float32 = {extras['bf16_over_float32']:.2f}, "
        f"modelzoo / plain Keras = {bf16['ratio']:.3f}",
    ]
    torch_result = extras["torch"]
    if "skipped" in torch_result:
        lines.append(f"cnn PyTorch: skipped ({torch_result['skipped']})")
    else:
        lines.append(
            f"cnn PyTorch {torch_result['torch']} eager: float32 "
            f"{torch_result['samples_per_second']:,.0f} samples/s, bf16 autocast "
            f"{extras['torch_bf16']['samples_per_second']:,.0f} samples/s; modelzoo / PyTorch: "
            f"float32 {extras['float32_over_torch']:.2f}, bf16 "
            f"{extras['bf16_over_torch_bf16']:.2f}, modelzoo bf16 / PyTorch float32 "
            f"{extras['bf16_over_torch_float32']:.2f}")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="cnn, lstm and autoencoder on subsets of their training splits")
    parser.add_argument("--models", nargs="+", metavar="MODEL",
                        help="models to measure (default: cnn lstm autoencoder with --quick, "
                        "else every registered model)")
    parser.add_argument("--repeats", type=int, default=3,
                        help="modelzoo/reference pairs per model (default: 3)")
    parser.add_argument("--epochs", type=int, default=4,
                        help="epochs per run; samples/s come from the median of the epochs "
                        "after the first (default: 4)")
    parser.add_argument("--train-subset", type=int, metavar="N",
                        help="train every model on its first N training examples (default: "
                        "the quick mode's subsets with --quick, else all)")
    parser.add_argument("--skip-extras", action="store_true",
                        help="leave out the cnn bf16 and PyTorch measurements")
    parser.add_argument("--output", type=Path,
                        help="results file (default: benchmarks/results/<quick|full>.json)")
    parser.add_argument("--markdown", default=str(ROOT / "BENCHMARKS.md"),
                        help="Markdown file whose generated table is rewritten "
                        "(default: BENCHMARKS.md); --markdown '' leaves it alone")
    args = parser.parse_args(argv)
    if args.repeats < 1 or args.epochs < 2:
        parser.error("--repeats must be >= 1 and --epochs >= 2 (the first epoch is warm-up)")
    args.command_line = "python -m benchmarks.run " + " ".join(argv if argv is not None
                                                                else sys.argv[1:])
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s",
                        datefmt="%H:%M:%S")
    results = run(args)
    output = args.output or RESULTS_DIR / f"{results['mode']}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"Wrote {output}")
    if args.markdown:
        from benchmarks.markdown import update_markdown

        update_markdown(Path(args.markdown), results, name=output.stem)
        print(f"Updated {args.markdown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
