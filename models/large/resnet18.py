"""Export torchvision's ResNet-18 with RANDOM weights (never trained): real-size CNNs for speed measurements only.

The weights are torchvision's random initialisation under seed 0 (no pretrained weights can be downloaded here);
the BatchNorm running statistics are then set from 32 synthetic images (a cumulative average in train mode), so the
activations have realistic scales. The outputs mean nothing: only speed and memory are measured with these models.

Writes into the git-ignored folder models/.large/:
- resnet18.onnx: torchvision 0.14 resnet18(weights=None); input "image" [batch,3,224,224] float32, output "logits"
  [batch,1000]; opset 13, dynamic batch axis (about 45 MB);
- resnet18-32.onnx: the same blocks with a CIFAR stem (3x3 conv stride 1, no max-pool), input [batch,3,32,32],
  10 classes, for `andor dynamics` at real size (about 45 MB);
- NAME.pt (the PyTorch weights, for bench/pytorch-loop.py), NAME.samples.json (2 synthetic scenes, ImageNet-
  normalised, rounded to 3 decimals, labelled with the network's own prediction), NAME.check.json (+ .bin: 6 masked
  rows and PyTorch's logits, compared with onnxruntime-node by check-ort.mjs), and entries in manifest.json.
Run: /usr/bin/python3 models/large/resnet18.py   (or `npm run models:large` for every real-size model)
"""
import os
import time

import numpy as np
import torch

import architectures
import shared
from shared import common

SEED = 0
OPSET = 13
GRID = (4, 4)
PLAYERS = list(range(10))  # cells 0-9 of the 4x4 grid, row-major; cells 10-15 stay as background
CHECK_MASKS = [(1 << 10) - 1, 0, 0b1010101010, 0b0101010101, 0b1111100000, 0b0000011111]


def calibrate_batchnorm(model, images):
    """Sets every BatchNorm's running mean and variance to the cumulative average over `images` (train mode, no
    gradient), then returns the model in eval mode."""
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.reset_running_stats()
            module.momentum = None  # cumulative moving average
    model.train()
    with torch.no_grad():
        for start in range(0, len(images), 8):
            model(torch.tensor(images[start:start + 8]))
    return model.eval()


def export_one(name, build, size, classes):
    started = time.perf_counter()
    torch.manual_seed(SEED)
    rng = np.random.default_rng(SEED)
    model = build()
    model = calibrate_batchnorm(model, np.stack([shared.synthetic_image(rng, size) for _ in range(32)]))
    images = np.round(np.stack([shared.synthetic_image(rng, size) for _ in range(2)]), 3).astype(np.float32)
    with torch.no_grad():
        logits = model(torch.tensor(images)).numpy()
    labels = logits.argmax(1).tolist()
    print(f"{name}: predicted classes of the 2 samples {labels}, logit range [{logits.min():.2f}, {logits.max():.2f}]")

    sample_path = shared.path(f"{name}.samples.json")
    common.write_json(sample_path, {
        "version": 1, "dataset": f"synthetic-scenes-{size}", "shape": [3, size, size],
        "classes": [f"class-{c}" for c in range(classes)],
        "note": "synthetic RGB scenes normalised with the ImageNet mean and std, rounded to 3 decimals; the label is "
                "the randomly initialised network's own prediction",
        "samples": [{"id": f"scene-{i}", "x": np.round(images[i].astype(np.float64), 3).tolist(),
                     "label": int(labels[i]), "split": "test"} for i in range(len(images))]})

    onnx_path = shared.path(f"{name}.onnx")
    shared.save_weights(name, model)
    export_s = shared.export_onnx(model, torch.zeros(1, 3, size, size), onnx_path, ["image"], ["logits"], OPSET)

    masked = shared.mask_image(images[0], GRID, PLAYERS, CHECK_MASKS)
    with torch.no_grad():
        check_logits = model(torch.tensor(masked)).numpy()
    shared.write_check(name, {"image": masked}, check_logits, CHECK_MASKS)

    params = sum(p.numel() for p in model.parameters())
    explain = ["--model", common.rel(onnx_path), "--sample", common.rel(sample_path), "--row", "0",
               "--modality", "image", "--grid", "4x4", "--players", "0-9", "--baseline", "zero"]
    total_s = time.perf_counter() - started
    stem = "ImageNet stem" if size == 224 else "CIFAR stem: conv 3x3 stride 1, no max-pool"
    shared.upsert(shared.model_entry(
        name, onnx_path, sample_path, "image", explain, export_s, params, opset=OPSET,
        description=f"torchvision ResNet-18 ({stem}), input 3x{size}x{size}, {classes} classes, {params} "
                    f"parameters; random weights, BatchNorm statistics from 32 synthetic images",
        players="grid cells 0-9 of a 4x4 grid (row-major); cells 10-15 stay as background",
        script="models/large/resnet18.py", totalSeconds=round(total_s, 2)))
    print(f"{name}: {os.path.getsize(onnx_path) / 2**20:.1f} MB, {params} parameters, export {export_s:.1f} s, "
          f"total {total_s:.1f} s")


def main():
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    export_one("resnet18", architectures.resnet18, 224, 1000)
    export_one("resnet18-32", architectures.resnet18_cifar, 32, 10)


if __name__ == "__main__":
    main()
