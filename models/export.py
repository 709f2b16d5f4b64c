"""Run every export script in models/ (or the ones named) with Debian's Python, in a fixed order.

Usage: /usr/bin/python3 models/export.py --all | NAME.py [NAME.py ...]
The default model's script runs first, so it stays the first manifest entry.
"""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
FIRST = "breast-cancer-mlp.py"
NOT_SCRIPTS = {"common.py", "export.py", "nets.py"}


def scripts():
    names = sorted(f for f in os.listdir(HERE) if f.endswith(".py") and f not in NOT_SCRIPTS and f != FIRST)
    return [FIRST] + names


def main(argv):
    if not argv or argv == ["-h"] or argv == ["--help"]:
        print(__doc__)
        return 2
    chosen = scripts() if argv == ["--all"] else argv
    for name in chosen:
        print(f"== {name}", flush=True)
        subprocess.run([sys.executable, os.path.join(HERE, name)], check=True, cwd=os.path.dirname(HERE))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
