# Moniqo — every target bootstraps from nothing: uv (via pip, into .tools/), the venv, then acts.
SHELL := /bin/bash
export UV_PYTHON_DOWNLOADS ?= never
PYTHON ?= python3
UV ?= $(CURDIR)/.tools/bin/uv
VENV := $(CURDIR)/.venv
RUN := $(UV) run --frozen --no-sync

.DEFAULT_GOAL := help
.PHONY: help install browser run test test-reliability lint bench up down clean

help: ## Show this help
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-8s %s\n", $$1, $$2}'

$(UV):
	@echo "» installing uv into .tools/ (pip)"
	$(PYTHON) -m venv $(CURDIR)/.tools
	$(CURDIR)/.tools/bin/pip install --quiet --disable-pip-version-check uv

$(VENV)/.synced: $(UV) uv.lock pyproject.toml $(wildcard libs/*/pyproject.toml services/*/pyproject.toml)
	$(UV) sync --frozen --all-packages
	@touch $@

install: $(VENV)/.synced ## Install uv (if missing) and the locked environment into .venv

run: install ## Start the whole platform locally and print a dev token (ARGS=--secure-bus: a NATS user per service)
	$(RUN) moniqo run $(ARGS)

lint: install ## ruff + mypy --strict
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) mypy libs services tests bench

# Idempotent: nothing to do when chromium is there; installs it only as root with apt-get (else the test skips).
browser: ## Debian's chromium for the docs browser test (installed with apt-get when missing and root)
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "» installing chromium with apt-get (headless browser for tests/e2e/test_docs_browser.py)"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get install -y -q chromium >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }; \
	else \
		echo "» chromium is missing and this is not root: the docs browser test will skip (apt-get install -y chromium)"; \
	fi

test: install lint browser ## Lint, then the whole test suite on real NATS (JetStream) and a real Mongo wire server
	$(RUN) pytest

test-reliability: install ## The long runs: the crash storm, then fuzzing with 500 examples per operation
	$(RUN) pytest -m reliability -s tests/reliability
	MONIQO_FUZZ_EXAMPLES=500 $(RUN) pytest tests/e2e/test_fuzz_openapi.py

bench: install ## Benchmarks P1-P6 on the embedded stack (or NATS_URL/MONGODB_URL): table + bench/results/latest.json
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
		&& { echo "» installing wrk (apt-get)"; apt-get install -y -qq wrk >/dev/null || \
		     { apt-get update -qq >/dev/null && apt-get install -y -qq wrk >/dev/null; }; }; } \
		|| echo "» wrk unavailable: the bench falls back to its in-process HTTP load generator"
	$(RUN) python -m bench $(BENCH_ARGS)

up: ## docker compose up (needs a Docker engine)
	docker compose up --build -d

down: ## docker compose down
	docker compose down

clean: ## Remove the venv, tools and local data
	rm -rf .venv .tools .data
