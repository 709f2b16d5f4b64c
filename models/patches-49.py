"""Train a small CNN on synthetic 28x28 images made of 4x4 shapes in a 7x7 grid, whose label is a known OR of two shape
conjunctions, for the sparse (many-player) method: n = 49 players (--grid 7x7), far beyond the 2^n exact path.

Images. 28x28 pixels in [0, 1], cut into a 7x7 grid of 4x4 cells. There are 12 shapes, each a 4x4 binary pattern
(SHAPES below); no distractor is a superset of a relevant shape (a filled block, tried first, was: it held the
test accuracy at 0.91). Each image places 4-12 distractor shapes (the 7 shapes that are not relevant) in random cells, then the
relevant shapes of a presence pattern over (ring, x, tee, ell, checker) once each in other random cells. Every shape is
drawn exactly inside its cell, at an intensity uniform in [0.6, 1.0]. Under the shapes there is background noise,
uniform in [0, 0.15] per pixel, so that no cell is exactly empty.
label = 1 iff (ring AND x) OR (tee AND ell AND checker), over the shapes present. Labels are balanced: positives come
uniformly from the 11 presence patterns that satisfy the formula, negatives from the 21 others (hard negatives
included: a ring without an x, tee + ell without a checker, ...).
Training blanks, in 70% of the rows of every epoch, a random share (uniform in [0, 1]) of the 49 cells to 0 (the
`--baseline zero` of an explanation) and recomputes the label on the shapes left, so the network follows the formula
on masked inputs too. 24,000 training and 4,000 test images (numpy default_rng(0)).

Known interactions. On a sample whose relevant shapes sit in cells C_ring, C_x, C_tee, C_ell, C_checker (row-major
cell ids of the 7x7 grid), v(T) = log-odds of the label with only the cells in T kept is close to -L + 2L * f(T),
f = the formula on the relevant shapes kept. Its Moebius (AND) coefficients are 2L * mu_f(S): with all five present,
+1 on {C_ring, C_x}, +1 on {C_tee, C_ell, C_checker} and -1 on the five together; every other coefficient (the
distractor and background cells) should be small. The samples file records per sample the cells (`relevant`), the
distractor cells (`distractors`) and these unit coefficients (`formulaMobius`).

Model: PatchCNN (below): conv 3x3 1->16, ReLU, 2x2 max-pool (14x14), conv 3x3 16->32, ReLU, 2x2 max-pool (7x7, one
position per cell), conv 3x3 32->32, ReLU, global max-pool, fc 32->32, ReLU, fc 32->2 (15,170 weights). Input "image"
[batch,1,28,28] float32, output "logits" [batch,2] float32. Adam with one-cycle lr (max 3e-3), batch 128, 32 epochs.

Writes patches-49.onnx, patches-49.samples.json (12 held-out images covering the presence patterns; row 0 has all
five relevant shapes) and records the model in manifest.json.
Run: /usr/bin/python3 models/patches-49.py
"""
import os

import numpy as np
import torch
from torch import nn

import common

NAME = "patches-49"
SEED = 0
HERE = common.MODELS_DIR
GRID, CELL = 7, 4
SIZE = GRID * CELL
CELLS = GRID * GRID


def pattern(rows):
    return np.array([[int(c) for c in row] for row in rows.split("/")], np.float32)


