# One command for each main job, on a fresh Debian machine with Python 3.10+ and Node 20+:
#   make lab    set everything up and open JupyterLab on the tutorial notebooks
#   make test   set everything up and run the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: lab test lint setup system-deps clean

lab: $(STAMP)
	$(BIN)/annolab lab

test: $(STAMP) system-deps
	$(BIN)/python -m pytest tests annolab notebooks --nbval-lax -p no:cacheprovider

lint: $(STAMP)
	$(BIN)/ruff check annolab tests benchmarks
	$(BIN)/ruff format --check annolab tests benchmarks
	$(BIN)/mypy
	npm --prefix widgets run typecheck

setup: $(STAMP)

system-deps:
	bash scripts/system-deps.sh

# Reinstall when the package's requirements or the front end's lock file change. The editable
# install runs the front-end build (npm ci + esbuild) through hatch-jupyter-builder.
$(STAMP): pyproject.toml widgets/package-lock.json
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

clean:
	rm -rf $(VENV) annolab/static widgets/node_modules dist build
