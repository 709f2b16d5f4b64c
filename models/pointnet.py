"""Train a tiny PointNet on synthetic point clouds: 64 points on the surface of a sphere (class 0) or a cube (class 1).

Each cloud gets a random size (sphere radius / cube half-side in [0.6, 1.4]), a uniformly random rotation, a small
random translation (|t| <= 0.1 per axis) and Gaussian jitter (sigma 0.01).
Writes pointnet.onnx (input "points" [batch,64,3] float32, transposed to [batch,3,64] inside the model; output
"logits" [batch,2]) and pointclouds.samples.json (12 correctly classified held-out clouds, 6 per class, coordinates
rounded to 5 decimals), and records the model in manifest.json.
Run: /usr/bin/python3 models/pointnet.py
"""
import os

import numpy as np
import torch

import common
from nets import PointNet

SEED = 0
HERE = common.MODELS_DIR
POINTS = 64
CLASSES = ["sphere", "cube"]


random_rotation = common.random_rotation


def make_cloud(rng, label):
    if label == 0:
        p = rng.normal(size=(POINTS, 3))
        p /= np.linalg.norm(p, axis=1, keepdims=True)
    else:
        p = rng.uniform(-1, 1, size=(POINTS, 3))
        axis = rng.integers(3, size=POINTS)
        p[np.arange(POINTS), axis] = rng.choice([-1.0, 1.0], size=POINTS)
    p = p * rng.uniform(0.6, 1.4)
    p = p @ random_rotation(rng).T + rng.uniform(-0.1, 0.1, size=3)
    return (p + rng.normal(scale=0.01, size=p.shape)).astype(np.float32)


def make_set(rng, count):
    y = np.arange(count) % 2
    return np.stack([make_cloud(rng, label) for label in y]), y


def main():
    torch.set_num_threads(1)
    common.seed_everything(SEED)
    rng = np.random.default_rng(SEED)
    x_train, y_train = make_set(rng, 4000)
    x_test, y_test = make_set(rng, 1000)
    x_test = np.round(x_test.astype(np.float64), 5).astype(np.float32)  # what the samples file stores
    xt, yt, xs = torch.tensor(x_train), torch.tensor(y_train), torch.tensor(x_test)

    model = PointNet(classes=2)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(25):
        common.train_epoch(model, opt, xt, yt, 64)
    model.eval()
    with torch.no_grad():
        pred = model(xs).argmax(1).numpy()
    acc = float((pred == y_test).mean())
    print(f"pointnet test accuracy {acc:.4f}")
    assert acc >= 0.95, acc

    correct = [i for i in range(len(y_test)) if pred[i] == y_test[i]]
    chosen = [i for i in correct if y_test[i] == 0][:6] + [i for i in correct if y_test[i] == 1][:6]
    chosen = [i for pair in zip(chosen[:6], chosen[6:]) for i in pair]  # sphere, cube, sphere, ...
    samples_path = os.path.join(HERE, "pointclouds.samples.json")
    common.write_json(samples_path, {
        "version": 1, "dataset": "synthetic-sphere-cube", "shape": [POINTS, 3], "classes": CLASSES,
        "note": "64 surface points, random size 0.6-1.4, random rotation, translation <= 0.1, jitter 0.01",
        "samples": [{"id": f"test-{i}", "x": [[round(float(v), 5) for v in p] for p in x_test[i]], "label": int(y_test[i]),
                     "split": "test"} for i in chosen]})

    onnx_path = os.path.join(HERE, "pointnet.onnx")
    common.export_onnx(model, torch.zeros(1, POINTS, 3), onnx_path, ["points"], ["logits"])
    common.upsert("models", common.model_entry(
        "pointnet", onnx_path, "pointcloud", samples_path,
        ["--model", common.rel(onnx_path), "--sample", common.rel(samples_path), "--row", "0",
         "--modality", "pointcloud", "--clusters", "10", "--baseline", "centroid"],
        description="PointNet (shared MLP 3-32-64-128 as 1x1 Conv1d, max-pool, 128-64-2) on synthetic spheres vs "
                    "cubes, 64 points; players are 10 point clusters",
        testAccuracy=round(acc, 4), script="models/pointnet.py"))


if __name__ == "__main__":
    main()
