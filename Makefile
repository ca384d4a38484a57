# Each target creates .venv on a fresh clone if it is missing.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
KEYWORDS := -k N_ -k Msg -k t -k gettext_ -k InvalidInput -k NotFound -k Conflict \
	-k PermissionDenied -k TransitionRefused -k CaseworkError
LOCALES := casework/i18n/locale

.PHONY: demo test lint bench docs i18n clean system-packages

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Builds the demo school, prints its sign-ins (one-time passwords), then serves it on 127.0.0.1:8000.
demo: $(STAMP)
	$(BIN)/casework demo --serve

# The suite runs on two workers (pytest-xdist), a test file to each: most of its time is spent
# waiting on databases, subprocesses and browsers, not computing.
test: $(STAMP) system-packages
	$(BIN)/ruff check casework tests bench
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check casework tests bench
	$(BIN)/ruff format --check casework tests bench
	$(BIN)/lint-imports
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/advance.py
	$(BIN)/python bench/rules.py
	$(BIN)/python bench/documents.py
	$(BIN)/python bench/import.py
	$(BIN)/python bench/review.py
	$(BIN)/python bench/audit.py
	$(BIN)/python bench/codecs.py
	$(BIN)/python bench/web.py
	$(BIN)/python bench/cli.py

docs: $(STAMP)
	$(BIN)/python -m casework.reference > docs/cli.md

# Extract messages, merge them into both catalogues, compile. Translate in the .po files.
i18n: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg $(KEYWORDS) --no-location --sort-output \
		--omit-header -o $(LOCALES)/casework.pot casework templates/web
	$(BIN)/pybabel update -i $(LOCALES)/casework.pot -d $(LOCALES) -D casework --no-fuzzy-matching
	$(BIN)/pybabel compile -d $(LOCALES) -D casework --use-fuzzy

# Debian packages the PDF documents need (a CJK font, Pango); installs only when root.
system-packages:
	bash .ci/system-packages

clean:
	rm -rf $(VENV) build *.egg-info casework-demo.db*
