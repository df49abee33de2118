"""Persistent homology H0+H1 timings: Glassbox (`glassbox topology ph`) against ripser.py on the same points.

Usage (from the repository root, after `swift build -c release` and `bash Benchmarks/topology/setup.sh`):
    Benchmarks/venv-tda/bin/python Benchmarks/topology/compare_ph.py [--sizes 500 1000 2000]

Point clouds in R^9, seeded: a noisy circle (a unit circle in a random 2-plane plus N(0, 0.1^2) noise) and a
uniform cube [0, 1]^9. Both tools get the same CSV, maximum dimension 1 and no threshold (Glassbox's default
threshold is the enclosing radius, beyond which nothing changes in dimensions 0 and 1).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
from ripser import ripser


def cloud(kind, n, rng):
    if kind == "circle":
        basis, _ = np.linalg.qr(rng.standard_normal((9, 2)))
        t = rng.uniform(0, 2 * np.pi, n)
        return np.c_[np.cos(t), np.sin(t)] @ basis.T + 0.1 * rng.standard_normal((n, 9))
    return rng.uniform(0, 1, (n, 9))


def same_bars(ours, theirs):
    """Bar-for-bar comparison: ripser.py works in float32, so values agree to float precision, and bars whose
    (birth, death) tie in float32 but not in float64 may come in another order: both sides are sorted on float32."""
    a = np.array([[b["birth"], np.inf if b["death"] is None else b["death"]] for b in ours]).reshape(-1, 2)
    b = np.asarray(theirs, dtype=np.float64).reshape(-1, 2)
    b = b[b[:, 1] > b[:, 0]]  # ripser.py lists zero-length H0 bars of duplicate points; Glassbox does not
    if a.shape != b.shape:
        return False

    def order(m):
        return m[np.lexsort((m[:, 1].astype(np.float32), m[:, 0].astype(np.float32)))]

    a, b = order(a), order(b)
    if not (np.isinf(a) == np.isinf(b)).all():
        return False
    finite = np.isfinite(a)
    return bool(np.all(np.abs(a[finite] - b[finite]) <= 1e-6))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[500, 1000, 2000])
    ap.add_argument("--glassbox", default=".build/release/glassbox")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ["circle", "cube"]:
            for n in args.sizes:
                x = cloud(kind, n, rng).astype(np.float64)
                path = os.path.join(tmp, f"{kind}-{n}.csv")
                np.savetxt(path, x, delimiter=",")
                t0 = time.perf_counter()
                out = subprocess.run([args.glassbox, "topology", "ph", path, "--maxdim", "1"],
                                     capture_output=True, text=True, check=True)
                tg = time.perf_counter() - t0
                g = json.loads(out.stdout)
                g1 = [b for b in g["bars"][1]]
                t0 = time.perf_counter()
                r = ripser(x, maxdim=1)
                tr = time.perf_counter() - t0
                r1 = r["dgms"][1]
                # Same longest H1 bar (to float precision) as a sanity check that both computed the same thing.
                gl = max([(b["death"] if b["death"] is not None else np.inf) - b["birth"] for b in g1], default=0)
                rl = max([d - b for b, d in r1], default=0)
                same = same_bars(g["bars"][0], r["dgms"][0]) and same_bars(g1, r1)
                rows.append((kind, n, tg, tr, len(g1), len(r1), gl, rl, same))
                print(f"{kind:6s} {n:5d}  glassbox {tg:7.2f} s  ripser.py {tr:7.2f} s  ratio {tr / tg:5.2f}x  "
                      f"H1 bars {len(g1)}/{len(r1)}  longest {gl:.4f}/{rl:.4f}  "
                      f"H0+H1 bar for bar: {'identical' if same else 'DIFFERENT'}", flush=True)
    json.dump([dict(zip(["cloud", "points", "glassbox_s", "ripser_s", "glassbox_h1", "ripser_h1",
                         "glassbox_longest", "ripser_longest", "identical"], r)) for r in rows], sys.stdout)
    print()


if __name__ == "__main__":
    main()
