# Developer shortcuts; CI runs .ci/run (and .github/workflows/ci.yml on GitHub).

PYTHON ?= python

.PHONY: dev lint types test cov docs bench check

## dev: install pip-verify editable, with the test tools and the gate's server
dev:
	$(PYTHON) -m pip install -e ".[test]"

## lint: ruff's rules and formatting (nothing is rewritten)
lint:
	ruff check .
	ruff format --check .

## types: mypy --strict (configured in pyproject.toml)
types:
	mypy verify tests bench

## test: the README's test command, without the install
test:
	$(PYTHON) -m pytest

## cov: the test suite with branch coverage of verify/, printing the total (floor as .ci/run)
cov:
	$(PYTHON) -m pytest --cov=verify --cov-branch --cov-report=term:skip-covered --cov-fail-under=90

## docs: build the documentation site (docs/, mkdocs.yml) into site/, failing on any warning;
## needs the docs extra: $(PYTHON) -m pip install -e ".[docs]"
docs:
	$(PYTHON) -m mkdocs build --strict

## bench: bench/bench_check.py; needs the network (the real package index), not hermetic
bench:
	@echo "bench: needs the network: it checks and downloads real packages from pip's index"
	$(PYTHON) bench/bench_check.py

## check: lint, types and tests
check: lint types test
