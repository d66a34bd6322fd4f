# Two entry points, each creating the virtual environment when needed:
#   make demo   - simulate the default scenario, sweep bit rates x split points, plot the saving
#   make test   - lint, type-check and run every test (what CI runs)
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
OUT ?= results/demo
DEMO_SCENARIO ?= scenarios/default.toml
DEMO_SPLITS ?= stem,layer1_1,layer2_1,layer3_1,layer4_1

.PHONY: demo test lint typecheck pytest clean

$(VENV)/.core-installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.all-installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[torch,dev]'
	touch $@ $(VENV)/.core-installed

demo: $(VENV)/.core-installed
	$(PY) -m simulator simulate $(DEMO_SCENARIO) --out $(OUT)
	$(PY) -m simulator sweep $(DEMO_SCENARIO) --out $(OUT)/sweep \
		--grid channel.uplink_bps=log:1e5:1e9:17 \
		--grid workload.split=$(DEMO_SPLITS)
	$(PY) -m simulator plot saving $(OUT)/sweep/results.csv --out $(OUT)/saving.png

lint: $(VENV)/.all-installed
	$(PY) -m ruff check .

typecheck: $(VENV)/.all-installed
	$(PY) -m mypy

pytest: $(VENV)/.all-installed
	$(PY) -m pytest

test: lint typecheck pytest

clean:
	rm -rf $(VENV) results .pytest_cache .mypy_cache .ruff_cache
