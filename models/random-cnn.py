"""Build a larger, untrained, seeded random-weight CNN for benchmarks only (never trained; its outputs mean nothing).

Writes random-cnn.onnx (input "image" [batch,3,32,32] float32, output "logits" [batch,10]; five 3x3 convs with
32-64-128-128-128 channels, Kaiming-normal weights, about 1.6 MB) and random-images.samples.json (2 seeded images,
pixels uniform in [0,1] rounded to 4 decimals, labelled with the network's own prediction), and records the model in
manifest.json with "benchOnly": true.
Run: /usr/bin/python3 models/random-cnn.py
"""
import os

import numpy as np
import torch

import common
from nets import RandomCNN

SEED = 0
HERE = common.MODELS_DIR


def main():
    torch.set_num_threads(1)
    common.seed_everything(SEED)
    model = RandomCNN().eval()
    rng = np.random.default_rng(SEED)
    images = np.round(rng.uniform(0, 1, size=(2, 3, 32, 32)), 4).astype(np.float32)
    with torch.no_grad():
        logits = model(torch.tensor(images))
    labels = logits.argmax(1).tolist()
    print("random-cnn logits", np.round(logits.numpy(), 3).tolist())

    samples_path = os.path.join(HERE, "random-images.samples.json")
    common.write_json(samples_path, {
        "version": 1, "dataset": "random-images", "shape": [3, 32, 32], "classes": [f"class-{c}" for c in range(10)],
        "note": "seeded uniform noise in [0,1]; the label is the untrained network's own prediction",
        "samples": [{"id": f"random-{i}", "x": [[[round(float(v), 4) for v in row] for row in ch] for ch in images[i]],
                     "label": int(labels[i]), "split": "test"} for i in range(len(images))]})

    onnx_path = os.path.join(HERE, "random-cnn.onnx")
    common.export_onnx(model, torch.zeros(1, 3, 32, 32), onnx_path, ["image"], ["logits"])
    params = sum(p.numel() for p in model.parameters())
    common.upsert("models", common.model_entry(
        "random-cnn", onnx_path, "image", samples_path,
        ["--model", common.rel(onnx_path), "--sample", common.rel(samples_path), "--row", "0", "--modality", "image",
         "--grid", "4x4", "--players", "1,2,4,5,6,7,8,9,10,11", "--baseline", "zero"],
        description=f"untrained seeded CNN, 5 convs 3x3 (32-64-128-128-128), {params} parameters, input 3x32x32; "
                    f"benchmarks only",
        benchOnly=True, parameters=params, script="models/random-cnn.py"))


if __name__ == "__main__":
    main()
