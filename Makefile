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

.PHONY: install bytecode lint typecheck test test-all demo bench clean

$(UV):
	python3 -m venv .tools && .tools/bin/pip install -q 'uv>=0.4'

# Bytecode is compiled at install, as pip does: where PYTHONDONTWRITEBYTECODE is set, every command
# would otherwise compile its ~630 modules from source (1.3 s of each `reconcile` run).
$(VENV)/.installed: uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen --compile-bytecode
	@touch $@

install: $(VENV)/.installed

# The package's own bytecode (an editable install: not in site-packages), for the sources changed
# since; cheap when none did.
bytecode: install
	$(RUN) python -m compileall -q reconciler bench

lint: install
	$(RUN) ruff check reconciler tests
	$(RUN) ruff format --check reconciler tests

typecheck: install
	$(RUN) mypy

test: install bytecode lint typecheck
	$(RUN) pytest

test-all: install bytecode
	$(RUN) pytest -m ''

demo: install bytecode
	$(RUN) python -m reconciler.demo

bench: install bytecode
	$(RUN) python -m bench.run

clean:
	rm -rf $(VENV) .tools .mypy_cache .pytest_cache .ruff_cache demo-lake
