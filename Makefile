# Habyss: `make run` starts everything, `make test` runs the suite. `make help` lists the rest.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv

.DEFAULT_GOAL := help

help: ## list the targets
	@grep -E '^[a-z-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-16s %s\n", $$1, $$2}'

$(VENV)/.synced: pyproject.toml uv.lock
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@test -x $(UV) || { $(PY) -m pip --version >/dev/null 2>&1 || $(PY) -m ensurepip --upgrade >/dev/null; \
		$(PY) -m pip install --quiet --disable-pip-version-check "uv==0.13.9"; }
	$(UV) sync --frozen --all-extras --python $(PY)
	@touch $@

install: $(VENV)/.synced ## create .venv and install the locked dependencies

run: install ## start NATS, PostgreSQL and Redis if needed, migrate, and run all five services
	$(PY) -m deploy.launcher

test: install ## run the whole test suite against the real NATS, PostgreSQL and Redis
	$(PY) -m deploy.infra --start-missing
	$(PY) -m pytest -n 2 --dist loadfile

test-unit: install ## run only the tests that need no servers
	$(PY) -m pytest tests/unit tests/contract

lint: install ## ruff lint and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

types: install ## mypy, strict
	$(VENV)/bin/mypy shared services deploy

check: lint types test ## lint, types and tests, as CI runs them

migrate: install ## apply the database migrations
	$(VENV)/bin/alembic upgrade head

eval-knowledge: install ## recall@5 and MRR of dense, BM25 and hybrid retrieval on the eval set
	OPENBLAS_NUM_THREADS=1 $(PY) -m services.knowledge.evaluation --workers 2

eval-agent: install ## score the assistant (offline planner) on the public evaluation cases
	$(PY) -m services.agent.eval ../shared/eval/agent_public.jsonl

bench-logs: install ## measure POST /v1/habits/{id}/logs at 32 concurrent clients
	$(PY) bench/log_writes.py

bench-chat: install ## chat latency: offline planner at 20 clients, fake OpenAI model at 50
	$(PY) bench/chat_offline.py
	$(PY) bench/chat_openai.py

clean: ## remove local data (.data) and caches, keep .venv
	rm -rf .data .pytest_cache .mypy_cache .ruff_cache .hypothesis

.PHONY: help install run test test-unit lint types check migrate eval-knowledge eval-agent bench-logs bench-chat clean
