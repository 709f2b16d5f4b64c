"""Train a tiny float64 MLP on scikit-learn's breast-cancer data, for float64 input/output handling.

Same split and standardisation as breast-cancer-mlp.py (train_test_split(test_size=0.25, random_state=0, stratified),
training-split mean/std); the whole network is float64 (model.double()).
Writes tabular-f64.onnx (input "features" [batch,30] float64, output "logits" [batch,2] float64) and records it in
manifest.json. It reuses breast-cancer.samples.json (written by breast-cancer-mlp.py) and does not rewrite it.
Run: /usr/bin/python3 models/tabular-f64.py
"""
import json
import os

import numpy as np
import torch

import common

SEED = 0
HERE = common.MODELS_DIR


def main():
    torch.set_num_threads(1)
    common.seed_everything(SEED)
    d = common.breast_cancer_split()
    y_test = d["y_test"]
    xt = torch.tensor(d["x_train"], dtype=torch.float64)
    xs = torch.tensor(d["x_test"], dtype=torch.float64)
    yt = torch.tensor(d["y_train"])

    model = torch.nn.Sequential(torch.nn.Linear(30, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2)).double()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)
    for _ in range(100):
        common.train_epoch(model, opt, xt, yt, 32)
    model.eval()
    with torch.no_grad():
        acc = float((model(xs).argmax(1).numpy() == y_test).mean())
    print(f"tabular-f64 test accuracy {acc:.4f}")

    samples_path = os.path.join(HERE, "breast-cancer.samples.json")
    with open(samples_path) as f:
        samples = json.load(f)["samples"]
    with torch.no_grad():
        pred = model(torch.tensor([s["x"] for s in samples], dtype=torch.float64)).argmax(1).tolist()
    wrong = [s["id"] for s, p in zip(samples, pred) if p != s["label"]]
    print("bundled breast-cancer samples misclassified:", wrong or "none")

    onnx_path = os.path.join(HERE, "tabular-f64.onnx")
    common.export_onnx(model, torch.zeros(1, 30, dtype=torch.float64), onnx_path, ["features"], ["logits"])
    common.upsert("models", common.model_entry(
        "tabular-f64", onnx_path, "tabular", samples_path,
        ["--model", common.rel(onnx_path), "--sample", common.rel(samples_path), "--row", "0", "--players", "0-9",
         "--baseline", "zero"],
        description="float64 MLP 30-16-2 on scikit-learn's breast-cancer data (float64 input and output); players "
                    "are the ten 'mean' features",
        testAccuracy=round(acc, 4), samplesMisclassified=wrong, script="models/tabular-f64.py"))


if __name__ == "__main__":
    main()
