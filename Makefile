# CloudFair: `make run` (demo on SQLite at http://127.0.0.1:5000), `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV := CLOUDFAIR_ENV=development
PORT ?= 8000

.PHONY: run test serve bench clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

run: $(STAMP)
	$(DEV) $(BIN)/flask --app wsgi db upgrade
	$(DEV) $(BIN)/flask --app wsgi demo seed
	$(DEV) $(BIN)/flask --app wsgi run --host 127.0.0.1 --port 5000

test: $(STAMP)
	$(BIN)/python -m pytest -n 2

serve: $(STAMP)
	$(BIN)/flask --app wsgi db upgrade
	$(BIN)/gunicorn --config gunicorn.conf.py wsgi:app

bench: $(STAMP)
	$(BIN)/python bench/http.py

clean:
	rm -rf $(VENV) instance .pytest_cache
