# Switchyard: `make run` starts the gateway, `make test` runs every test.
# Both set up .venv from the pinned lock files first (Python 3.11+ is all a
# fresh machine needs).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9

.DEFAULT_GOAL := help
.PHONY: help run test test-unit test-e2e check format lock clean bench bench-quick bench-compare bench-peers profile instructions wrk chaos

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-14s %s\n", $$1, $$2}'

$(BIN)/uv:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.runtime: requirements.lock pyproject.toml | $(BIN)/uv
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $@

$(VENV)/.dev: requirements-dev.lock $(VENV)/.runtime
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements-dev.lock
	touch $@

# The bench extra (locust, py-spy) on top of dev; only the bench targets need it.
$(VENV)/.bench: requirements-bench.lock $(VENV)/.dev
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements-bench.lock
	touch $@

# wrk is the fast closed-loop generator; without it (not root, no apt) bench falls
# back to its Python generator and says so in the report.
wrk:
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
		&& (apt-get install -y -q wrk >/dev/null 2>&1 || { apt-get update -q >/dev/null \
		&& apt-get install -y -q wrk >/dev/null; }) ; } || echo "wrk not installed: bench uses its Python generator"

run: $(VENV)/.runtime ## start the gateway (embedded demo config unless SWITCHYARD_CONFIG is set; ARGS="--port 9000")
	$(BIN)/python -m app $(ARGS)

test: $(VENV)/.dev ## run the whole test suite (unit + end-to-end)
	$(BIN)/python -m pytest

test-unit: $(VENV)/.dev ## unit tests only
	$(BIN)/python -m pytest tests/unit

test-e2e: $(VENV)/.dev ## end-to-end tests only (real server processes on loopback)
	$(BIN)/python -m pytest tests/e2e

check: $(VENV)/.dev ## format check, lint, type check
	$(BIN)/ruff format --check app tests loadtest
	$(BIN)/ruff check app tests loadtest
	$(BIN)/mypy

format: $(VENV)/.dev ## apply the formatter and safe lint fixes
	$(BIN)/ruff format app tests loadtest
	$(BIN)/ruff check --fix app tests loadtest

bench: $(VENV)/.bench wrk ## benchmark on loopback (~10 min), writes loadtest/RESULTS.md (ARGS="--workers 1")
	$(BIN)/python -m loadtest.bench $(ARGS)

bench-quick: $(VENV)/.bench wrk ## a short smoke run of the benchmark (~2 min), not written to RESULTS.md
	$(BIN)/python -m loadtest.bench --quick $(ARGS)

bench-compare: $(VENV)/.bench wrk ## bench plus the gateway of git revision BASE side by side, a before/after table (BASE=HEAD~1)
	@test -n "$(BASE)" || { echo "usage: make bench-compare BASE=<git revision> [ARGS=...]"; exit 2; }
	$(BIN)/python -m loadtest.bench --baseline $(BASE) $(ARGS)

# LiteLLM's proxy for bench-peers, in a throw-away virtualenv of its own (never .venv; git-ignored).
# 1.106.0: the newest litellm[proxy] whose dependencies resolve on the registry here (1.107.x,
# reported compromised, is not served). httptools: uvicorn's C parser, as in
# uvicorn[standard], so that LiteLLM is measured with its server's fast HTTP path.
PEERS_VENV := .peers/litellm-venv
LITELLM_VERSION := 1.106.0
HTTPTOOLS_VERSION := 0.9.0

$(PEERS_VENV)/.litellm-$(LITELLM_VERSION): | $(BIN)/uv
	rm -rf $(PEERS_VENV)
	$(PYTHON) -m venv $(PEERS_VENV)
	$(BIN)/uv pip install --quiet --python $(PEERS_VENV)/bin/python \
		"litellm[proxy]==$(LITELLM_VERSION)" "httptools==$(HTTPTOOLS_VERSION)"
	touch $@

bench-peers: $(VENV)/.bench wrk $(PEERS_VENV)/.litellm-$(LITELLM_VERSION) ## Switchyard vs LiteLLM's proxy, equal workers (~5 min), writes loadtest/results/peers.md (ARGS="--rev HEAD")
	$(BIN)/python -m loadtest.peers --litellm $(PEERS_VENV)/bin/litellm $(ARGS)

profile: $(VENV)/.bench ## py-spy profiles of the gateway worker under load, in loadtest/profiles/
	$(BIN)/python -m loadtest.bench --profile $(ARGS)

instructions: $(VENV)/.bench ## instructions per request of the gateway's code, valgrind (~5 min; ARGS="--baseline HEAD~1")
	$(BIN)/python -m loadtest.instructions $(ARGS)

chaos: $(VENV)/.runtime ## accounts fail and recover under steady load (~70 s), writes loadtest/results/chaos.md (ARGS="--rate 150")
	$(BIN)/python -m loadtest.chaos $(ARGS)

lock: | $(BIN)/uv ## re-pin the dependencies from pyproject.toml
	$(BIN)/uv pip compile --quiet pyproject.toml -o requirements.lock --python-version 3.11
	$(BIN)/uv pip compile --quiet pyproject.toml --extra dev -o requirements-dev.lock --python-version 3.11
	$(BIN)/uv pip compile --quiet pyproject.toml --extra dev --extra bench -o requirements-bench.lock --python-version 3.11

clean: ## remove the virtualenv and caches
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
