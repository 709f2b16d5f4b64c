"""Tiny hand-built ONNX graphs with odd outputs, for the fault tests (test/integration/faults-*.test.ts): float16,
bfloat16 and integer output dtypes, an output whose batch axis comes second, an ambiguous one, a huge fixed batch,
NaN outputs and a 200 000-wide output; odd side inputs and rows (a padding mask, rows that depend on each other, a
side input without a batch axis, no input, an unbatched first output). Every graph is a fixed linear map written with onnx.helper (no training, no torch), so each file is
a few hundred bytes and its expected outputs follow from the weights below. README.md lists the files.
Run: /usr/bin/python3 models/faults/make.py   (Debian's python3-onnx 1.12; no other dependency)
"""
import os
import struct

import onnx
from onnx import TensorProto as T
from onnx import helper as h

HERE = os.path.dirname(os.path.abspath(__file__))
OPSET = 17  # the newest opset onnx 1.12 knows; onnxruntime 1.30 runs it
IR_VERSION = 8

# logits = x · W + b for 4 features and 3 classes; halves and quarters so float16 rounding stays visible but small
W3 = [[0.5, -1.25, 0.75], [1.5, 0.25, -0.5], [-0.75, 1.0, 0.125], [0.3, -0.6, 0.9]]
B3 = [0.1, -0.2, 0.05]
# two classes, for the batch-axis models
W2 = [[0.5, -1.25], [1.5, 0.25], [-0.75, 1.0], [0.3, -0.6]]
B2 = [0.1, -0.2]
# small non-negative integers: with integer features in 0..3 every output is an integer in 0..37, so it survives a
# cast to any integer dtype from uint8 to uint64 exactly
WI = [[1, 0, 2], [2, 1, 0], [0, 3, 1], [1, 1, 1]]
BI = [1, 0, 2]
# the wide output: 200 000 classes (a spread of that many numbers into Math.max overflows V8's stack), from one
# score s = x · WS: positive for the features 2, 1, 3, 1 of the fault tests, and for most of their masks
WIDE = 200_000
WS = [[1.0], [-2.0], [1.0], [0.5]]
# the huge fixed batch: 2^21 rows of 4 float32 in, 2 float32 out = 48 MiB of buffers per worker, for 16 masks
HUGE_BATCH = 2 ** 21


def const(name, values, dims, dtype=T.FLOAT):
    flat = [v for row in values for v in row] if dims and len(dims) == 2 else list(values)
    return h.make_node("Constant", [], [name], value=h.make_tensor(name + "_value", dtype, dims, flat))


def raw_tensor(name, values, dims):
    """A float32 initializer in raw bytes (only those move to an external data file)."""
    return h.make_tensor(name, T.FLOAT, dims, struct.pack(f"<{len(values)}f", *values), raw=True)


def linear(x, out, weights, bias, prefix=""):
    """Nodes of out = x · weights + bias (float32)."""
    rows, cols = len(weights), len(weights[0])
    return [
        const(prefix + "W", weights, [rows, cols]),
        const(prefix + "b", bias, [cols]),
        h.make_node("MatMul", [x, prefix + "W"], [prefix + "xw"]),
        h.make_node("Add", [prefix + "xw", prefix + "b"], [out]),
    ]


def save(name, nodes, inputs, outputs, opset=OPSET, ir_version=IR_VERSION):
    graph = h.make_graph(nodes, name.replace(".onnx", ""), inputs, outputs)
    model = h.make_model(graph, producer_name="andor models/faults/make.py", opset_imports=[h.make_opsetid("", opset)])
    model.ir_version = ir_version
    path = os.path.join(HERE, name)
    onnx.save(model, path)
    print(f"{name}: {os.path.getsize(path)} bytes")


def features(batch="batch", width=4):
    return h.make_tensor_value_info("features", T.FLOAT, [batch, width])


