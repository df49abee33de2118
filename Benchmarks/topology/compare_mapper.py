"""Mapper timings: Glassbox (`glassbox topology mapper`) against KeplerMapper 2.1 on the same points.

Usage (from the repository root, after `swift build -c release`, `bash Benchmarks/topology/setup.sh` and
`Benchmarks/venv-tda/bin/pip install kmapper scikit-learn`):
    Benchmarks/venv-tda/bin/python Benchmarks/topology/compare_mapper.py [--points 5000]

A noisy circle in R^9 (seeded). Both sides: lens = first principal component, 10 intervals, 30 % overlap, single-
linkage clustering in each cover element. The cut rules differ: Glassbox cuts at the first large gap of the
merge heights (METHODS.md §3); KeplerMapper runs scikit-learn's AgglomerativeClustering(linkage="single") with a
fixed distance threshold (here 0.5), because it has no first-gap rule. Timings include process start and file
parsing for Glassbox; KeplerMapper's includes the lens (PCA) and the graph.
"""
import argparse
import json
import os
import subprocess
import tempfile
import time

import kmapper as km
import numpy as np
from sklearn.cluster import AgglomerativeClustering
from sklearn.decomposition import PCA


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--points", type=int, default=5000)
    ap.add_argument("--glassbox", default=".build/release/glassbox")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    n = args.points
    basis, _ = np.linalg.qr(rng.standard_normal((9, 2)))
    t = rng.uniform(0, 2 * np.pi, n)
    x = np.c_[np.cos(t), np.sin(t)] @ basis.T + 0.1 * rng.standard_normal((n, 9))
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "circle.csv")
        np.savetxt(path, x, delimiter=",")
        t0 = time.perf_counter()
        out = subprocess.run([args.glassbox, "topology", "mapper", path, "--intervals", "10", "--overlap", "0.3",
                              "--lens", "pca1"], capture_output=True, text=True, check=True)
        tg = time.perf_counter() - t0
        g = json.loads(out.stdout)
    t0 = time.perf_counter()
    mapper = km.KeplerMapper(verbose=0)
    lens = mapper.fit_transform(x, projection=PCA(n_components=1))
    graph = mapper.map(lens, x, cover=km.Cover(n_cubes=10, perc_overlap=0.3),
                       clusterer=AgglomerativeClustering(n_clusters=None, linkage="single", distance_threshold=0.5))
    tk = time.perf_counter() - t0
    kedges = sum(len(v) for v in graph["links"].values())
    print(f"{n} points  glassbox {tg:.2f} s ({len(g['nodes'])} nodes, {len(g['edges'])} edges)  "
          f"KeplerMapper {tk:.2f} s ({len(graph['nodes'])} nodes, {kedges} edges)  ratio {tk / tg:.2f}x")


if __name__ == "__main__":
    main()
