"""Train the point-cloud checkpoint series for `andor dynamics`: a small PointNet on synthetic 3-D shapes, with 20% of
the training labels flipped so that it over-fits, saved as ONNX at epochs 0, 1, 2, 4, ..., 512.

Task. 64 points sampled uniformly on the surface of one of four shapes: sphere (0, radius 1), cube (1, half-side 1),
cylinder (2, radius 1, height 2, with its caps) and cone (3, base radius 1, height 2, with its base). Each cloud is
scaled by a random factor in [0.85, 1.15] per axis, rotated by a uniformly random rotation, translated by at most 0.1
per axis, and jittered with Gaussian noise (sigma 0.02). Coordinates are rounded to 5 decimals before training, so the
sample files hold exactly what the network saw. Data: 800 training and 400 test clouds, classes balanced (numpy
default_rng(0)). Noise: 20% of the training labels changed to a uniformly drawn other class (RandomState(0), the rule of
checkpoint-series.py).
Model: SmallPointNet, the layout of nets.PointNet (pointnet.py) with smaller widths: input "points" [batch,64,3],
transposed to [batch,3,64] inside; shared per-point MLP 3-32-64-64 (1x1 Conv1d, ReLU), max-pool over the points, MLP
64-32-4; output "logits" [batch,4].
Optimiser: SGD lr 0.015, momentum 0.9, batch 32, no weight decay, 512 epochs. References: K = 3 networks (seeds 1, 2,
3) trained on the clean test split for REFERENCE_EPOCHS epochs (chosen with --pick-reference-epochs: the count with
the lowest mean loss on the clean training split).
Players: 10 point clusters (--modality pointcloud --clusters 10), found per sample by the engine's deterministic
k-means (engine/pipeline/players.ts pointCloudLayout), baseline "centroid" (an absent cluster collapses to its own
centroid).
Writes models/pointcloud-series/ (epoch-NNNN.onnx, reference-K.onnx, losses.json, samples.json, claims.samples.json)
and the manifest entry under "series".
Run: /usr/bin/python3 models/pointcloud-series.py [--check-dump FILE] [--pick-reference-epochs]
"""

import numpy as np
from torch import nn

import common

NAME = "pointcloud-series"
POINTS = 64
CLASSES = ["sphere", "cube", "cylinder", "cone"]
SCALE, TRANSLATION, JITTER = 0.15, 0.1, 0.02
TRAIN_COUNT, TEST_COUNT = 800, 400
DATA_SEED = 0
NOISE_RATE = 0.2
LAST_EPOCH = 512
LR = 0.015
MOMENTUM = 0.9
BATCH = 32
REFERENCE_EPOCHS = 128


class SmallPointNet(nn.Module):
    """[batch,P,3] points -> [batch,4] logits: shared per-point MLP 3-32-64-64 (1x1 Conv1d), max-pool, MLP 64-32-4."""

    def __init__(self, classes=len(CLASSES)):
        super().__init__()
        self.point_mlp = nn.Sequential(nn.Conv1d(3, 32, 1), nn.ReLU(), nn.Conv1d(32, 64, 1), nn.ReLU(),
                                       nn.Conv1d(64, 64, 1), nn.ReLU())
        self.head = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, classes))

    def forward(self, points):
        return self.head(self.point_mlp(points.transpose(1, 2)).max(dim=2).values)


random_rotation = common.random_rotation


def surface(rng, label, n):
    """n points uniform on the surface of the unit shape of class `label`."""
    if label == 0:                                  # sphere
        p = rng.normal(size=(n, 3))
        return p / np.linalg.norm(p, axis=1, keepdims=True)
    if label == 1:                                  # cube: a uniform point of a uniformly chosen face
        p = rng.uniform(-1, 1, size=(n, 3))
        p[np.arange(n), rng.integers(3, size=n)] = rng.choice([-1.0, 1.0], size=n)
        return p
    theta = rng.uniform(0, 2 * np.pi, n)
    if label == 2:                                  # cylinder: side area 4 pi, caps 2 pi
        cap = rng.random(n) < 1 / 3
        r = np.where(cap, np.sqrt(rng.random(n)), 1.0)
        z = np.where(cap, rng.choice([-1.0, 1.0], n), rng.uniform(-1, 1, n))
    else:                                           # cone, apex at z = 1: lateral area pi sqrt(5), base pi
        base = rng.random(n) < 1 / (1 + np.sqrt(5))
        t = np.sqrt(rng.random(n))                  # lateral radius grows linearly from the apex
        r = np.where(base, np.sqrt(rng.random(n)), t)
        z = np.where(base, -1.0, 1 - 2 * t)
    return np.stack([r * np.cos(theta), r * np.sin(theta), z], axis=1)


