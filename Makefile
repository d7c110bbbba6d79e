# mmopt: two commands on a fresh machine.
#   make sweep   create .venv (pinned), generate the embedded synthetic data, run the default sweep
#   make test    create .venv (pinned), run ruff, mypy and pytest (all but the `docker` test)
#   make test-docker  build the image and run docker/compose.yaml with podman (.ci/run runs it)
#   make bench   print the data, engine and strategy throughput benchmarks
#   make bench-sweep  print the sweep overhead and utilisation benchmarks (starts Ray)
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: venv sweep test test-docker lint typecheck pytest bench bench-sweep clean

venv: $(STAMP)

# The numba cache is built with the environment, two processes in parallel (the engine kernel
# with the default sweep's strategy; the synthetic-data, shard-check and round-trip kernels,
# mmopt.cluster.warm_cache), so `make sweep` loads compiled kernels instead of compiling them
# (benchmarks/cold_start.py measures both ways).
WARM_ENGINE  := from mmopt.strategies import warm_up; warm_up('avellaneda_stoikov')
WARM_SUPPORT := from mmopt.cluster import warm_support_kernels; warm_support_kernels()

# Bytecode (.pyc) for the installed packages and mmopt, compiled beside the two cache builds at
# the lowest priority (on the core the engine's compile leaves idle). uv does not write it at
# install, and with PYTHONDONTWRITEBYTECODE set (as on our CI machines) Python never writes it
# either, so every process (the sweep, each Ray worker, each test subprocess) compiled ray,
# mlflow, pandas and the rest from source at every start: `mmopt --help` took 4.1 s instead of
# 1.3 s, a second `mmopt sweep` 60 s instead of 33 s (docs/benchmarks.md, "Cold start").
# compileall writes it whatever PYTHONDONTWRITEBYTECODE says; a package file that does not
# compile (some ship Python 2 examples) is skipped. Not uv's --compile-bytecode: that runs
# inside the install, before the cache builds, and adds its whole time (about 45 s of one
# core) to `make venv`; after pip (PIP_ONLY), which compiles at install, this finds it done.
# The packages' own test folders (pandas/tests, numba/tests, scipy's...: 3 400 of the 16 400
# files, about 5 s of the 31) are left out: nothing here imports them.
SITE_PACKAGES := import sysconfig; print(sysconfig.get_path('purelib'))
NO_TESTS      := /site-packages/[^/]+/(.+/)?tests?/

# The packages are installed with uv (pinned in constraints.txt, installed first with pip): it
# resolves and downloads in parallel, about 10 s here against about 2 min for pip; where uv
# cannot be installed, pip does it all (PIP_ONLY=1 asks for that). The venv is made without
# pip, and uv is put in it by the machine's own pip (`pip --python`, pip 22.3 and later): venv's
# ensurepip and then pip installing uv took 4.9 s against 2.3 s. uv then installs pip (pinned)
# with the rest, so `.venv/bin/pip` is there as in any venv. Where the machine's pip cannot do
# it (none, or older), ensurepip puts pip in the venv first, as before.
PIP_ONLY ?=
VENV_PIP := $(BIN)/python -m ensurepip --upgrade >/dev/null && $(BIN)/python -m pip
UV_IN_VENV := { $(PYTHON) -m pip --python $(BIN)/python install --quiet \
  --disable-pip-version-check -c constraints.txt uv 2>/dev/null \
  || { $(VENV_PIP) install --quiet -c constraints.txt uv; }; }
$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv --without-pip $(VENV)
	@if [ -z "$(PIP_ONLY)" ] && $(UV_IN_VENV); then \
	  echo "installing the pinned packages with uv"; \
	  $(BIN)/uv pip install --quiet --python $(BIN)/python -c constraints.txt -e '.[dev]' pip; \
	else \
	  $(VENV_PIP) install --quiet -c constraints.txt --upgrade pip && \
	  $(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'; \
	fi
	{ nice -n 19 $(BIN)/python -m compileall -q -j 1 -x '$(NO_TESTS)' \
	  "$$($(BIN)/python -c "$(SITE_PACKAGES)")" mmopt >/dev/null 2>&1 || true; } & pyc=$$!; \
	  $(BIN)/python -c "$(WARM_SUPPORT)" & support=$$!; \
	  $(BIN)/python -c "$(WARM_ENGINE)" && wait $$support && wait $$pyc
	@touch $(STAMP)

sweep: $(STAMP)
	$(BIN)/mmopt sweep

lint: $(STAMP)
	$(BIN)/ruff check mmopt tests benchmarks jobs

typecheck: $(STAMP)
	$(BIN)/mypy

# Two pytest-xdist workers (CI has 2 cores; much of the suite waits on Ray, servers and
# subprocesses): the tests that start servers or a cluster share one worker
# (tests/conftest.py), so no two clusters run at once. PYTEST_XDIST=-n0 runs it serially.
PYTEST_XDIST ?= -n 2 --dist loadgroup
pytest: $(STAMP)
	$(BIN)/python -m pytest -m "not docker" $(PYTEST_XDIST) $(PYTEST_ARGS)

# The container stack (tests/docker, marker docker): 10-20 min, so outside the default run;
# CI runs it after `make test` (.ci/run).
test-docker: $(STAMP)
	$(BIN)/python -m pytest -m docker tests/docker $(PYTEST_ARGS)

test: lint typecheck pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/data_load.py
	$(BIN)/python benchmarks/synth_generation.py
	$(BIN)/python benchmarks/engine_throughput.py
	$(BIN)/python benchmarks/strategy_throughput.py

bench-sweep: $(STAMP)
	$(BIN)/python benchmarks/sweep_overhead.py
	$(BIN)/python benchmarks/sweep_utilisation.py
	$(BIN)/python benchmarks/mlflow_tracking.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
