"""Planted games as tiny ONNX models, for testing the sparse method end to end (test/integration/sparse-*.test.ts).

Writes, beside this file:

- planted-64.onnx: y = c0 + sum_j c_j * prod_{i in S_j} x_i over n = 64 inputs (a sum of unanimity terms). With the
  reward `output`, the sample all ones and the baseline all zeros, the reward on a mask T is
  v(T) = c0 + sum_j c_j * 1[S_j subset of T]: its AND interactions (Moebius coefficients) are exactly the c_j.
- planted-or-64.onnx: y = c0 + sum_j c_j * (1 - prod_{i in S_j} (1 - x_i)), so v(T) = c0 + sum_j c_j * 1[S_j meets T]:
  its OR interactions are exactly the c_j (and I_or(empty set) = c0).
- planted-64.json: both term lists (the ground truth the tests compare against), the seed and the opset.

Input "x" is float32 [batch, 64], output "y" float32 [batch, 1]. The coefficients are multiples of 1/4 of magnitude
at most 4 and the terms have orders 1..4, so every sum is exact in float32. Deterministic (seeded); run with
/usr/bin/python3 models/planted/make.py. Needs only the onnx package (Debian's python3-onnx).
"""
import json
import os
import random

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
N = 64
TERMS = 16
MAX_ORDER = 4
SEED = 64
OPSET = 13


def plant(rng):
    """TERMS distinct supports (orders cycling 1..MAX_ORDER) with nonzero coefficients in {±0.25, ..., ±4}, and c0."""
    terms, seen = [], set()
    while len(terms) < TERMS:
        order = 1 + len(terms) % MAX_ORDER
        players = sorted(rng.sample(range(N), order))
        if tuple(players) in seen:
            continue
        seen.add(tuple(players))
        value = rng.choice([-1, 1]) * rng.randint(1, 16) / 4
        terms.append({"players": players, "value": value})
    return terms, rng.randint(-8, 8) / 4


def build(terms, c0, kind):
    """The graph: per term, gather its columns (of x, or of 1 - x for OR), multiply them, scale, and sum."""
    nodes, inits = [], []
    inits.append(numpy_helper.from_array(np.array([c0], dtype=np.float32), "bias"))
    source = "x"
    if kind == "or":
        inits.append(numpy_helper.from_array(np.array(1.0, dtype=np.float32), "one"))
        nodes.append(helper.make_node("Sub", ["one", "x"], ["absent"]))
        source = "absent"
    parts = []
    for j, term in enumerate(terms):
        inits.append(numpy_helper.from_array(np.array(term["players"], dtype=np.int64), f"idx{j}"))
        inits.append(numpy_helper.from_array(np.array([term["value"]], dtype=np.float32), f"c{j}"))
        nodes.append(helper.make_node("Gather", [source, f"idx{j}"], [f"cols{j}"], axis=1))
        nodes.append(helper.make_node("ReduceProd", [f"cols{j}"], [f"prod{j}"], axes=[1], keepdims=1))
        fires = f"prod{j}"
        if kind == "or":
            nodes.append(helper.make_node("Sub", ["one", f"prod{j}"], [f"any{j}"]))
            fires = f"any{j}"
        nodes.append(helper.make_node("Mul", [fires, f"c{j}"], [f"term{j}"]))
        parts.append(f"term{j}")
    nodes.append(helper.make_node("Sum", ["bias", *parts], ["y"]))
    graph = helper.make_graph(
        nodes, f"planted_{kind}_{N}",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", N])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 1])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="andor models/planted/make.py")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def main():
    rng = random.Random(SEED)
    and_terms, and_c0 = plant(rng)
    or_terms, or_c0 = plant(rng)
    onnx.save(build(and_terms, and_c0, "and"), os.path.join(HERE, "planted-64.onnx"))
    onnx.save(build(or_terms, or_c0, "or"), os.path.join(HERE, "planted-or-64.onnx"))
    truth = {
        "n": N, "seed": SEED, "opset": OPSET,
        "and": {"file": "planted-64.onnx", "empty": and_c0, "terms": and_terms},
        "or": {"file": "planted-or-64.onnx", "empty": or_c0, "terms": or_terms},
    }
    with open(os.path.join(HERE, "planted-64.json"), "w") as f:
        json.dump(truth, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
