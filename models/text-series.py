"""Train the text checkpoint series for `andor dynamics`: a small transformer on a synthetic token task, with 20% of the
training labels flipped so that it over-fits, saved as ONNX at epochs 0, 1, 2, 4, ..., 512.

Task. Vocabulary of 16 ids: 0 = [PAD] (never used: every sequence has 10 tokens), 1 = [MASK], 2..15 = tokens
"a".."n". Every sequence has 10 positions. label = 1 iff (b AND e) OR (j AND m), over the tokens present. Each position
is first filled with a random distractor (one of the 10 tokens other than b, e, j, m) or, with probability 0.2, with
[MASK], a blank that carries no information; then the relevant tokens of a presence pattern are written at distinct
random positions. Patterns are drawn so that the labels are balanced: positives uniformly from the 7 patterns that
satisfy the formula, negatives uniformly from the 9 others (so "b" without "e", "b"+"j", ... are hard negatives).
Because [MASK] is part of the data, writing [MASK] at an absent player's position (--mask-token 1) keeps the input in
distribution and removes exactly that position's token: the formula holds on masked inputs too.
Data: 800 training and 400 test sequences (numpy default_rng(0)). Noise: 20% of the training labels flipped
(RandomState(0), the rule of checkpoint-series.py).
Model: TextNet, token + learned position embeddings (d 32), one pre-norm encoder layer (nets.EncoderLayer, 2 heads,
FFN 64), LayerNorm, mean over the 10 positions, MLP head 32-32-2. Input "input_ids" [batch,10] int64, output "logits"
[batch,2].
Optimiser: SGD lr 0.02, momentum 0.9, batch 32, no weight decay, 512 epochs. References: K = 3 networks (seeds 1, 2,
3) trained on the clean test split for REFERENCE_EPOCHS epochs (chosen with --pick-reference-epochs: the count with
the lowest mean loss on the clean training split).
Writes models/text-series/ (epoch-NNNN.onnx, reference-K.onnx, losses.json, samples.json, claims.samples.json) and
the manifest entry under "series".
Run: /usr/bin/python3 models/text-series.py [--check-dump FILE] [--pick-reference-epochs]
"""

import numpy as np
import torch
from torch import nn

import common
from nets import EncoderLayer

NAME = "text-series"
LENGTH = 10
PAD, MASK = 0, 1
VOCAB = ["[PAD]", "[MASK]"] + [chr(ord("a") + i) for i in range(14)]
RELEVANT = [VOCAB.index(t) for t in ("b", "e", "j", "m")]
DISTRACTORS = np.array([i for i in range(2, len(VOCAB)) if i not in RELEVANT])
BLANK_RATE = 0.2
PATTERNS = [tuple((p >> k) & 1 for k in range(4)) for p in range(16)]     # presence of b, e, j, m
POSITIVE = [p for p in PATTERNS if (p[0] and p[1]) or (p[2] and p[3])]
NEGATIVE = [p for p in PATTERNS if p not in POSITIVE]
TRAIN_COUNT, TEST_COUNT = 800, 400
DATA_SEED = 0
NOISE_RATE = 0.2
LAST_EPOCH = 512
LR = 0.02
MOMENTUM = 0.9
BATCH = 32
REFERENCE_EPOCHS = 96


class TextNet(nn.Module):
    """input_ids [batch,10] int64 -> [batch,2] logits: token + position embeddings, one pre-norm encoder layer,
    LayerNorm, mean over the positions, MLP head."""

    def __init__(self, vocab=len(VOCAB), length=LENGTH, d_model=32, heads=2, ff=64):
        super().__init__()
        self.tok = nn.Embedding(vocab, d_model)
        self.pos = nn.Parameter(torch.randn(1, length, d_model) * 0.1)
        self.layer = EncoderLayer(d_model, heads, ff)
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Sequential(nn.Linear(d_model, d_model), nn.ReLU(), nn.Linear(d_model, 2))

    def forward(self, input_ids):
        h = self.layer(self.tok(input_ids) + self.pos, 0.0)    # no padding: every key is visible
        return self.head(self.norm(h).mean(dim=1))


