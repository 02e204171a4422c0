# SnapRace image pipeline. `make test` runs every offline check and the tests; see README.md.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Lambda runs python3.13; sam build needs that interpreter on PATH. pyenv provides it here.
PY313 ?= $(firstword $(shell command -v python3.13 2>/dev/null | grep -v shims) $(wildcard $(HOME)/.pyenv/versions/3.13*/bin/python3.13) $(wildcard /root/.pyenv/versions/3.13*/bin/python3.13))
PY313_BIN := $(dir $(PY313))
VENV := .venv
SAM_VENV := .venv-sam
CHECKOV_VENV := .venv-checkov
export AWS_DEFAULT_REGION ?= ap-northeast-2
export SAM_CLI_TELEMETRY := 0
# pip's errors only: its warnings (a machine's pip.conf, setuptools) are not this project's; PIPFLAGS=-q shows them
PIPFLAGS ?= -qq

.PHONY: browser help venv demo lint cfn-lint sam-validate asl security build unit test test-fast bench clean

help:
	@echo "make demo    the pipeline on the embedded local stack with generated photos (no AWS account)"
	@echo "make test    every offline check (lint, validate, ASL, security scan, sam build) and pytest"
	@echo "make venv    create .venv with everything needed to develop and test"
	@echo "make test-fast   the quick tests (no local stack, no real models): the development loop"
	@echo "make lint | security | build | unit   one part of make test"
	@echo "make bench   the RBNR benchmarks' checks (minutes; they need ../shared/datasets)"

$(VENV)/.installed: requirements-dev.txt requirements-vision.txt src/requirements.txt pyproject.toml
	@test -n "$(PY313)" || { echo "python3.13 not found: install it (pyenv install 3.13)"; exit 1; }
	@echo "make: creating $(VENV) with the pinned packages (once; a few minutes)"
	@$(PY313) -m venv $(VENV)
	@$(VENV)/bin/pip install $(PIPFLAGS) --upgrade pip
	@$(VENV)/bin/pip install $(PIPFLAGS) -r requirements-dev.txt -r requirements-vision.txt   # + the vision extra
	@$(VENV)/bin/pip install $(PIPFLAGS) --no-deps --editable .   # the snaprace command
	@touch $@

$(SAM_VENV)/.installed: tools/requirements-sam.txt
	@echo "make: creating $(SAM_VENV) (sam, cfn-lint)"
	@$(PY313) -m venv $(SAM_VENV)
	@$(SAM_VENV)/bin/pip install $(PIPFLAGS) -r tools/requirements-sam.txt
	@touch $@

$(CHECKOV_VENV)/.installed: tools/requirements-checkov.txt
	@echo "make: creating $(CHECKOV_VENV) (checkov)"
	@$(PY313) -m venv $(CHECKOV_VENV)
	@$(CHECKOV_VENV)/bin/pip install $(PIPFLAGS) -r tools/requirements-checkov.txt
	@touch $@

tools/asl/node_modules/.installed: tools/asl/package.json
	cd tools/asl && npm install --no-audit --no-fund --silent
	touch $@

venv: $(VENV)/.installed

demo: $(VENV)/.installed
	$(VENV)/bin/snaprace demo

lint: $(VENV)/.installed cfn-lint sam-validate asl
	$(VENV)/bin/ruff check snaprace src tests tools bench
	$(VENV)/bin/ruff format --check snaprace src tests tools bench
	$(VENV)/bin/mypy   # src/pipeline, as pyproject.toml's [tool.mypy] says

# cfn-lint with the team's standards (tools/cfn_rules); from .venv, where the rules can use the
# project's own SAM transform (snaprace.local.iam)
cfn-lint: $(VENV)/.installed
	$(VENV)/bin/cfn-lint template.yaml --append-rules tools/cfn_rules

sam-validate: $(SAM_VENV)/.installed
	$(SAM_VENV)/bin/sam validate --lint --template template.yaml

asl: $(VENV)/.installed tools/asl/node_modules/.installed
	@mkdir -p .build
	$(VENV)/bin/python tools/render_asl.py template.yaml .build/asl
	for f in .build/asl/*.asl.json; do tools/asl/node_modules/.bin/asl-validator --json-path "$$f" || exit 1; done

security: $(CHECKOV_VENV)/.installed
	$(CHECKOV_VENV)/bin/checkov --skip-download --quiet --compact --config-file .checkov.yaml --file template.yaml

build: $(SAM_VENV)/.installed
	PATH="$(PY313_BIN):$$PATH" $(SAM_VENV)/bin/sam build --template template.yaml

# the pages' browser tests drive Debian's chromium (tests/e2e/test_pages.py); CI runs as root
browser:
	@command -v chromium >/dev/null || { test "$$(id -u)" = 0 && export DEBIAN_FRONTEND=noninteractive \
	  && { apt-get install -y -q chromium >/dev/null || { apt-get update -q && apt-get install -y -q chromium >/dev/null; }; }; } \
	  || { echo "chromium is missing: sudo apt-get install chromium"; exit 1; }

unit: $(VENV)/.installed browser
	$(VENV)/bin/pytest -m "not benchmark"

test: lint security build unit

test-fast: $(VENV)/.installed
	$(VENV)/bin/pytest -m "not slow and not benchmark" -q

bench: $(VENV)/.installed
	$(VENV)/bin/pytest -m benchmark -v   # the RBNR benchmarks' checks (they skip without ../shared)

clean:
	rm -rf $(VENV) $(SAM_VENV) $(CHECKOV_VENV) .aws-sam .build .snaprace tools/asl/node_modules
