"""The plain PyTorch baseline of bench/real-size.bench.js: what the authors' pipeline does, in eager PyTorch.

For masks 0 .. M-1 of n players (bit i of a mask = player i present), in batches: build the masked inputs
x*mask + baseline*(1-mask) per player group (image: the grid cells 0..n-1 of a 4x4 grid, baseline zero, the other
cells keep their values; text: token positions 1..n, an absent token becomes [MASK] id 103), run the model under
torch.no_grad(), and compute the reward v = z_y - logsumexp_{c != y} z_c (y = the sample's label), as andor does for
`--modality image --grid 4x4 --players 0-(n-1)` and `--modality text --players 1-n --mask-token 103`.

The model is architectures.load(MODEL): the weights models/large/*.py exported (run `npm run models:large` first),
sample row 0 of models/.large/MODEL.samples.json. One untimed warm-up batch; then every batch is timed, mask building
and reward included. Prints one JSON line: {model, n, masks, batch, threads, masksPerSecond, seconds, forwardSeconds,
peakRssMb (getrusage maxrss: the whole process, model loading included), cpuSeconds (the timed loop),
totalCpuSeconds (the whole process), torch}.

Usage: /usr/bin/python3 bench/pytorch-loop.py MODEL [--n 10] [--batch 32] [--threads 1] [--masks M] [--dump FILE]
                                                 [--linear-only FILE]
  MODEL: resnet18 | resnet18-32 | distilbert; --masks: how many of the 2^n masks (default all);
  --dump FILE: also write the rewards as raw little-endian float64 (the bench compares them with andor's);
  --linear-only FILE: time only the model's own nn.Linear layers (its weights, the input shapes one batch of masked
  inputs gives each of them, random inputs), as many batches as the loop runs, and export the same computation to the
  ONNX file FILE (for onnxruntime's side): the matrix products any runtime must do, and nothing else.
"""
import argparse
import json
import os
import resource
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = ["resnet18", "resnet18-32", "distilbert"]
GRID = (4, 4)
FIRST_TOKEN_PLAYER = 1  # position 0 is [CLS] and stays present


def parse_args(argv):
    parser = argparse.ArgumentParser(description="Plain PyTorch masked-evaluation loop (the real-size baseline).")
    parser.add_argument("model", choices=MODELS)
    parser.add_argument("--n", type=int, default=10, help="players (default 10)")
    parser.add_argument("--batch", type=int, default=32, help="masks per forward pass (default 32)")
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default 1)")
    parser.add_argument("--masks", type=int, help="masks to evaluate, from mask 0 (default all 2^n)")
    parser.add_argument("--dump", help="write the rewards here as raw float64")
    parser.add_argument("--linear-only", help="time the model's linear layers alone; export them to this ONNX file")
    args = parser.parse_args(argv)
    limit = GRID[0] * GRID[1] if args.model != "distilbert" else 63
    if not 1 <= args.n <= limit:
        parser.error(f"--n must be 1..{limit} for {args.model} (got {args.n})")
    if args.batch < 1 or args.threads < 1:
        parser.error("--batch and --threads must be positive integers")
    args.masks = 2 ** args.n if args.masks is None else args.masks
    if not 1 <= args.masks <= 2 ** args.n:
        parser.error(f"--masks must be 1..2^n = {2 ** args.n} (got {args.masks})")
    return args


args = parse_args(sys.argv[1:])
# before torch loads: OpenMP and OpenBLAS size their thread pools from these, and torch.set_num_threads does not
# reach OpenBLAS (Debian's build), which runs the transformer's matrix products
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(args.threads)

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, os.path.join(ROOT, "models", "large"))
import architectures  # noqa: E402


