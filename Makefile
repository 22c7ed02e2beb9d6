# Encore: `make demo` installs what the demo needs and runs the bot on a local Discord emulator;
# `make test` installs the test tools and the Spark extra too, and runs the tests.
VENV   ?= .venv
PYTHON ?= python3
BIN    := $(VENV)/bin
export OPENBLAS_NUM_THREADS := 1

# Beside a checkout that has ../shared (the team's machines), use its copy of the data set;
# elsewhere Encore downloads it once from GroupLens into its cache.
SHARED_LASTFM := $(wildcard $(CURDIR)/../shared/data/hetrec2011-lastfm-2k)
ifneq ($(SHARED_LASTFM),)
ENCORE_LASTFM_DIR ?= $(abspath $(SHARED_LASTFM))
export ENCORE_LASTFM_DIR
endif

.PHONY: install demo test bench clean

# No byte-compiling at install (pyspark alone is thousands of files): Python compiles what it imports.
$(BIN)/.installed-demo: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --no-compile -e .
	touch $@

$(BIN)/.installed: $(BIN)/.installed-demo
	$(BIN)/python -m pip install --quiet --no-compile -e ".[dev,spark]"
	touch $@

install: $(BIN)/.installed

demo: $(BIN)/.installed-demo
	$(BIN)/encore demo

test: install
	$(BIN)/pytest

bench: install
	$(BIN)/encore evaluate --protocol p1 --seeds 0 1 2 --json benchmarks/results/p1.json
	$(BIN)/python benchmarks/p2_batch.py --seeds 0 1 2
	$(BIN)/python benchmarks/catalogue_search.py
	$(BIN)/python benchmarks/catalogue_add.py
	$(BIN)/python benchmarks/refit.py
	$(BIN)/python benchmarks/like_weight.py
	$(BIN)/python benchmarks/interactions.py
	$(BIN)/encore evaluate --protocol p2 --seeds 0 1 2 --json benchmarks/results/p2.json
	$(BIN)/encore evaluate --protocol groups --seeds 0 1 2 --json benchmarks/results/groups.json
	$(BIN)/encore evaluate --protocol sessions --seeds 0 1 2 --json benchmarks/results/sessions.json
	$(BIN)/python benchmarks/rejection_weight.py
	$(BIN)/python benchmarks/session_pick.py
	$(BIN)/python -m benchmarks.onboarding
	$(BIN)/python benchmarks/session_latency.py
	$(BIN)/python benchmarks/social.py
	$(BIN)/encore evaluate --report benchmarks/results/report --seeds 0 1 2
	$(BIN)/python benchmarks/scale_360k.py
	$(BIN)/python benchmarks/pruned_scoring.py --data 2k
	$(BIN)/python benchmarks/spark_p1.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
