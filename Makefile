# Moniqo — every target bootstraps from nothing: uv (via pip, into .tools/), the venv, then acts.
SHELL := /bin/bash
export UV_PYTHON_DOWNLOADS ?= never
PYTHON ?= python3
UV ?= $(CURDIR)/.tools/bin/uv
VENV := $(CURDIR)/.venv
RUN := $(UV) run --frozen --no-sync

.DEFAULT_GOAL := help
.PHONY: help install run test test-reliability lint bench up down clean

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

run: install ## Start the whole platform locally (embedded NATS + Mongo wire server) and print a dev token
	$(RUN) moniqo run

lint: install ## ruff + mypy --strict
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) mypy libs services tests bench

test: install lint ## Lint, then the whole test suite on real NATS (JetStream) and a real Mongo wire server
	$(RUN) pytest

test-reliability: install ## The long runs: fuzzing with 500 examples per operation (make test runs 12)
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
