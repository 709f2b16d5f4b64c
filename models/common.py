"""Shared helpers for the export scripts in models/: seeding, ONNX export, and models/manifest.json upkeep.

Each export script trains (or builds) one bundled model, writes its .onnx and sample JSON beside this file, and
records itself in manifest.json through `upsert_model`. `train_series` trains a checkpoint series (text-series.py,
pointcloud-series.py) and `write_claims` writes the claims sample set of every series. Nothing here downloads anything.
"""
import copy
import fcntl
import hashlib
import itertools
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


# --- Checkpoint series ---------------------------------------------------------------------------------------------
# `train_series` trains one over-fitting series for text-series.py and pointcloud-series.py (checkpoint-series.py
# keeps its own loop, so its files stay byte-identical). `write_claims` writes the claims sample set of all four
# series.

CLAIMS_SEED = 0
CLAIMS_COUNTS = {"train": 32, "test": 32, "ood": 32}
CLAIMS_OOD_FLIPPED = ("memorised flipped labels: training samples whose label was flipped (label = the flipped label "
                      "the network was trained on, trueLabel = the original) and which the last checkpoint predicts as "
                      "the flipped label. These are the two-phase paper's 'OOD (mislabeled) samples' (spec §3.6): "
                      "fitting them is what over-fitting means in these series, and it needs no input change, so "
                      "the players and the baseline stay those of the normal samples")


def log_epochs(last):
    """0 (initialisation), 1, 2, 4, ... up to `last` (a power of two)."""
    return [0] + [2 ** k for k in range(last.bit_length()) if 2 ** k <= last]


def flip_labels(y, classes, rate, rng):
    """Flip round(rate * n) labels chosen at random; each goes to a uniformly drawn *other* class (the rule of
    checkpoint-series.py). Returns the noisy labels and the sorted flipped indices."""
    flipped = np.sort(rng.permutation(len(y))[:int(round(rate * len(y)))])
    noisy = y.copy()
    noisy[flipped] = (noisy[flipped] + rng.randint(1, classes, len(flipped))) % classes
    return noisy, flipped


def logits_of(model, x, batch=512):
    """float32 logits of a PyTorch model on a numpy array (eval mode, no gradient)."""
    model.eval()
    with torch.no_grad():
        t = torch.tensor(x)
        return torch.cat([model(t[i:i + batch]) for i in range(0, len(t), batch)]).numpy()


def load_onnx_weights(model, path):
    """Load the initializers of an ONNX file exported from `model`'s class back into `model` (strict: every
    parameter and buffer must be there under its PyTorch name, as torch.onnx names Gemm and Conv weights)."""
    from onnx import numpy_helper
    weights = {i.name: torch.tensor(numpy_helper.to_array(i).copy()) for i in onnx.load(path).graph.initializer}
    model.load_state_dict({k: weights[k] for k in model.state_dict()}, strict=True)
    return model


def _cross_entropy(logits, labels):
    z = logits.astype(np.float64)
    top = z.max(axis=1, keepdims=True)
    lse = top[:, 0] + np.log(np.exp(z - top).sum(axis=1))
    return lse - z[np.arange(len(z)), labels]


