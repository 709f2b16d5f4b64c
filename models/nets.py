"""Network classes shared by the export scripts in models/ (not a script itself: export.py skips it).

DigitsCNN (digits-cnn.py), TokenTransformer and Int32Inputs (token-transformer.py), PointNet (pointnet.py),
RandomCNN (random-cnn.py). Every class is plain PyTorch that exports to ONNX opset 13 with standard operators.
"""
import torch
from torch import nn


class DigitsCNN(nn.Module):
    """[batch,1,8,8] pixels in [0,1] -> [batch,10] logits. Two 3x3 convs, 2x2 max-pool, one 3x3 conv, MLP head."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 32, 3, padding=1), nn.ReLU())
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(32 * 4 * 4, 64), nn.ReLU(), nn.Linear(64, 10))

    def forward(self, image):
        return self.head(self.features(image))


class EncoderLayer(nn.Module):
    """Pre-norm transformer encoder layer with hand-written multi-head attention.

    `bias` is [batch,1,1,L]: 0 for a visible key, -1e4 for a key whose attention_mask is 0."""

    def __init__(self, d_model, heads, ff):
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(d_model)
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)
        self.norm2 = nn.LayerNorm(d_model)
        self.ff = nn.Sequential(nn.Linear(d_model, ff), nn.ReLU(), nn.Linear(ff, d_model))

    def forward(self, h, bias):
        b, length, d = h.shape
        dh = d // self.heads
        q, k, v = self.qkv(self.norm1(h)).chunk(3, dim=-1)
        q = q.reshape(b, length, self.heads, dh).transpose(1, 2)
        k = k.reshape(b, length, self.heads, dh).transpose(1, 2)
        v = v.reshape(b, length, self.heads, dh).transpose(1, 2)
        att = torch.softmax(q @ k.transpose(-1, -2) * (dh ** -0.5) + bias, dim=-1)
        out = (att @ v).transpose(1, 2).reshape(b, length, d)
        h = h + self.proj(out)
        return h + self.ff(self.norm2(h))


class TokenTransformer(nn.Module):
    """(input_ids [batch,L] int64, attention_mask [batch,L] int64) -> [batch,2] logits.

    Token + learned position embeddings, pre-norm encoder layers whose attention ignores keys with mask 0, a final
    LayerNorm, a mean-pool over the positions with mask 1 plus one learned `empty` vector (so that a sequence with no
    visible position has a trained output rather than the bare head bias), and a linear head. A position with mask 0
    therefore has no influence at all on the output, whatever its token id."""

    def __init__(self, vocab=16, length=10, d_model=32, heads=2, ff=64, layers=2, classes=2):
        super().__init__()
        self.tok = nn.Embedding(vocab, d_model)
        self.pos = nn.Parameter(torch.randn(1, length, d_model) * 0.1)
        self.layers = nn.ModuleList(EncoderLayer(d_model, heads, ff) for _ in range(layers))
        self.norm = nn.LayerNorm(d_model)
        self.empty = nn.Parameter(torch.zeros(d_model))
        self.head = nn.Linear(d_model, classes)

    def forward(self, input_ids, attention_mask):
        m = attention_mask.to(torch.float32)
        bias = ((1.0 - m) * -1e4)[:, None, None, :]
        h = self.tok(input_ids) + self.pos
        for layer in self.layers:
            h = layer(h, bias)
        h = self.norm(h) * m[:, :, None]
        pooled = (h.sum(dim=1) + self.empty) / (m.sum(dim=1, keepdim=True) + 1.0)
        return self.head(pooled)


class Int32Inputs(nn.Module):
    """Wraps a two-input token model so that both inputs are int32; they are cast to int64 inside the graph."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, input_ids, attention_mask):
        return self.inner(input_ids.to(torch.int64), attention_mask.to(torch.int64))


class PointNet(nn.Module):
    """[batch,P,3] points -> [batch,classes] logits: shared per-point MLP (1x1 Conv1d), max-pool over points, MLP."""

    def __init__(self, classes=2):
        super().__init__()
        self.point_mlp = nn.Sequential(
            nn.Conv1d(3, 32, 1), nn.ReLU(),
            nn.Conv1d(32, 64, 1), nn.ReLU(),
            nn.Conv1d(64, 128, 1), nn.ReLU())
        self.head = nn.Sequential(nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, classes))

    def forward(self, points):
        features = self.point_mlp(points.transpose(1, 2))
        return self.head(features.max(dim=2).values)


class RandomCNN(nn.Module):
    """[batch,3,32,32] -> [batch,10] logits; five 3x3 convs (32-64-128-128-128 channels), two max-pools, global
    average pool, linear head. Meant to stay untrained (benchmarks only); Kaiming-normal init keeps activations
    from vanishing."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(64, 128, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(128, 128, 3, padding=1), nn.ReLU(),
            nn.Conv2d(128, 128, 3, padding=1), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Linear(128, 10)
        for module in self.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
                nn.init.normal_(module.bias, std=0.05)

    def forward(self, image):
        return self.head(self.features(image))
