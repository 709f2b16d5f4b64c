"""Train the two checkpoint series used by `andor dynamics` (two-phase dynamics, generalizable interactions).

Each series trains one network on a training split with part of its labels flipped (so that it over-fits: the test
loss falls, bottoms out, then rises while the train loss keeps falling) and saves an ONNX checkpoint at the
log-spaced epochs 0 (initialisation), 1, 2, 4, ..., 1024. Beside the checkpoints it writes:
  losses.json         {"checkpoints": [{"name", "epoch", "trainLoss", "testLoss", "trainAccuracy", "testAccuracy",
                      ...}]}; train figures use the noisy labels the network was trained on, test figures the clean
                      test labels; losses are mean cross-entropies;
  samples.json        the sample set: clean-label training samples ("split": "train"), test samples ("test") and
                      training samples whose label was flipped and which the last checkpoint memorised ("ood";
                      "label" is the flipped label it was trained on, "trueLabel" the original one);
  claims.samples.json samples drawn at random, not filtered for correctness (common.write_claims): 32 clean-label
                      training samples, 32 test samples (including ones the last checkpoint gets wrong) and 32
                      memorised flipped samples ("ood"), each with the last checkpoint's prediction, "correct" and
                      loss; for testing the papers' claims on the loss gap;
  reference-K.onnx    K = 3 networks of the same architecture trained on the clean test split only (seeds 1, 2, 3),
                      to judge which interactions generalise. Their epoch count (100 for breast-cancer, 32 for
                      digits) is the one, among 16..200, with the lowest mean loss of the three on the clean
                      training split, so they are not over-fitted.
Series:
  bc-mlp-series       MLP 30-100-100-100-2 on scikit-learn's breast-cancer data (standardised with the training
                      split's mean/std, the split of breast-cancer-mlp.py), 20% of the training labels flipped;
  digits-cnn-series   small CNN on scikit-learn's 8x8 digits (pixels / 16), 20% of the training labels changed to a
                      uniformly drawn other class.
Both record themselves in manifest.json under "series". Checkpoint files are named epoch-NNNN.onnx so that name order
is training order; `andor dynamics --checkpoints DIR` takes only the epoch-*.onnx files of DIR.
Run: /usr/bin/python3 models/checkpoint-series.py [--check-dump FILE] [--claims-only]
     (--claims-only writes only claims.samples.json, from the bundled last checkpoints, without training)
     (--check-dump writes, for every ONNX file written, the PyTorch logits on the sample set, for an onnxruntime check)
"""
import argparse
import copy
import glob
import json
import os

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn

import common

HERE = common.MODELS_DIR
SPLIT_SEED = 0          # train_test_split(test_size=0.25, random_state=0, stratify=y), as in the single-model scripts
TRAIN_SEED = 0
NOISE_SEED = 0
REFERENCE_SEEDS = (1, 2, 3)
NOISE_RATE = 0.2
LAST_EPOCH = 1024
SAVE_EPOCHS = [0] + [2 ** k for k in range(11)]   # 0, 1, 2, 4, ..., 1024
BATCH = 32
MOMENTUM = 0.9
GRID = 4


class BreastCancerMLP(nn.Module):
    """[batch,30] standardised features -> [batch,2] logits; three hidden ReLU layers of width 100."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(30, 100), nn.ReLU(), nn.Linear(100, 100), nn.ReLU(),
                                 nn.Linear(100, 100), nn.ReLU(), nn.Linear(100, 2))

    def forward(self, features):
        return self.net(features)


class SmallDigitsCNN(nn.Module):
    """[batch,1,8,8] pixels in [0,1] -> [batch,10] logits: conv8, conv16, 2x2 max-pool, fc40, fc10 (~12k weights)."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 16, 3, padding=1),
                                      nn.ReLU(), nn.MaxPool2d(2))
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(16 * 4 * 4, 40), nn.ReLU(), nn.Linear(40, 10))

    def forward(self, image):
        return self.head(self.features(image))


def flip_labels(y, classes, rng):
    """Flip round(NOISE_RATE * n) labels chosen at random; each goes to a uniformly drawn *other* class."""
    flipped = np.sort(rng.permutation(len(y))[:int(round(NOISE_RATE * len(y)))])
    noisy = y.copy()
    noisy[flipped] = (noisy[flipped] + rng.randint(1, classes, len(flipped))) % classes
    return noisy, flipped


def evaluate(model, x, y):
    model.eval()
    with torch.no_grad():
        z = model(x)
        return float(nn.functional.cross_entropy(z, y)), float((z.argmax(1) == y).float().mean()), z.argmax(1)


