"""Helpers shared by the real-size export scripts in models/large/ (not a script: export.py skips it).

Everything they write goes to the git-ignored folder models/.large/: the .onnx files, the PyTorch weights (.pt, read
by bench/pytorch-loop.py), the sample files, one check dump per model (a batch of masked inputs and PyTorch's logits,
compared with onnxruntime-node by check-ort.mjs) and models/.large/manifest.json. Nothing here downloads anything.
"""
import fcntl
import json
import os
import sys
import time

import numpy as np
import onnx
import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import common  # noqa: E402  (models/common.py: sha256, rel, io_summary, write_json)
from architectures import LARGE_DIR, weights_path  # noqa: E402

MANIFEST = os.path.join(LARGE_DIR, "manifest.json")
WEIGHTS_NOTE = "RANDOM weights (fixed seed, never trained): outputs mean nothing; for speed and memory measurements"
# ImageNet channel statistics: the synthetic images are normalised like a torchvision input
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406])[:, None, None]
IMAGENET_STD = np.array([0.229, 0.224, 0.225])[:, None, None]


def path(name):
    os.makedirs(LARGE_DIR, exist_ok=True)
    return os.path.join(LARGE_DIR, name)


def export_onnx(model, dummy_inputs, onnx_path, input_names, output_names, opset):
    """Exports with a dynamic batch axis (axis 0) on every input and output, checks the file, returns seconds."""
    started = time.perf_counter()
    axes = {name: {0: "batch"} for name in input_names + output_names}
    # with gradients on: nn.TransformerEncoderLayer's eval fast path (one fused aten op that ONNX cannot express)
    # is taken only under no_grad, so the export traces its plain modules
    with torch.enable_grad():
        torch.onnx.export(model.eval(), dummy_inputs, onnx_path, input_names=input_names, output_names=output_names,
                          dynamic_axes=axes, opset_version=opset, do_constant_folding=True)
    onnx.checker.check_model(onnx_path)
    return time.perf_counter() - started


def save_weights(name, model):
    torch.save(model.state_dict(), weights_path(name))


def synthetic_image(rng, size):
    """A real-looking RGB scene in [0,1] (sky gradient, ground, a few shaded ellipses, sensor noise), normalised with
    the ImageNet mean and std: float32 [3,size,size]."""
    yy, xx = np.mgrid[0:size, 0:size] / size
    sky_top, sky_bottom = rng.uniform(0.3, 0.7, 3), rng.uniform(0.7, 1.0, 3)
    img = sky_top[:, None, None] * (1 - yy) + sky_bottom[:, None, None] * yy
    horizon = rng.uniform(0.55, 0.75) + 0.05 * np.sin(xx * rng.uniform(4, 9) + rng.uniform(0, 6))
    ground = rng.uniform(0.1, 0.5, 3)[:, None, None] * (0.8 + 0.4 * yy)
    img = np.where(yy > horizon, ground, img)
    for _ in range(rng.integers(2, 5)):
        cy, cx = rng.uniform(0.25, 0.8), rng.uniform(0.15, 0.85)
        ry, rx = rng.uniform(0.05, 0.2), rng.uniform(0.05, 0.25)
        inside = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 < 1
        shade = 0.7 + 0.3 * (1 - (yy - cy + ry) / (2 * ry))  # lit from above
        img = np.where(inside, rng.uniform(0, 1, 3)[:, None, None] * shade, img)
    img = np.clip(img + rng.normal(0, 0.02, img.shape), 0, 1)
    return ((img - IMAGENET_MEAN) / IMAGENET_STD).astype(np.float32)


def mask_image(image, grid, players, masks):
    """Masked copies of one [C,H,W] image: for each mask (an int, bit i = player i present), the grid cells of absent
    players are set to the zero baseline, as andor's `--modality image --grid RxC --baseline zero` does."""
    _, height, width = image.shape
    rows, cols = grid
    out = np.repeat(image[None], len(masks), axis=0)
    for row, mask in enumerate(masks):
        for bit, cell in enumerate(players):
            if not (mask >> bit) & 1:
                r, c = divmod(cell, cols)
                out[row, :, r * height // rows:(r + 1) * height // rows, c * width // cols:(c + 1) * width // cols] = 0
    return out


def write_check(name, feeds, logits, masks):
    """The check dump models/.large/NAME.check.json (+ one raw little-endian .bin per tensor): masked input rows and
    PyTorch's logits on them, for check-ort.mjs."""
    tensors = {}
    for key, array in list(feeds.items()) + [("logits", logits)]:
        array = np.ascontiguousarray(array)
        file = f"{name}.check.{key}.bin"
        array.tofile(path(file))
        tensors[key] = {"dtype": str(array.dtype), "dims": list(array.shape), "file": file}
    common.write_json(path(f"{name}.check.json"), {
        "model": f"{name}.onnx", "masks": [int(m) for m in masks], "inputs": {k: tensors[k] for k in feeds},
        "expected": tensors["logits"], "note": "PyTorch logits (eval, no_grad) on these masked rows"})


def model_entry(name, onnx_path, sample_path, modality, explain_args, export_seconds, parameters, **extra):
    inputs, outputs = common.io_summary(onnx_path)
    entry = {"name": name, "file": common.rel(onnx_path), "sha256": common.sha256(onnx_path),
             "sizeBytes": os.path.getsize(onnx_path), "parameters": parameters, "weights": WEIGHTS_NOTE,
             "modality": modality, "inputs": inputs, "outputs": outputs, "sample": common.rel(sample_path),
             "explain": explain_args, "check": common.rel(path(f"{name}.check.json")),
             "torchWeights": common.rel(weights_path(name)), "exportSeconds": round(export_seconds, 2)}
    entry.update(extra)
    return entry


def upsert(entry):
    """Inserts or replaces the entry with the same name in models/.large/manifest.json (locked: scripts may run side
    by side)."""
    with open(MANIFEST + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        manifest = {"version": 1, "note": WEIGHTS_NOTE, "models": []}
        if os.path.exists(MANIFEST):
            with open(MANIFEST) as f:
                manifest = json.load(f)
        manifest["note"] = WEIGHTS_NOTE
        manifest["models"] = [e for e in manifest["models"] if e["name"] != entry["name"]] + [entry]
        manifest["models"].sort(key=lambda e: e["name"])
        common.write_json(MANIFEST, manifest)
