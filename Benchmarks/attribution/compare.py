#!/usr/bin/env python3
"""Glassbox attribution maps against Captum's, and integrated gradients' speed against Captum and PyTorch autograd.

For each model (the tour's MLP 784-100-50-10 ReLU and CNN, trained with `glassbox train` on MNIST 8000/2000 unless
checkpoints are given):
  1. runs .build/release/AttributionBench, which writes the first N test images, the predicted classes and Glassbox's
     maps (.npy), and times Glassbox's integrated gradients (50 Gauss-Legendre steps, zero baseline) on 1000 images;
  2. loads the same .safetensors weights into an equivalent torch.nn.Sequential and computes Captum's maps on the same
     images and targets;
  3. prints an agreement table: max |glassbox - reference| / max |reference| over all maps of a method, with the
     tolerance (1e-5 for saliency, gradient x input, occlusion and Grad-CAM, 1e-4 for integrated gradients and
     DeepLIFT). References: Captum for every method; Captum run on a float64 copy of the model (with Captum's own
     float32 distance from it beside, the float32 noise floor: a ReLU pre-activation within rounding of 0 at one of
     the path points flips that point's gradient); and for DeepLIFT the Rescale rule written out here in float64
     (Captum 0.9.0's DeepLift breaks summation-to-delta on the CNN; the table of summation gaps shows it).
     A second column leaves out images where a max-pooling window has a different winner in Glassbox's and
     PyTorch's forward passes (two inputs equal in exact arithmetic that float rounding orders differently): the
     gradient routed through such a window is not unique, so neither answer is wrong. The -blur methods use a
     blurred-input baseline (written by the bench): a constant baseline ties every pooling window of the CNN;
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


def captum_maps(model, x, t, blur, n_steps=50):
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
    out["ig-blur"] = ig.attribute(x, baselines=blur, target=t, n_steps=n_steps, method="gausslegendre")
    occ = Occlusion(model)
    out["occlusion-w4s2"] = occ.attribute(x, sliding_window_shapes=(1, 4, 4), strides=(1, 2, 2), baselines=0.0, target=t)
    out["occlusion-w1s1"] = occ.attribute(x, sliding_window_shapes=(1, 1, 1), strides=(1, 1, 1), baselines=0.0, target=t)
    out["deeplift"] = DeepLift(model).attribute(x, baselines=0.0, target=t)
    out["deeplift-blur"] = DeepLift(model).attribute(x, baselines=blur, target=t)
    return {k: v.detach().numpy() for k, v in out.items()}


def grad_cam(model, layer, x, t):
    from captum.attr import LayerAttribution, LayerGradCam
    a = LayerGradCam(model, model.net[layer]).attribute(x, target=t, relu_attributions=True)
    return LayerAttribution.interpolate(a, (x.shape[2], x.shape[3]), interpolate_mode="bilinear").detach().numpy()


def deeplift_reference(model, x, xb, t, eps=1e-10):
    """DeepLIFT's Rescale rule written out layer by layer in float64, independently of Captum: linear layers by their
    transposed map (autograd of the layer alone), ReLU by (y - y')/(z - z') (the gradient where |z - z'| < eps),
    max pooling by routing each window's change to the argmax of x when y >= y' and of x' otherwise (Captum's rule,
    accumulated with scatter_add). Returns attributions of x's shape."""
    import copy
    import torch.nn.functional as F
    layers = [copy.deepcopy(l).double() for l in model.net]
    hx, hb = x.double(), xb.double()
    if model.flat:
        hx, hb = hx.flatten(1), hb.flatten(1)
    x0, b0 = hx, hb
    record = []
    with torch.no_grad():
        for l in layers:
            zx, zb = hx, hb
            hx, hb = l(hx), l(hb)
            record.append((zx, zb, hx, hb))
    m = F.one_hot(t, hx.shape[1]).double()
    for l, (zx, zb, yx, yb) in zip(reversed(layers), reversed(record)):
        dz = zx - zb
        safe = torch.where(dz == 0, torch.ones_like(dz), dz)
        if isinstance(l, (nn.Linear, nn.Conv2d, nn.Flatten, nn.Dropout)):
            z = zx.clone().requires_grad_(True)
            (m,) = torch.autograd.grad(l(z), z, grad_outputs=m)
        elif isinstance(l, (nn.ReLU, nn.Sigmoid, nn.Tanh)):
            z = zx.clone().requires_grad_(True)
            (g,) = torch.autograd.grad(l(z), z, grad_outputs=m)
            m = torch.where(dz.abs() < eps, g, m * (yx - yb) / safe)
        elif isinstance(l, nn.MaxPool2d):
            _, ix = F.max_pool2d(zx, l.kernel_size, l.stride, return_indices=True)
            _, ib = F.max_pool2d(zb, l.kernel_size, l.stride, return_indices=True)
            hi = torch.maximum(yx, yb)
            routed = torch.zeros_like(zx).flatten(2)
            grad = torch.zeros_like(zx).flatten(2)
            routed.scatter_add_(2, ix.flatten(2), (m * (hi - yb)).flatten(2))
            routed.scatter_add_(2, ib.flatten(2), (m * (yx - hi)).flatten(2))
            grad.scatter_add_(2, ix.flatten(2), m.flatten(2))
            m = torch.where(dz.abs() < eps, grad.view_as(zx), routed.view_as(zx) / safe)
        else:
            raise ValueError(f"no DeepLIFT rule for {l}")
    return (m * (x0 - b0)).reshape(x.shape).float().numpy()


