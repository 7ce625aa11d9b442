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

$(STAMP): setup.cfg constraints.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

install: $(STAMP)  ## create .venv and install the package (editable) with test extras, pinned by constraints.txt

test: $(STAMP)  ## run the whole test suite (slow tests included)
	$(PY) -m pytest -q

test-fast: $(STAMP)  ## run the fast tests only
	$(PY) -m pytest -q -m "not slow"

reproduce: $(STAMP)  ## run the study end to end (PROFILE=embedded offline by default; PROFILE=paper needs ImageNet)
	$(VENV)/bin/repro reproduce --profile $(PROFILE) --out $(OUT) $(ARGS)

embedded-model: $(STAMP)  ## retrain the embedded model shipped in repro/embedded/
	$(VENV)/bin/repro train-embedded

notebook: $(STAMP)  ## execute notebooks/walkthrough.ipynb against $(OUT)
	REPRO_RESULTS=$(OUT) $(PY) -m repro.notebook notebooks/walkthrough.ipynb

bench: $(STAMP)  ## install the optional peers (the bench extra) and write benchmarks/RESULTS.md (~10 min)
	$(PY) -m pip install --quiet -c constraints.txt -e '.[test,bench]'
	$(PY) benchmarks/run.py --out benchmarks/RESULTS.md

clean:  ## remove .venv and results
	rm -rf $(VENV) results
