#!/usr/bin/env python3
"""Glassbox attribution maps against Captum's, and integrated gradients' speed against Captum and PyTorch autograd.

For each model (the tour's MLP 784-100-50-10 ReLU and CNN, trained with `glassbox train` on MNIST 8000/2000 unless
checkpoints are given):
  1. runs .build/release/AttributionBench, which writes the first N test images, the predicted classes and Glassbox's
     maps (.npy), and times Glassbox's integrated gradients (50 Gauss-Legendre steps, zero baseline) on 1000 images;
  2. loads the same .safetensors weights into an equivalent torch.nn.Sequential and computes Captum's maps on the same
     images and targets;
  3. prints an agreement table: max |glassbox - captum| / max |captum| over all maps of a method, with the tolerance
     (1e-5 for saliency, gradient x input and occlusion, 1e-4 for integrated gradients and DeepLIFT);
  4. times Captum's IntegratedGradients and a hand-written batched PyTorch autograd version on the same 1000 images,
     right after Glassbox, and prints the speed ratios.

Captum's trapezoid rule uses weights 1/n (ends halved) on linspace(0, 1, n), which sum to (n-1)/n; Glassbox's uses
1/(n-1). The table compares Glassbox's trapezoid with Captum's times n/(n-1) and says so.

Run after Benchmarks/attribution/setup.sh and a release build (swift build -c release):
  Benchmarks/venv/bin/python Benchmarks/attribution/compare.py --data-dir ../shared/datasets/mnist
"""

import argparse
import json
import math
import os
import struct
import subprocess
import sys
import time

import numpy as np
import torch
from torch import nn

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MLP_SPEC = "mlp 784-100-50-10 relu"
CNN_SPEC = "input 1x28x28; conv 8 k5 p2; relu; maxpool 2; conv 16 k5 p2; relu; maxpool 2; flatten; linear 10"