SHAPES = {
    "ring": pattern("1111/1001/1001/1111"),
    "x": pattern("1001/0110/0110/1001"),
    "tee": pattern("1111/0110/0110/0110"),
    "ell": pattern("1000/1000/1000/1111"),
    "checker": pattern("1010/0101/1010/0101"),
    "steps": pattern("1100/0110/0011/0001"),
    "hbar": pattern("0000/1111/1111/0000"),
    "vbar": pattern("0110/0110/0110/0110"),
    "diag": pattern("1000/0100/0010/0001"),
    "anti": pattern("0001/0010/0100/1000"),
    "dot": pattern("0000/0110/0110/0000"),
    "plus": pattern("0100/1110/0100/0000"),
}
SHAPE_NAMES = list(SHAPES)
SHAPE_STACK = np.stack([SHAPES[s] for s in SHAPE_NAMES])
PAIR, TRIPLE = ("ring", "x"), ("tee", "ell", "checker")
NAMES = PAIR + TRIPLE
RELEVANT = [SHAPE_NAMES.index(s) for s in NAMES]
DISTRACTORS = np.array([i for i in range(len(SHAPE_NAMES)) if i not in RELEVANT])
NONE = -1
PATTERNS = [tuple((p >> k) & 1 for k in range(5)) for p in range(32)]     # presence of ring, x, tee, ell, checker


rule = common.planted_rule
POSITIVE = [p for p in PATTERNS if rule(p)]
NEGATIVE = [p for p in PATTERNS if not rule(p)]
TRAIN_COUNT, TEST_COUNT = 24000, 4000
EPOCHS, BATCH, MAX_LR = 32, 128, 3e-3
AUGMENT_SHARE = 0.7
NOISE = 0.15
AGREEMENT_MASKS = 4096
BUDGET, MAX_ORDER = 10000, 5


