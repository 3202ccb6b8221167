# The README's two commands: `make demo` and `make test`. Both build .venv from nothing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: test demo lint cassettes bench clean

# A .venv made by a Python this project does not support (older than 3.11) is rebuilt.
$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "billing-sync needs Python 3.11 or later; set PYTHON=python3.11"; exit 2; }
	$(PYTHON) -m venv $(VENV)

ifneq ($(wildcard $(BIN)/python),)
ifneq ($(shell $(BIN)/python -c 'import sys; print(sys.version_info >= (3, 11))'),True)
$(shell rm -rf $(VENV))
endif
endif

# Re-install whenever pyproject.toml changes (new dependency, new entry point).
$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

# The gate: lint, format, types, then the suite with warnings as errors and a coverage floor.
lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check sync metadata scheduler
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest --cov --cov-report=term

# `make demo PROVIDER=chargebee` (or recurly) tells the same story in that billing system.
# chargebee-python is not a dependency of the package (the tests pin it in .[dev]): the
# Chargebee demo installs it into .venv first.
demo: $(VENV)/.installed
ifeq ($(PROVIDER),chargebee)
	$(BIN)/python -c 'import chargebee' 2>/dev/null || $(BIN)/python -m pip install --quiet 'chargebee>=3.29,<4'
endif
	$(BIN)/billing-sync demo$(if $(PROVIDER), --provider $(PROVIDER))

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .coverage* build *.egg-info billing-sync.db

# Re-record the Stripe cassettes: against the stand-in by default, or against Stripe test mode
# with STRIPE_API_KEY=sk_test_… STRIPE_API_BASE=https://api.stripe.com make cassettes
cassettes: $(VENV)/.dev-installed
	$(BIN)/python -m tests.stripe_scenarios.record

# API calls and wall time of a cycle at 10,000 Accounts / 12,000 subscriptions (not a test).
bench: $(VENV)/.dev-installed
	$(BIN)/python -m tests.bench_cycle
