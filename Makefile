# The two commands of README.md, each doing its own set-up on first use:
#   make demo   the main job
#   make test   the test suite
# Both build .venv (python3 -m venv + pip) with chainrule and its extras.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test bench clean

demo: $(STAMP)
	$(PY) -m chainrule demo

test: $(STAMP)
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) bench/scalar_mlp.py

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	touch $(STAMP)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis src/chainrule.egg-info