def write_claims(path, header, *, x_train, x_test, noisy, y_train, y_test, flipped, train_logits, test_logits,
                 to_json, final, players, dynamics, extra=None, ood=CLAIMS_OOD_FLIPPED, seed=CLAIMS_SEED,
                 counts=CLAIMS_COUNTS):
    """The claims sample set of a series: samples drawn at random (seeded), whether or not the last checkpoint gets
    them right, so that the loss gap and its causes can be measured on them.

    test  = `counts["test"]` samples drawn uniformly from the whole test split (label = the clean test label);
    train = `counts["train"]` samples drawn uniformly from the clean-label training samples (label = the label it was
            trained on, which is its original label);
    ood   = `counts["ood"]` samples drawn uniformly from the flipped training samples the last checkpoint memorised.
    Every sample records the last checkpoint's `prediction`, `correct` (prediction == label) and `loss`
    (cross-entropy w.r.t. label, natural log). `x_*` hold what the network saw; `to_json` writes one input, `extra`
    returns additional per-sample fields (e.g. tokens). Returns the counts and the number of wrong samples per split."""
    rng = np.random.RandomState(seed)
    is_flipped = np.zeros(len(y_train), bool)
    is_flipped[flipped] = True
    train_pred, test_pred = train_logits.argmax(1), test_logits.argmax(1)
    memorised = flipped[train_pred[flipped] == noisy[flipped]]
    chosen = [("train", i) for i in sorted(rng.choice(np.where(~is_flipped)[0], counts["train"], replace=False))]
    chosen += [("test", i) for i in sorted(rng.choice(len(y_test), counts["test"], replace=False))]
    chosen += [("ood", i) for i in sorted(rng.choice(memorised, min(counts["ood"], len(memorised)), replace=False))]
    train_loss, test_loss = _cross_entropy(train_logits, noisy), _cross_entropy(test_logits, y_test)
    samples = []
    for split, i in chosen:
        i = int(i)
        x, label = (x_test[i], y_test[i]) if split == "test" else (x_train[i], noisy[i])
        pred = test_pred[i] if split == "test" else train_pred[i]
        loss = test_loss[i] if split == "test" else train_loss[i]
        entry = {"id": f"{split}-{i}", "x": to_json(x), "label": int(label), "split": split,
                 "prediction": int(pred), "correct": bool(pred == label), "loss": round(float(loss), 6)}
        if split == "ood":
            entry["trueLabel"] = int(y_train[i])
        if extra is not None:
            entry.update(extra(x))
        samples.append(entry)
    tally = {s: sum(1 for e in samples if e["split"] == s) for s in ("train", "test", "ood")}
    wrong = {s: sum(1 for e in samples if e["split"] == s and not e["correct"]) for s in ("train", "test", "ood")}
    body = dict(header)
    body.update({
        "purpose": "claims: samples drawn at random (not filtered for correctness), so that the loss gap of the series "
                   "and its causes (e.g. removing non-generalizable interactions, spec §6.1) can be measured on them; "
                   "use with `andor dynamics` in place of samples.json (see `dynamics`)",
        "selection": {
            "seed": seed,
            "train": "drawn uniformly from the clean-label training samples (label = the trained-on label, which is "
                     "the original one)",
            "test": "drawn uniformly from the whole test split (label = the clean test label), including samples the "
                    "last checkpoint gets wrong",
            "ood": ood},
        "finalCheckpoint": final,
        "fields": "prediction, correct (prediction == label) and loss (cross-entropy w.r.t. label, natural log) are "
                  "those of the last checkpoint (finalCheckpoint)",
        "counts": tally, "wrong": wrong,
        "players": players,
        "dynamics": dynamics,
        "samples": samples})
    write_json(path, body)
    return tally, wrong


def _evaluate(model, x, y):
    model.eval()
    with torch.no_grad():
        z = model(x)
        return float(torch.nn.functional.cross_entropy(z, y)), float((z.argmax(1) == y).float().mean()), z.argmax(1)


def _pick(candidates, count, rng):
    candidates = np.asarray(candidates)
    assert len(candidates) >= count, (len(candidates), count)
    return sorted(int(i) for i in rng.choice(candidates, count, replace=False))


def pick_reference_epochs(cfg, candidates=(8, 16, 24, 32, 48, 64, 96, 128, 200)):
    """Train the K reference networks on the clean test split and print their mean loss on the clean training split
    after each candidate epoch count; returns the best count (how cfg["reference_epochs"] was chosen)."""
    torch.set_num_threads(1)
    xt, xs = torch.tensor(cfg["x_train"]), torch.tensor(cfg["x_test"])
    yt_true, ys = torch.tensor(cfg["y_train"]), torch.tensor(cfg["y_test"])
    losses = {c: [] for c in candidates}
    for seed in cfg["reference_seeds"]:
        seed_everything(seed)
        ref = cfg["build"]()
        opt = torch.optim.SGD(ref.parameters(), lr=cfg["lr"], momentum=cfg["momentum"])
        for epoch in range(1, max(candidates) + 1):
            train_epoch(ref, opt, xs, ys, cfg["batch"])
            if epoch in losses:
                losses[epoch].append(_evaluate(ref, xt, yt_true)[0])
    for c in candidates:
        print(f"reference epochs {c:4d}: mean clean train-split loss {np.mean(losses[c]):.4f}")
    best = min(candidates, key=lambda c: np.mean(losses[c]))
    print(f"best: {best}")
    return best


