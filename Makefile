# The two commands of README.md, each doing its own set-up on first use:
#   make demo   the main job
#   make test   the test suite
# Both build .venv (python3 -m venv + pip) with chainrule and its extras, and
# install Debian's graphviz (the `dot` program that renders graph drawings) and
# chromium with chromium-driver (the headless browser the explore page is tested in).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test bench system-packages clean

demo: $(STAMP) system-packages
	$(PY) -m chainrule demo

test: $(STAMP) system-packages
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) bench/scalar_mlp.py
	$(PY) bench/op_overhead.py
	$(PY) bench/tensor_mlp.py
	$(PY) bench/train_digits.py
	$(PY) bench/chunk_backward.py
	$(PY) bench/rnn_step.py
	$(PY) bench/ported_programs.py
	$(PY) bench/model_sizes.py
	$(PY) bench/graph_memory.py
	$(PY) bench/page_faults.py
	$(PY) bench/distributed_allreduce.py
	$(PY) bench/distributed_train.py

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	touch $(STAMP)

# graphviz is optional for users (drawings fall back to DOT text); chromium and
# chromium-driver only run the explore page's browser tests (tests/test_explore.py),
# which fail without them when run as root. Install them where we can.
system-packages:
	@if ! command -v dot >/dev/null 2>&1 || [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && apt-get install -y -qq --no-install-recommends \
	      graphviz chromium chromium-driver >/dev/null; \
	  else \
	    echo "note: graphviz, chromium or chromium-driver is missing (apt-get install graphviz chromium chromium-driver); graph rendering and browser tests will skip"; \
	  fi; \
	fi

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis src/chainrule.egg-info
