# The two commands of the README: `make reproduce` and `make test`. Both create .venv on first use.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
OUT ?= results/$(PROFILE)
PROFILE ?= embedded
export TF_CPP_MIN_LOG_LEVEL ?= 3  # hide the CUDA-plugin noise on CPU machines; real errors still raise

.DEFAULT_GOAL := help
.PHONY: help install test test-fast reproduce bench embedded-model notebook clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

# innvestigate 2.1.2 (LRP) requires Python < 3.12 and TensorFlow < 2.15: the stack is pinned to Python 3.11.
PYTHON_HELP := this project needs Python 3.11 (innvestigate 2.1.2, its LRP, requires Python < 3.12 and TensorFlow < 2.15); install it (uv python install 3.11, pyenv install 3.11, or your distribution's python3.11 package) and run make again, or pass PYTHON=/path/to/python3.11

$(STAMP): setup.cfg constraints.txt pyproject.toml
	@test -x $(PY) || "$(PYTHON)" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null \
		|| { echo "make: '$(PYTHON)' is missing or not Python 3.11: $(PYTHON_HELP)" >&2; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[test,bench]'
	touch $(STAMP)

install: $(STAMP)  ## create .venv and install the package (editable) with the test and bench extras, pinned by constraints.txt

TEST_WORKERS ?= 2  # pytest-xdist processes: measured 7 min 26 s with 2 against 13 min 29 s serial on 2 cores

test: $(STAMP)  ## run the whole test suite (slow tests included), in $(TEST_WORKERS) parallel workers
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadgroup

test-fast: $(STAMP)  ## run the fast tests only
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadgroup -m "not slow"

reproduce: $(STAMP)  ## run the study end to end (PROFILE=embedded offline by default; PROFILE=paper needs ImageNet)
	$(VENV)/bin/repro reproduce --profile $(PROFILE) --out $(OUT) $(ARGS)

embedded-model: $(STAMP)  ## retrain the embedded model shipped in repro/embedded/
	$(VENV)/bin/repro train-embedded

notebook: $(STAMP)  ## execute notebooks/walkthrough.ipynb against $(OUT)
	REPRO_RESULTS=$(OUT) $(PY) -m repro.notebook notebooks/walkthrough.ipynb

bench: $(STAMP)  ## write benchmarks/RESULTS.md against the peers Xplique and Quantus (~32 min on 2 cores, per benchmarks/RESULTS.md: sections 1-4 150 s, section 5 1791 s)
	$(PY) benchmarks/run.py --out benchmarks/RESULTS.md

clean:  ## remove .venv and results
	rm -rf $(VENV) results