def pick(candidates, count, rng):
    """`count` indices drawn without replacement from `candidates`, returned in increasing order."""
    candidates = np.asarray(candidates)
    assert len(candidates) >= count, (len(candidates), count)
    return sorted(int(i) for i in rng.choice(candidates, count, replace=False))


def clear_folder(folder):
    os.makedirs(folder, exist_ok=True)
    for path in glob.glob(os.path.join(folder, "epoch-*.onnx")) + glob.glob(os.path.join(folder, "reference-*.onnx")):
        os.remove(path)


def run_series(cfg, check):
    """Train one series; write its folder and manifest entry. `cfg` holds the data, the network and the options."""
    torch.set_num_threads(1)     # bitwise-reproducible CPU training
    name, folder = cfg["name"], os.path.join(HERE, cfg["name"])
    clear_folder(folder)
    xt, xs = torch.tensor(cfg["x_train"]), torch.tensor(cfg["x_test"])
    y_true, y_test = cfg["y_train"], cfg["y_test"]
    noisy, flipped = flip_labels(y_true, cfg["classes"], np.random.RandomState(NOISE_SEED))
    yt, ys, yt_true = torch.tensor(noisy), torch.tensor(y_test), torch.tensor(y_true)
    print(f"== {name}: {len(xt)} training samples ({len(flipped)} flipped), {len(xs)} test samples", flush=True)

    common.seed_everything(TRAIN_SEED)
    model = cfg["build"]()
    opt = torch.optim.SGD(model.parameters(), lr=cfg["lr"], momentum=MOMENTUM)
    dummy = torch.zeros((1,) + tuple(cfg["x_train"].shape[1:]))
    rows, checkpoints, exported = [], [], []
    for epoch in range(LAST_EPOCH + 1):
        if epoch > 0:
            common.train_epoch(model, opt, xt, yt, BATCH)
        if epoch not in SAVE_EPOCHS:
            continue
        train_loss, train_acc, train_pred = evaluate(model, xt, yt)
        test_loss, test_acc, test_pred = evaluate(model, xs, ys)
        clean_loss, clean_acc, _ = evaluate(model, xt, yt_true)
        memorised = float((train_pred[flipped] == yt[flipped]).float().mean())
        stem = f"epoch-{epoch:04d}"
        path = os.path.join(folder, stem + ".onnx")
        common.export_onnx(model, dummy, path, [cfg["input"]], ["logits"])
        exported.append((path, copy.deepcopy(model)))   # a frozen copy, for --check-dump
        rows.append({"name": stem, "epoch": epoch, "trainLoss": round(train_loss, 6), "testLoss": round(test_loss, 6),
                     "trainAccuracy": round(train_acc, 6), "testAccuracy": round(test_acc, 6),
                     "gap": round(test_loss - train_loss, 6), "trainCleanLoss": round(clean_loss, 6),
                     "trainCleanAccuracy": round(clean_acc, 6), "flippedMemorised": round(memorised, 6)})
        checkpoints.append({"name": stem, "file": common.rel(path), "epoch": epoch, "sha256": common.sha256(path)})
        if epoch == LAST_EPOCH:
            final_train_pred, final_test_pred = train_pred.numpy(), test_pred.numpy()
    best = min(rows, key=lambda r: r["testLoss"])
    print(f"{'checkpoint':<11} {'train loss':>10} {'test loss':>10} {'gap':>8} {'train acc':>9} {'test acc':>8} "
          f"{'memorised':>9}")
    for r in rows:
        print(f"{r['name']:<11} {r['trainLoss']:>10.4f} {r['testLoss']:>10.4f} {r['gap']:>8.4f} "
              f"{r['trainAccuracy']:>9.3f} {r['testAccuracy']:>8.3f} {r['flippedMemorised']:>9.3f}")
    print(f"test loss is lowest at epoch {best['epoch']} ({best['testLoss']:.4f})", flush=True)
    losses_path = os.path.join(folder, "losses.json")
    common.write_json(losses_path, {
        "version": 1, "series": name, "noiseRate": NOISE_RATE, "flippedCount": int(len(flipped)),
        "note": "trainLoss/trainAccuracy: on the noisy training labels the network was trained on; "
                "trainClean*: on the original training labels; testLoss/testAccuracy: clean test split; "
                "flippedMemorised: fraction of flipped training samples predicted as their flipped label; "
                "losses are mean cross-entropies (natural log)",
        "testLossMinEpoch": best["epoch"], "checkpoints": rows})

    references, reference_sha = [], []
    reference_epochs = cfg["reference_epochs"]
    for k, seed in enumerate(REFERENCE_SEEDS):
        common.seed_everything(seed)
        ref = cfg["build"]()
        ref_opt = torch.optim.SGD(ref.parameters(), lr=cfg["lr"], momentum=MOMENTUM)
        for _ in range(reference_epochs):
            common.train_epoch(ref, ref_opt, xs, ys, BATCH)
        fit_loss, fit_acc, _ = evaluate(ref, xs, ys)
        val_loss, val_acc, _ = evaluate(ref, xt, yt_true)
        path = os.path.join(folder, f"reference-{k}.onnx")
        common.export_onnx(ref, dummy, path, [cfg["input"]], ["logits"])
        exported.append((path, ref))
        references.append({"file": common.rel(path), "seed": seed, "epochs": reference_epochs,
                           "testSplitLoss": round(fit_loss, 6), "testSplitAccuracy": round(fit_acc, 6),
                           "trainSplitCleanLoss": round(val_loss, 6), "trainSplitCleanAccuracy": round(val_acc, 6),
                           "sha256": common.sha256(path)})
        print(f"reference-{k} (seed {seed}, {reference_epochs} epochs on the test split): test-split loss "
              f"{fit_loss:.4f} acc {fit_acc:.3f}; clean train-split loss {val_loss:.4f} acc {val_acc:.3f}")

    # Samples: correctly classified by the last checkpoint, balanced over classes; ood = memorised flipped samples.
    rng = np.random.RandomState(cfg["sample_seed"])
    is_flipped = np.zeros(len(y_true), bool)
    is_flipped[flipped] = True
    chosen = []
    for c in cfg["sample_classes"]:
        clean_ok = np.where(~is_flipped & (y_true == c) & (final_train_pred == y_true))[0]
        chosen += [("train", i) for i in pick(clean_ok, cfg["per_class"], rng)]
    for c in cfg["sample_classes"]:
        test_ok = np.where((y_test == c) & (final_test_pred == y_test))[0]
        chosen += [("test", i) for i in pick(test_ok, cfg["per_class"], rng)]
    memorised_idx = flipped[final_train_pred[flipped] == noisy[flipped]]
    for c in cfg["ood_classes"]:   # balanced over the flipped (trained-on) label
        chosen += [("ood", i) for i in pick(memorised_idx[noisy[memorised_idx] == c], cfg["ood_per_class"], rng)]

    def sample(split, i):
        x = cfg["x_train"][i] if split != "test" else cfg["x_test"][i]
        entry = {"id": f"{split}-{i}", "x": cfg["to_json"](x),
                 "label": int(noisy[i] if split != "test" else y_test[i]), "split": split}
        if split == "ood":
            entry["trueLabel"] = int(y_true[i])
        return entry

    samples = [sample(split, i) for split, i in chosen]
    samples_path = os.path.join(folder, "samples.json")
    common.write_json(samples_path, dict(cfg["sample_header"], samples=samples))
    counts = {s: sum(1 for t, _ in chosen if t == s) for s in ("train", "test", "ood")}
    print(f"samples: {counts}")

    claims_path = write_series_claims(cfg)   # last: it builds a network, which draws from the torch RNG

    if check is not None:
        batch = np.stack([np.asarray(s["x"], np.float32).reshape(cfg["x_train"].shape[1:]) for s in samples])
        for path, net in exported:
            net.eval()
            with torch.no_grad():
                logits = net(torch.tensor(batch)).numpy()
            check.append({"file": common.rel(path), "input": cfg["input"], "shape": list(batch.shape),
                          "x": batch.ravel().tolist(), "logits": logits.ravel().tolist()})

    players = cfg["players"]
    args = ["--checkpoints", common.rel(folder), "--losses", common.rel(losses_path), "--samples",
            common.rel(samples_path), "--reference-models", ",".join(r["file"] for r in references)]
    args += cfg["player_args"] + ["--baseline", "zero"]
    inputs, outputs = common.io_summary(exported[0][0])
    sizes = sum(os.path.getsize(p) for p, _ in exported) + os.path.getsize(losses_path) + os.path.getsize(samples_path)
    common.upsert("series", {
        "name": name, "modality": cfg["modality"], "checkpoints": checkpoints, "losses": common.rel(losses_path),
        "samples": common.rel(samples_path), "referenceModels": [r["file"] for r in references],
        "description": cfg["description"], "dynamics": args, "opset": common.OPSET, "inputs": inputs,
        "outputs": outputs, "players": players, "noiseRate": NOISE_RATE, "optimizer": cfg["optimizer"],
        "testLossMinEpoch": best["epoch"], "references": references, "sampleCounts": counts,
        "script": "models/checkpoint-series.py", "claims": common.rel(claims_path)})
    print(f"{name}: {len(exported)} ONNX files, folder {sizes / 1024:.0f} KiB", flush=True)