def make_cloud(rng, label):
    p = surface(rng, label, POINTS) * rng.uniform(1 - SCALE, 1 + SCALE, size=3)
    p = p @ random_rotation(rng).T + rng.uniform(-TRANSLATION, TRANSLATION, size=3)
    return np.round(p + rng.normal(scale=JITTER, size=p.shape), 5)


def make_set(rng, count):
    y = (np.arange(count) % len(CLASSES)).astype(np.int64)
    return np.stack([make_cloud(rng, label) for label in y]).astype(np.float32), y


def config():
    rng = np.random.default_rng(DATA_SEED)
    x_train, y_train = make_set(rng, TRAIN_COUNT)
    x_test, y_test = make_set(rng, TEST_COUNT)
    header = {"version": 1, "dataset": "synthetic-shapes-4", "shape": [POINTS, 3], "classes": CLASSES,
              "generator": f"{POINTS} surface points; per-axis scale in [{1 - SCALE}, {1 + SCALE}], uniformly random "
                           f"rotation, translation <= {TRANSLATION} per axis, jitter sigma {JITTER}; coordinates "
                           "rounded to 5 decimals (what the network was trained on)"}
    players_note = ("10 point clusters (--modality pointcloud --clusters 10), found per sample by the engine's "
                    "deterministic k-means (farthest-point seeding from point 0, then Lloyd iterations; "
                    "engine/pipeline/players.ts pointCloudLayout); baseline centroid: an absent cluster collapses to "
                    "its own centroid. Every sample has the same 10 players by rule, but cluster j is not the same "
                    "part of the shape across samples (the clouds are randomly rotated)")
    return {
        "name": NAME, "modality": "pointcloud", "input": "points", "build": SmallPointNet,
        "x_train": x_train, "x_test": x_test, "y_train": y_train, "y_test": y_test, "classes": len(CLASSES),
        "noise_rate": NOISE_RATE, "noise_seed": 0, "train_seed": 0, "reference_seeds": (1, 2, 3),
        "reference_epochs": REFERENCE_EPOCHS, "lr": LR, "momentum": MOMENTUM, "batch": BATCH,
        "last_epoch": LAST_EPOCH, "sample_seed": 0, "per_class": 4, "ood_per_class": 2,
        # float32 -> float64 -> 5 decimals gives back the rounded value the float32 was made from
        "to_json": lambda cloud: [[round(float(v), 5) for v in point] for point in cloud], "extra": None,
        "sample_header": dict(header, note=(
            "train = clean-label training samples, test = held-out, ood = training samples whose label was changed "
            "(label = the noisy label the network was trained on, trueLabel = the original); all correctly "
            "classified (w.r.t. label) by the last checkpoint; classes balanced within each split")),
        "claims_header": header,
        "players": list(range(10)),
        "player_args": ["--modality", "pointcloud", "--clusters", "10", "--baseline", "centroid"],
        "players_note": players_note,
        "optimizer": f"SGD lr {LR} momentum {MOMENTUM}, batch {BATCH}, no weight decay",
        "description": f"PointNet (shared MLP 3-32-64-64 as 1x1 Conv1d, max-pool, 64-32-4) on synthetic spheres, "
                       f"cubes, cylinders and cones ({POINTS} points, random anisotropic scale and rotation, jitter); "
                       f"{int(NOISE_RATE * 100)}% of the training labels changed to another class, checkpoints at "
                       f"epochs {', '.join(map(str, common.log_epochs(LAST_EPOCH)))}; players are 10 point clusters, "
                       "baseline the cluster centroid",
        "script": "models/pointcloud-series.py"}


def main():
    common.series_main(__doc__, config)


if __name__ == "__main__":
    main()
