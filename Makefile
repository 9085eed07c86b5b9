# The two commands: `make demo` and `make test`. Both create .venv when missing and install into it:
# torch 2.13.0 first (a CPU wheel here; a bare `torch` requirement would pull a CUDA build), then the
# package with its dev extra.
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
STAMP := $(VENV)/.algonauts-installed
SIM ?= data/sim
SIZE ?= small
export WANDB_SILENT ?= true
export PYTHONUNBUFFERED := 1

.PHONY: install demo smoke test test-slow export docs-outputs clean-nbs

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/algonauts-demo $(SIM) --size $(SIZE)

# The training notebook with no arguments: a tiny simulated run, its report (figures inline) in SMOKE_OUT.
SMOKE_OUT ?= /tmp/algonauts-smoke.ipynb
smoke: $(STAMP)
	env -u DATA_DIR -u FEATURES_DIR $(BIN)/papermill nbs/train.ipynb $(SMOKE_OUT) -k python3
	@echo "report: $(SMOKE_OUT)"

# The notebooks and the other tests in TEST_WORKERS pytest-xdist workers, then the SLURM tests on their own (one
# local cluster, one port).
TEST_WORKERS ?= 2
PYTEST_PARALLEL := $(PY) -m pytest tests -n $(TEST_WORKERS) --ignore=tests/test_slurm.py
test: $(STAMP)
	$(PYTEST_PARALLEL) --durations=8 && $(PY) -m pytest tests/test_slurm.py --durations=3

test-slow: $(STAMP)
	ALGONAUTS_TEST_FLAGS=slow $(PYTEST_PARALLEL) && ALGONAUTS_TEST_FLAGS=slow $(PY) -m pytest tests/test_slurm.py

export: $(STAMP)
	$(BIN)/nbdev-export && $(BIN)/nbdev-clean

# Re-execute the chapters that show results (figures, tables) and keep their outputs, for the docs and GitHub.
docs-outputs: $(STAMP)
	$(PY) scripts/docs_outputs.py && $(BIN)/nbdev-clean