def image_masker(x, n):
    """Returns build(masks) -> (image batch,): cells of absent players set to the zero baseline."""
    _, height, width = x.shape
    rows, cols = GRID
    owner = torch.zeros(n, height, width)
    for player in range(n):  # player i = grid cell i, row-major
        r, c = divmod(player, cols)
        owner[player, r * height // rows:(r + 1) * height // rows, c * width // cols:(c + 1) * width // cols] = 1
    owner = owner.reshape(n, height * width)
    baseline = torch.zeros_like(x)

    def build(bits):
        absent = ((1 - bits) @ owner).clamp_(max=1).reshape(-1, 1, height, width)
        return (x * (1 - absent) + baseline * absent,)
    return build


def text_masker(ids, attention_mask, n):
    """Returns build(masks) -> (input_ids, attention_mask): tokens of absent players replaced by [MASK]."""
    positions = torch.arange(FIRST_TOKEN_PLAYER, FIRST_TOKEN_PLAYER + n)

    def build(bits):
        batch_ids = ids.repeat(len(bits), 1)
        batch_ids[:, positions] = torch.where(bits.bool(), ids[positions], architectures.MASK_ID)
        return batch_ids, attention_mask.repeat(len(bits), 1)
    return build


def reward(logits, y):
    """z_y - logsumexp_{c != y} z_c per row, in float64."""
    z = logits.double()
    others = torch.cat([z[:, :y], z[:, y + 1:]], dim=1)
    return z[:, y] - torch.logsumexp(others, dim=1)


class LinearOnly(torch.nn.Module):
    """The model's matrix products alone: each 2-D weight (with its bias) applied to as many rows as it sees in the
    model. The inputs are cut from one random matrix x (rows: the most any weight sees, columns: the widest), once per
    distinct shape and pass, and every output is returned (so that no runtime can skip one)."""

    def __init__(self, products):
        super().__init__()
        self.weights = torch.nn.ParameterList(w for w, _, _ in products)
        self.biases = torch.nn.ParameterList(b if b is not None else torch.zeros(w.shape[0]) for w, b, _ in products)
        self.rows = [r for _, _, r in products]

    def forward(self, x):
        inputs = {}
        outputs = []
        for weight, bias, rows in zip(self.weights, self.biases, self.rows):
            key = (rows, weight.shape[1])
            if key not in inputs:
                inputs[key] = x[:rows, :weight.shape[1]]
            outputs.append(torch.nn.functional.linear(inputs[key], weight, bias))
        return tuple(outputs)


def linear_only(model, inputs):
    """(LinearOnly, its input x) for the model's 2-D weights (embedding tables excepted: they are looked up). A weight's
    rows are the input rows of the innermost module holding it that one forward pass over `inputs` calls (a fused
    encoder layer calls none of its linear children, so its weights take the layer's rows)."""
    rows = {}

    def record(name):
        def hook(module, inputs, output):  # returns None: the output stays the module's
            rows.setdefault(name, int(np.prod(inputs[0].shape[:-1])))
        return hook
    hooks = [m.register_forward_hook(record(name)) for name, m in model.named_modules() if name]
    model(*inputs)
    for h in hooks:
        h.remove()
    params = dict(model.named_parameters())
    modules = dict(model.named_modules())
    products = []
    for name, weight in params.items():
        path = name.split(".")
        owner = ".".join(path[:-1])
        if weight.dim() != 2 or isinstance(modules.get(owner), torch.nn.Embedding):
            continue
        called = next((".".join(path[:k]) for k in range(len(path) - 1, 0, -1) if ".".join(path[:k]) in rows), None)
        if called is None:
            continue  # not used by this forward pass
        bias = params.get(".".join(path[:-1] + [path[-1].replace("weight", "bias")]))
        products.append((weight, bias, rows[called]))
    if not products:
        raise SystemExit(f"--linear-only: {args.model} has no matrix product")
    x = torch.randn(max(r for _, _, r in products), max(w.shape[1] for w, _, _ in products))
    return LinearOnly(products), x


def main_linear_only(model, build, bits_of):
    """--linear-only: times the linear layers alone over the loop's batches; exports them to args.linear_only."""
    batches = [min(args.batch, args.masks - first) for first in range(0, args.masks, args.batch)]
    with torch.no_grad():
        module, x = linear_only(model, build(bits_of(0, batches[0])))
        flops = 2 * sum(rows * w.shape[0] * w.shape[1] for w, rows in zip(module.weights, module.rows))
        module(x)  # warm-up, untimed
        cpu_start, start = time.process_time(), time.perf_counter()
        for _ in batches:
            module(x)
        seconds = time.perf_counter() - start
        cpu_s = time.process_time() - cpu_start
        torch.onnx.export(module, (x,), args.linear_only, input_names=["x"], opset_version=13)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({
        "model": args.model, "linearOnly": True, "products": len(module.weights), "rows": x.shape[0], "width": x.shape[1],
        "flopsPerBatch": flops, "batches": len(batches), "masks": args.masks, "batch": args.batch, "threads": args.threads,
        "masksPerSecond": args.masks / seconds, "seconds": seconds, "cpuSeconds": cpu_s,
        "peakRssMb": usage.ru_maxrss / 1024, "totalCpuSeconds": usage.ru_utime + usage.ru_stime,
        "torch": torch.__version__}))


def main():
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    model = architectures.load(args.model)
    with open(os.path.join(architectures.LARGE_DIR, f"{args.model}.samples.json")) as f:
        sample = json.load(f)["samples"][0]
    y = int(sample["label"])
    if args.model == "distilbert":
        build = text_masker(torch.tensor(sample["x"]["input_ids"]), torch.tensor(sample["x"]["attention_mask"]), args.n)
    else:
        build = image_masker(torch.tensor(sample["x"], dtype=torch.float32), args.n)
    player_bits = torch.arange(args.n)
    bits_of = lambda first, count: ((torch.arange(first, first + count)[:, None] >> player_bits) & 1).float()
    if args.linear_only:
        return main_linear_only(model, build, bits_of)

    v = np.empty(args.masks)
    with torch.no_grad():
        model(*build(bits_of(0, min(args.batch, args.masks))))  # warm-up, untimed
        forward_s = 0.0
        cpu_start, start = time.process_time(), time.perf_counter()
        for first in range(0, args.masks, args.batch):
            inputs = build(bits_of(first, min(args.batch, args.masks - first)))
            forward_start = time.perf_counter()
            logits = model(*inputs)
            forward_s += time.perf_counter() - forward_start
            v[first:first + len(logits)] = reward(logits, y).numpy()
        seconds = time.perf_counter() - start
        cpu_s = time.process_time() - cpu_start
    if args.dump:
        v.astype("<f8").tofile(args.dump)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({
        "model": args.model, "n": args.n, "masks": args.masks, "batch": args.batch, "threads": args.threads,
        "masksPerSecond": args.masks / seconds, "seconds": seconds, "forwardSeconds": forward_s,
        "peakRssMb": usage.ru_maxrss / 1024, "cpuSeconds": cpu_s, "totalCpuSeconds": usage.ru_utime + usage.ru_stime,
        "torch": torch.__version__}))


if __name__ == "__main__":
    main()
