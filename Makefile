# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
QUESTION ?= Why is China concerned about a Russia-North Korea arms deal?

.PHONY: install run index ask test lint typecheck bench clean

install: $(STAMP)

# torch first: the pinned CPU wheel lies on this machine; an unpinned torch pulls a CUDA build.
$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

index: install
	$(BIN)/rag index seeds

run: index
	$(BIN)/ask "$(QUESTION)"

test: install
	$(BIN)/ruff check .
	$(BIN)/mypy rag api eval
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy rag api eval

clean:
	rm -rf $(VENV) index/CURRENT index/generations index/.lock
