#!/usr/bin/env python3
"""Writes the seed corpus Fuzz/corpus/<target>/ (small valid files of each format and a few near misses).

Run from the repository root: python3 Fuzz/make_seeds.py. The files are committed; this script documents them.
"""
import gzip, json, os, struct

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")

def put(target, name, data):
    os.makedirs(os.path.join(root, target), exist_ok=True)
    with open(os.path.join(root, target, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())

def safetensors(tensors, metadata=None):
    header, body, offset = {}, b"", 0
    if metadata:
        header["__metadata__"] = metadata
    for name, (dtype, shape, raw) in sorted(tensors.items()):
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(raw)]}
        body += raw
        offset += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    return struct.pack("<Q", len(h)) + h + body

f32 = lambda vs: struct.pack("<%df" % len(vs), *vs)
put("safetensors", "mlp", safetensors({
    "0.weight": ("F32", [3, 4], f32([0.1 * i for i in range(12)])), "0.bias": ("F32", [3], f32([0, 1, 2])),
    "2.weight": ("F32", [2, 3], f32([1, -1, 0.5, 2, 0, -2])), "2.bias": ("F32", [2], f32([0, 0])),
    "0.weight_mask": ("F32", [3, 4], f32([1] * 12))}, {"glassbox.spec": "input 4; linear 3; relu; linear 2", "format": "pt"}))
put("safetensors", "cnn", safetensors({
    "0.weight": ("F32", [2, 1, 3, 3], f32([0.5] * 18)), "0.bias": ("F32", [2], f32([0, 0])),
    "3.weight": ("F32", [3, 8], f32([0.25] * 24)), "3.bias": ("F32", [3], f32([1, 2, 3]))},
    {"glassbox.spec": "input 1x4x4; conv 2 k3; relu; flatten; linear 3"}))
put("safetensors", "dtypes", safetensors({
    "a": ("F64", [2], struct.pack("<2d", 1.5, -2)), "b": ("F16", [2], struct.pack("<2H", 0x3C00, 0xC000)),
    "c": ("BF16", [1, 2], struct.pack("<2H", 0x3F80, 0x4000)), "d": ("F32", [0, 3], b"")}))
put("safetensors", "spec-only", safetensors({}, {"glassbox.spec": "input 1x28x28; conv 16 k5 p2; relu; maxpool 2; flatten; linear 10"}))

def npy(descr, shape, payload, fortran=False, version=1):
    header = "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (descr, "True" if fortran else "False", shape)
    pre = 10 if version == 1 else 12
    header += " " * ((64 - (pre + len(header) + 1) % 64) % 64) + "\n"
    length = struct.pack("<H", len(header)) if version == 1 else struct.pack("<I", len(header))
    return b"\x93NUMPY" + bytes([version, 0]) + length + header.encode() + payload

put("npy", "square-f4", npy("<f4", "(4, 2)", f32([0, 0, 1, 0, 1, 1, 0, 1])))
put("npy", "line-f8-fortran", npy("<f8", "(3, 2)", struct.pack("<6d", 0, 1, 2, 0, 0, 0), fortran=True))
put("npy", "v2-empty", npy("<f4", "(0, 3)", b"", version=2))
put("npy", "big-endian", npy(">f4", "(1, 1)", b"\0\0\0\0"))

def idx(dims, values):
    return bytes([0, 0, 8, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + bytes(values)

put("idx", "labels", idx([5], [0, 1, 2, 9, 4]))
put("idx", "images", idx([2, 2, 3], list(range(12))))
put("idx", "labels-gz", gzip.compress(idx([3], [7, 0, 9]), mtime=0))
put("idx", "images-gz-two-members", gzip.compress(idx([1, 2, 2], [])[:10], mtime=0) + gzip.compress(idx([1, 2, 2], [1, 2, 3, 4])[10:], mtime=0))

put("csv", "header", "x,y,z\n0,0,0\n1,0,0\n0,1,0\n0,0,1\n")
put("csv", "plain", "0.5, 1e-3\n-2,3.25\n\n4,5\n")
put("csv", "circle", "".join("%r,%r\n" % (round(__import__('math').cos(t / 3), 6), round(__import__('math').sin(t / 3), 6)) for t in range(19)))

put("recipe", "small", """---
title: "Digits: quickly"
description: A small MLP.
seed: 1
parameters:
  epochs: 2
  hidden: 32
---

We train (@fig-curves) with ${hidden} units for ${epochs} epochs. | a | b |
|---|---|
| *x* | [y](#fig-curves) |

```glassbox
#| label: fig-curves
#| caption: "Loss: per epoch"
#| echo: false
step: train
model: mlp 784-${hidden}-10 relu
data: digits
epochs: ${epochs}
layers: [0.weight, "2.weight"]
lr: 0.1
```

~~~python
not a cell
~~~

<b onclick="x">bold</b> <a href="javascript&#58;x">a</a> ![i](figures/a.png) www.example.org
""")
put("recipe", "cells", """# Only prose and cells

```glassbox
step: data
dataset: mnist
resplit: 8000:2000
```

```glassbox
step: figure
kind: curves
models: [a, b]
metric: accuracy
```
""")

manifest = {
    "recipe": "tour.md", "recipeSHA256": "00", "title": "T", "runID": "default",
    "parameters": [{"name": "epochs", "value": "3", "defaultValue": "3"}], "seed": 0, "defaultSeed": 0,
    "toolVersion": "0.1", "blas": "OpenBLAS", "cells": [{"index": 1, "line": 5, "step": "data", "label": None, "key": "k",
    "status": "executed", "seconds": 0.5}],
    "metrics": [{"label": "mlp accuracy", "name": "mlp.accuracy", "value": 0.9, "display": "90 %", "direction": "higher"}],
    "tables": [{"label": "tbl-a", "number": 1, "caption": "c", "columns": ["a", "b"], "rows": [["1", "2"]]}],
    "figures": [{"label": "fig-a", "number": 1, "caption": None, "file": "figures/fig-a.png", "json": "figures/fig-a.png",
                 "sha256": "", "width": 10, "height": 10}],
}
put("runjson", "manifest", json.dumps(manifest, indent=1))
manifest["figures"][0]["label"] = "../x"
put("runjson", "bad-label", json.dumps(manifest))