def write_series_claims(cfg):
    """Write claims.samples.json (common.write_claims) from the last checkpoint file as it is on disk: its weights
    are loaded back into the PyTorch network, which must reproduce the last test loss recorded in losses.json.
    Returns the path."""
    folder = os.path.join(HERE, cfg["name"])
    final = f"epoch-{LAST_EPOCH:04d}"
    with open(os.path.join(folder, "losses.json")) as f:
        recorded = json.load(f)["checkpoints"][-1]
    model = cfg["build"]()
    common.load_onnx_weights(model, os.path.join(folder, final + ".onnx"))
    train_logits, test_logits = common.logits_of(model, cfg["x_train"]), common.logits_of(model, cfg["x_test"])
    test_loss = float(nn.functional.cross_entropy(torch.tensor(test_logits), torch.tensor(cfg["y_test"])))
    assert recorded["name"] == final and abs(test_loss - recorded["testLoss"]) < 1e-5, (recorded, test_loss)
    noisy, flipped = flip_labels(cfg["y_train"], cfg["classes"], np.random.RandomState(NOISE_SEED))
    claims_path = os.path.join(folder, "claims.samples.json")
    references = [common.rel(os.path.join(folder, f"reference-{k}.onnx")) for k in range(len(REFERENCE_SEEDS))]
    player_args = cfg["player_args"] + ["--baseline", "zero"]
    args = ["--checkpoints", common.rel(folder), "--losses", common.rel(os.path.join(folder, "losses.json")),
            "--samples", common.rel(claims_path), "--reference-models", ",".join(references)] + player_args
    counts, wrong = common.write_claims(
        claims_path, {k: v for k, v in cfg["sample_header"].items() if k != "note"}, x_train=cfg["x_train"],
        x_test=cfg["x_test"], noisy=noisy, y_train=cfg["y_train"], y_test=cfg["y_test"], flipped=flipped,
        train_logits=train_logits, test_logits=test_logits, to_json=cfg["to_json"], final=final, dynamics=args,
        players={"args": player_args, "note": cfg["players_note"]})
    print(f"{cfg['name']} claims samples: {counts}, wrong under {final}: {wrong} (test loss {test_loss:.6f})",
          flush=True)
    return claims_path


