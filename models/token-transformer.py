"""Train a tiny transformer encoder on a synthetic token task whose label is a known AND/OR formula.

Vocabulary: 16 ids, 0 = [PAD], 1 = [MASK], 2..15 = ordinary tokens "a".."n"; sequences of 10 tokens.
Label = 1 iff ("b" present AND "e" present) OR "j" present, counting only visible tokens (attention_mask 1 and id not
[PAD]/[MASK]). Training masks random positions (with [MASK], with [PAD], or by zeroing attention_mask) and recomputes
the label from what is left, so the network follows the formula on masked inputs too; the interactions it should show
are the AND of the "b" and "e" positions and the OR with the "j" position.

Writes token-transformer.onnx (inputs "input_ids" and "attention_mask", [batch,10] int64; output "logits"
[batch,2] float32), token-transformer-i32.onnx (the same network with int32 inputs, cast to int64 inside the graph),
tokens.samples.json (12 held-out sequences, each relevant token at most once, covering the presence combinations)
and records both models in manifest.json.
Run: /usr/bin/python3 models/token-transformer.py
"""
import os

import numpy as np
import torch

import common
from nets import Int32Inputs, TokenTransformer

SEED = 0
HERE = common.MODELS_DIR
LENGTH = 10
PAD, MASK = 0, 1
VOCAB = ["[PAD]", "[MASK]"] + [chr(ord("a") + i) for i in range(14)]
A, B, C = VOCAB.index("b"), VOCAB.index("e"), VOCAB.index("j")
DISTRACTORS = np.array([i for i in range(2, len(VOCAB)) if i not in (A, B, C)])
POSITIVE = [(1, 1, 0), (1, 1, 1), (0, 0, 1), (1, 0, 1), (0, 1, 1)]
NEGATIVE = [(0, 0, 0), (1, 0, 0), (0, 1, 0)]


def formula(ids, mask):
    visible = lambda t: ((ids == t) & (mask == 1)).any(axis=-1)
    return ((visible(A) & visible(B)) | visible(C)).astype(np.int64)


def generate(rng, count, single=False, combos=None):
    """`count` sequences with a balanced label; each present relevant token appears once (or twice, p = 0.3)."""
    ids = rng.choice(DISTRACTORS, size=(count, LENGTH))
    for row in range(count):
        if combos is not None:
            combo = combos[row]
        else:
            pool = POSITIVE if rng.random() < 0.5 else NEGATIVE
            combo = pool[rng.integers(len(pool))]
        tokens = [t for t, present in zip((A, B, C), combo) if present]
        tokens += [t for t in tokens if not single and rng.random() < 0.3]
        positions = rng.choice(LENGTH, size=len(tokens), replace=False)
        ids[row, positions] = tokens
    mask = np.ones_like(ids)
    return ids, mask, formula(ids, mask)


def augment(rng, ids, mask, p_masked=0.6):
    """Hide a random subset of positions (all of them in 10% of cases) in 60% of the rows, the same way within a row:
    [MASK] id, [PAD] id, or attention_mask 0 (id kept). Returns the new ids, mask and formula labels."""
    ids, mask = ids.copy(), mask.copy()
    rows = rng.random(len(ids)) < p_masked
    fraction = rng.random((len(ids), 1))
    fraction[rng.random(len(ids)) < 0.1] = 1.0  # some rows fully hidden: the empty input must say "false" too
    hide = (rng.random(ids.shape) < fraction) & rows[:, None]
    how = rng.integers(3, size=(len(ids), 1))
    ids[hide & (how == 0)] = MASK
    ids[hide & (how == 1)] = PAD
    mask[hide & (how == 2)] = 0
    visible = (mask == 1) & (ids != PAD) & (ids != MASK)
    return ids, mask, formula(np.where(visible, ids, PAD), mask)


def predict(model, ids, mask):
    with torch.no_grad():
        return model(torch.tensor(ids), torch.tensor(mask)).argmax(1).numpy()


def masked_agreement(model, ids, mask, attention=False):
    """Fraction of the 2^10 maskings of one sequence on which the prediction equals the formula on the visible
    tokens; a hidden position gets the [MASK] id, or with `attention` keeps its id and gets attention_mask 0."""
    subsets = (np.arange(2 ** LENGTH)[:, None] >> np.arange(LENGTH)) & 1
    all_ids = np.repeat(ids[None, :], len(subsets), axis=0) if attention else np.where(subsets == 1, ids, MASK)
    all_mask = subsets * mask if attention else np.repeat(mask[None, :], len(subsets), axis=0)
    return float((predict(model, all_ids, all_mask) == formula(all_ids, all_mask)).mean())


