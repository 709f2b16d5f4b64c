"""Train the bundled default model: an MLP on scikit-learn's breast-cancer data (30 standardised features, 2 logits).

Writes breast-cancer-mlp.onnx (dynamic batch axis), breast-cancer-logit.onnx (the same data, one output logit, for
the single-logit reward path), breast-cancer.stats.json (standardisation statistics) and breast-cancer.samples.json
(held-out test samples, already standardised), and records both models in manifest.json.
Run: /usr/bin/python3 models/breast-cancer-mlp.py
"""
import os

import numpy as np
import torch

import common

SEED = 0
HERE = common.MODELS_DIR


def mlp(outputs):
    return torch.nn.Sequential(torch.nn.Linear(30, 64), torch.nn.ReLU(), torch.nn.Linear(64, 64), torch.nn.ReLU(),
                               torch.nn.Linear(64, outputs))


def train(model, x, y, loss_fn, epochs=200):
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)
    for _ in range(epochs):
        common.train_epoch(model, opt, x, y, 32, loss_fn)
    return model


def main():
    common.seed_everything(SEED)
    d = common.breast_cancer_split()
    y_test, mean, std, features = d["y_test"], d["mean"], d["std"], d["features"]
    xt = torch.tensor(d["x_train"], dtype=torch.float32)
    xs = torch.tensor(d["x_test"], dtype=torch.float32)
    yt = torch.tensor(d["y_train"])

    two = train(mlp(2), xt, yt, torch.nn.functional.cross_entropy)
    one = train(mlp(1), xt, yt.float(), lambda z, y: torch.nn.functional.binary_cross_entropy_with_logits(z[:, 0], y))
    with torch.no_grad():
        acc_two = (two(xs).argmax(1).numpy() == y_test).mean()
        acc_one = ((one(xs)[:, 0] > 0).numpy() == y_test).mean()
    print(f"test accuracy: 2-logit {acc_two:.3f}, 1-logit {acc_one:.3f}")

    common.write_json(os.path.join(HERE, "breast-cancer.stats.json"),
                      {"features": features, "mean": mean.tolist(), "std": std.tolist(),
                       "note": "the models see (raw - mean) / std; these are the training-split statistics"})
    samples_path = os.path.join(HERE, "breast-cancer.samples.json")
    standardised = d["x_test"].astype(np.float32)
    common.write_json(samples_path, {
        "version": 1, "dataset": "breast-cancer", "features": features, "shape": [30],
        "classes": d["classes"],
        "samples": [{"id": f"test-{i}", "x": [round(float(v), 6) for v in standardised[i]], "label": int(y_test[i]),
                     "split": "test"} for i in range(8)]})

    onnx_two = os.path.join(HERE, "breast-cancer-mlp.onnx")
    onnx_one = os.path.join(HERE, "breast-cancer-logit.onnx")
    common.export_onnx(two, torch.zeros(1, 30), onnx_two, ["features"], ["logits"])
    common.export_onnx(one, torch.zeros(1, 30), onnx_one, ["features"], ["logit"])
    sample = common.rel(samples_path)
    common.upsert("models", common.model_entry(
        "breast-cancer-mlp", onnx_two, "tabular", samples_path,
        ["--model", common.rel(onnx_two), "--sample", sample, "--row", "0", "--players", "0-9", "--baseline", "zero"],
        description="MLP 30-64-64-2 on scikit-learn's breast-cancer data; players are the ten 'mean' features",
        testAccuracy=round(float(acc_two), 4)), first=True)
    common.upsert("models", common.model_entry(
        "breast-cancer-logit", onnx_one, "tabular", samples_path,
        ["--model", common.rel(onnx_one), "--sample", sample, "--row", "0", "--players", "0-9", "--baseline", "zero"],
        description="the same task with a single output logit (v = z if y = 1 else -z)",
        testAccuracy=round(float(acc_one), 4)))


if __name__ == "__main__":
    main()
