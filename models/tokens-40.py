"""Train a small transformer on a synthetic 40-token task whose label is a known OR of two token conjunctions, for the
sparse (many-player) method: n = 40 players, far beyond the 2^n exact path.

Vocabulary: 28 ids, 0 = [PAD] (unused: every sequence has 40 tokens), 1 = [MASK], 2..27 = the tokens "a".."z".
label = 1 iff (b AND e) OR (j AND m AND q), over the tokens present (ids 3, 6, 11, 14, 18).
Data: each of the 40 positions first gets a random distractor (one of the 21 other letters) or, with probability 0.2,
[MASK], a blank that carries no information. Then the relevant tokens of a presence pattern over (b, e, j, m, q) are
written once each at distinct random positions. Labels are balanced: positives come uniformly from the 11 patterns that
satisfy the formula, negatives from the 21 others (so "b" without "e", "j"+"m" without "q", ... are hard negatives).
Training hides, in 70% of the rows of every epoch, a random share (uniform in [0, 1]) of the positions with [MASK] and
recomputes the label on what is left, so the network follows the formula on masked inputs too: writing [MASK] at an
absent player's position (--mask-token 1) keeps the input in distribution and removes exactly that token.
24,000 training and 4,000 test sequences (numpy default_rng(0)).

Known interactions. On a sample whose relevant tokens sit at positions P_b, P_e, P_j, P_m, P_q, the game
v(T) = log-odds of the label with only the positions in T visible is close to -L + 2L * f(T), f = the formula on the
relevant tokens in T. Its Moebius (AND) coefficients are therefore 2L * mu_f(S): with all five present,
mu_f = +1 on {P_b, P_e}, +1 on {P_j, P_m, P_q} and -1 on the five together (inclusion-exclusion of the OR); with only
b and e, +1 on {P_b, P_e}; and so on. Every other coefficient (the 21 + [MASK] distractor positions) should be small.
The samples file records per sample the positions (`relevant`) and these unit coefficients (`formulaMobius`).

Model: TokenNet40 (below): token + learned position embeddings (d_model 32), two pre-norm encoder layers
(nets.EncoderLayer: 2 heads, FFN 64), LayerNorm, mean over the 40 positions, MLP head 32-32-2. Input "input_ids"
[batch,40] int64, output "logits" [batch,2] float32. Adam with one-cycle lr (max 3e-3), batch 128, 20 epochs.

Writes tokens-40.onnx, tokens-40.samples.json (12 held-out sequences covering the presence patterns; row 0 has all
five relevant tokens) and records the model in manifest.json.
Run: /usr/bin/python3 models/tokens-40.py
"""
import os

import numpy as np
import torch
from torch import nn

import common
from nets import EncoderLayer

NAME = "tokens-40"
SEED = 0
HERE = common.MODELS_DIR
LENGTH = 40
PAD, MASK = 0, 1
VOCAB = ["[PAD]", "[MASK]"] + [chr(ord("a") + i) for i in range(26)]
PAIR, TRIPLE = ("b", "e"), ("j", "m", "q")
NAMES = PAIR + TRIPLE
RELEVANT = [VOCAB.index(t) for t in NAMES]
DISTRACTORS = np.array([i for i in range(2, len(VOCAB)) if i not in RELEVANT])
BLANK_RATE = 0.2
PATTERNS = [tuple((p >> k) & 1 for k in range(5)) for p in range(32)]     # presence of b, e, j, m, q


rule = common.planted_rule
POSITIVE = [p for p in PATTERNS if rule(p)]
NEGATIVE = [p for p in PATTERNS if not rule(p)]
TRAIN_COUNT, TEST_COUNT = 24000, 4000
EPOCHS, BATCH, MAX_LR = 20, 128, 3e-3
AUGMENT_SHARE = 0.7
AGREEMENT_MASKS = 4096
BUDGET, MAX_ORDER = 10000, 5


class TokenNet40(nn.Module):
    """input_ids [batch,40] int64 -> [batch,2] logits: token + position embeddings, two pre-norm encoder layers,
    LayerNorm, mean over the positions, MLP head."""

    def __init__(self, vocab=len(VOCAB), length=LENGTH, d_model=32, heads=2, ff=64, layers=2):
        super().__init__()
        self.tok = nn.Embedding(vocab, d_model)
        self.pos = nn.Parameter(torch.randn(1, length, d_model) * 0.1)
        self.layers = nn.ModuleList(EncoderLayer(d_model, heads, ff) for _ in range(layers))
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Sequential(nn.Linear(d_model, d_model), nn.ReLU(), nn.Linear(d_model, 2))

    def forward(self, input_ids):
        h = self.tok(input_ids) + self.pos
        for layer in self.layers:
            h = layer(h, 0.0)    # no padding: every key is visible ([MASK] is an ordinary, uninformative token)
        return self.head(self.norm(h).mean(dim=1))


