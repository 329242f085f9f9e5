# Each target works on a fresh clone: it creates .venv and installs modelzoo
# into it first when needed.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.installed-bench
# Real data for the tests: $MODELZOO_DATA_DIR, else ../shared/data beside the clone.
TEST_DATA_DIR ?= $(or $(MODELZOO_DATA_DIR),$(abspath ../shared/data))
MODEL ?= cnn
PYTEST_ARGS ?=
BENCH_ARGS ?=

.PHONY: install train smoke test bench bench-quick clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Train MODEL (default cnn) with its default config: make train MODEL=autoencoder
train: $(STAMP)
	$(BIN)/python -m modelzoo.train $(MODEL)

# One short epoch on 2,000 training examples: checks that training works end to end.
smoke: $(STAMP)
	$(BIN)/python -m modelzoo.train cnn --epochs 1 --batch-size 32 \
		--set data.train_subset=2000 --set training.verbose=2 --output-dir runs/smoke

test: $(STAMP)
	MODELZOO_DATA_DIR=$(TEST_DATA_DIR) $(BIN)/python -m pytest $(PYTEST_ARGS)

# The bench extra (PyTorch) is optional: without it the harness skips that comparison.
$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]' || \
		echo "PyTorch did not install; the benchmark will skip the PyTorch comparison."
	touch $(BENCH_STAMP)

# Benchmarks: modelzoo against plain Keras (and PyTorch for the CNN); they write
# benchmarks/results/*.json and the tables in BENCHMARKS.md. Run them on an
# otherwise idle machine. Extra options: make bench BENCH_ARGS="--models cnn".
bench: $(BENCH_STAMP)
	MODELZOO_DATA_DIR=$(TEST_DATA_DIR) $(BIN)/python -m benchmarks.run $(BENCH_ARGS)

bench-quick: $(BENCH_STAMP)
	MODELZOO_DATA_DIR=$(TEST_DATA_DIR) $(BIN)/python -m benchmarks.run --quick $(BENCH_ARGS)

clean:
	rm -rf $(VENV) runs build dist *.egg-info .pytest_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
