"""Shared helpers for the export scripts in models/: seeding, ONNX export, and models/manifest.json upkeep.

Each export script trains (or builds) one bundled model, writes its .onnx and sample JSON beside this file, and
records itself in manifest.json through `upsert_model`. Nothing here downloads anything.
"""
import fcntl
import hashlib
import json
import os
import random

import numpy as np
import onnx
import torch
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

MODELS_DIR = os.path.dirname(os.path.abspath(__file__))
MANIFEST = os.path.join(MODELS_DIR, "manifest.json")
OPSET = 13
DTYPES = {1: "float32", 6: "int32", 7: "int64", 11: "float64", 9: "bool"}


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def breast_cancer_split():
    """scikit-learn's breast-cancer data split 75/25 (stratified, seed 0) and standardised with the training split's
    statistics, as every breast-cancer model sees it: a dict of x_train, x_test (standardised), y_train, y_test, mean,
    std, features and classes."""
    data = load_breast_cancer()
    x_train, x_test, y_train, y_test = train_test_split(data.data, data.target, test_size=0.25, random_state=0,
                                                        stratify=data.target)
    mean, std = x_train.mean(axis=0), x_train.std(axis=0)
    return {"x_train": (x_train - mean) / std, "x_test": (x_test - mean) / std, "y_train": y_train, "y_test": y_test,
            "mean": mean, "std": std, "features": [str(f) for f in data.feature_names],
            "classes": [str(c) for c in data.target_names]}


def train_epoch(model, opt, x, y, batch, loss_fn=torch.nn.functional.cross_entropy):
    """One epoch of minibatch training in a seeded random order (the loop every export script shares)."""
    model.train()
    perm = torch.randperm(len(x))
    for i in range(0, len(x), batch):
        idx = perm[i:i + batch]
        opt.zero_grad()
        loss_fn(model(x[idx]), y[idx]).backward()
        opt.step()


def rel(path):
    """Path relative to the repository root, with forward slashes (what the CLI takes)."""
    return os.path.relpath(path, os.path.dirname(MODELS_DIR)).replace(os.sep, "/")


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def export_onnx(model, dummy_inputs, path, input_names, output_names, dynamic_batch=True):
    """Export with the batch axis (axis 0) dynamic on every input and output unless dynamic_batch is False."""
    model.eval()
    axes = {name: {0: "batch"} for name in input_names + output_names} if dynamic_batch else None
    torch.onnx.export(model, dummy_inputs, path, input_names=input_names, output_names=output_names,
                      dynamic_axes=axes, opset_version=OPSET, do_constant_folding=True)
    onnx.checker.check_model(onnx.load(path))


def io_summary(path):
    """Input and output names, dtypes and shapes (symbolic dims as strings), read back from the ONNX file."""
    graph = onnx.load(path).graph
    initializers = {i.name for i in graph.initializer}

    def describe(value):
        t = value.type.tensor_type
        dims = [d.dim_param if d.dim_param else d.dim_value for d in t.shape.dim]
        return {"name": value.name, "dtype": DTYPES.get(t.elem_type, str(t.elem_type)), "shape": dims}

    return ([describe(v) for v in graph.input if v.name not in initializers],
            [describe(v) for v in graph.output])


def write_json(path, value):
    with open(path, "w") as f:
        json.dump(value, f, indent=1)
        f.write("\n")


def load_manifest():
    if not os.path.exists(MANIFEST):
        return {"version": 1, "models": [], "series": []}
    with open(MANIFEST) as f:
        return json.load(f)


def upsert(section, entry, first=False):
    """Insert or replace the entry with the same name in manifest[section]; `first` keeps it at index 0.

    Holds an exclusive lock on a side file, so export scripts run side by side don't lose each other's entries."""
    with open(MANIFEST + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        manifest = load_manifest()
        items = [e for e in manifest.setdefault(section, []) if e["name"] != entry["name"]]
        old_index = next((i for i, e in enumerate(manifest[section]) if e["name"] == entry["name"]), len(items))
        items.insert(0 if first else min(old_index, len(items)), entry)
        manifest[section] = items
        write_json(MANIFEST, manifest)


def model_entry(name, onnx_path, modality, sample_path, explain_args, **extra):
    inputs, outputs = io_summary(onnx_path)
    entry = {"name": name, "file": rel(onnx_path), "modality": modality, "sha256": sha256(onnx_path),
             "opset": OPSET, "inputs": inputs, "outputs": outputs, "sample": rel(sample_path),
             "explain": explain_args}
    entry.update(extra)
    return entry
