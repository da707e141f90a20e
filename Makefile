# `make run` and `make test` do all the set-up: a .venv from the lock files in requirements/.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
UV     := $(BIN)/uv
DEMO   ?= .demo/retail-events
PKGS   := phases deliverables pipelines tui cli

.PHONY: run test coverage-report coverage-check setup setup-dev lint bench lock clean

run: $(VENV)/.run-installed
	@$(BIN)/python -m compileall -q $(PKGS)
	@test -d $(DEMO)/.phasegate || $(BIN)/phasegate demo $(DEMO)
	$(BIN)/phasegate open $(DEMO)

# Coverage counts every process the tests start (pyproject's [tool.coverage.run] patch =
# subprocess): the xdist workers, each `phasegate` run, the validation child with both tiers.
# The two workers take the tests in the order tests/conftest.py gives (the engines first).
test: $(VENV)/.dev-installed
	@$(BIN)/python -m compileall -q $(PKGS)
	$(BIN)/ruff check --quiet .
	$(BIN)/ruff format --check --quiet .
	@$(BIN)/coverage erase
	$(BIN)/coverage run -m pytest -n 2 --dist loadgroup --no-loadscope-reorder --durations=15 $(PYTEST_ARGS)
	@$(MAKE) --no-print-directory coverage-report

coverage-report: $(VENV)/.dev-installed
	@$(BIN)/coverage combine -q
	@$(BIN)/coverage json -q -o .coverage.json
	@$(BIN)/python -m tests.helpers.coverage_floor .coverage.json

# The goal (>= 90% in all, every module >= 75%) as a check of the last `make test`'s data.
coverage-check: $(VENV)/.dev-installed
	@test -f .coverage.json || $(MAKE) --no-print-directory coverage-report
	@$(BIN)/python -m tests.helpers.coverage_floor .coverage.json --check

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

$(VENV)/.dev-installed: requirements/dev.txt requirements/overrides.txt requirements/run.txt pyproject.toml | $(UV)
	$(UV) pip install --quiet --python $(BIN)/python --compile-bytecode -r requirements/dev.txt --override requirements/overrides.txt -e .
	@touch $@ $(VENV)/.run-installed

lock: | $(UV)
	cd requirements && ../$(UV) pip compile --quiet --python-version 3.11 run.in -o run.txt
	cd requirements && ../$(UV) pip compile --quiet --python-version 3.11 dev.in -c run.txt --override overrides.txt -o dev.txt

clean:
	rm -rf $(VENV) .demo .coverage .coverage.* .coverage.json
