"""Export a DistilBERT-size transformer encoder with RANDOM weights (never trained), for speed measurements only.

The architecture is DistilBERT's (architectures.DistilBertEncoder): token and learned position embeddings with a
LayerNorm, 6 post-norm encoder layers (width 768, 12 heads, FFN 3072, GELU; nn.TransformerEncoderLayer), vocabulary
30522, 64 tokens, a classifier on the first ([CLS]) token. Its weights are BERT's random initialisation (N(0, 0.02),
zero biases) under seed 0: no pretrained weights can be downloaded here, so the outputs mean nothing.

Writes into the git-ignored folder models/.large/:
- distilbert.onnx: inputs "input_ids" and "attention_mask" int64 [batch,64], output "logits" [batch,2] float32;
  opset 13, dynamic batch axis (about 250 MB);
- distilbert.pt (the PyTorch weights, for bench/pytorch-loop.py), distilbert.samples.json (2 synthetic sentences:
  [CLS], word ids, [SEP], then [PAD] with attention_mask 0; labelled with the network's own prediction),
  distilbert.check.json (+ .bin: 8 masked rows of both sentences and PyTorch's logits, for check-ort.mjs) and an
  entry in manifest.json.
Run: /usr/bin/python3 models/large/distilbert-encoder.py   (or `npm run models:large`)
"""
import os
import time

import numpy as np
import torch

import shared
from architectures import CLS_ID, MASK_ID, PAD_ID, SEP_ID, SEQ_LEN, DistilBertEncoder
from shared import common

SEED = 0
OPSET = 13
FIRST_WORD_ID = 1996  # bert-base-uncased: ids below are [unused]/special tokens, punctuation and single characters
PLAYERS = list(range(1, 11))  # token positions 1-10 (position 0 is [CLS] and stays present)
CHECK_MASKS = [(1 << 10) - 1, 0, 0b1010101010, 0b0111011101]


def sentence(rng, words):
    """[CLS] w1 .. w_words [SEP] [PAD]...: ids and attention mask, int64 [SEQ_LEN] each."""
    ids = np.full(SEQ_LEN, PAD_ID, dtype=np.int64)
    ids[0], ids[words + 1] = CLS_ID, SEP_ID
    ids[1:words + 1] = rng.integers(FIRST_WORD_ID, 29612, size=words)
    mask = (np.arange(SEQ_LEN) <= words + 1).astype(np.int64)
    return ids, mask


def token_names(ids, mask):
    special = {CLS_ID: "[CLS]", SEP_ID: "[SEP]", PAD_ID: "[PAD]", MASK_ID: "[MASK]"}
    return [special.get(int(t), f"#{int(t)}") for t in ids]


def masked_rows(ids, mask, masks):
    """Copies of one sentence with the tokens of absent players (bit i = position PLAYERS[i]) set to [MASK]."""
    out_ids = np.repeat(ids[None], len(masks), axis=0)
    for row, m in enumerate(masks):
        for bit, position in enumerate(PLAYERS):
            if not (m >> bit) & 1:
                out_ids[row, position] = MASK_ID
    return out_ids, np.repeat(mask[None], len(masks), axis=0)


def main():
    started = time.perf_counter()
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    torch.manual_seed(SEED)
    rng = np.random.default_rng(SEED)
    name = "distilbert"
    model = DistilBertEncoder().eval()
    sentences = [sentence(rng, 40), sentence(rng, 25)]
    ids = torch.tensor(np.stack([s[0] for s in sentences]))
    mask = torch.tensor(np.stack([s[1] for s in sentences]))
    with torch.no_grad():
        logits = model(ids, mask).numpy()
    labels = logits.argmax(1).tolist()
    rounded = np.round(logits.astype(np.float64), 3).tolist()
    print(f"{name}: predicted classes of the 2 samples {labels}, logits {rounded}")

    sample_path = shared.path(f"{name}.samples.json")
    common.write_json(sample_path, {
        "version": 1, "dataset": "synthetic-sentences", "shape": [SEQ_LEN], "classes": ["class-0", "class-1"],
        "padId": PAD_ID, "maskId": MASK_ID, "clsId": CLS_ID, "sepId": SEP_ID,
        "note": "random word ids of bert-base-uncased's vocabulary between [CLS] and [SEP], padded to 64 tokens with "
                "attention_mask 0; the label is the randomly initialised network's own prediction",
        "samples": [{"id": f"sentence-{i}", "x": {"input_ids": s[0].tolist(), "attention_mask": s[1].tolist()},
                     "tokens": token_names(*s), "label": int(labels[i]), "split": "test"}
                    for i, s in enumerate(sentences)]})

    onnx_path = shared.path(f"{name}.onnx")
    shared.save_weights(name, model)
    dummy = (ids[:1], mask[:1])
    export_s = shared.export_onnx(model, dummy, onnx_path, ["input_ids", "attention_mask"], ["logits"], OPSET)

    # the check: masked rows of both sentences (different padding) in one batch of 8
    rows = [masked_rows(*s, CHECK_MASKS) for s in sentences]
    check_ids, check_mask = np.concatenate([r[0] for r in rows]), np.concatenate([r[1] for r in rows])
    with torch.no_grad():
        check_logits = model(torch.tensor(check_ids), torch.tensor(check_mask)).numpy()
    shared.write_check(name, {"input_ids": check_ids, "attention_mask": check_mask}, check_logits,
                       CHECK_MASKS + CHECK_MASKS)

    params = sum(p.numel() for p in model.parameters())
    explain = ["--model", common.rel(onnx_path), "--sample", common.rel(sample_path), "--row", "0",
               "--modality", "text", "--players", "1-10", "--mask-token", str(MASK_ID)]
    total_s = time.perf_counter() - started
    shared.upsert(shared.model_entry(
        name, onnx_path, sample_path, "text", explain, export_s, params, opset=OPSET,
        description=f"DistilBERT-size transformer encoder: 6 post-norm layers, width 768, 12 heads, FFN 3072, GELU, "
                    f"vocabulary 30522, 64 tokens, classifier on the first token; {params} parameters; random "
                    f"weights (BERT init)",
        players="token positions 1-10 ([CLS] at 0 stays present); absent tokens become [MASK] (id 103)",
        maskId=MASK_ID, padId=PAD_ID, script="models/large/distilbert-encoder.py", totalSeconds=round(total_s, 2)))
    print(f"{name}: {os.path.getsize(onnx_path) / 2**20:.1f} MB, {params} parameters, export {export_s:.1f} s, "
          f"total {total_s:.1f} s")


if __name__ == "__main__":
    main()
