"""Two exports of one small breast-cancer MLP that differ only in their tensor shapes, for the shape-handling tests:
shapes-dynamic.onnx (input [batch, 30] -> logits [batch, 2]) and shapes-b1.onnx (a fixed batch of 1, and an output
with an extra dim: input [1, 30] -> logits [1, 1, 2]). Both must give the same rewards. Reuses breast-cancer.samples.json.
Run: /usr/bin/python3 models/shapes-mlp.py
"""
import os

import numpy as np
import torch

import common

SEED = 3
HERE = common.MODELS_DIR


class ExtraDim(torch.nn.Module):
    """The same network with its logits reshaped to [batch, 1, 2]."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return self.net(x).unsqueeze(1)


def main():
    torch.set_num_threads(1)
    common.seed_everything(SEED)
    d = common.breast_cancer_split()
    y_train, y_test = d["y_train"], d["y_test"]
    xt = torch.tensor(d["x_train"], dtype=torch.float32)
    xs = torch.tensor(d["x_test"], dtype=torch.float32)
    net = torch.nn.Sequential(torch.nn.Linear(30, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    for _ in range(60):
        common.train_epoch(net, opt, xt, torch.tensor(y_train), 32)
    net.eval()
    with torch.no_grad():
        acc = float((net(xs).argmax(1).numpy() == y_test).mean())
    print(f"shapes-mlp test accuracy {acc:.4f}")
    samples = os.path.join(HERE, "breast-cancer.samples.json")
    args = ["--sample", common.rel(samples), "--row", "0", "--players", "0-9", "--baseline", "zero"]
    dynamic = os.path.join(HERE, "shapes-dynamic.onnx")
    fixed = os.path.join(HERE, "shapes-b1.onnx")
    common.export_onnx(net, torch.zeros(1, 30), dynamic, ["features"], ["logits"])
    common.export_onnx(ExtraDim(net), torch.zeros(1, 30), fixed, ["features"], ["logits"], dynamic_batch=False)
    for name, path, what in [("shapes-dynamic", dynamic, "dynamic batch"), ("shapes-b1", fixed, "fixed batch of 1, logits [1, 1, 2]")]:
        common.upsert("models", common.model_entry(name, path, "tabular", samples, ["--model", common.rel(path), *args],
                                                   description=f"small MLP for shape tests: {what}", testAccuracy=round(acc, 4)))


if __name__ == "__main__":
    main()