def train_series(cfg, check=None):
    """Train one over-fitting checkpoint series and write its folder (epoch-NNNN.onnx, reference-K.onnx, losses.json,
    samples.json, claims.samples.json) and its manifest entry under "series".

    cfg: name, modality, input (ONNX input name), build (network constructor), x_train/x_test (numpy, float32 or
    int64), y_train/y_test (int64), classes, noise_rate, noise_seed, train_seed, reference_seeds, reference_epochs, lr,
    momentum, batch, last_epoch, sample_seed, per_class, ood_per_class, to_json, extra (per-sample fields or None),
    sample_header, claims_header, players, player_args (the andor arguments after --reference-models), players_note,
    optimizer, description, script, and manifest_extra (more manifest fields)."""
    torch.set_num_threads(1)     # bitwise-reproducible CPU training
    name, folder = cfg["name"], os.path.join(MODELS_DIR, cfg["name"])
    os.makedirs(folder, exist_ok=True)
    for stale in os.listdir(folder):
        if stale.endswith(".onnx"):
            os.remove(os.path.join(folder, stale))
    save_epochs = log_epochs(cfg["last_epoch"])
    x_train, x_test, y_true, y_test = cfg["x_train"], cfg["x_test"], cfg["y_train"], cfg["y_test"]
    noisy, flipped = flip_labels(y_true, cfg["classes"], cfg["noise_rate"], np.random.RandomState(cfg["noise_seed"]))
    xt, xs = torch.tensor(x_train), torch.tensor(x_test)
    yt, ys, yt_true = torch.tensor(noisy), torch.tensor(y_test), torch.tensor(y_true)
    print(f"== {name}: {len(xt)} training samples ({len(flipped)} flipped), {len(xs)} test samples", flush=True)

    seed_everything(cfg["train_seed"])
    model = cfg["build"]()
    weights = sum(p.numel() for p in model.parameters())
    opt = torch.optim.SGD(model.parameters(), lr=cfg["lr"], momentum=cfg["momentum"])
    dummy = torch.zeros((1,) + tuple(x_train.shape[1:]), dtype=xt.dtype)
    rows, checkpoints, exported = [], [], []
    for epoch in range(cfg["last_epoch"] + 1):
        if epoch > 0:
            train_epoch(model, opt, xt, yt, cfg["batch"])
        if epoch not in save_epochs:
            continue
        train_loss, train_acc, train_pred = _evaluate(model, xt, yt)
        test_loss, test_acc, _ = _evaluate(model, xs, ys)
        clean_loss, clean_acc, _ = _evaluate(model, xt, yt_true)
        memorised = float((train_pred[flipped] == yt[flipped]).float().mean())
        stem = f"epoch-{epoch:04d}"
        path = os.path.join(folder, stem + ".onnx")
        export_onnx(model, dummy, path, [cfg["input"]], ["logits"])
        exported.append((path, copy.deepcopy(model)))
        rows.append({"name": stem, "epoch": epoch, "trainLoss": round(train_loss, 6), "testLoss": round(test_loss, 6),
                     "trainAccuracy": round(train_acc, 6), "testAccuracy": round(test_acc, 6),
                     "gap": round(test_loss - train_loss, 6), "trainCleanLoss": round(clean_loss, 6),
                     "trainCleanAccuracy": round(clean_acc, 6), "flippedMemorised": round(memorised, 6)})
        checkpoints.append({"name": stem, "file": rel(path), "epoch": epoch, "sha256": sha256(path)})
    final = rows[-1]["name"]
    train_logits, test_logits = logits_of(model, x_train), logits_of(model, x_test)
    final_train_pred, final_test_pred = train_logits.argmax(1), test_logits.argmax(1)
    best = min(rows, key=lambda r: r["testLoss"])
    print(f"{'checkpoint':<11} {'train loss':>10} {'test loss':>10} {'gap':>8} {'train acc':>9} {'test acc':>8} "
          f"{'memorised':>9}")
    for r in rows:
        print(f"{r['name']:<11} {r['trainLoss']:>10.4f} {r['testLoss']:>10.4f} {r['gap']:>8.4f} "
              f"{r['trainAccuracy']:>9.3f} {r['testAccuracy']:>8.3f} {r['flippedMemorised']:>9.3f}")
    print(f"test loss is lowest at epoch {best['epoch']} ({best['testLoss']:.4f})", flush=True)
    losses_path = os.path.join(folder, "losses.json")
    write_json(losses_path, {
        "version": 1, "series": name, "noiseRate": cfg["noise_rate"], "flippedCount": int(len(flipped)),
        "note": "trainLoss/trainAccuracy: on the noisy training labels the network was trained on; "
                "trainClean*: on the original training labels; testLoss/testAccuracy: clean test split; "
                "flippedMemorised: fraction of flipped training samples predicted as their flipped label; "
                "losses are mean cross-entropies (natural log)",
        "testLossMinEpoch": best["epoch"], "checkpoints": rows})

    references = []
    for k, seed in enumerate(cfg["reference_seeds"]):
        seed_everything(seed)
        ref = cfg["build"]()
        ref_opt = torch.optim.SGD(ref.parameters(), lr=cfg["lr"], momentum=cfg["momentum"])
        for _ in range(cfg["reference_epochs"]):
            train_epoch(ref, ref_opt, xs, ys, cfg["batch"])
        fit_loss, fit_acc, _ = _evaluate(ref, xs, ys)
        val_loss, val_acc, _ = _evaluate(ref, xt, yt_true)
        path = os.path.join(folder, f"reference-{k}.onnx")
        export_onnx(ref, dummy, path, [cfg["input"]], ["logits"])
        exported.append((path, ref))
        references.append({"file": rel(path), "seed": seed, "epochs": cfg["reference_epochs"],
                           "testSplitLoss": round(fit_loss, 6), "testSplitAccuracy": round(fit_acc, 6),
                           "trainSplitCleanLoss": round(val_loss, 6), "trainSplitCleanAccuracy": round(val_acc, 6),
                           "sha256": sha256(path)})
        print(f"reference-{k} (seed {seed}, {cfg['reference_epochs']} epochs on the test split): test-split loss "
              f"{fit_loss:.4f} acc {fit_acc:.3f}; clean train-split loss {val_loss:.4f} acc {val_acc:.3f}")

    # samples.json: correctly classified by the last checkpoint, balanced over classes; ood = memorised flips
    rng = np.random.RandomState(cfg["sample_seed"])
    is_flipped = np.zeros(len(y_true), bool)
    is_flipped[flipped] = True
    chosen = []
    for c in range(cfg["classes"]):
        clean_ok = np.where(~is_flipped & (y_true == c) & (final_train_pred == y_true))[0]
        chosen += [("train", i) for i in _pick(clean_ok, cfg["per_class"], rng)]
    for c in range(cfg["classes"]):
        test_ok = np.where((y_test == c) & (final_test_pred == y_test))[0]
        chosen += [("test", i) for i in _pick(test_ok, cfg["per_class"], rng)]
    memorised_idx = flipped[final_train_pred[flipped] == noisy[flipped]]
    for c in range(cfg["classes"]):
        chosen += [("ood", i) for i in _pick(memorised_idx[noisy[memorised_idx] == c], cfg["ood_per_class"], rng)]

    def sample(split, i):
        x = x_test[i] if split == "test" else x_train[i]
        entry = {"id": f"{split}-{i}", "x": cfg["to_json"](x),
                 "label": int(y_test[i] if split == "test" else noisy[i]), "split": split}
        if split == "ood":
            entry["trueLabel"] = int(y_true[i])
        if cfg["extra"] is not None:
            entry.update(cfg["extra"](x))
        return entry

    samples = [sample(split, i) for split, i in chosen]
    samples_path = os.path.join(folder, "samples.json")
    write_json(samples_path, dict(cfg["sample_header"], samples=samples))
    counts = {s: sum(1 for t, _ in chosen if t == s) for s in ("train", "test", "ood")}
    print(f"samples: {counts}")

    args = ["--checkpoints", rel(folder), "--losses", rel(losses_path), "--samples", rel(samples_path),
            "--reference-models", ",".join(r["file"] for r in references)] + cfg["player_args"]
    claims_path = os.path.join(folder, "claims.samples.json")
    claims_args = [rel(claims_path) if a == rel(samples_path) else a for a in args]
    claims_counts, claims_wrong = write_claims(
        claims_path, cfg["claims_header"], x_train=x_train, x_test=x_test, noisy=noisy, y_train=y_true,
        y_test=y_test, flipped=flipped, train_logits=train_logits, test_logits=test_logits, to_json=cfg["to_json"],
        extra=cfg["extra"], final=final, dynamics=claims_args,
        players={"args": cfg["player_args"], "note": cfg["players_note"]})
    print(f"claims samples: {claims_counts}, wrong under {final}: {claims_wrong}")

    if check is not None:
        batch = np.stack([x_test[int(s["id"].split("-")[1])] if s["split"] == "test"
                          else x_train[int(s["id"].split("-")[1])] for s in samples])
        for path, net in exported:
            check.append({"file": rel(path), "input": cfg["input"], "dtype": str(batch.dtype),
                          "shape": list(batch.shape), "x": batch.ravel().tolist(),
                          "logits": logits_of(net, batch).ravel().tolist()})

    inputs, outputs = io_summary(exported[0][0])
    sizes = sum(os.path.getsize(p) for p, _ in exported) + sum(
        os.path.getsize(p) for p in (losses_path, samples_path, claims_path))
    entry = {
        "name": name, "modality": cfg["modality"], "checkpoints": checkpoints, "losses": rel(losses_path),
        "samples": rel(samples_path), "referenceModels": [r["file"] for r in references],
        "description": cfg["description"], "dynamics": args, "opset": OPSET, "inputs": inputs,
        "outputs": outputs, "players": cfg["players"], "noiseRate": cfg["noise_rate"], "optimizer": cfg["optimizer"],
        "testLossMinEpoch": best["epoch"], "references": references, "sampleCounts": counts,
        "claims": rel(claims_path), "weights": int(weights), "script": cfg["script"]}
    entry.update(cfg.get("manifest_extra", {}))
    upsert("series", entry)
    print(f"{name}: {len(exported)} ONNX files ({weights} weights each), folder {sizes / 1024:.0f} KiB", flush=True)