def read_safetensors(path):
    """Tensors (numpy float32) and metadata of a .safetensors file."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    body = data[8 + n:]
    tensors = {}
    for name, info in header.items():
        if info["dtype"] != "F32":
            raise ValueError(f"{path}: {name} has dtype {info['dtype']}, expected F32")
        a, b = info["data_offsets"]
        tensors[name] = np.frombuffer(body[a:b], dtype="<f4").reshape(info["shape"]).copy()
    return tensors, meta


def torch_model(spec):
    """An nn.Sequential equivalent to a Glassbox spec in canonical form ('input 784; linear 100; relu; ...')."""
    clauses = [c.strip() for c in spec.split(";") if c.strip()]
    dims = [int(d) for d in clauses[0].split()[1].split("x")]
    shape = list(dims)
    layers = []
    for c in clauses[1:]:
        w = c.split()
        if w[0] == "linear":
            layers.append(nn.Linear(math.prod(shape), int(w[1]), bias="nobias" not in w))
            shape = [int(w[1])]
        elif w[0] == "conv":
            opts = {o[0]: int(o[1:]) for o in w[2:] if o != "nobias"}
            k, s, p = opts["k"], opts.get("s", 1), opts.get("p", 0)
            layers.append(nn.Conv2d(shape[0], int(w[1]), k, stride=s, padding=p, bias="nobias" not in w))
            shape = [int(w[1]), (shape[1] + 2 * p - k) // s + 1, (shape[2] + 2 * p - k) // s + 1]
        elif w[0] == "maxpool":
            k = int(w[1])
            s = int(w[2][1:]) if len(w) > 2 else k
            layers.append(nn.MaxPool2d(k, s))
            shape = [shape[0], (shape[1] - k) // s + 1, (shape[2] - k) // s + 1]
        elif w[0] == "relu":
            layers.append(nn.ReLU())
        elif w[0] == "sigmoid":
            layers.append(nn.Sigmoid())
        elif w[0] == "tanh":
            layers.append(nn.Tanh())
        elif w[0] == "flatten":
            layers.append(nn.Flatten())
            shape = [math.prod(shape)]
        elif w[0] == "dropout":
            layers.append(nn.Dropout(float(w[1])))
        else:
            raise ValueError(f"unknown clause {c!r}")
    return nn.Sequential(*layers), dims


class Images(nn.Module):
    """Takes [N, 1, 28, 28] images; flattens them first for a model whose input is a vector (the MLP)."""

    def __init__(self, net, flat):
        super().__init__()
        self.net = net
        self.flat = flat

    def forward(self, x):
        return self.net(torch.flatten(x, 1) if self.flat else x)


def load(path):
    tensors, meta = read_safetensors(path)
    net, dims = torch_model(meta["glassbox.spec"])
    net.load_state_dict({k: torch.from_numpy(v) for k, v in tensors.items() if not k.endswith("_mask")})
    net.eval()
    return Images(net, len(dims) == 1), meta["glassbox.spec"]


def captum_maps(model, x, t, n_steps=50):
    from captum.attr import DeepLift, InputXGradient, IntegratedGradients, Occlusion, Saliency
    out = {}
    out["saliency"] = Saliency(model).attribute(x, target=t, abs=True)
    out["gradient"] = Saliency(model).attribute(x, target=t, abs=False)
    prob = lambda z: torch.softmax(model(z), dim=1)  # noqa: E731
    out["gradient-prob"] = Saliency(prob).attribute(x, target=t, abs=False)
    out["gradient-x-input"] = InputXGradient(model).attribute(x, target=t)
    ig = IntegratedGradients(model)
    for method in ["gausslegendre", "riemann_left", "riemann_right", "riemann_middle", "riemann_trapezoid"]:
        a = ig.attribute(x, baselines=0.0, target=t, n_steps=n_steps, method=method)
        if method == "riemann_trapezoid":
            a = a * (n_steps / (n_steps - 1))
        out["ig-" + method] = a
    out["ig-half"] = ig.attribute(x, baselines=0.5, target=t, n_steps=n_steps, method="gausslegendre")
    occ = Occlusion(model)
    out["occlusion-w4s2"] = occ.attribute(x, sliding_window_shapes=(1, 4, 4), strides=(1, 2, 2), baselines=0.0, target=t)
    out["occlusion-w1s1"] = occ.attribute(x, sliding_window_shapes=(1, 1, 1), strides=(1, 1, 1), baselines=0.0, target=t)
    out["deeplift"] = DeepLift(model).attribute(x, baselines=0.0, target=t)
    out["deeplift-half"] = DeepLift(model).attribute(x, baselines=0.5, target=t)
    return {k: v.detach().numpy() for k, v in out.items()}


def grad_cam(model, layer, x, t):
    from captum.attr import LayerAttribution, LayerGradCam
    a = LayerGradCam(model, model.net[layer]).attribute(x, target=t, relu_attributions=True)
    return LayerAttribution.interpolate(a, (x.shape[2], x.shape[3]), interpolate_mode="bilinear").detach().numpy()


TOLERANCE = {"saliency": 1e-5, "gradient": 1e-5, "gradient-prob": 1e-5, "gradient-x-input": 1e-5,
             "occlusion-w4s2": 1e-5, "occlusion-w1s1": 1e-5, "grad-cam": 1e-5}


def ig_autograd(model, x, t, n_steps=50):
    """Batched integrated gradients with plain autograd (Gauss-Legendre nodes, zero baseline)."""
    nodes, weights = np.polynomial.legendre.leggauss(n_steps)
    alphas = torch.tensor(0.5 * (nodes + 1), dtype=torch.float32)
    w = torch.tensor(0.5 * weights, dtype=torch.float32)
    n = x.shape[0]
    scaled = (alphas.view(-1, 1, 1, 1, 1) * x.unsqueeze(0)).reshape(n_steps * n, *x.shape[1:]).requires_grad_(True)
    out = model(scaled)
    sel = out.gather(1, t.repeat(n_steps).view(-1, 1)).sum()
    (g,) = torch.autograd.grad(sel, scaled)
    g = (g.view(n_steps, n, *x.shape[1:]) * w.view(-1, 1, 1, 1, 1)).sum(0)
    return g * x


def best_of(repeats, f):
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - t0)
    return best


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=os.path.join(ROOT, "..", "shared", "datasets", "mnist"))
    p.add_argument("--work", default=os.path.join(ROOT, "out", "attribution"))
    p.add_argument("--mlp", help="MLP checkpoint (default: train one with glassbox)")
    p.add_argument("--cnn", help="CNN checkpoint (default: train one with glassbox)")
    p.add_argument("--maps", type=int, default=100, help="images whose maps are compared")
    p.add_argument("--time-images", type=int, default=1000)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=2, help="torch threads (Glassbox uses GLASSBOX_THREADS, default all cores)")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    os.makedirs(args.work, exist_ok=True)
    glassbox = os.path.join(ROOT, ".build", "release", "glassbox")
    bench = os.path.join(ROOT, ".build", "release", "AttributionBench")

    checkpoints = {}
    for name, spec, given, epochs in [("mlp", MLP_SPEC, args.mlp, 4), ("cnn", CNN_SPEC, args.cnn, 2)]:
        path = given or os.path.join(args.work, f"{name}.safetensors")
        if not os.path.exists(path):
            print(f"training {name} with glassbox ...", file=sys.stderr)
            subprocess.run([glassbox, "train", "--model", spec, "--data", "mnist", "--data-dir", args.data_dir,
                            "--resplit", "8000:2000", "--epochs", str(epochs), "--optimizer", "adam", "--batch-size", "64",
                            "--out", path, "--quiet"], check=True)
        checkpoints[name] = path

    rows, speed = [], []
    for name, path in checkpoints.items():
        out = os.path.join(args.work, name)
        r = subprocess.run([bench, "--checkpoint", path, "--out", out, "--data-dir", args.data_dir, "--maps",
                            str(args.maps), "--time-images", str(args.time_images),
                            "--repeats", str(args.repeats)], check=True, capture_output=True, text=True)
        report = json.loads(r.stdout)
        model, spec = load(path)
        images = np.load(os.path.join(out, "images.npy"))
        targets = np.load(os.path.join(out, "targets.npy"))
        x = torch.from_numpy(images[:args.maps])
        t = torch.from_numpy(targets[:args.maps])
        with torch.no_grad():
            agree = (model(x).argmax(1) == t).float().mean().item()
        ours = {m: np.load(os.path.join(out, m + ".npy"))[:args.maps] for m in
                [f[:-4] for f in os.listdir(out) if f.endswith(".npy") and f not in ("images.npy", "targets.npy")]}
        theirs = captum_maps(model, x, t)
        if "grad_cam_layer" in report:
            theirs["grad-cam"] = grad_cam(model, report["grad_cam_layer"], x, t)
        for m in sorted(theirs):
            ref, mine = theirs[m], ours[m]
            err = float(np.abs(mine - ref).max() / max(np.abs(ref).max(), 1e-30))
            tol = TOLERANCE.get(m, 1e-4)
            rows.append((name, m, err, tol))
        # Speed: the same 1000 images and targets, right after Glassbox's own timing.
        xt = torch.from_numpy(images[:args.time_images])
        tt = torch.from_numpy(targets[:args.time_images])
        from captum.attr import IntegratedGradients
        ig = IntegratedGradients(model)
        batch = None if name == "mlp" else 100 * 50
        ig.attribute(xt[:64], baselines=0.0, target=tt[:64], n_steps=50)
        captum_s = best_of(args.repeats, lambda: ig.attribute(xt, baselines=0.0, target=tt, n_steps=50,
                                                              method="gausslegendre", internal_batch_size=batch))
        if name == "mlp":
            autograd_s = best_of(args.repeats, lambda: ig_autograd(model, xt, tt))
        else:
            autograd_s = best_of(args.repeats, lambda: torch.cat([ig_autograd(model, xt[i:i + 100], tt[i:i + 100])
                                                                  for i in range(0, xt.shape[0], 100)]))
        speed.append((name, report["ig_seconds"], captum_s, autograd_s, report["threads"], agree))

    print(f"torch {torch.__version__}, threads {args.threads}")
    print()
    print("| model | method | max rel. error | tolerance | |")
    print("|---|---|---|---|---|")
    for name, m, err, tol in rows:
        note = " (Captum x n/(n-1))" if m.endswith("trapezoid") else ""
        print(f"| {name} | {m}{note} | {err:.2e} | {tol:.0e} | {'ok' if err <= tol else 'FAIL'} |")
    print()
    print(f"Integrated gradients, 50 Gauss-Legendre steps, zero baseline, {args.time_images} images (best of {args.repeats}):")
    print("| model | Glassbox s | Captum s | PyTorch autograd s | Captum / Glassbox | autograd / Glassbox |")
    print("|---|---|---|---|---|---|")
    for name, g, c, a, threads, agree in speed:
        print(f"| {name} | {g:.4f} | {c:.4f} | {a:.4f} | {c / g:.1f}x | {a / g:.1f}x |")
    print()
    print(json.dumps({"agreement": [{"model": n, "method": m, "max_relative_error": e, "tolerance": t} for n, m, e, t in rows],
                      "speed": [{"model": n, "glassbox_s": g, "captum_s": c, "autograd_s": a, "glassbox_threads": th}
                                for n, g, c, a, th, _ in speed]}))
    return 0 if all(e <= t for _, _, e, t in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
