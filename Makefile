# Everything here needs only Python 3.11+ and make: uv is bootstrapped into .tools/.
PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 9092
ROLE ?= admin
PYTEST_ARGS ?=
# The suite mostly waits on databases and the broker: two processes use two cores.
TEST_WORKERS ?= 2

export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))
export UV_LINK_MODE := copy
export UV_PYTHON := $(PYTHON)
export UV_PYTHON_DOWNLOADS := never

.PHONY: install run seed test lint format migrate schemas schemas-check broker token bench bench-delivery bench-crm bench-erp bench-gateway bench-flows clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet "uv==$(UV_VERSION)"

$(STAMP): $(UV) uv.lock pyproject.toml */pyproject.toml
	$(UV) sync --locked --all-packages
	@touch $@

install: $(STAMP) ## Create .venv with every package and development tool

run: install ## Start broker, services and gateway on embedded defaults (SEED=1: with demo data); Ctrl-C stops all
	$(BIN)/python -m deploy.local.run

seed: install ## Load the demo company through the gateway of a running `make run`
	$(BIN)/python -m deploy.local.seed

test: install ## Run the whole suite (SQLite, and PostgreSQL when reachable); TEST_WORKERS=0 runs it in one process
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

lint: install ## ruff (lint + format check) and mypy --strict
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

migrate: install ## Bring every database to the latest migration
	$(BIN)/alembic -c crm-service/alembic.ini upgrade head
	$(BIN)/alembic -c erp-service/alembic.ini upgrade head
	$(BIN)/alembic -c gateway/alembic.ini upgrade head

schemas: install ## Regenerate the JSON Schemas and the AsyncAPI document from the models
	$(BIN)/platform-schemas

schemas-check: install
	$(BIN)/platform-schemas --check

broker: install ## Run the embedded Kafka-protocol broker in the foreground (PORT=9092)
	$(BIN)/platform-broker --port $(PORT)

token: install ## Print a development access token: make token ROLE=sales
	@$(BIN)/platform-token --role $(ROLE)

bench: bench-delivery bench-crm bench-erp bench-gateway bench-flows ## Run every benchmark; results in docs/benchmarks.md

bench-delivery: install ## Event delivery latency, commit to consumer commit
	$(BIN)/python -m tests.benchmarks.delivery_latency

bench-crm: install ## 1,000,000 customers: list/search pages and create throughput (PostgreSQL)
	$(BIN)/python -m tests.benchmarks.crm_customers

bench-erp: install ## Orders from a backlog of 10,000 accepted-quote events
	$(BIN)/python -m tests.benchmarks.erp_orders

bench-gateway: install ## Through the gateway against straight to the ERP: throughput and p99
	$(BIN)/python -m tests.benchmarks.gateway_proxy

bench-flows: install ## Time to consistency of the six business flows, end to end (RUNS=20)
	$(BIN)/python -m tests.benchmarks.flow_consistency

clean:
	rm -rf $(VENV) $(TOOLS) .data .mypy_cache .ruff_cache .pytest_cache