def claims_only(cfg):
    """--claims-only: write claims.samples.json from the bundled checkpoints without retraining, after checking the
    last checkpoint's sha256 against the manifest, and add the "claims" field to the series' manifest entry."""
    entry = next(e for e in common.load_manifest()["series"] if e["name"] == cfg["name"])
    final = entry["checkpoints"][-1]
    assert final["epoch"] == LAST_EPOCH and common.sha256(os.path.join(os.path.dirname(HERE), final["file"])) == \
        final["sha256"], f"{final['file']} is not the checkpoint the manifest records"
    claims_path = write_series_claims(cfg)
    common.upsert("series", dict(entry, claims=common.rel(claims_path)))


def breast_cancer_config():
    d = common.breast_cancer_split()
    x_train, x_test, y_train, y_test, features = d["x_train"], d["x_test"], d["y_train"], d["y_test"], d["features"]
    lr = 3e-3
    return {
        "name": "bc-mlp-series", "modality": "tabular", "input": "features", "build": BreastCancerMLP,
        "x_train": x_train.astype(np.float32), "x_test": x_test.astype(np.float32),
        "y_train": y_train.astype(np.int64), "y_test": y_test.astype(np.int64), "classes": 2, "lr": lr,
        "reference_epochs": 100, "sample_seed": 0, "sample_classes": [0, 1], "per_class": 8,
        "ood_classes": [0, 1], "ood_per_class": 4,
        "to_json": lambda x: [round(float(v), 6) for v in x],
        "sample_header": {
            "version": 1, "dataset": "breast-cancer", "features": features, "shape": [30],
            "classes": d["classes"],
            "note": "features standardised with the training split's mean/std (the same statistics as "
                    "models/breast-cancer.stats.json); train = clean-label training samples, test = held-out, "
                    "ood = training samples whose label was flipped (label = the flipped label the network was "
                    "trained on, trueLabel = the original); all correctly classified (w.r.t. label) by the last "
                    "checkpoint"},
        "players": list(range(10)), "player_args": ["--players", "0-9"],
        "players_note": "features 0-9, the ten 'mean' features (mean radius ... mean fractal dimension); the other 20 "
                        "columns are background and keep their values; baseline zero, which is the training-split "
                        "mean after standardisation",
        "optimizer": f"SGD lr {lr} momentum {MOMENTUM}, batch {BATCH}, no weight decay",
        "description": f"MLP 30-100-100-100-2 (ReLU) on scikit-learn's breast-cancer data, {int(NOISE_RATE * 100)}% "
                       f"of the training labels flipped, checkpoints at epochs {', '.join(map(str, SAVE_EPOCHS))}; "
                       "players are the ten 'mean' features"}


