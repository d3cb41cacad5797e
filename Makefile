# Two commands do everything on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export FLASK_APP := webapp:create_app
PORT ?= 5000

.PHONY: run test venv translations db demo lint typecheck fmt bench services clean cluster

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -U pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

## translations: compile the catalogs; a broken catalog (or a fuzzy entry) fails the build.
translations: $(STAMP)
	$(BIN)/python scripts/check-translations
	$(BIN)/pybabel compile -d webapp/translations

db: venv translations
	scripts/secret-key
	$(BIN)/flask db upgrade
	$(BIN)/flask geo ensure

demo: db
	$(BIN)/flask demo seed --history-days 90

## run: the whole system on SQLite and a serverless broker, with demo data.
run: demo
	@echo ""
	@echo "  Phản ánh hiện trường is starting on http://127.0.0.1:$(PORT)/"
	@echo "  Back office: http://127.0.0.1:$(PORT)/bo/  (logins above)"
	@echo "  The NLU server builds its Rasa environment once (~3 min, cached) and trains;"
	@echo "  reports wait in 'received' until it answers, then the sweep classifies them."
	@echo ""
	PORT=$(PORT) $(BIN)/honcho -f Procfile start $$(scripts/procs)

## test: the whole suite against PostgreSQL and Redis on 127.0.0.1 (started if down).
test: venv translations
	scripts/ensure-services
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest

lint:
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

## typecheck: mypy over webapp, bot, workers and config, as configured in pyproject.toml ([tool.mypy]).
typecheck: $(STAMP)
	$(BIN)/mypy

fmt:
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

## cluster: the production topology on 127.0.0.1 (haproxy, 2 web, 2 Rasa, 3 workers, 2 beats,
## SeaweedFS, PostgreSQL, Redis) until Ctrl-C; see deploy/README.md. CLUSTER_ARGS=--fake-nlu…
CLUSTER_PORT ?= 8443
cluster: venv translations
	scripts/ensure-services
	$(BIN)/python -m deploy.cluster --port $(CLUSTER_PORT) $(CLUSTER_ARGS)

bench: venv
	scripts/ensure-services
	$(BIN)/python bench/intake_throughput.py

clean:
	rm -rf instance
