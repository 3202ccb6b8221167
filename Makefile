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
	$(BIN)/python -m pytest -n auto --maxprocesses 4 --cov --cov-report=term

# `make demo PROVIDER=chargebee` (or recurly) tells the same story in that billing system.
demo: $(VENV)/.installed
	$(BIN)/billing-sync demo$(if $(PROVIDER), --provider $(PROVIDER))

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .coverage* build *.egg-info billing-sync.db

# Re-record the cassettes of PROVIDER (stripe by default), against its stand-in by default or:
# Stripe test mode: STRIPE_API_KEY=sk_test_… STRIPE_API_BASE=https://api.stripe.com make cassettes
# a Chargebee test site: CHARGEBEE_SITE=acme-test CHARGEBEE_API_KEY=test_… make cassettes PROVIDER=chargebee
# a Recurly sandbox site: RECURLY_API_KEY=… RECURLY_SANDBOX=1 [RECURLY_API_BASE=…] make cassettes PROVIDER=recurly
PROVIDER ?= stripe
cassettes: $(VENV)/.dev-installed
	@case "$(PROVIDER)" in stripe|chargebee|recurly) ;; \
		*) echo "PROVIDER must be stripe, chargebee or recurly, got '$(PROVIDER)'"; exit 2;; esac
	$(BIN)/python -m tests.$(PROVIDER)_scenarios.record

# Engine CPU, memory, calls against a budget and wall time per cycle at SIZE Accounts (not a
# test; `make bench SIZE=100000` takes a while).
SIZE ?= 10000
bench: $(VENV)/.dev-installed
	$(BIN)/python -m tests.bench_cycle --accounts $(SIZE)
	$(BIN)/python -m tests.bench_providers --customers $(SIZE)
