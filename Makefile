# Glassbox: the README's two commands.
#   make report   run the default report (until the report pipeline lands: train the default model, print metrics)
#   make test     build in release mode and run every test
#   make bench    training-throughput benchmark (and the PyTorch comparison when Benchmarks/venv exists)

SYSTEM_PACKAGES := libopenblas-dev liblapacke-dev libcairo2-dev pkg-config dataset-fashion-mnist fonts-dejavu-core
SWIFT_FLAGS := -c release -Xswiftc -enable-testing

.PHONY: report test bench deps build

deps:
	@bash scripts/install-deps.sh $(SYSTEM_PACKAGES)

build: deps
	swift build $(SWIFT_FLAGS)

report: build
	.build/release/glassbox train --model 'mlp 784-100-50-10 relu' --data fashion-mnist --epochs 5 \
		--optimizer sgd --lr 0.1 --momentum 0.9 --schedule cosine:0.001 --seed 0 --out reports/site/default-mlp.safetensors

test: deps
	swift build --build-tests $(SWIFT_FLAGS)
	swift test --skip-build $(SWIFT_FLAGS)

bench: build
	bash Benchmarks/compare.sh
