# `make run` starts the bot, `make test` runs ruff, the import contracts and the test suite.
# Both create .venv on first use and install the versions pinned in the lock files. Needed:
# Python 3.11+ with its venv module, and make (Debian/Ubuntu: apt install make python3-venv).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
PIP_TOOLS := pip-tools==7.6.2
COMPILE := --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url \
	--no-emit-find-links --build-deps-for editable --extra sentry
NAMES ?=
LOCALES ?= bot/locales

.PHONY: run test check typecheck bench messages lock clean

# A .venv whose pip does not run (left by a first attempt that failed half-way, or by a Python
# that was removed) is made again rather than used.
ifneq ($(shell $(PIP) --version >/dev/null 2>&1 && echo ok),ok)
.PHONY: $(BIN)/python
endif

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || \
		{ echo "smm-bot needs Python 3.11 or newer (found: $(or $(PYTHON),none))" >&2; exit 1; }
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); echo "$(PYTHON) -m venv failed:" \
		"install Python's venv module (Debian/Ubuntu: apt install python3-venv)" >&2; exit 1; }

# The lock first (every package pinned, with its hashes), then the project itself alone.
define install
	$(PIP) install --quiet --require-hashes -r $(1)
	$(PIP) install --quiet --no-deps --no-build-isolation -e .
endef

$(VENV)/.installed: requirements.lock pyproject.toml | $(BIN)/python
	$(call install,requirements.lock)
	touch $@

$(VENV)/.installed-dev: requirements-dev.lock pyproject.toml | $(BIN)/python
	$(call install,requirements-dev.lock)
	touch $(VENV)/.installed $@

run: $(VENV)/.installed
	$(BIN)/smm-bot

# The suite runs on every core (pytest-xdist); `make check` is the quick loop while working:
# the formatting too, and everything but the tests marked slow (the bot as a process).
test: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q -n auto

check: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q -n auto -m "not slow"

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

# `make bench` runs every benchmark; `make bench NAMES="catalog menu"` a selection.
bench: $(VENV)/.installed-dev
	$(BIN)/python -m bench $(NAMES)

# Re-extract the messages of bot/ and merge them into every catalog under $(LOCALES). The
# template has no header and the catalogs keep theirs, so an unchanged tree stays unchanged.
messages: $(VENV)/.installed-dev
	$(BIN)/pybabel --quiet extract --omit-header --no-location --width 100 -F babel.cfg \
		-k _ -k n_:1,2 -k N_ -o $(LOCALES)/bot.pot bot
	$(BIN)/pybabel --quiet update --ignore-pot-creation-date --ignore-obsolete -N --width 100 \
		-i $(LOCALES)/bot.pot -d $(LOCALES) -D bot

# Pin again after a change to the dependencies in pyproject.toml (the other pins are kept);
# `make lock UPGRADE=--upgrade` moves every pin to the newest release.
lock: | $(BIN)/python
	$(PYTHON) -m venv $(VENV)/pip-tools
	$(VENV)/pip-tools/bin/pip install --quiet '$(PIP_TOOLS)'
	$(VENV)/pip-tools/bin/pip-compile $(COMPILE) $(UPGRADE) -o requirements.lock pyproject.toml
	$(VENV)/pip-tools/bin/pip-compile $(COMPILE) $(UPGRADE) --extra dev -c requirements.lock \
		-o requirements-dev.lock pyproject.toml

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
