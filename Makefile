# linli — the two commands are `make run` and `make test`; see README.md.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
DEV_ENV := DEBUG=1

.PHONY: run test lint bench setup setup-dev demo messages makemessages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.base: requirements/base.lock | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements/base.lock
	touch $@

$(VENV)/.dev: requirements/dev.lock | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements/dev.lock
	touch $@ $(VENV)/.base

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

messages: $(VENV)/.base
	$(BIN)/python -m linli.core.compile_messages

setup: $(VENV)/.base node_modules/.installed messages

setup-dev: $(VENV)/.dev node_modules/.installed messages

## Serve the demo street on SQLite at http://127.0.0.1:$(PORT)
run: setup
	mkdir -p var
	$(DEV_ENV) $(BIN)/python manage.py migrate --no-input
	$(DEV_ENV) $(BIN)/python manage.py createcachetable
	$(DEV_ENV) $(BIN)/python manage.py build_demo --if-empty
	$(DEV_ENV) $(BIN)/python manage.py demo_logins
	$(DEV_ENV) $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

## Rebuild the demo street from scratch (deletes var/linli.sqlite3)
demo: setup
	rm -f var/linli.sqlite3 var/linli.sqlite3-wal var/linli.sqlite3-shm
	$(DEV_ENV) $(BIN)/python manage.py migrate --no-input
	$(DEV_ENV) $(BIN)/python manage.py createcachetable
	$(DEV_ENV) $(BIN)/python manage.py build_demo

## The test suite (SQLite; PostgreSQL too when DATABASE_URL is set)
test: setup-dev
	$(BIN)/pytest $(PYTEST_ARGS)

lint: setup-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DJANGO_SETTINGS_MODULE=linli.test_settings $(BIN)/python manage.py makemigrations --check --dry-run

bench: setup-dev
	$(BIN)/python -m bench

## Refresh every app's zh_Hans catalogue from the source (needs GNU gettext)
makemessages: setup-dev
	DJANGO_SETTINGS_MODULE=linli.test_settings $(BIN)/python manage.py makemessages -l zh_Hans --no-obsolete --no-location --ignore=.venv --ignore=node_modules --ignore=bench --ignore=var

clean:
	rm -rf $(VENV) node_modules var/static
