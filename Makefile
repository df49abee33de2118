# Glassbox: the README's two commands.
#   make report   run the default report (reports/tour.md) into reports/site/tour/default/index.html
#   make test     build in release mode and run every test
#   make bench    training-throughput benchmark (and the PyTorch comparison when Benchmarks/venv exists)

SYSTEM_PACKAGES := libopenblas-dev liblapacke-dev libcairo2-dev zlib1g-dev pkg-config dataset-fashion-mnist fonts-dejavu-core
# For the Slurm engine's tests, which start a one-node cluster of their own (skipped when these are missing).
SLURM_PACKAGES := slurmctld slurmd slurm-client munge
SWIFT_FLAGS := -c release -Xswiftc -enable-testing

.PHONY: report test bench deps build

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
