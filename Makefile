# make run   - set up .venv (first time only) and run the default, offline tier
# make test  - set up .venv (first time only) and run the test suite
PYTHON ?= python3
VENV ?= .venv
CORES ?= 2
BIN := $(VENV)/bin
# The torch build that this kind of machine serves from its local mirror (others download GBs).
TORCH := torch==2.14.1 torchvision==0.29.1

.PHONY: setup run test paper-dry-run benchmark clean

$(BIN)/snakemake: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet $(TORCH)
	$(BIN)/pip install --quiet -e '.[workflow,test]'
	touch $@

setup: $(BIN)/snakemake

run: setup
	$(BIN)/snakemake --cores $(CORES)

test: setup
	$(BIN)/pytest -q

paper-dry-run: setup
	$(BIN)/snakemake --configfile config/paper.yaml --dry-run

benchmark: setup
	$(BIN)/python benchmarks/bench_fim_vae.py

clean:
	rm -rf results logs .snakemake
