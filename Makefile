# The two commands of the README: `make install`, then `make test`.
VENV ?= .venv
PYTHON := $(VENV)/bin/python

.PHONY: install test
install:
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install --progress-bar off -r requirements.lock
	$(PYTHON) -m pip install --no-deps -e .

test:
	$(PYTHON) -m pytest