def main():
    torch.set_num_threads(1)
    common.seed_everything(SEED)
    rng = np.random.default_rng(SEED)
    train_ids, train_mask, _ = generate(rng, 16000)
    test_ids, test_mask, test_y = generate(rng, 4000)

    model = TokenTransformer(vocab=len(VOCAB), length=LENGTH)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    epochs = 8
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=epochs * (len(train_ids) // 128 + 1))
    for epoch in range(epochs):
        model.train()
        ids, mask, y = augment(rng, train_ids, train_mask)
        ids, mask, y = torch.tensor(ids), torch.tensor(mask), torch.tensor(y)
        perm = torch.randperm(len(ids))
        for i in range(0, len(ids), 128):
            idx = perm[i:i + 128]
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(ids[idx], mask[idx]), y[idx]).backward()
            opt.step()
            sched.step()
    model.eval()
    acc = float((predict(model, test_ids, test_mask) == test_y).mean())
    m_ids, m_mask, m_y = augment(rng, test_ids, test_mask, p_masked=1.0)
    acc_masked = float((predict(model, m_ids, m_mask) == m_y).mean())
    print(f"token-transformer test accuracy {acc:.4f}, on randomly masked test sequences {acc_masked:.4f}")
    assert acc >= 0.98, acc

    # bundled samples: each relevant token at most once; the first has "b" and "e" but no "j"
    combos = [(1, 1, 0), (1, 1, 1), (0, 0, 1), (1, 0, 0), (1, 1, 0), (1, 0, 1), (0, 1, 0), (0, 1, 1), (1, 1, 1),
              (0, 0, 0), (0, 0, 1), (1, 1, 0)]
    candidates = []
    for combo in combos:
        while True:
            ids, mask, y = generate(rng, 1, single=True, combos=[combo])
            if predict(model, ids, mask)[0] == y[0]:
                candidates.append((ids[0], mask[0], int(y[0])))
                break
    agreement = [masked_agreement(model, ids, mask) for ids, mask, _ in candidates]
    agreement_att = [masked_agreement(model, ids, mask, attention=True) for ids, mask, _ in candidates]
    print("agreement with the formula over all 1024 maskings of each sample, [MASK]:", np.round(agreement, 4),
          "attention:", np.round(agreement_att, 4))

    samples_path = os.path.join(HERE, "tokens.samples.json")
    common.write_json(samples_path, {
        "version": 1, "dataset": "synthetic-tokens", "shape": [LENGTH], "classes": ["false", "true"],
        "vocab": VOCAB, "padId": PAD, "maskId": MASK,
        "formula": "label = 1 iff (b AND e) OR j, over the visible tokens",
        "samples": [{"id": f"test-{k}", "x": {"input_ids": ids.tolist(), "attention_mask": mask.tolist()},
                     "tokens": [VOCAB[t] for t in ids], "label": y, "split": "test",
                     "maskAgreement": round(a, 4), "attentionAgreement": round(b, 4)}
                    for k, ((ids, mask, y), a, b) in enumerate(zip(candidates, agreement, agreement_att))]})

    sample = common.rel(samples_path)
    ground_truth = {"formula": "(b AND e) OR j", "and": ["b", "e"], "or": ["j"],
                    "ids": {"b": A, "e": B, "j": C}, "maskId": MASK, "padId": PAD,
                    "note": "trained with random [MASK]/[PAD]/attention-mask hiding and the label recomputed on the "
                            "visible tokens, so the formula holds on masked inputs; per-sample maskAgreement "
                            "(attentionAgreement) in the samples file is the fraction of all 1024 [MASK] "
                            "(attention-mask) maskings on which the prediction equals the formula. With "
                            "--mask-mode attention the empty input is less confident (|v| about 5 instead of 11), "
                            "so distractor tokens show first-order effects there; [MASK] masking is the clean one"}
    dummy = (torch.zeros(1, LENGTH, dtype=torch.int64), torch.ones(1, LENGTH, dtype=torch.int64))
    for name, net, dtype in (("token-transformer", model, torch.int64),
                             ("token-transformer-i32", Int32Inputs(model), torch.int32)):
        path = os.path.join(HERE, f"{name}.onnx")
        common.export_onnx(net, tuple(d.to(dtype) for d in dummy), path, ["input_ids", "attention_mask"], ["logits"])
        base = ["--model", common.rel(path), "--sample", sample, "--row", "0", "--modality", "text",
                "--players", "0-9"]
        kind = "int64" if dtype == torch.int64 else "int32 (cast to int64 inside the graph)"
        common.upsert("models", common.model_entry(
            name, path, "text", samples_path, base + ["--mask-token", str(MASK)],
            description=f"2-layer pre-norm transformer encoder (d_model 32, 2 heads, masked mean-pool) on a "
                        f"synthetic 16-token task, label = (b AND e) OR j; {kind} inputs; players are the 10 token "
                        f"positions, absent tokens become [MASK]",
            testAccuracy=round(acc, 4), maskedTestAccuracy=round(acc_masked, 4), groundTruth=ground_truth,
            explainAttention=base + ["--mask-mode", "attention"], script="models/token-transformer.py"))


if __name__ == "__main__":
    main()
