"""Real-size network architectures for speed measurements (not a script: export.py skips it).

resnet18 (torchvision's ResNet-18 at 3x224x224, 1000 classes), resnet18_cifar (the same blocks with a CIFAR stem:
3x3 conv stride 1, no max-pool, 3x32x32, 10 classes) and DistilBertEncoder (a DistilBERT-size post-norm transformer
encoder: 6 layers, width 768, 12 heads, FFN 3072, GELU, vocabulary 30522, 64 tokens). Every model here has RANDOM
weights (fixed seeds): their outputs mean nothing, only their speed is measured. `load(name)` rebuilds a model with the
exact weights its export script saved in models/.large/ (what bench/pytorch-loop.py runs).
"""
import os

import torch
import torchvision
from torch import nn

LARGE_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), ".large")

# DistilBERT's (bert-base-uncased) special ids; the synthetic sentences use them the same way
PAD_ID, CLS_ID, SEP_ID, MASK_ID = 0, 101, 102, 103
VOCAB = 30522
SEQ_LEN = 64


def resnet18():
    """torchvision 0.14 resnet18(weights=None): [batch,3,224,224] -> [batch,1000] logits."""
    return torchvision.models.resnet18(weights=None)


def resnet18_cifar():
    """ResNet-18 with a CIFAR stem (conv 3x3 stride 1, no max-pool): [batch,3,32,32] -> [batch,10] logits."""
    model = torchvision.models.resnet18(weights=None, num_classes=10)
    model.conv1 = nn.Conv2d(3, 64, kernel_size=3, stride=1, padding=1, bias=False)
    nn.init.kaiming_normal_(model.conv1.weight, mode="fan_out", nonlinearity="relu")  # torchvision's conv init
    model.maxpool = nn.Identity()
    return model


class DistilBertEncoder(nn.Module):
    """(input_ids [batch,L] int64, attention_mask [batch,L] int64) -> [batch,classes] logits from the first token.

    DistilBERT's layout: token + learned position embeddings, LayerNorm, `layers` post-norm encoder layers
    (nn.TransformerEncoderLayer, GELU; keys with attention_mask 0 are ignored), then a classifier on the first
    ([CLS]) position: linear d->d, ReLU, linear d->classes (DistilBertForSequenceClassification's pre_classifier and
    classifier)."""

    def __init__(self, vocab=VOCAB, length=SEQ_LEN, d_model=768, heads=12, ff=3072, layers=6, classes=2):
        super().__init__()
        self.tok = nn.Embedding(vocab, d_model)
        self.pos = nn.Embedding(length, d_model)
        self.norm = nn.LayerNorm(d_model, eps=1e-12)
        layer = nn.TransformerEncoderLayer(d_model, heads, ff, dropout=0.0, activation="gelu", batch_first=True,
                                           layer_norm_eps=1e-12)
        # no nested tensors: their fast path zeroes padded positions, which the exported graph does not
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.pre_classifier = nn.Linear(d_model, d_model)
        self.classifier = nn.Linear(d_model, classes)
        self.register_buffer("positions", torch.arange(length)[None, :], persistent=False)
        # BERT's init: N(0, 0.02) weights, zero biases. Every layer gets its own draw: nn.TransformerEncoder deep-copies
        # one layer, and identical weights would be merged into one initializer by the ONNX exporter
        for module in self.modules():
            if isinstance(module, (nn.Linear, nn.Embedding)):
                nn.init.normal_(module.weight, std=0.02)
            if isinstance(module, nn.Linear) and module.bias is not None:
                nn.init.zeros_(module.bias)
            if isinstance(module, nn.MultiheadAttention):
                nn.init.normal_(module.in_proj_weight, std=0.02)
                nn.init.zeros_(module.in_proj_bias)

    def forward(self, input_ids, attention_mask):
        h = self.norm(self.tok(input_ids) + self.pos(self.positions))
        h = self.encoder(h, src_key_padding_mask=attention_mask == 0)
        return self.classifier(torch.relu(self.pre_classifier(h[:, 0])))


BUILDERS = {"resnet18": resnet18, "resnet18-32": resnet18_cifar, "distilbert": DistilBertEncoder}


def weights_path(name):
    return os.path.join(LARGE_DIR, f"{name}.pt")


def load(name):
    """The model `name` in eval mode, with the weights its export script saved (models/.large/NAME.pt)."""
    if name not in BUILDERS:
        raise ValueError(f"unknown model {name!r}; expected one of: {', '.join(BUILDERS)}")
    path = weights_path(name)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path} is missing: run `npm run models:large` first")
    model = BUILDERS[name]()
    model.load_state_dict(torch.load(path))
    return model.eval()
