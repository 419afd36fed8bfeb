# Two commands do all the set-up on a fresh machine (Python 3.11):
#   make run   — the portal on SQLite with demo data at http://127.0.0.1:8000
#   make test  — the test suite (DATABASE_URL selects the database; SQLite by default)
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test test-browser install messages check-messages clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || (echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip setuptools
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	DEBUG=1 $(PY) manage.py migrate --noinput
	DEBUG=1 $(PY) manage.py seed_demo
	DEBUG=1 $(PY) manage.py runserver 127.0.0.1:8000

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

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
