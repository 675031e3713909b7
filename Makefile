# Puente's two commands: `make run` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= $(shell for p in $$HOME/.pyenv/versions/3.13*/bin/python3.13 /root/.pyenv/versions/3.13*/bin/python3.13 $$(command -v python3.13); do "$$p" -c 'import sys; assert sys.version_info[:2] == (3, 13)' 2>/dev/null && { echo "$$p"; break; }; done)
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test install install-test install-bench chromium check clean

## Install everything and run Puente on the embedded store (or MONGODB_URI).
run: install
	$(VENV)/bin/puente run

## Install the test extras and run every test, Python and Node.
test: install-test chromium
	$(VENV)/bin/lint-imports
	$(PY) -m pytest
	cd bridge_node && npm test

check: install
	$(VENV)/bin/puente check

install: $(VENV)/.installed bridge_node/node_modules/.installed

install-test: install $(VENV)/.installed-test

## The benchmarks' extras (plots, profilers); see bench/README.md.
install-bench: install
	$(PY) -m pip install --quiet -e '.[bench]'

$(VENV)/.installed: pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.13 not found: install it (pyenv install 3.13) or pass PYTHON=/path/to/python3.13"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[chart]'
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[test,chart]'
	touch $@

bridge_node/node_modules/.installed: bridge_node/package.json bridge_node/package-lock.json
	@command -v node >/dev/null || { echo "Node.js 20+ not found: install it (apt-get install nodejs npm)"; exit 1; }
	cd bridge_node && npm ci --no-audit --no-fund
	touch $@

## Debian's Chromium for the browser tests, installed only when missing.
chromium:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

clean:
	rm -rf $(VENV) bridge_node/node_modules
