"""Export every real-size model (RANDOM weights, for speed measurements only) into models/.large/, then check each
one in onnxruntime-node against PyTorch (node models/large/check-ort.mjs: a batch of masked rows, 1e-3 relative).

Usage: /usr/bin/python3 models/large/export.py [NAME.py ...]   (npm run models:large; default: every script)
Prints each script's output, its wall time, and the size of every file it wrote. About 1 minute on 2 cores;
models/.large/ then holds about 750 MB (ONNX files plus the PyTorch weights bench/pytorch-loop.py loads).
"""
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
LARGE_DIR = os.path.join(os.path.dirname(HERE), ".large")
SCRIPTS = ["resnet18.py", "distilbert-encoder.py"]


def main(argv):
    if argv in (["-h"], ["--help"]):
        print(__doc__)
        return 2
    unknown = [name for name in argv if name not in SCRIPTS]
    if unknown:
        print(f"unknown script(s) {', '.join(unknown)}; expected some of: {', '.join(SCRIPTS)}", file=sys.stderr)
        return 2
    for name in argv or SCRIPTS:
        print(f"== {name}", flush=True)
        started = time.perf_counter()
        subprocess.run([sys.executable, os.path.join(HERE, name)], check=True, cwd=ROOT)
        print(f"   {name}: {time.perf_counter() - started:.1f} s", flush=True)

    with open(os.path.join(LARGE_DIR, "manifest.json")) as f:
        manifest = json.load(f)
    print("\n== models/.large/")
    print(f"{'model':<12} {'parameters':>11} {'onnx MB':>8} {'export s':>9} {'script s':>9}  explain")
    for entry in manifest["models"]:
        print(f"{entry['name']:<12} {entry['parameters']:>11} {entry['sizeBytes'] / 2**20:>8.1f} "
              f"{entry['exportSeconds']:>9.1f} {entry['totalSeconds']:>9.1f}  {' '.join(entry['explain'])}")
    total = sum(os.path.getsize(os.path.join(LARGE_DIR, f)) for f in os.listdir(LARGE_DIR))
    print(f"folder total {total / 2**20:.0f} MB; {manifest['note']}")

    print("\n== onnxruntime-node vs PyTorch on masked batches (models/large/check-ort.mjs)", flush=True)
    subprocess.run(["node", os.path.join(HERE, "check-ort.mjs"), *[e["name"] for e in manifest["models"]]],
                   check=True, cwd=ROOT)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
