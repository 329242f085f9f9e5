"""Benchmark harness of modelzoo: `python -m benchmarks.run`; see `benchmarks/run.py`."""
