"""Mapper timings: Glassbox (`glassbox topology mapper`) against KeplerMapper 2.1 on the same points.

Usage (from the repository root, after `swift build -c release`, `bash Benchmarks/topology/setup.sh` and
`Benchmarks/venv-tda/bin/pip install kmapper scikit-learn`):
    Benchmarks/venv-tda/bin/python Benchmarks/topology/compare_mapper.py [--points 5000] [--repeats 9]

A noisy circle in R^9 (seeded), written as CSV with NumPy's default `%.18e`. Both sides: lens = first principal
component, 10 intervals, 30 % overlap, single-linkage clustering in each cover element. The cut rules differ:
Glassbox cuts at the first large gap of the merge heights (METHODS.md §3; with its median floor by default);
KeplerMapper runs scikit-learn's AgglomerativeClustering(linkage="single") with a fixed distance threshold (here
0.5), because it has no first-gap rule.

Each repeat times, interleaved, four things, so that like is compared with like:
  - Glassbox, whole command: process start, reading and parsing the CSV, Mapper, JSON on stdout (wall clock);
  - Glassbox, in process: the same minus process start (the phases `--time` reports on stderr);
  - KeplerMapper, in process: lens (PCA) and `map` on the NumPy array already in memory (no file, no JSON);
  - KeplerMapper, whole command: a fresh `python` that imports NumPy, scikit-learn and kmapper, reads the same CSV
    with np.loadtxt, maps and writes the graph as JSON.
The cost of starting any process from this (large) Python process is timed too, with /bin/true: it is part of
both whole-command times. Each timing starts after a 0.3 s pause, so that BLAS threads left spinning by the previous one are idle.
Medians (and minima) over the repeats are printed.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

import kmapper as km
import numpy as np
from sklearn.cluster import AgglomerativeClustering
from sklearn.decomposition import PCA

KEPLER_SCRIPT = r"""
import json, sys
import numpy as np, kmapper as km
from sklearn.cluster import AgglomerativeClustering
from sklearn.decomposition import PCA
x = np.loadtxt(sys.argv[1], delimiter=",")
mapper = km.KeplerMapper(verbose=0)
lens = mapper.fit_transform(x, projection=PCA(n_components=1))
graph = mapper.map(lens, x, cover=km.Cover(n_cubes=10, perc_overlap=0.3),
                   clusterer=AgglomerativeClustering(n_clusters=None, linkage="single", distance_threshold=0.5))
json.dump({"nodes": graph["nodes"], "links": graph["links"]}, sys.stdout)
"""


def kepler(x):
    mapper = km.KeplerMapper(verbose=0)
    lens = mapper.fit_transform(x, projection=PCA(n_components=1))
    return mapper.map(lens, x, cover=km.Cover(n_cubes=10, perc_overlap=0.3),
                      clusterer=AgglomerativeClustering(n_clusters=None, linkage="single", distance_threshold=0.5))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--points", type=int, default=5000)
    ap.add_argument("--repeats", type=int, default=9)
    ap.add_argument("--glassbox", default=".build/release/glassbox")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    n = args.points
    basis, _ = np.linalg.qr(rng.standard_normal((9, 2)))
    t = rng.uniform(0, 2 * np.pi, n)
    x = np.c_[np.cos(t), np.sin(t)] @ basis.T + 0.1 * rng.standard_normal((n, 9))
    times = {"glassbox whole": [], "glassbox in-process": [], "KeplerMapper in-process": [], "KeplerMapper whole": [],
             "spawning /bin/true": []}
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "circle.csv")
        np.savetxt(path, x, delimiter=",")
        cmd = [args.glassbox, "topology", "mapper", path, "--intervals", "10", "--overlap", "0.3", "--lens", "pca1"]
        plain = json.loads(subprocess.run(cmd + ["--median-gap", "0"], capture_output=True, text=True, check=True).stdout)
        for _ in range(args.repeats):
            # A pause before each timing: idle BLAS threads (OpenBLAS spins for a while after a call, here in this
            # process after KeplerMapper and in a fresh glassbox) would otherwise take a core from the next run.
            time.sleep(0.3)
            t0 = time.perf_counter()
            out = subprocess.run(cmd + ["--time"], capture_output=True, text=True, check=True)
            times["glassbox whole"].append(time.perf_counter() - t0)
            phases = [float(v) for v in re.findall(r"([0-9.]+) s", out.stderr)]
            times["glassbox in-process"].append(sum(phases))
            g = json.loads(out.stdout)
            time.sleep(0.3)
            t0 = time.perf_counter()
            graph = kepler(x)
            times["KeplerMapper in-process"].append(time.perf_counter() - t0)
            time.sleep(0.3)
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-c", KEPLER_SCRIPT, path], capture_output=True, text=True, check=True)
            times["KeplerMapper whole"].append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            subprocess.run(["/bin/true"], capture_output=True, check=True)
            times["spawning /bin/true"].append(time.perf_counter() - t0)
    kedges = sum(len(v) for v in graph["links"].values())
    print(f"{n} points, {args.repeats} repeats; load average {os.getloadavg()[0]:.2f}")
    print(f"graphs: glassbox {len(g['nodes'])} nodes, {len(g['edges'])} edges (median floor {g['parameters']['medianGap']:g}); "
          f"{len(plain['nodes'])} nodes, {len(plain['edges'])} edges with --median-gap 0; "
          f"KeplerMapper {len(graph['nodes'])} nodes, {kedges} edges")
    med = {k: statistics.median(v) for k, v in times.items()}
    for k, v in times.items():
        print(f"  {k:25s} median {med[k] * 1000:7.1f} ms   min {min(v) * 1000:7.1f} ms")
    print(f"KeplerMapper / glassbox, medians: whole commands {med['KeplerMapper whole'] / med['glassbox whole']:.1f}x; "
          f"in process {med['KeplerMapper in-process'] / med['glassbox in-process']:.1f}x; "
          f"KeplerMapper in process / glassbox whole command {med['KeplerMapper in-process'] / med['glassbox whole']:.2f}x")


if __name__ == "__main__":
    main()
