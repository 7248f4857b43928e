# The README's commands: `make install`, `make test`, and `make bench` (the performance check CI runs).
VENV ?= .venv
IMAGE_TAG ?= smate-bench
PYTHON := $(VENV)/bin/python

.PHONY: install test bench bench-add bench-baseline image image-tools image-check
install:
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install --progress-bar off -r requirements.lock
	$(PYTHON) -m pip install --no-deps -e .

test:
	$(PYTHON) -m pytest

BENCH := $(PYTHON) -m pytest benchmark -p no:cacheprovider --benchmark-min-rounds=10

bench:
	mkdir -p .benchmarks
	$(BENCH) --benchmark-json=.benchmarks/latest.json
	$(PYTHON) -m benchmark.compare .benchmarks/latest.json

# A new benchmark's baseline entry (a new method's, say), the others kept: make bench-add HOW="one run on <machine>".
bench-add:
	mkdir -p .benchmarks
	$(BENCH) --benchmark-json=.benchmarks/new.json
	$(PYTHON) -m benchmark.compare .benchmarks/new.json --add "$(HOW)"

# Three runs, and their medians as the new benchmark/baseline.json: after a change that moves times on purpose.
bench-baseline:
	mkdir -p .benchmarks
	for run in 1 2 3; do $(BENCH) -q --benchmark-json=.benchmarks/baseline-$$run.json || exit 1; done
	$(PYTHON) -m benchmark.compare .benchmarks/baseline-*.json --write-baseline

# The container (README, The container): `make image` builds it with docker, podman or buildah;
# `make image-check` builds it with no daemon or registry and checks a run in it against the host's.
image:
	bash benchmark/image/build.sh $(IMAGE_TAG)

image-tools:
	command -v buildah > /dev/null && command -v debootstrap > /dev/null || apt-get install -y -q buildah debootstrap

image-check: image-tools
	PYTHON=$(PYTHON) bash benchmark/image/check.sh
