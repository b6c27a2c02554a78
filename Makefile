# The two commands a newcomer needs: `make run`, then `make test`.
# Each installs what is missing first: uv (via pip) and the locked
# Python 3.10 environment.
SHELL := /bin/bash
PYTHON_VERSION ?= 3.10
VENV := .venv
UV := $(or $(shell command -v uv 2>/dev/null),python3 -m uv)
# Runs found by pyenv, the system or uv itself; never downloaded (no network
# beyond the package registries).
export UV_PYTHON_PREFERENCE := only-system
export UV_PYTHON_DOWNLOADS := never
# Byte-compile the environment once at install: where PYTHONDONTWRITEBYTECODE
# is set (as on these machines) Python otherwise recompiles every imported
# module of TensorFlow, TFX and Beam from source in every process, about 15 s
# of each `imgpipe run` (measured with cProfile: builtins.compile).
export UV_COMPILE_BYTECODE := 1
export UV_PYTHON := $(shell ls $(HOME)/.pyenv/versions/$(PYTHON_VERSION)*/bin/python$(PYTHON_VERSION) 2>/dev/null | tail -n1 || true)$(if $(wildcard $(HOME)/.pyenv/versions/$(PYTHON_VERSION)*),,$(shell command -v python$(PYTHON_VERSION) 2>/dev/null))

.PHONY: run test test-fast setup bench clean serve ui

setup: $(VENV)/.synced

$(VENV)/.synced: pyproject.toml uv.lock
	@$(UV) --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	@test -n "$(UV_PYTHON)" || { echo "Python $(PYTHON_VERSION) not found: install it (e.g. pyenv install 3.10) and retry."; exit 1; }
	$(UV) sync --frozen
	@touch $@

run: setup  ## The whole pipeline on the embedded digits data.
	$(VENV)/bin/imgpipe run $(ARGS)

serve: setup  ## TF Serving's REST API over the pushed models, on 127.0.0.1:8501.
	$(VENV)/bin/imgpipe serve $(ARGS)

ui: setup  ## The web UI over output/ (runs, artifacts, model store) on 127.0.0.1:8080.
	$(VENV)/bin/imgpipe ui $(ARGS)

test: setup  ## Unit, integration and end-to-end tests (what CI runs).
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

test-fast: setup  ## The unit tests only: seconds, for the edit-test loop.
	$(VENV)/bin/python -m pytest tests/unit $(PYTEST_ARGS)

bench: setup  ## Benchmarks; reports land in benchmarks/results/.
	$(VENV)/bin/python -m benchmarks.pipeline_bench
	$(VENV)/bin/python -m benchmarks.quality_bench
	$(VENV)/bin/python -m benchmarks.small_data_epochs  # ~10 min on 2 cores
	$(VENV)/bin/python -m benchmarks.accuracy_bench  # ~25 min on 2 cores
	$(VENV)/bin/python -m benchmarks.small_photos_bench  # ~10 min on 2 cores
	$(VENV)/bin/python -m benchmarks.pretrain_bench  # ~25 min on 2 cores
	$(VENV)/bin/python -m benchmarks.toolbox_bench  # ~30 min on 2 cores
	$(VENV)/bin/python -m benchmarks.augment_bench
	$(VENV)/bin/python -m benchmarks.gpu_bench
	$(VENV)/bin/python -m benchmarks.ingest_bench
	$(VENV)/bin/python -m benchmarks.kfp_resume_bench
	$(VENV)/bin/imgpipe run  # the served model the serving benchmark copies
	$(VENV)/bin/python -m benchmarks.serving_bench
	$(VENV)/bin/python -m benchmarks.ui_bench  # builds its own runs: ~3 min
	$(VENV)/bin/python -m benchmarks.summary

clean:
	rm -rf output .pytest_cache
