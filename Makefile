# One command sets everything up and runs the job: `make call` (a call in the terminal)
# or `make test` (the whole suite, what CI runs). Only python3 with venv and pip is needed for
# `make call`; `make test` also needs npm, PostgreSQL and Chromium (.ci/run installs them as root).
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin

.PHONY: setup call test serve check lint vendor-dsfr graph

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[test]"
	touch $@

# axe-core, run inside Chromium by the dashboard tests.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

setup: $(BIN)/.installed

call: setup
	$(BIN)/ivr call $(ARGS)

check: setup
	$(BIN)/ivr check

lint: setup
	$(BIN)/ruff check ivr tests $(wildcard bench) $(wildcard tools) gunicorn.conf.py

test: setup node_modules/.installed lint check
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Each flow's plan, drawn: docs/flows/<flow>.dot (its source, checked by the tests), and .svg
# laid out from that very file by Graphviz (the plan is built once per flow).
graph: setup
	mkdir -p docs/flows
	for flow in flows/*.yaml; do \
		name=$$(basename $$flow .yaml); \
		$(BIN)/ivr graph --flow $$flow -o docs/flows/$$name.dot || exit 1; \
		dot -Tsvg docs/flows/$$name.dot -o docs/flows/$$name.svg || exit 1; \
	done

# Local use (IVR_LOCAL=1): signatures checked only if TWILIO_AUTH_TOKEN is set, loopback only.
serve: setup
	IVR_LOCAL=1 $(BIN)/gunicorn --config gunicorn.conf.py --bind 127.0.0.1:$${PORT:-8000} "ivr.app:create_app()"

# Refresh the DSFR files the admin pages serve (ivr/admin/static/dsfr) from npm's @gouvfr/dsfr.
vendor-dsfr: setup
	$(BIN)/python tools/vendor_dsfr.py $(DSFR_VERSION)
