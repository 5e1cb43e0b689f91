# cbbd-reconciler. The two commands a newcomer needs: `make demo` and `make test`.
SHELL := /bin/bash
# uv installed by this Makefile lives in .tools/bin; tests that call `uv` (the SDK fidelity check) find it too.
export PATH := $(CURDIR)/.tools/bin:$(PATH)
# Trust the system certificate store (works behind TLS-inspecting proxies as well as without one).
export UV_NATIVE_TLS ?= 1
PY_UV := $(shell command -v uv 2>/dev/null)
UV := $(if $(PY_UV),$(PY_UV),.tools/bin/uv)
VENV := .venv
RUN := $(UV) run --frozen --no-sync

.PHONY: install lint typecheck test test-all demo bench clean

$(UV):
	python3 -m venv .tools && .tools/bin/pip install -q 'uv>=0.4'

$(VENV)/.installed: uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen
	@touch $@

install: $(VENV)/.installed

lint: install
	$(RUN) ruff check reconciler tests
	$(RUN) ruff format --check reconciler tests

typecheck: install
	$(RUN) mypy

test: install lint typecheck
	$(RUN) pytest

test-all: install
	$(RUN) pytest -m ''

demo: install
	$(RUN) python -m reconciler.demo

bench: install
	$(RUN) python -m bench.run

clean:
	rm -rf $(VENV) .tools .mypy_cache .pytest_cache .ruff_cache demo-lake
