# The two commands of the README: `make up` starts the platform, `make test`
# runs every test. Both create the virtual environment on first use.
VENV ?= .venv
PYTHON ?= python3
INSTALLED := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | sha1sum | cut -c1-12)

.PHONY: up test lint install
.DEFAULT_GOAL := up

$(INSTALLED): pyproject.toml constraints.txt
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	rm -f $(VENV)/.installed-*
	touch $@

install: $(INSTALLED)

up: $(INSTALLED)
	$(VENV)/bin/ov2xmp up

test: $(INSTALLED)
	VENV=$(VENV) scripts/test

lint: $(INSTALLED)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/python ov2xmp-django/manage.py makemigrations --check --dry-run