def formula(ids):
    b, e, j, m, q = ((ids == t).any(axis=-1) for t in RELEVANT)
    return ((b & e) | (j & m & q)).astype(np.int64)


def generate(rng, count, patterns=None):
    """`count` sequences; row r uses patterns[r] when given, else a pattern drawn for a balanced label."""
    ids = rng.choice(DISTRACTORS, size=(count, LENGTH))
    ids[rng.random((count, LENGTH)) < BLANK_RATE] = MASK
    for row in range(count):
        if patterns is not None:
            pattern = patterns[row]
        else:
            pool = POSITIVE if rng.random() < 0.5 else NEGATIVE
            pattern = pool[rng.integers(len(pool))]
        tokens = [t for t, present in zip(RELEVANT, pattern) if present]
        ids[row, rng.choice(LENGTH, size=len(tokens), replace=False)] = tokens
    return ids.astype(np.int64), formula(ids)


def hide(rng, ids, share=AUGMENT_SHARE):
    """In `share` of the rows, write [MASK] over a random fraction (uniform in [0, 1]) of the positions."""
    ids = ids.copy()
    rows = rng.random(len(ids)) < share
    fraction = rng.random((len(ids), 1))
    ids[(rng.random(ids.shape) < fraction) & rows[:, None]] = MASK
    return ids, formula(ids)


def predict(model, ids, batch=2048):
    with torch.no_grad():
        return torch.cat([model(torch.tensor(ids[i:i + batch])) for i in range(0, len(ids), batch)]).argmax(1).numpy()


def masked_agreement(model, ids, rng, count=AGREEMENT_MASKS):
    """Fraction of `count` uniformly random maskings (each position kept with probability 1/2; absent -> [MASK]) on
    which the prediction equals the formula on the tokens left."""
    keep = rng.random((count, LENGTH)) < 0.5
    masked = np.where(keep, ids[None, :], MASK)
    return float((predict(model, masked) == formula(masked)).mean())


def formula_mobius(positions):
    """Moebius coefficients (unit scale) of the formula as a set function of the relevant positions present:
    {players: sorted positions, coefficient} for every non-zero one, the empty set excluded."""
    return [{"players": sorted(positions[t] for t in subset), "tokens": list(subset), "coefficient": c}
            for subset, c in common.planted_mobius(NAMES, positions)]


