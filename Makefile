# Glassbox: the README's two commands.
#   make report   run the default report (reports/tour.md) into reports/site/tour/default/index.html
#   make test     build in release mode and run every test
#   make bench    training-throughput benchmark (and the PyTorch comparison when Benchmarks/venv exists)
#   make fuzz     each libFuzzer target for FUZZ_SECONDS (default 600), one after another (Fuzz/README.md)
#   make fuzz-ci  each target for 15 s (what CI runs after the tests)

SYSTEM_PACKAGES := libopenblas-dev liblapacke-dev libcairo2-dev zlib1g-dev libpng-dev libcmark-gfm-dev libcmark-gfm-extensions-dev pkg-config dataset-fashion-mnist fonts-dejavu-core curl
# For the Slurm engine's tests, which start a one-node cluster of their own (skipped when these are missing).
SLURM_PACKAGES := slurmctld slurmd slurm-client munge
SWIFT_FLAGS := -c release -Xswiftc -enable-testing
FUZZ_SECONDS ?= 600

.PHONY: report test bench deps build fuzz fuzz-ci

deps:
	@bash scripts/install-deps.sh $(SYSTEM_PACKAGES)

build: deps
	swift build $(SWIFT_FLAGS)

report: build
	.build/release/glassbox run reports/tour.md

test: deps
	@bash scripts/install-deps.sh --optional chromium
	@bash scripts/install-deps.sh --optional $(SLURM_PACKAGES)
	swift build --build-tests $(SWIFT_FLAGS)
	swift test --skip-build --disable-swift-testing $(SWIFT_FLAGS)

bench: build
	bash Benchmarks/compare.sh

fuzz: deps
	bash scripts/fuzz.sh $(FUZZ_SECONDS)

fuzz-ci: deps
	bash scripts/fuzz.sh 15
