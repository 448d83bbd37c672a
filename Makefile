# Two commands on a fresh machine: `make sim` and `make test`. Both set themselves up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
PY_STAMP := $(VENV)/.installed
NPM_STAMP := simulator/node_modules/.installed
RP2_STAMP := simulator/rp2040/node_modules/.installed

.PHONY: system-deps setup sim test test-long reliability soak mutate lint bench docs studio-screenshot clean rp2-image uf2

setup: $(PY_STAMP) $(NPM_STAMP) $(RP2_STAMP)

# Re-run pip only when the dependency list changes.
$(PY_STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

# The MicroPython WebAssembly engine, exactly as locked.
$(NPM_STAMP): simulator/package.json simulator/package-lock.json
	cd simulator && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# The RP2040 emulator behind `massager vdev --engine rp2040`, exactly as locked.
$(RP2_STAMP): simulator/rp2040/package.json simulator/rp2040/package-lock.json
	cd simulator/rp2040 && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

sim: setup
	$(BIN)/massager sim weekly

# Debian packages the tests drive: ngspice (the circuit checks) and chromium (the studio's
# browser tests). Installed here when we are root with apt (as on CI); otherwise one line
# says what to run.
system-deps:
	@missing=""; \
	command -v ngspice >/dev/null 2>&1 || missing="$$missing ngspice"; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "make: installing$$missing (Debian packages the tests need)"; \
	    apt-get update -q >/dev/null && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q$$missing >/dev/null; \
	  else \
	    echo "make test needs$$missing: run  sudo apt-get install -y$$missing" >&2; exit 1; \
	  fi; \
	fi

# Deterministic (hypothesis derandomized, no example database) and writes nothing tracked.
# Two workers (pytest-xdist): most tests wait on a device's own clock, not on the CPU, so
# two at a time take about half the wall time on CI's two cores. TEST_JOBS=0 runs serially.
TEST_JOBS ?= 2
test: system-deps setup
	$(PY) -m pytest -n $(TEST_JOBS)

# Random, longer exploration (hypothesis with its database) and the reliability suite in
# full: every cut point of a flash, 50,000 hostile files; rewrites docs/reliability.md.
test-long: setup
	HYPOTHESIS_PROFILE=long RELIABILITY_LONG=1 RELIABILITY_REPORT=1 $(PY) -m pytest

# The reliability suite alone, as in `make test`; rewrites its table in docs/reliability.md.
reliability: setup
	RELIABILITY_REPORT=1 $(PY) -m pytest tests/test_reliability.py

# A month of use on the stock rp2 port on the emulated RP2040 (tens of minutes; not part of
# `make test`): DAYS=30, SEED=N to replay a run (the seed is printed), LEAK=BYTES for the
# leaking firmware it must catch. Writes its figures into docs/reliability.md.
DAYS ?= 30
soak: setup
	$(PY) tests/soak.py --days $(DAYS) $(if $(SEED),--seed $(SEED)) \
		$(if $(LEAK),--leak $(LEAK),--report docs/reliability.md)

# Mutation testing of the safety-critical firmware (slow: not part of `make test`);
# MODULE=safety (or app, hal/motor, ...) for one module, JOBS=1 on a busy machine.
# Writes its table into docs/reliability.md.
JOBS ?= 2
mutate: setup
	nice -n 10 $(PY) tests/mutate.py --jobs $(JOBS) $(if $(MODULE),--module $(MODULE))

lint: setup
	$(BIN)/ruff check firmware host_tools simulator tests boards bench
	$(PY) -m host_tools.checks


bench: setup
	$(PY) -m bench

# One drag-and-drop install file per RP2040 board: build/uf2/massager-BOARD.uf2.
UF2_BOARDS := pico rp2040-zero
uf2: setup
	@mkdir -p build/uf2
	@for b in $(UF2_BOARDS); do $(BIN)/massager uf2 --board $$b -o build/uf2/massager-$$b.uf2 || exit 1; done

# The README's picture of `massager studio` (needs chromium, as the tests do).
studio-screenshot: setup
	$(PY) tests/studio_screenshot.py docs/studio.png

# The wiring schematics, pin tables and bills of materials in docs/hardware*, drawn from
# each board's circuit (boards/*/circuit.py on the pins of its board.json).
docs: setup
	$(PY) -m host_tools.schematic

# Slow (minutes; Debian's gcc-arm-none-eabi, libnewlib-arm-none-eabi and cmake): rebuild the
# emulated Pico's firmware image from the vendored sources and check it is the committed one.
rp2-image:
	simulator/rp2040/image/build.sh build/rp2-image

clean:
	rm -rf $(VENV) simulator/node_modules simulator/rp2040/node_modules build/rp2-image \
		.pytest_cache .hypothesis