class PatchCNN(nn.Module):
    """[batch,1,28,28] -> [batch,2] logits: three 3x3 convs with two 2x2 max-pools (7x7 = one position per cell),
    global max-pool (presence of a feature anywhere), MLP head."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(),
            nn.AdaptiveMaxPool2d(1), nn.Flatten())
        self.head = nn.Sequential(nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 2))

    def forward(self, image):
        return self.head(self.features(image))


def formula(layout):
    """layout [count, 49] shape ids (NONE = empty cell) -> labels."""
    b, e, j, m, q = ((layout == s).any(axis=-1) for s in RELEVANT)
    return ((b & e) | (j & m & q)).astype(np.int64)


def generate(rng, count, patterns=None):
    """Layouts [count, 49] (shape id per cell), intensities [count, 49] and noise [count, 28, 28]."""
    layout = np.full((count, CELLS), NONE, np.int64)
    for row in range(count):
        if patterns is not None:
            p = patterns[row]
        else:
            pool = POSITIVE if rng.random() < 0.5 else NEGATIVE
            p = pool[rng.integers(len(pool))]
        shapes = [s for s, present in zip(RELEVANT, p) if present]
        shapes += list(rng.choice(DISTRACTORS, size=rng.integers(4, 13)))
        layout[row, rng.choice(CELLS, size=len(shapes), replace=False)] = shapes
    intensity = rng.uniform(0.6, 1.0, (count, CELLS)).astype(np.float32)
    noise = rng.uniform(0, NOISE, (count, SIZE, SIZE)).astype(np.float32)
    return layout, intensity, noise


def render(layout, intensity, noise, keep=None):
    """Images [count, 1, 28, 28]; cells with keep 0 are blanked to 0 (the zero baseline)."""
    count = len(layout)
    tiles = np.where(layout[..., None, None] >= 0, SHAPE_STACK[np.maximum(layout, 0)], 0) * intensity[..., None, None]
    img = tiles.reshape(count, GRID, GRID, CELL, CELL).transpose(0, 1, 3, 2, 4).reshape(count, SIZE, SIZE)
    img = np.maximum(img, noise)
    if keep is not None:
        cell_keep = keep.reshape(count, GRID, 1, GRID, 1).repeat(CELL, 2).repeat(CELL, 4).reshape(count, SIZE, SIZE)
        img = img * cell_keep
    return img[:, None].astype(np.float32)


def hide(rng, layout, share=AUGMENT_SHARE):
    """Keep masks [count, 49]: in `share` of the rows a random fraction (uniform in [0, 1]) of the cells is blanked.
    Returns the masks and the labels of the shapes left."""
    rows = rng.random(len(layout)) < share
    fraction = rng.random((len(layout), 1))
    keep = ~((rng.random(layout.shape) < fraction) & rows[:, None])
    return keep, formula(np.where(keep, layout, NONE))


def predict(model, images, batch=1024):
    with torch.no_grad():
        return torch.cat([model(torch.tensor(images[i:i + batch])) for i in range(0, len(images), batch)]).argmax(1).numpy()


def masked_agreement(model, layout, intensity, noise, rng, count=AGREEMENT_MASKS):
    """Fraction of `count` uniformly random maskings (each cell kept with probability 1/2, absent cells 0) on which
    the prediction equals the formula on the shapes left."""
    keep = rng.random((count, CELLS)) < 0.5
    layouts = np.repeat(layout[None], count, 0)
    images = render(layouts, np.repeat(intensity[None], count, 0), np.repeat(noise[None], count, 0), keep)
    return float((predict(model, images) == formula(np.where(keep, layouts, NONE))).mean())


def formula_mobius(cells):
    """Moebius coefficients (unit scale) of the formula as a set function of the relevant cells kept: {players: sorted
    cells, shapes, coefficient} for every non-zero one, the empty set excluded."""
    return [{"players": sorted(cells[s] for s in subset), "shapes": list(subset), "coefficient": c}
            for subset, c in common.planted_mobius(NAMES, cells)]


def main():
    torch.set_num_threads(1)
    common.seed_everything(SEED)
    rng = np.random.default_rng(SEED)
    train = generate(rng, TRAIN_COUNT)
    test = generate(rng, TEST_COUNT)
    test_images, test_y = render(*test), formula(test[0])

    model = PatchCNN()
    weights = sum(p.numel() for p in model.parameters())
    opt = torch.optim.Adam(model.parameters(), lr=MAX_LR)
    steps = EPOCHS * ((TRAIN_COUNT + BATCH - 1) // BATCH)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=MAX_LR, total_steps=steps)
    for epoch in range(EPOCHS):
        model.train()
        keep, y = hide(rng, train[0])
        x, y = torch.tensor(render(*train, keep)), torch.tensor(y)
        perm = torch.randperm(len(x))
        for i in range(0, len(x), BATCH):
            idx = perm[i:i + BATCH]
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(x[idx]), y[idx]).backward()
            opt.step()
            sched.step()
        model.eval()
        print(f"epoch {epoch + 1}: test accuracy {(predict(model, test_images) == test_y).mean():.4f}", flush=True)
    model.eval()
    acc = float((predict(model, test_images) == test_y).mean())
    # the masks of an explanation: every cell kept with probability 1/2, the label recomputed on the shapes left
    keep = rng.random((TEST_COUNT, CELLS)) < 0.5
    acc_masked = float((predict(model, render(*test, keep)) == formula(np.where(keep, test[0], NONE))).mean())
    print(f"{NAME}: {weights} weights; test accuracy {acc:.4f}, on test images with every cell blanked with "
          f"probability 1/2: {acc_masked:.4f}")
    assert acc >= 0.98, acc

    # bundled samples: held-out, correctly classified, covering the presence patterns; row 0 has all five shapes
    patterns = [(1, 1, 1, 1, 1), (1, 1, 0, 0, 0), (0, 0, 1, 1, 1), (1, 0, 1, 1, 0), (1, 1, 1, 1, 0), (0, 1, 1, 0, 1),
                (1, 1, 0, 1, 1), (0, 0, 0, 0, 0), (0, 1, 1, 1, 1), (1, 0, 0, 1, 1), (1, 1, 1, 0, 0), (0, 0, 1, 1, 0)]
    samples = []
    for k, p in enumerate(patterns):
        while True:
            layout, intensity, noise = generate(rng, 1, [p])
            # the JSON holds pixels rounded to 3 decimals: classify exactly what the file gives
            image = np.round(render(layout, intensity, noise), 3).astype(np.float32)
            if predict(model, image)[0] == formula(layout)[0]:
                break
        lay = layout[0]
        cells = {s: int(np.where(lay == SHAPE_NAMES.index(s))[0][0]) for s, present in zip(NAMES, p) if present}
        distractors = {int(c): SHAPE_NAMES[lay[c]] for c in np.where(lay >= 0)[0] if SHAPE_NAMES[lay[c]] not in NAMES}
        samples.append({"id": f"test-{k}", "x": [[[round(float(v), 3) for v in row] for row in image[0, 0]]],
                        "label": int(formula(layout)[0]), "split": "test", "relevant": cells,
                        "distractors": distractors, "formulaMobius": formula_mobius(cells),
                        "maskAgreement": round(masked_agreement(model, lay, intensity[0], noise[0], rng), 4)})
    print("agreement with the formula over random maskings of each sample:", [s["maskAgreement"] for s in samples])

    samples_path = os.path.join(HERE, f"{NAME}.samples.json")
    common.write_json(samples_path, {
        "version": 1, "dataset": "synthetic-patches-49", "shape": [1, SIZE, SIZE], "classes": ["false", "true"],
        "grid": [GRID, GRID], "shapes": {s: SHAPES[s].astype(int).tolist() for s in SHAPE_NAMES},
        "formula": "label = 1 iff (ring AND x) OR (tee AND ell AND checker), over the shapes present",
        "note": ("held-out images, pixels rounded to 3 decimals (as classified), each relevant shape at most once; "
                 "cells are row-major ids of the 7x7 grid of 4x4 pixels; `relevant` = cell of each relevant shape "
                 "present, `distractors` = cell -> distractor shape; `formulaMobius` = the non-zero Moebius "
                 "coefficients of the formula over those cells (unit scale: the model's gt-log-odds game should show "
                 f"about 2L times them, L = |v(empty)|); `maskAgreement` = fraction of {AGREEMENT_MASKS} uniformly "
                 "random maskings (absent cells 0) on which the prediction equals the formula"),
        "samples": samples})

    path = os.path.join(HERE, f"{NAME}.onnx")
    common.export_onnx(model, torch.zeros(1, 1, SIZE, SIZE), path, ["image"], ["logits"])
    explain = ["--model", common.rel(path), "--sample", common.rel(samples_path), "--row", "0", "--modality", "image",
               "--grid", f"{GRID}x{GRID}", "--baseline", "zero",
               "--method", "sparse", "--budget", str(BUDGET), "--max-order", str(MAX_ORDER)]
    ground_truth = {"formula": "(ring AND x) OR (tee AND ell AND checker)", "and": [list(PAIR), list(TRIPLE)],
                    "shapes": {s: SHAPES[s].astype(int).tolist() for s in NAMES},
                    "interactions": "with every relevant shape present once, the AND interactions are about +2L on "
                                    "{cell ring, cell x}, +2L on {cell tee, cell ell, cell checker}, -2L on all five, "
                                    "L = |v(empty)|; per sample: formulaMobius in the samples file",
                    "note": "trained with random cells blanked to 0 and the label recomputed on the shapes left, so "
                            "the formula holds on masked inputs (maskAgreement per sample)"}
    common.upsert("models", common.model_entry(
        NAME, path, "image", samples_path, explain,
        description=f"CNN conv16-pool-conv32-pool-conv32-global-maxpool-fc32-fc2 on synthetic 28x28 images of 4x4 "
                    f"shapes in a 7x7 grid, label = (ring AND x) OR (tee AND ell AND checker); players are the "
                    f"{CELLS} cells of --grid 7x7 (n = {CELLS}: sparse method), absent cells 0",
        testAccuracy=round(acc, 4), maskedTestAccuracy=round(acc_masked, 4), players=CELLS, weights=int(weights),
        groundTruth=ground_truth, script=f"models/{NAME}.py"))
    print(f"{NAME}.onnx: {os.path.getsize(path)} bytes; samples {os.path.getsize(samples_path)} bytes")


if __name__ == "__main__":
    main()
