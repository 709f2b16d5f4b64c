"""Train a small CNN on scikit-learn's 8x8 digits (pixels scaled to [0,1]) and export it twice.

Writes digits-cnn.onnx (input "image" [batch,1,8,8] float32, output "logits" [batch,10], dynamic batch axis),
digits-cnn-fixed.onnx (the same trained weights with a FIXED batch of 16, for fixed-batch handling) and
digits.samples.json (12 correctly classified held-out test digits, at least one per class), and records both models
in manifest.json. Players: a 4x4 grid of 2x2-pixel cells; the 10 cells whose pixels vary most over the training
digits are the players, the other 6 (mostly blank border) stay as background.
Run: /usr/bin/python3 models/digits-cnn.py
"""
import os

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import common
from nets import DigitsCNN

SEED = 0
HERE = common.MODELS_DIR
GRID = 4
FIXED_BATCH = 16


def informative_cells(images, grid=GRID, count=10):
    """Cell ids (row-major over a grid x grid split of H x W) of the `count` cells with the largest pixel variance."""
    h, w = images.shape[-2:]
    var = images.reshape(len(images), h, w).var(axis=0)
    ch, cw = h // grid, w // grid
    score = [var[r * ch:(r + 1) * ch, c * cw:(c + 1) * cw].sum() for r in range(grid) for c in range(grid)]
    return sorted(int(i) for i in np.argsort(score, kind="stable")[::-1][:count])


def main():
    torch.set_num_threads(1)
    common.seed_everything(SEED)
    data = load_digits()
    x = (data.images / 16.0).astype(np.float32)[:, None, :, :]
    x_train, x_test, y_train, y_test = train_test_split(x, data.target, test_size=0.25, random_state=SEED,
                                                        stratify=data.target)
    xt, xs, yt = torch.tensor(x_train), torch.tensor(x_test), torch.tensor(y_train)

    model = DigitsCNN()
    opt = torch.optim.Adam(model.parameters(), lr=2e-3, weight_decay=1e-4)
    for _ in range(40):
        common.train_epoch(model, opt, xt, yt, 32)
    model.eval()
    with torch.no_grad():
        pred = model(xs).argmax(1).numpy()
    acc = float((pred == y_test).mean())
    print(f"digits-cnn test accuracy {acc:.4f}")
    assert acc >= 0.95, acc

    # first correctly classified test digit of each class, then the next correct ones, 12 in all
    correct = [i for i in range(len(y_test)) if pred[i] == y_test[i]]
    chosen = [next(i for i in correct if y_test[i] == c) for c in range(10)]
    chosen += [i for i in correct if i not in chosen][:2]
    samples_path = os.path.join(HERE, "digits.samples.json")
    common.write_json(samples_path, {
        "version": 1, "dataset": "digits", "shape": [1, 8, 8], "classes": [str(c) for c in range(10)],
        "note": "scikit-learn load_digits, pixel / 16; test split of train_test_split(test_size=0.25, "
                "random_state=0, stratify=y)",
        "samples": [{"id": f"test-{i}", "x": x_test[i].tolist(), "label": int(y_test[i]), "split": "test"}
                    for i in chosen]})

    players = informative_cells(x_train)
    print("informative cells", players)
    sample = common.rel(samples_path)
    onnx_path = os.path.join(HERE, "digits-cnn.onnx")
    fixed_path = os.path.join(HERE, "digits-cnn-fixed.onnx")
    common.export_onnx(model, torch.zeros(1, 1, 8, 8), onnx_path, ["image"], ["logits"])
    common.export_onnx(model, torch.zeros(FIXED_BATCH, 1, 8, 8), fixed_path, ["image"], ["logits"],
                       dynamic_batch=False)

    def explain(path):
        return ["--model", common.rel(path), "--sample", sample, "--row", "0", "--modality", "image",
                "--grid", f"{GRID}x{GRID}", "--players", ",".join(map(str, players)), "--baseline", "zero"]

    desc = ("CNN conv16-conv32-maxpool-conv32-fc64-fc10 on scikit-learn's 8x8 digits (pixels / 16); players are "
            "the 10 highest-variance cells of a 4x4 grid of 2x2 pixels")
    common.upsert("models", common.model_entry(
        "digits-cnn", onnx_path, "image", samples_path, explain(onnx_path), description=desc,
        testAccuracy=round(acc, 4), script="models/digits-cnn.py"))
    common.upsert("models", common.model_entry(
        "digits-cnn-fixed", fixed_path, "image", samples_path, explain(fixed_path),
        description=f"digits-cnn exported with a fixed batch size of {FIXED_BATCH} (no dynamic axis)",
        testAccuracy=round(acc, 4), fixedBatch=FIXED_BATCH, script="models/digits-cnn.py"))


if __name__ == "__main__":
    main()