def formula(ids):
    present = lambda token: (ids == token).any(axis=-1)
    b, e, j, m = (present(t) for t in RELEVANT)
    return ((b & e) | (j & m)).astype(np.int64)


def generate(rng, count):
    ids = rng.choice(DISTRACTORS, size=(count, LENGTH))
    ids[rng.random((count, LENGTH)) < BLANK_RATE] = MASK
    for row in range(count):
        pool = POSITIVE if rng.random() < 0.5 else NEGATIVE
        pattern = pool[rng.integers(len(pool))]
        tokens = [t for t, present in zip(RELEVANT, pattern) if present]
        ids[row, rng.choice(LENGTH, size=len(tokens), replace=False)] = tokens
    return ids.astype(np.int64), formula(ids)


def config():
    rng = np.random.default_rng(DATA_SEED)
    x_train, y_train = generate(rng, TRAIN_COUNT)
    x_test, y_test = generate(rng, TEST_COUNT)
    header = {"version": 1, "dataset": "synthetic-tokens-and-or", "shape": [LENGTH], "classes": ["false", "true"],
              "vocab": VOCAB, "padId": PAD, "maskId": MASK,
              "formula": "label = 1 iff (b AND e) OR (j AND m), over the tokens present; [MASK] is a blank"}
    players_note = ("the 10 token positions (--players 0-9); an absent position gets the [MASK] id 1 (--mask-token 1), "
                    "the blank of the training data, so masking removes exactly that token")
    ground_truth = {"formula": "(b AND e) OR (j AND m)", "and": [["b", "e"], ["j", "m"]],
                    "ids": {t: VOCAB.index(t) for t in ("b", "e", "j", "m")}, "maskId": MASK, "padId": PAD,
                    "blankRate": BLANK_RATE,
                    "note": "clean labels follow the formula exactly, also on masked inputs ([MASK] is the blank of the "
                            "data); the flipped training labels do not"}
    return {
        "name": NAME, "modality": "text", "input": "input_ids", "build": TextNet,
        "x_train": x_train, "x_test": x_test, "y_train": y_train, "y_test": y_test, "classes": 2,
        "noise_rate": NOISE_RATE, "noise_seed": 0, "train_seed": 0, "reference_seeds": (1, 2, 3),
        "reference_epochs": REFERENCE_EPOCHS, "lr": LR, "momentum": MOMENTUM, "batch": BATCH,
        "last_epoch": LAST_EPOCH, "sample_seed": 0, "per_class": 8, "ood_per_class": 4,
        "to_json": lambda ids: [int(t) for t in ids], "extra": lambda ids: {"tokens": [VOCAB[t] for t in ids]},
        "sample_header": dict(header, note=(
            "train = clean-label training samples, test = held-out, ood = training samples whose label was flipped "
            "(label = the flipped label the network was trained on, trueLabel = the original); all correctly "
            "classified (w.r.t. label) by the last checkpoint; classes balanced within each split")),
        "claims_header": header,
        "players": list(range(LENGTH)), "player_args": ["--modality", "text", "--players", "0-9", "--mask-token",
                                                        str(MASK)],
        "players_note": players_note,
        "optimizer": f"SGD lr {LR} momentum {MOMENTUM}, batch {BATCH}, no weight decay",
        "description": f"1-layer pre-norm transformer (d_model 32, 2 heads, FFN 64, mean-pool, MLP head) on synthetic "
                       f"10-token sequences, label = (b AND e) OR (j AND m); {int(NOISE_RATE * 100)}% of the training "
                       f"labels flipped, checkpoints at epochs {', '.join(map(str, common.log_epochs(LAST_EPOCH)))}; "
                       "players are the 10 token positions, absent tokens become [MASK]",
        "script": "models/text-series.py", "manifest_extra": {"groundTruth": ground_truth}}


def main():
    common.series_main(__doc__, config)


if __name__ == "__main__":
    main()
