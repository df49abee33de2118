#!/usr/bin/env python3
"""PyTorch peer benchmark for Glassbox: CPU training throughput on Fashion-MNIST.

Measures samples/s of full training steps (forward, backward, optimiser step) with the data
already in memory, shuffled every epoch by a seeded generator and batched by index, for

  mlp: Linear(784,100)-Sigmoid-Linear(100,50)-Sigmoid-Linear(50,10), SGD lr 0.1, batch 100
  cnn: Conv(1,16,5,p2)-ReLU-MaxPool2-Conv(16,32,5,p2)-ReLU-MaxPool2-Flatten-Linear(1568,10),
       SGD lr 0.05 momentum 0.9, batch 64

both with cross-entropy loss. After untimed warm-up steps, a fixed number of samples is timed
(continuing the same shuffled stream). Prints one JSON object on stdout:

  {"torch": "...", "threads": n, "mlp_samples_per_s": x, "cnn_samples_per_s": y}

(a workload that was not run is left out). Details go to stderr.

The machine has 2 cores: with --threads 2, any other busy process (a compile, another benchmark)
makes PyTorch's OpenMP threads wait on each other, and throughput drops by up to ~30x (MLP) —
measure on an idle machine.

Run with the venv made by Benchmarks/pytorch/setup.sh:
  Benchmarks/venv/bin/python Benchmarks/pytorch/bench.py --threads 2
"""

import argparse
import gzip
import json
import math
import sys
import time

import numpy as np
import torch
from torch import nn

DEFAULT_DATA_DIR = "/usr/share/datasets/fashion-mnist"


def read_idx_gz(path, expected_magic):
    """Reads a gzip-compressed IDX file of unsigned bytes into a numpy array of its shape."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic = int.from_bytes(data[0:4], "big")
    if magic != expected_magic:
        raise ValueError(f"{path}: IDX magic {magic:#x}, expected {expected_magic:#x}")
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    offset = 4 + 4 * ndim
    count = math.prod(dims)
    if len(data) - offset != count:
        raise ValueError(f"{path}: {len(data) - offset} payload bytes, header says {count}")
    return np.frombuffer(data, dtype=np.uint8, offset=offset).reshape(dims)


def load_fashion_mnist_train(data_dir):
    images = read_idx_gz(f"{data_dir}/train-images-idx3-ubyte.gz", 0x00000803)
    labels = read_idx_gz(f"{data_dir}/train-labels-idx1-ubyte.gz", 0x00000801)
    if images.shape[0] != labels.shape[0]:
        raise ValueError(f"{images.shape[0]} images but {labels.shape[0]} labels")
    n, rows, cols = images.shape
    x = torch.from_numpy((images.astype(np.float32) / np.float32(255.0)).reshape(n, 1, rows, cols))
    y = torch.from_numpy(labels.astype(np.int64))
    return x, y


def make_mlp():
    return nn.Sequential(
        nn.Linear(784, 100), nn.Sigmoid(),
        nn.Linear(100, 50), nn.Sigmoid(),
        nn.Linear(50, 10),
    )


def make_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 16, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(32 * 7 * 7, 10),
    )


def index_batches(n, batch_size, generator):
    """Endless stream of index batches: a fresh seeded permutation every epoch.
    The last batch of an epoch is smaller when batch_size does not divide n."""
    while True:
        perm = torch.randperm(n, generator=generator)
        for start in range(0, n, batch_size):
            yield perm[start:start + batch_size]


def measure(name, model, optimizer, x, y, batch_size, samples, warmup_steps, seed):
    loss_fn = nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(seed)
    batches = index_batches(x.shape[0], batch_size, gen)
    model.train()

    def step(idx):
        xb = x.index_select(0, idx)
        yb = y.index_select(0, idx)
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.step()
        return loss.detach()

    for _ in range(warmup_steps):
        loss = step(next(batches))
    first_loss = float(loss) if warmup_steps else float("nan")

    done = 0
    steps = 0
    t0 = time.perf_counter()
    while done < samples:
        idx = next(batches)
        if done + idx.numel() > samples:
            idx = idx[: samples - done]
        loss = step(idx)
        done += idx.numel()
        steps += 1
    elapsed = time.perf_counter() - t0

    rate = done / elapsed
    print(f"{name}: {done} samples in {steps} steps, {elapsed:.3f} s, {rate:.1f} samples/s "
          f"(loss after warm-up {first_loss:.4f}, at end {float(loss):.4f})", file=sys.stderr)
    return rate


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    p.add_argument("--workload", choices=["mlp", "cnn", "both"], default="both")
    p.add_argument("--mlp-samples", type=int, default=60000,
                   help="timed samples for the MLP (default 60000, one epoch)")
    p.add_argument("--cnn-samples", type=int, default=20000,
                   help="timed samples for the CNN (default 20000)")
    p.add_argument("--warmup-steps", type=int, default=50, help="untimed steps first (default 50)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-dir", default=DEFAULT_DATA_DIR)
    args = p.parse_args(argv)
    if args.threads < 1 or args.mlp_samples < 1 or args.cnn_samples < 1 or args.warmup_steps < 0:
        p.error("--threads and sample counts must be positive, --warmup-steps non-negative")

    torch.set_num_threads(args.threads)
    x, y = load_fashion_mnist_train(args.data_dir)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{x.shape[0]} training images {tuple(x.shape[1:])}", file=sys.stderr)

    result = {"torch": torch.__version__, "threads": args.threads}
    if args.workload in ("mlp", "both"):
        torch.manual_seed(args.seed)
        model = make_mlp()
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        result["mlp_samples_per_s"] = round(measure(
            "mlp", model, opt, x.view(x.shape[0], -1), y, 100,
            args.mlp_samples, args.warmup_steps, args.seed), 1)
    if args.workload in ("cnn", "both"):
        torch.manual_seed(args.seed)
        model = make_cnn()
        opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        result["cnn_samples_per_s"] = round(measure(
            "cnn", model, opt, x, y, 64,
            args.cnn_samples, args.warmup_steps, args.seed), 1)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