def informative_cells(images, grid=GRID, count=10):
    """The `count` cells (row-major over a grid x grid split) with the largest summed pixel variance (the rule of
    digits-cnn.py, so both digits models use the same players)."""
    h, w = images.shape[-2:]
    var = images.reshape(len(images), h, w).var(axis=0)
    ch, cw = h // grid, w // grid
    score = [var[r * ch:(r + 1) * ch, c * cw:(c + 1) * cw].sum() for r in range(grid) for c in range(grid)]
    return sorted(int(i) for i in np.argsort(score, kind="stable")[::-1][:count])


def digits_config():
    data = load_digits()
    x = (data.images / 16.0).astype(np.float32)[:, None, :, :]
    x_train, x_test, y_train, y_test = train_test_split(x, data.target, test_size=0.25, random_state=SPLIT_SEED,
                                                        stratify=data.target)
    players = informative_cells(x_train)
    lr = 1e-2
    return {
        "name": "digits-cnn-series", "modality": "image", "input": "image", "build": SmallDigitsCNN,
        "x_train": x_train, "x_test": x_test, "y_train": y_train.astype(np.int64),
        "y_test": y_test.astype(np.int64), "classes": 10, "lr": lr, "reference_epochs": 32, "sample_seed": 0,
        "sample_classes": list(range(10)), "per_class": 2, "ood_classes": list(range(10)), "ood_per_class": 1,
        "to_json": lambda im: im.tolist(),
        "sample_header": {
            "version": 1, "dataset": "digits", "shape": [1, 8, 8], "classes": [str(c) for c in range(10)],
            "note": "scikit-learn load_digits, pixel / 16, split train_test_split(test_size=0.25, random_state=0, "
                    "stratify=y); train = clean-label training samples, test = held-out, ood = training samples "
                    "whose label was changed (label = the noisy label the network was trained on, trueLabel = "
                    "the original); all correctly classified (w.r.t. label) by the last checkpoint"},
        "players": players, "player_args": ["--modality", "image", "--grid", f"{GRID}x{GRID}", "--players",
                                            ",".join(map(str, players))],
        "players_note": f"cells {','.join(map(str, players))} of a 4x4 grid of 2x2 pixels (row-major), the 10 with "
                        "the largest pixel variance over the training images (the rule of digits-cnn.py); the other "
                        "6 cells, mostly blank border, are background and keep their values; baseline zero (blank "
                        "pixels)",
        "optimizer": f"SGD lr {lr} momentum {MOMENTUM}, batch {BATCH}, no weight decay",
        "description": f"CNN conv8-conv16-maxpool-fc40-fc10 on scikit-learn's 8x8 digits (pixels / 16), "
                       f"{int(NOISE_RATE * 100)}% of the training labels changed to another class, checkpoints at "
                       f"epochs {', '.join(map(str, SAVE_EPOCHS))}; players are the 10 highest-variance cells of a "
                       "4x4 grid of 2x2 pixels"}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check-dump", help="write PyTorch logits of every exported file on the sample set here")
    parser.add_argument("--claims-only", action="store_true",
                        help="only write claims.samples.json from the bundled last checkpoints (no training)")
    opts = parser.parse_args()
    if opts.claims_only:
        claims_only(breast_cancer_config())
        claims_only(digits_config())
        return
    check = [] if opts.check_dump else None
    run_series(breast_cancer_config(), check)
    run_series(digits_config(), check)
    if check is not None:
        with open(opts.check_dump, "w") as f:
            json.dump(check, f)


if __name__ == "__main__":
    main()
