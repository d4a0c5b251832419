PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Tests read the real dataset files where the shared folder exists (CI and developer machines).
SHARED_DATA := $(abspath ../shared/data/hgcn)
ifneq ($(wildcard $(SHARED_DATA)),)
export HYPSST_DATA ?= $(SHARED_DATA)
endif

.PHONY: run test install clean

$(STAMP): setup.cfg pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r constraints.txt
	$(PY) -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/hypsst train --out runs/default

test: $(STAMP)
	$(PY) -m pytest -q tests

clean:
	rm -rf $(VENV) runs
