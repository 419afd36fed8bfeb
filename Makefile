# Two commands do all the set-up on a fresh machine (Python 3.11):
#   make run   — the portal on SQLite with demo data at http://127.0.0.1:8000 (PORT=… to change)
#   make test  — the test suite (DATABASE_URL selects the database; SQLite by default)
PYTHON ?= python3.11
# make run PORT=8001: the development server's port; e-mail links follow it.
PORT ?= 8000
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test test-browser lint format install messages check-messages clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || (echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip setuptools
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	DEBUG=1 $(PY) manage.py migrate --noinput
	DEBUG=1 PUBLIC_SITE_URL=$${PUBLIC_SITE_URL:-http://127.0.0.1:$(PORT)} $(PY) manage.py seed_demo
	DEBUG=1 PUBLIC_SITE_URL=$${PUBLIC_SITE_URL:-http://127.0.0.1:$(PORT)} $(PY) manage.py runserver 127.0.0.1:$(PORT)

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

test-browser: $(STAMP)
	$(PY) -m pytest -m browser $(PYTEST_ARGS)

messages: $(STAMP)
	$(PY) manage.py makemessages -l es -l en --no-location --no-obsolete \
		--ignore=.venv --ignore=staticfiles --ignore=var --ignore=benchmarks --ignore=tests
	$(PY) manage.py makemessages -d djangojs -l es -l en --no-location --no-obsolete \
		--ignore=.venv --ignore=staticfiles --ignore=var --ignore=benchmarks --ignore=tests
	$(PY) manage.py compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) var staticfiles
