# kmslab — two commands do all set-up on a fresh machine:
#   make demo   virtualenv + install + embedded lab + the whole catalog, one row per scenario
#   make test   virtualenv + install + lint + types + LocalStack + the whole test suite
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
# The LocalStack tests share one LocalStack and run alone; the rest run on both cores.
TEST_WORKERS ?= 2
PYTHON_DIRS := harness tests features bench

.PHONY: help install demo test lint format typecheck pytest bench localstack localstack-down \
        compliance clean check-python oracle examples test-lowest bench-compare

help:
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 20

check-python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "kmslab needs Python 3.11+ (set PYTHON=...)")'
	@command -v terraform >/dev/null || { echo "kmslab needs terraform on PATH"; exit 2; }

$(STAMP): pyproject.toml | check-python
	@test -x $(BIN)/python || { echo "kmslab: creating the virtualenv $(VENV) ..."; $(PYTHON) -m venv $(VENV); }
	@echo "kmslab: upgrading pip in $(VENV) ..."
	@$(BIN)/pip install -q --upgrade pip
	@echo "kmslab: installing kmslab and its test tools into $(VENV) (about 2 minutes the first time; pip lists what it downloads) ..."
	@$(BIN)/pip install --progress-bar off -e '.[test]' | grep --line-buffered -E '^(Collecting|Successfully installed)' | sed -u 's/^/  /'; exit $${PIPESTATUS[0]}
	@touch $@
	@echo "kmslab: installed ($(BIN)/kmslab)"

install: $(STAMP) ## create .venv and install kmslab with its test tools

demo: install ## run the whole catalog on the embedded lab and print the table
	@echo "kmslab: running the whole catalog on the embedded lab (about a minute; one line per scenario) ..."
	$(BIN)/kmslab run --all

lint: install ## ruff lint and format check
	$(BIN)/ruff check $(PYTHON_DIRS)
	$(BIN)/ruff format --check $(PYTHON_DIRS)

format: install ## apply ruff fixes and formatting
	$(BIN)/ruff check --fix $(PYTHON_DIRS)
	$(BIN)/ruff format $(PYTHON_DIRS)

typecheck: install ## mypy over the harness package
	$(BIN)/mypy

oracle: ## install the pinned iam-simulate test oracle (npm, into .cache/; needs node and npm)
	@scripts/install-oracle.sh

localstack: ## start LocalStack on the host (127.0.0.1:4599) in its own virtualenv
	PYTHON=$(PYTHON) scripts/localstack.sh up

localstack-down: ## stop the LocalStack that `make localstack` started
	scripts/localstack.sh down

pytest: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

examples: install ## run the sample user project (examples/kms-checks) with kmslab's pytest plugin
	cd examples/kms-checks && ../../$(BIN)/python -m pytest -q -p no:cacheprovider

test: lint typecheck oracle ## the whole suite: lint, types, oracle, LocalStack, pytest (tests/ and features/)
	@PYTHON=$(PYTHON) scripts/localstack.sh up
	@status=0; KMSLAB_LOCALSTACK_URL=http://127.0.0.1:$${KMSLAB_LOCALSTACK_PORT:-4599} \
	  $(BIN)/python -m pytest -m localstack $(PYTEST_ARGS) || status=$$?; \
	  scripts/localstack.sh down; \
	  $(BIN)/python -m pytest -n $(TEST_WORKERS) -m "not localstack" $(PYTEST_ARGS) || status=$$?; \
	  exit $$status

# The lowest allowed versions: every direct dependency at its pyproject.toml floor (pinned by
# scripts/lowest-constraints.py, resolved lowest-direct by uv) in .venv-lowest, then the fast
# tests (no LocalStack, Terraform, oracle or slow tests) on both cores.
VENV_LOWEST := .venv-lowest
LOWEST_TESTS ?= tests/architecture/test_import_cycles.py tests/aws tests/foundation tests/policy \
                tests/evidence tests/lab
test-lowest: check-python ## the fast tests on the lowest allowed dependency versions (.venv-lowest)
	@test -x $(VENV_LOWEST)/bin/uv || { echo "kmslab: creating $(VENV_LOWEST) with uv ..."; \
	  $(PYTHON) -m venv $(VENV_LOWEST) && $(VENV_LOWEST)/bin/pip install -q uv; }
	@$(PYTHON) scripts/lowest-constraints.py > $(VENV_LOWEST)/floors.txt
	@echo "kmslab: installing the lowest allowed versions into $(VENV_LOWEST) ..."
	$(VENV_LOWEST)/bin/uv pip install -q --python $(VENV_LOWEST)/bin/python \
	  --resolution lowest-direct -c $(VENV_LOWEST)/floors.txt -e '.[test]'
	$(VENV_LOWEST)/bin/python -m pytest -p no:cacheprovider -n $(TEST_WORKERS) -q \
	  -m "not localstack and not slow and not terraform and not oracle" $(LOWEST_TESTS)

bench: install ## benchmarks with baselines measured in the same run (starts LocalStack for its baseline)
	@PYTHON=$(PYTHON) scripts/localstack.sh up
	@status=0; KMSLAB_LOCALSTACK_URL=http://127.0.0.1:$${KMSLAB_LOCALSTACK_PORT:-4599} \
	  $(BIN)/python -m bench $(BENCH) || status=$$?; \
	  scripts/localstack.sh down; exit $$status

bench-compare: install ## BASE=<rev>: the benchmarks of BASE and of this tree, interleaved in one run (BENCH= picks sections)
	@test -n "$(BASE)" || { echo "usage: make bench-compare BASE=<rev> [BENCH='diagnosis evaluator']"; exit 2; }
	$(BIN)/python -m bench.compare $(BASE) $(BENCH)

clean: ## remove runtime state (not the virtualenvs)
	rm -rf .kmslab .pytest_cache .mypy_cache .ruff_cache
