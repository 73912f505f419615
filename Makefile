# longtail developer entry points. `make` alone lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV   := .venv
PY     := $(VENV)/bin/python
PYTEST := $(PY) -m pytest
RUFF   := $(VENV)/bin/ruff
# Extra pytest arguments, e.g. `make test PYTEST_ARGS="-k dedup -x"`.
PYTEST_ARGS ?=

# Ray phones home with usage stats by default; there is no network here but PyPI.
export RAY_USAGE_STATS_ENABLED ?= 0

.PHONY: help setup demo lint test test-unit test-all clean distclean

help:
	@echo "longtail make targets:"
	@echo "  make setup      install apt build deps, .venv (pinned requirements), longtail (editable), KenLM lmplz"
	@echo "                  (first run several minutes; afterwards a no-op unless requirements/pyproject change)"
	@echo "  make demo       setup, then '.venv/bin/longtail demo': train the quality classifier if missing,"
	@echo "                  run manifests/sample.yaml into out/sample (KenLM models bootstrapped from the crawl)"
	@echo "  make lint       ruff check (config: pyproject.toml [tool.ruff]; skips .venv*, out, models, bench/data)"
	@echo "  make test       setup (+ scripts/setup_extras.sh: chromium, .venv-airflow), lint, then the fast tests (pytest -m 'not slow')"
	@echo "                  of tests/unit, tests/integration, tests/system in one session; ends with the time per layer;"
	@echo "                  no tests collected = failure"
	@echo "  make test-unit  setup, then tests/unit only (no Ray, no external processes; well under a minute)"
	@echo "  make test-all   setup, then every test including slow ones"
	@echo "  make clean      remove out/ and models/ (keeps .venv)"
	@echo "  make distclean  clean, and remove .venv"

setup:
	@bash scripts/setup.sh

demo: setup
	$(VENV)/bin/longtail demo

# pytest exits 5 when it collected no tests: treat that as a failure (same rule as .ci/run).
# One pytest session over the layers (pyproject's testpaths: tests/unit, tests/integration, tests/system), so the
# session's Ray, trained models and shared sample runs are set up once; tests/conftest.py prints the time per layer.
define run_pytest
	@set +e; $(PYTEST) $(1) -q --durations=15 $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make: pytest collected no tests - treating as failure" >&2; exit 1; fi; \
	exit $$rc
endef

# ruff is pinned in requirements.txt (installed by setup); exclusions are in pyproject.toml and repeated here.
define run_ruff
	$(RUFF) check --extend-exclude '.venv*,out,models,bench/data' .
endef

lint: setup
	$(run_ruff)

test: setup
	@bash scripts/setup_extras.sh
	$(run_ruff)
	$(call run_pytest,-m "not slow")

test-unit: setup
	$(call run_pytest,tests/unit -m "not slow")

test-all: setup
	@bash scripts/setup_extras.sh
	$(call run_pytest,)

clean:
	rm -rf out models

distclean: clean
	rm -rf $(VENV)