def series_main(doc, config):
    """The command line of a checkpoint-series script: train the series that config() describes (train_series), or
    only print the references' loss per candidate epoch count, or also dump PyTorch's logits of every exported file."""
    import argparse
    parser = argparse.ArgumentParser(description=doc.split("\n")[0])
    parser.add_argument("--check-dump", help="write PyTorch logits of every exported file on the sample set here")
    parser.add_argument("--pick-reference-epochs", action="store_true",
                        help="only print the references' clean train-split loss per candidate epoch count")
    opts = parser.parse_args()
    cfg = config()
    if opts.pick_reference_epochs:
        pick_reference_epochs(cfg)
        return
    check = [] if opts.check_dump else None
    train_series(cfg, check)
    if check is not None:
        with open(opts.check_dump, "w") as f:
            json.dump(check, f)


def planted_rule(p):
    """The label rule of the planted many-player models (patches-49.py, tokens-40.py) on the presence of their five
    relevant parts: (first AND second) OR (third AND fourth AND fifth)."""
    return bool((p[0] and p[1]) or (p[2] and p[3] and p[4]))


def planted_mobius(names, present):
    """Moebius coefficients (unit scale) of planted_rule as a set function of the relevant parts that a sample holds:
    (subset of `present`, coefficient) for every non-zero one, the empty set excluded. `names` orders the five parts
    as planted_rule reads them; `present` is the ones the sample has."""
    kept = [t for t in names if t in present]
    out = []
    for size in range(1, len(kept) + 1):
        for subset in itertools.combinations(kept, size):
            total = 0
            for k in range(len(subset) + 1):
                for sub in itertools.combinations(subset, k):
                    total += (-1) ** (len(subset) - k) * int(planted_rule(tuple(int(t in sub) for t in names)))
            if total != 0:
                out.append((subset, total))
    return out


def random_rotation(rng):
    """A uniformly random 3-D rotation (QR of a Gaussian matrix, signs fixed, det +1), drawn from a numpy Generator
    (pointnet.py, pointcloud-series.py)."""
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] = -q[:, 0]
    return q
