# `make run` and `make test` do all the set-up: a .venv from the lock files in requirements/.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
UV     := $(BIN)/uv
DEMO   ?= .demo/retail-events
PKGS   := phases deliverables pipelines tui cli

.PHONY: run test setup setup-dev lint bench lock clean

run: $(VENV)/.run-installed
	@$(BIN)/python -m compileall -q $(PKGS)
	@test -d $(DEMO)/.phasegate || $(BIN)/phasegate demo $(DEMO)
	$(BIN)/phasegate open $(DEMO)

test: $(VENV)/.dev-installed
	@$(BIN)/python -m compileall -q $(PKGS)
	$(BIN)/ruff check --quiet .
	$(BIN)/ruff format --check --quiet .
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

setup: $(VENV)/.run-installed
setup-dev: $(VENV)/.dev-installed

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(VENV)/.dev-installed
	$(BIN)/python bench/startup.py
	$(BIN)/python bench/store.py
	$(BIN)/python bench/generate.py
	$(BIN)/python bench/validate.py

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# uv installs with --compile-bytecode in ~25 s; this machine sets PYTHONDONTWRITEBYTECODE=1,
# so without precompiled bytecode every import is twice as slow.
$(UV): | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==0.13.9

$(VENV)/.run-installed: requirements/run.txt pyproject.toml | $(UV)
	$(UV) pip install --quiet --python $(BIN)/python --compile-bytecode -r requirements/run.txt -e .
	@touch $@

$(VENV)/.dev-installed: requirements/dev.txt requirements/run.txt pyproject.toml | $(UV)
	$(UV) pip install --quiet --python $(BIN)/python --compile-bytecode -r requirements/dev.txt -e .
	@touch $@ $(VENV)/.run-installed

lock: | $(UV)
	cd requirements && ../$(UV) pip compile --quiet --python-version 3.11 run.in -o run.txt
	cd requirements && ../$(UV) pip compile --quiet --python-version 3.11 dev.in -c run.txt -o dev.txt

clean:
	rm -rf $(VENV) .demo
