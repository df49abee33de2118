# Glassbox: the README's two commands.
#   make report   run the default report (reports/tour.md) into reports/site/tour/default/index.html
#   make test     build in release mode and run every test
#   make bench    training-throughput benchmark (and the PyTorch comparison when Benchmarks/venv exists)
#   make static   a self-contained binary (Swift runtime linked in) at .build/static/release/glassbox
#   make fuzz     each libFuzzer target for FUZZ_SECONDS (default 600), one after another (Fuzz/README.md)
#   make fuzz-ci  each target for 15 s (what CI runs after the tests)

SYSTEM_PACKAGES := libopenblas-dev liblapacke-dev libcairo2-dev zlib1g-dev libpng-dev libcmark-gfm-dev libcmark-gfm-extensions-dev pkg-config dataset-fashion-mnist fonts-dejavu-core curl
# For the Slurm engine's tests, which start a one-node cluster of their own (skipped when these are missing).
SLURM_PACKAGES := slurmctld slurmd slurm-client munge
SWIFT_FLAGS := -c release -Xswiftc -enable-testing
FUZZ_SECONDS ?= 600

.PHONY: report test bench deps build static fuzz fuzz-ci

deps:
	@bash scripts/install-deps.sh $(SYSTEM_PACKAGES)

build: deps
	swift build $(SWIFT_FLAGS)

# The Swift runtime and Foundation linked into the binary: it starts in about 8 ms instead of 15 (fewer shared
# libraries to load) and runs where no Swift toolchain is installed (e.g. Slurm compute nodes). Its own build folder,
# since the flag changes every module's compilation.
static: deps
	swift build -c release --static-swift-stdlib --scratch-path .build/static --product glassbox
	@echo "self-contained binary: .build/static/release/glassbox"

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
