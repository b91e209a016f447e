# Two commands: `make run` starts the desktop app, `make test` runs the whole suite headless.
# `make validation` writes the validation pack (the compliance tests' results against the checklist) to validation/.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# Reinstall when the project's requirements change, not on every run.
STAMP_RUN := $(VENV)/.stamp-run
STAMP_TEST := $(VENV)/.stamp-test
STAMP_DIST := $(VENV)/.stamp-dist

.PHONY: run test lint bench dist clean screenshots validation

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP_RUN): pyproject.toml | $(BIN)/python
	./scripts/system-deps.sh run
	$(BIN)/pip install -q -e .
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m app.importcheck
	touch $@

$(STAMP_TEST): pyproject.toml $(STAMP_RUN)
	./scripts/system-deps.sh test
	$(BIN)/pip install -q -e '.[test]'
	touch $@

$(STAMP_DIST): pyproject.toml $(STAMP_TEST)
	$(BIN)/pip install -q -e '.[dist]'
	touch $@

run: $(STAMP_RUN)
	$(BIN)/python -m app

# Qt runs offscreen; the PostgreSQL tests start their own throwaway server and must not be skipped here.
test: $(STAMP_TEST)
	QT_QPA_PLATFORM=offscreen FORMTRAIL_REQUIRE_POSTGRES=1 $(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

# The compliance tests against this build, as a PDF, results.json and junit.xml in validation/ (exit 1 if one
# failed); PostgreSQL must run, as for `make test`. Extra options: `make validation VALIDATION_ARGS='--select at05'`.
validation: $(STAMP_TEST)
	QT_QPA_PLATFORM=offscreen FORMTRAIL_REQUIRE_POSTGRES=1 $(BIN)/formtrail validation-report --out validation \
		--workers 2 $(VALIDATION_ARGS)

# ruff's rule set and mypy's settings are in pyproject.toml (naming, annotations, complexity at most 20,
# bugbear, imports; every module of app/ type-checked).
lint: $(STAMP_TEST)
	$(BIN)/ruff check app
	$(BIN)/mypy

bench: $(STAMP_TEST)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m bench

dist: $(STAMP_DIST)
	$(BIN)/pyinstaller --noconfirm --clean --distpath dist --workpath build/pyinstaller installer/formtrail.spec
	QT_QPA_PLATFORM=offscreen $(BIN)/python installer/check_dist.py dist/formtrail

# The README's screenshots, from a demo site on a 1280x720 screen and a 2560x1440 screen at 200 %.
screenshots: $(STAMP_TEST)
	$(BIN)/python scripts/screenshots.py

clean:
	rm -rf $(VENV) build dist .pytest_cache validation
