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

install: $(VENV)/.synced browser ## create .venv and install the locked dependencies (and chromium)

# The browser tests drive Debian's chromium (playwright's own browser download is out of reach).
# Installed only when it is missing and apt-get can run (as root); elsewhere those tests skip.
browser: ## install Debian's chromium for the browser tests, if missing and apt-get can
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		echo "installing chromium (apt-get) for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			chromium fonts-noto-color-emoji >/dev/null; \
	else echo "chromium is missing and apt-get cannot run: the browser tests will skip"; fi

run: install ## start NATS, PostgreSQL and Redis if needed, migrate, and run all five services
	$(PY) -m deploy.launcher

test: install ## run the whole test suite against the real NATS, PostgreSQL and Redis
	$(PY) -m deploy.infra --start-missing
	$(PY) -m pytest -n 2 --dist loadfile -m "not faults"

test-hardening: install ## auth, limits, authorization, fuzzing, prompt injection, faults; one table
	$(PY) -m deploy.infra --start-missing
	rm -rf .data/hardening
	$(PY) -m pytest tests/hardening tests/integration/test_bus_fuzz.py tests/faults -p no:logging \
		--junitxml=.data/hardening/junit.xml; status=$$?; $(PY) -m tests.hardening.summary; \
		summary=$$?; test $$status -eq 0 -a $$summary -eq 0

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

eval-agent: install ## score the assistant (offline planner) on the public evaluation cases, then the NLU dev split
	OPENBLAS_NUM_THREADS=1 $(PY) -m services.agent.eval ../shared/eval/agent_public.jsonl
	OPENBLAS_NUM_THREADS=1 $(PY) -m services.agent.nlu.report

train-nlu: install ## retrain the understanding heads (services/agent/nlu/model.npz) from services/agent/nlu/data
	OPENBLAS_NUM_THREADS=1 $(PY) -m services.agent.nlu.train

bench: install ## every performance figure (issue 16) from one run of the stack: a table and .data/bench/latest.json
	$(PY) -m deploy.infra --start-missing
	OPENBLAS_NUM_THREADS=1 $(PY) bench/run.py

bench-smoke: install ## the same, with tiny amounts (about 10 s of work): proves every figure runs
	$(PY) -m deploy.infra --start-missing
	OPENBLAS_NUM_THREADS=1 $(PY) bench/run.py --smoke --json .data/bench/smoke.json

bench-logs: install ## measure POST /v1/habits/{id}/logs at 32 concurrent clients
	$(PY) bench/log_writes.py

bench-client: install ## in-browser timings of the web client and the gzip weight of /app
	$(PY) bench/client.py

bench-faults: install ## kill -9 and SIGTERM each part of the stack under 50 writes/s, 60 s each
	$(PY) bench/faults.py

bench-chat: install ## chat latency: offline planner at 20 clients, fake OpenAI model at 50
	$(PY) bench/chat_offline.py
	$(PY) bench/chat_openai.py

clean: ## remove local data (.data) and caches, keep .venv
	rm -rf .data .pytest_cache .mypy_cache .ruff_cache .hypothesis

.PHONY: help install browser bench bench-smoke bench-client run test test-hardening test-unit lint types check migrate eval-knowledge eval-agent train-nlu bench-logs bench-faults bench-chat clean
