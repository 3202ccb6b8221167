# The README's two commands: `make demo` and `make test`. Both build .venv from nothing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: test demo lint cassettes bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Re-install whenever pyproject.toml changes (new dependency, new entry point).
$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .

test: lint
	$(BIN)/python -m pytest

demo: $(VENV)/.installed
	$(BIN)/billing-sync demo

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build *.egg-info billing-sync.db

# Re-record the Stripe cassettes: against the stand-in by default, or against Stripe test mode
# with STRIPE_API_KEY=sk_test_… STRIPE_API_BASE=https://api.stripe.com make cassettes
cassettes: $(VENV)/.dev-installed
	$(BIN)/python -m tests.stripe_scenarios.record

# API calls and wall time of a cycle at 10,000 Accounts / 12,000 subscriptions (not a test).
bench: $(VENV)/.dev-installed
	$(BIN)/python -m tests.bench_cycle