def main():
    # 1. the float32 reference, and the same map with its output cast to float16 / bfloat16
    save("linear-f32.onnx", linear("features", "logits", W3, B3), [features()],
         [h.make_tensor_value_info("logits", T.FLOAT, ["batch", 3])])
    save("linear-f16.onnx", linear("features", "z", W3, B3) + [h.make_node("Cast", ["z"], ["logits"], to=T.FLOAT16)],
         [features()], [h.make_tensor_value_info("logits", T.FLOAT16, ["batch", 3])])
    save("linear-bf16.onnx", linear("features", "z", W3, B3) + [h.make_node("Cast", ["z"], ["logits"], to=T.BFLOAT16)],
         [features()], [h.make_tensor_value_info("logits", T.BFLOAT16, ["batch", 3])])

    # 2. one integer-valued map, cast to every tensor dtype onnxruntime's JavaScript API can return
    casts = [("float16", T.FLOAT16), ("float64", T.DOUBLE), ("uint8", T.UINT8), ("int8", T.INT8), ("uint16", T.UINT16),
             ("int16", T.INT16), ("int32", T.INT32), ("int64", T.INT64), ("uint32", T.UINT32), ("uint64", T.UINT64),
             ("bool", T.BOOL), ("string", T.STRING)]
    nodes = linear("features", "logits", WI, BI)
    outputs = [h.make_tensor_value_info("logits", T.FLOAT, ["batch", 3])]
    for name, dtype in casts:
        nodes.append(h.make_node("Cast", ["logits"], ["as_" + name], to=dtype))
        outputs.append(h.make_tensor_value_info("as_" + name, dtype, ["batch", 3]))
    save("output-dtypes.onnx", nodes, [features()], outputs)

    # int4 / uint4 need opset 21 (IR 10); onnx 1.12 predates them, so their type codes are written as numbers
    int4, uint4 = 22, 21
    nodes = linear("features", "logits", WI, BI) + [
        h.make_node("Cast", ["logits"], ["as_int4"], to=int4),
        h.make_node("Cast", ["logits"], ["as_uint4"], to=uint4),
    ]
    outputs = [h.make_tensor_value_info("logits", T.FLOAT, ["batch", 3]),
               h.make_tensor_value_info("as_int4", int4, ["batch", 3]),
               h.make_tensor_value_info("as_uint4", uint4, ["batch", 3])]
    save("int4-output.onnx", nodes, [features()], outputs, opset=21, ir_version=10)

    # 3. batch axes: first (the reference), second under the input's name, second under another name, ambiguous
    save("batch-first.onnx", linear("features", "scores", W2, B2), [features()],
         [h.make_tensor_value_info("scores", T.FLOAT, ["batch", 2])])
    for name, dim in [("batch-second.onnx", "batch"), ("batch-second-renamed.onnx", "rows")]:
        save(name, linear("features", "z", W2, B2) + [h.make_node("Transpose", ["z"], ["scores"], perm=[1, 0])],
             [features()], [h.make_tensor_value_info("scores", T.FLOAT, [2, dim])])
    save("batch-ambiguous.onnx", linear("features", "z", W2, B2) + [h.make_node("Transpose", ["z"], ["scores"], perm=[1, 0])],
         [features(2)], [h.make_tensor_value_info("scores", T.FLOAT, [2, 2])])

    # 4. a fixed batch far larger than any job needs
    save("huge-batch.onnx", linear("features", "logits", W2, B2), [features(HUGE_BATCH)],
         [h.make_tensor_value_info("logits", T.FLOAT, [HUGE_BATCH, 2])])

    # 5. NaN: at element 1 of every row (a NaN bias), or only when feature 0 is below 1 (sqrt(x0 − 1) added to both)
    save("nan-output.onnx", linear("features", "logits", W3, [0.0, float("nan"), 0.0]), [features()],
         [h.make_tensor_value_info("logits", T.FLOAT, ["batch", 3])])
    nodes = linear("features", "z", W2, B2) + [
        const("starts", [0], [1], T.INT64),
        const("ends", [1], [1], T.INT64),
        const("axes", [1], [1], T.INT64),
        const("one", [1.0], [1]),
        h.make_node("Slice", ["features", "starts", "ends", "axes"], ["x0"]),
        h.make_node("Sub", ["x0", "one"], ["shifted"]),
        h.make_node("Sqrt", ["shifted"], ["root"]),
        h.make_node("Add", ["z", "root"], ["logits"]),
    ]
    save("nan-when-masked.onnx", nodes, [features()], [h.make_tensor_value_info("logits", T.FLOAT, ["batch", 2])])

    # 6. a 200 000-wide output from a few hundred bytes: logits[:, j] = s · (j / WIDE − 1/2) with s = x · WS, so the
    # predicted class is the last when s > 0 and the first when s < 0 (no weight matrix of 4 × 200 000 floats)
    nodes = linear("features", "s", WS, [0.0]) + [
        const("zero", [0], [], T.INT64),
        const("width", [WIDE], [], T.INT64),
        const("step", [1], [], T.INT64),
        const("scale", [1.0 / WIDE], []),
        const("half", [0.5], []),
        h.make_node("Range", ["zero", "width", "step"], ["j"]),
        h.make_node("Cast", ["j"], ["jf"], to=T.FLOAT),
        h.make_node("Mul", ["jf", "scale"], ["ramp01"]),
        h.make_node("Sub", ["ramp01", "half"], ["ramp"]),
        h.make_node("Mul", ["s", "ramp"], ["logits"]),
    ]
    save("wide-output.onnx", nodes, [features()], [h.make_tensor_value_info("logits", T.FLOAT, ["batch", WIDE])])

    # 7. side inputs and rows: a PyTorch-style key_padding_mask (True = ignore the feature) the sample must give; a
    # model whose rows depend on each other (logits minus their mean over the batch, as BatchNorm in training mode);
    # a side input without a batch axis (a scale t of shape [1]); a model with no input; a first output without a
    # batch axis before the one to read
    nodes = [
        h.make_node("Not", ["key_padding_mask"], ["keep"]),
        h.make_node("Cast", ["keep"], ["keep_f"], to=T.FLOAT),
        h.make_node("Mul", ["features", "keep_f"], ["kept"]),
    ] + linear("kept", "logits", W2, B2)
    save("padding-mask.onnx", nodes, [features(), h.make_tensor_value_info("key_padding_mask", T.BOOL, ["batch", 4])],
         [h.make_tensor_value_info("logits", T.FLOAT, ["batch", 2])])
    nodes = linear("features", "z", W2, B2) + [
        h.make_node("ReduceMean", ["z"], ["mean"], axes=[0], keepdims=1),
        h.make_node("Sub", ["z", "mean"], ["logits"]),
    ]
    save("batch-mean.onnx", nodes, [features()], [h.make_tensor_value_info("logits", T.FLOAT, ["batch", 2])])
    nodes = linear("features", "z", W2, B2) + [h.make_node("Mul", ["z", "t"], ["logits"])]
    save("side-unbatched.onnx", nodes, [features(), h.make_tensor_value_info("t", T.FLOAT, [1])],
         [h.make_tensor_value_info("logits", T.FLOAT, ["batch", 2])])
    save("no-inputs.onnx", [const("logits", [B2], [1, 2])], [], [h.make_tensor_value_info("logits", T.FLOAT, [1, 2])])
    # 8. weights in an external data file beside the model (what onnx does above 2 GB): andor reads bytes only
    graph = h.make_graph(linear("features", "logits", W2, B2)[2:], "external-data", [features()],
                         [h.make_tensor_value_info("logits", T.FLOAT, ["batch", 2])],
                         [raw_tensor("W", [v for row in W2 for v in row], [4, 2]), raw_tensor("b", B2, [2])])
    model = h.make_model(graph, producer_name="andor models/faults/make.py", opset_imports=[h.make_opsetid("", OPSET)])
    model.ir_version = IR_VERSION
    onnx.save_model(model, os.path.join(HERE, "external-data.onnx"), save_as_external_data=True, all_tensors_to_one_file=True,
                    location="external-data.bin", size_threshold=0)
    print(f"external-data.onnx: {os.path.getsize(os.path.join(HERE, 'external-data.onnx'))} bytes (+ external-data.bin)")
    save("unbatched-first-output.onnx", [const("bias", B2, [2])] + linear("features", "logits", W2, B2), [features()],
         [h.make_tensor_value_info("bias", T.FLOAT, [2]), h.make_tensor_value_info("logits", T.FLOAT, ["batch", 2])])


if __name__ == "__main__":
    main()
