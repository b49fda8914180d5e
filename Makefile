# Set-up and the two jobs of the README. Every target installs what it needs first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The CPU build of torch; a GPU machine can set TORCH=torch (or a CUDA wheel spec).
TORCH ?= torch==2.13.0
STAMP := $(VENV)/.installed

.PHONY: setup demo test clean

setup: $(STAMP)

$(STAMP): pyproject.toml Makefile
	engines/install.sh stockfish
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q "$(TORCH)"
	$(BIN)/python -m pip install -q -e '.[test,ray]'
	# Bytecode now, as a wheel install would: an editable install leaves it to the first run, and where
	# PYTHONDONTWRITEBYTECODE is set, every process (each league worker) would compile arena again.
	$(BIN)/python -m compileall -q arena plugins engines >/dev/null
	touch $(STAMP)

# The main job: a league on the shipped default (run it again to resume, or add --fresh).
demo: setup
	$(BIN)/arena league configs/demo.yaml

test: setup
	engines/install.sh stockfish pgn-extract ethereal-chess gnuchess-book toga2 glaurung
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) build *.egg-info
