# `make run` starts the bot, `make test` runs ruff, the import contracts and the test suite.
# Both create .venv on first use; only Python 3.11+ and make are needed.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint typecheck bench messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(VENV)/.installed $@

run: $(VENV)/.installed
	$(BIN)/smm-bot

test: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

bench: $(VENV)/.installed-dev
	$(BIN)/python -m bench

# Re-extract the messages of bot/ and merge them into every catalog under bot/locales/.
messages: $(VENV)/.installed-dev
	$(BIN)/pybabel extract --no-location -F babel.cfg -k _ -k n_:1,2 -k N_ -o bot/locales/bot.pot bot
	$(BIN)/pybabel update --ignore-obsolete -N -i bot/locales/bot.pot -d bot/locales -D bot

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