def pooling_disagreements(model, x, out):
    """Images where some max-pooling window has a different winner in Glassbox's forward pass (its pool inputs,
    written by the bench) than in PyTorch's: two inputs equal in exact arithmetic (e.g. identical 5x5 patches) that
    float rounding orders differently. The gradient routed through such a window is not unique."""
    flagged = np.zeros(x.shape[0], dtype=bool)
    h = torch.flatten(x, 1) if model.flat else x
    with torch.no_grad():
        for i, l in enumerate(model.net):
            if isinstance(l, nn.MaxPool2d):
                mine = torch.from_numpy(np.load(os.path.join(out, f"pool-input-{i}.npy")))
                k, st = l.kernel_size, l.stride
                a = torch.nn.functional.unfold(h, k, stride=st).view(h.shape[0], h.shape[1], k * k, -1)
                b = torch.nn.functional.unfold(mine, k, stride=st).view(h.shape[0], h.shape[1], k * k, -1)
                differ = (a.argmax(2) != b.argmax(2)) & (a.max(2).values > 0)
                flagged |= differ.flatten(1).any(1).numpy()
            h = l(h)
    return flagged


def summation_gap(maps, model, x, xb, t):
    """max over images of |sum attr - (F(x) - F(x'))| / |F(x) - F(x')|."""
    with torch.no_grad():
        d = (model(x).gather(1, t.view(-1, 1)) - model(xb).gather(1, t.view(-1, 1))).squeeze(1).double().numpy()
    return float(np.max(np.abs(maps.reshape(len(d), -1).astype(np.float64).sum(1) - d) / np.abs(d)))


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
    p.add_argument("--skip-speed", action="store_true", help="compare maps only")
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

    rows, speed, gaps = [], [], []
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
        skip = ("images.npy", "targets.npy", "baseline-blur.npy")
        ours = {f[:-4]: np.load(os.path.join(out, f))[:args.maps] for f in os.listdir(out)
                if f.endswith(".npy") and f not in skip and not f.startswith("pool-input-")}
        blur = torch.from_numpy(np.load(os.path.join(out, "baseline-blur.npy"))[:args.maps])
        ties = pooling_disagreements(model, x, out)
        theirs = {m: ("Captum", v) for m, v in captum_maps(model, x, t, blur).items()}
        if "grad_cam_layer" in report:
            theirs["grad-cam"] = ("Captum", grad_cam(model, report["grad_cam_layer"], x, t))
        # Captum on a float64 copy: how far each float32 implementation is from the (nearly) exact maps.
        import copy
        model64 = copy.deepcopy(model).double()
        exact = captum_maps(model64, x.double(), t, blur.double())
        if "grad_cam_layer" in report:
            exact["grad-cam"] = grad_cam(model64, report["grad_cam_layer"], x.double(), t)
        references = sorted(theirs.items()) + [(m, ("Captum, float64", v)) for m, v in sorted(exact.items()) if not m.startswith("deeplift")]
        captum32 = {m: v for m, (_, v) in theirs.items()}
        for m, b in [("deeplift", torch.zeros_like(x)), ("deeplift-blur", blur)]:
            references.append((m, ("Rescale rule, float64", deeplift_reference(model, x, b, t))))
            gaps.append((name, m, summation_gap(ours[m], model, x, b, t), summation_gap(theirs[m][1], model, x, b, t)))
        for m, (source, ref) in references:
            mine = ours[m]
            scale = max(np.abs(ref).max(), 1e-30)
            per = np.abs(mine - ref).reshape(len(ref), -1).max(1) / scale
            clean = per[~ties].max() if (~ties).any() else float("nan")
            # For the float64 reference also: Captum's own float32 maps' distance from it (the float32 noise floor).
            floor = float("nan")
            if source == "Captum, float64":
                fp = np.abs(captum32[m] - ref).reshape(len(ref), -1).max(1) / scale
                floor = float(fp[~ties].max()) if (~ties).any() else float("nan")
            rows.append((name, m, source, float(per.max()), float(clean), int(ties.sum()), TOLERANCE.get(m, 1e-4), floor))
        if args.skip_speed:
            continue
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
    print("Max |glassbox - reference| / max |reference| over the maps of a method; 'tie-free' leaves out the images in")
    print("which some max-pooling window has a different winner in the two forward passes (inputs equal in exact")
    print("arithmetic, ordered differently by float rounding: the routed gradient is not unique there).")
    print("For the float64 reference, the last column gives Captum's own float32 maps' tie-free error against it.")
    print("| model | method | reference | max rel. error | tie-free | tie images | tolerance | | Captum float32 |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, m, source, err, clean, nties, tol, floor in rows:
        note = " (Captum x n/(n-1))" if m.endswith("trapezoid") else ""
        extra = f"{floor:.2e}" if floor == floor else ""
        print(f"| {name} | {m}{note} | {source} | {err:.2e} | {clean:.2e} | {nties} | {tol:.0e} | {'ok' if clean <= tol else 'FAIL'} | {extra} |")
    print()
    print("DeepLIFT summation-to-delta, max over images of |sum attr - (F(x) - F(x'))| / |F(x) - F(x')|:")
    print("| model | method | Glassbox | Captum |")
    print("|---|---|---|---|")
    for name, m, mine, theirs in gaps:
        print(f"| {name} | {m} | {mine:.1e} | {theirs:.1e} |")
    print()
    print(f"Integrated gradients, 50 Gauss-Legendre steps, zero baseline, {args.time_images} images (best of {args.repeats}):")
    print("| model | Glassbox s | Captum s | PyTorch autograd s | Captum / Glassbox | autograd / Glassbox |")
    print("|---|---|---|---|---|---|")
    for name, g, c, a, threads, agree in speed:
        print(f"| {name} | {g:.4f} | {c:.4f} | {a:.4f} | {c / g:.1f}x | {a / g:.1f}x |")
    print()
    print(json.dumps({"agreement": [{"model": n, "method": m, "reference": r, "max_relative_error": e, "tie_free": c, "tie_images": k,
                                     "tolerance": t, "captum_float32_tie_free": f if f == f else None}
                                    for n, m, r, e, c, k, t, f in rows],
                      "speed": [{"model": n, "glassbox_s": g, "captum_s": c, "autograd_s": a, "glassbox_threads": th}
                                for n, g, c, a, th, _ in speed]}))
    return 0 if all(c <= t for _, _, _, _, c, _, t, _ in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