def main():
    torch.set_num_threads(1)
    common.seed_everything(SEED)
    rng = np.random.default_rng(SEED)
    train_ids, _ = generate(rng, TRAIN_COUNT)
    test_ids, test_y = generate(rng, TEST_COUNT)

    model = TokenNet40()
    weights = sum(p.numel() for p in model.parameters())
    opt = torch.optim.Adam(model.parameters(), lr=MAX_LR)
    steps = EPOCHS * ((TRAIN_COUNT + BATCH - 1) // BATCH)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=MAX_LR, total_steps=steps)
    for epoch in range(EPOCHS):
        model.train()
        ids, y = hide(rng, train_ids)
        ids, y = torch.tensor(ids), torch.tensor(y)
        perm = torch.randperm(len(ids))
        for i in range(0, len(ids), BATCH):
            idx = perm[i:i + BATCH]
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(ids[idx]), y[idx]).backward()
            opt.step()
            sched.step()
        model.eval()
        print(f"epoch {epoch + 1}: test accuracy {(predict(model, test_ids) == test_y).mean():.4f}", flush=True)
    model.eval()
    acc = float((predict(model, test_ids) == test_y).mean())
    # the masks of an explanation: every position kept with probability 1/2, the label recomputed on what is left
    keep = rng.random(test_ids.shape) < 0.5
    masked = np.where(keep, test_ids, MASK)
    acc_masked = float((predict(model, masked) == formula(masked)).mean())
    print(f"{NAME}: {weights} weights; test accuracy {acc:.4f}, on test sequences with every position masked with "
          f"probability 1/2: {acc_masked:.4f}")
    assert acc >= 0.97, acc

    # bundled samples: held-out, correctly classified, covering the presence patterns; row 0 has all five tokens
    patterns = [(1, 1, 1, 1, 1), (1, 1, 0, 0, 0), (0, 0, 1, 1, 1), (1, 0, 1, 1, 0), (1, 1, 1, 1, 0), (0, 1, 1, 0, 1),
                (1, 1, 0, 1, 1), (0, 0, 0, 0, 0), (0, 1, 1, 1, 1), (1, 0, 0, 1, 1), (1, 1, 1, 0, 0), (0, 0, 1, 1, 0)]
    samples = []
    for k, pattern in enumerate(patterns):
        while True:
            ids, y = generate(rng, 1, [pattern])
            if predict(model, ids)[0] == y[0]:
                break
        ids = ids[0]
        positions = {t: int(np.where(ids == VOCAB.index(t))[0][0]) for t, present in zip(NAMES, pattern) if present}
        samples.append({"id": f"test-{k}", "x": [int(t) for t in ids], "tokens": [VOCAB[t] for t in ids],
                        "label": int(y[0]), "split": "test", "relevant": positions,
                        "formulaMobius": formula_mobius(positions),
                        "maskAgreement": round(masked_agreement(model, ids, rng), 4)})
    print("agreement with the formula over random maskings of each sample:", [s["maskAgreement"] for s in samples])

    samples_path = os.path.join(HERE, f"{NAME}.samples.json")
    formula_text = "label = 1 iff (b AND e) OR (j AND m AND q), over the tokens present; [MASK] is a blank"
    common.write_json(samples_path, {
        "version": 1, "dataset": "synthetic-tokens-40", "shape": [LENGTH], "classes": ["false", "true"],
        "vocab": VOCAB, "padId": PAD, "maskId": MASK, "formula": formula_text,
        "note": ("held-out sequences, each relevant token at most once; `relevant` = position of each relevant token "
                 "present; `formulaMobius` = the non-zero Moebius coefficients of the formula over those positions "
                 "(unit scale: the model's gt-log-odds game should show about 2L times them, L = |v(empty)|); "
                 f"`maskAgreement` = fraction of {AGREEMENT_MASKS} uniformly random maskings ([MASK] at absent "
                 "positions) on which the prediction equals the formula"),
        "samples": samples})

    path = os.path.join(HERE, f"{NAME}.onnx")
    common.export_onnx(model, torch.zeros(1, LENGTH, dtype=torch.int64), path, ["input_ids"], ["logits"])
    sample = common.rel(samples_path)
    explain = ["--model", common.rel(path), "--sample", sample, "--row", "0", "--modality", "text",
               "--players", f"0-{LENGTH - 1}", "--mask-token", str(MASK),
               "--method", "sparse", "--budget", str(BUDGET), "--max-order", str(MAX_ORDER)]
    ground_truth = {"formula": "(b AND e) OR (j AND m AND q)", "and": [list(PAIR), list(TRIPLE)],
                    "ids": {t: VOCAB.index(t) for t in NAMES}, "maskId": MASK, "padId": PAD,
                    "blankRate": BLANK_RATE,
                    "interactions": "with every relevant token present once, the AND interactions are about +2L on "
                                    "{pos b, pos e}, +2L on {pos j, pos m, pos q}, -2L on all five, L = |v(empty)|; "
                                    "per sample: formulaMobius in the samples file",
                    "note": "trained with random [MASK] hiding and the label recomputed on the tokens left, so the "
                            "formula holds on masked inputs (maskAgreement per sample)"}
    common.upsert("models", common.model_entry(
        NAME, path, "text", samples_path, explain,
        description=f"2-layer pre-norm transformer encoder (d_model 32, 2 heads, FFN 64, mean-pool, MLP head) on "
                    f"synthetic {LENGTH}-token sequences, label = (b AND e) OR (j AND m AND q); players are the "
                    f"{LENGTH} token positions (n = {LENGTH}: sparse method), absent tokens become [MASK]",
        testAccuracy=round(acc, 4), maskedTestAccuracy=round(acc_masked, 4), players=LENGTH, weights=int(weights),
        groundTruth=ground_truth, script=f"models/{NAME}.py"))
    print(f"{NAME}.onnx: {os.path.getsize(path)} bytes; samples {os.path.getsize(samples_path)} bytes")


if __name__ == "__main__":
    main()
