#!/usr/bin/env python3
"""PyTorch peer of `glassbox train` as a whole process: import, load, train, evaluate, save.

  Benchmarks/venv/bin/python Benchmarks/pytorch/train.py --workload cnn --epochs 1
  Benchmarks/venv/bin/python Benchmarks/pytorch/train.py --workload mlp --epochs 3

Does what the matching `glassbox train` command does, so that timing both processes from the outside compares
like with like:
  1. loads the Fashion-MNIST train and test splits from the gzip IDX files (pixels / 255),
  2. trains for --epochs over a seeded shuffle, batch by index, with cross-entropy loss:
       mlp: Linear(784,100)-Sigmoid-Linear(100,50)-Sigmoid-Linear(50,10), SGD lr 0.1, batch 100
       cnn: Conv(1,16,5,p2)-ReLU-MaxPool2-Conv(16,32,5,p2)-ReLU-MaxPool2-Flatten-Linear(1568,10),
            SGD lr 0.05 momentum 0.9, batch 64
  3. evaluates test accuracy in batches of 1000 and saves the state dict (torch.save) to --out.
Prints one JSON object on stdout: {"torch", "workload", "epochs", "train_seconds", "accuracy"}.
"""

import argparse
import json
import sys
import time

import torch
from torch import nn

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from bench import DEFAULT_DATA_DIR, make_cnn, make_mlp, read_idx_gz  # noqa: E402

import numpy as np  # noqa: E402


def load_split(data_dir, prefix):
    images = read_idx_gz(f"{data_dir}/{prefix}-images-idx3-ubyte.gz", 0x00000803)
    labels = read_idx_gz(f"{data_dir}/{prefix}-labels-idx1-ubyte.gz", 0x00000801)
    n, rows, cols = images.shape
    x = torch.from_numpy((images.astype(np.float32) / np.float32(255.0)).reshape(n, 1, rows, cols))
    return x, torch.from_numpy(labels.astype(np.int64))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--workload", choices=["mlp", "cnn"], required=True)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-dir", default=DEFAULT_DATA_DIR)
    p.add_argument("--out", default="/dev/null")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    x, y = load_split(args.data_dir, "train")
    xt, yt = load_split(args.data_dir, "t10k")
    if args.workload == "mlp":
        model, batch = make_mlp(), 100
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        x, xt = x.view(x.shape[0], -1), xt.view(xt.shape[0], -1)
    else:
        model, batch = make_cnn(), 64
        opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(args.seed)

    t0 = time.perf_counter()
    model.train()
    for _ in range(args.epochs):
        perm = torch.randperm(x.shape[0], generator=gen)
        for start in range(0, x.shape[0], batch):
            idx = perm[start:start + batch]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(x.index_select(0, idx)), y.index_select(0, idx))
            loss.backward()
            opt.step()
    train_seconds = time.perf_counter() - t0

    model.eval()
    correct = 0
    with torch.no_grad():
        for start in range(0, xt.shape[0], 1000):
            correct += int((model(xt[start:start + 1000]).argmax(1) == yt[start:start + 1000]).sum())
    torch.save(model.state_dict(), args.out)
    print(json.dumps({"torch": torch.__version__, "workload": args.workload, "epochs": args.epochs,
                      "train_seconds": round(train_seconds, 3), "accuracy": correct / xt.shape[0]}))


if __name__ == "__main__":
    main()
