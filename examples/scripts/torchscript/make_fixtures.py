#!/usr/bin/python3
"""Writes the TorchScript fixtures of djl-quant-plugin/src/test/resources/torchscript/.

Commands (from the repository root, Debian bookworm's python3-torch 1.13.0a0 and
python3-torchvision 0.14.1a0, CPU only, nothing downloaded):

    /usr/bin/python3 examples/scripts/torchscript/make_fixtures.py models
    /usr/bin/python3 examples/scripts/torchscript/make_fixtures.py train-fmnist \
        --data /tmp/fmnist/usr/share/datasets/fashion-mnist

The Fashion-MNIST IDX files come from Debian's dataset-fashion-mnist package:
    apt-get download dataset-fashion-mnist && dpkg -x dataset-fashion-mnist*.deb /tmp/fmnist

`models` writes (every model traced with torch.jit.trace in eval mode, seeds fixed, random
weights, BatchNorm running statistics made non-trivial by a few train-mode batches first):

  resnet18.pt            torchvision.models.resnet.ResNet with BasicBlock [2, 2, 2, 2] (resnet18's
                         depth), widths 8/16/32/64 instead of 64/128/256/512, 10 classes; 1x3x64x64.
  resnet50.pt            torchvision's ResNet with Bottleneck [3, 4, 6, 3] (resnet50's depth),
                         widths 8/16/24/32 (outputs x4), 10 classes; 1x3x64x64.
  mobilenet_v2.pt        torchvision.models.mobilenet_v2(width_mult=0.25, num_classes=10), its
                         1280-channel last 1x1 conv replaced by a 320-channel Conv2dNormActivation
                         (and the classifier Linear by 320 -> 10); 1x3x64x64.
  mobilenet_v3_small.pt  torchvision's MobileNetV3 from _mobilenet_v3_conf("mobilenet_v3_small",
                         width_mult=0.25), 10 classes; 1x3x64x64.
  efficientnet_b0.pt     torchvision's EfficientNet from _efficientnet_conf("efficientnet_b0",
                         width_mult=0.25, depth_mult=0.5), 10 classes; 1x3x64x64.
  bert_encoder.pt        a BERT-style encoder in plain torch.nn (BertEncoder below): token and
                         position embeddings, LayerNorm, 2 layers of 4-head self-attention written
                         with Linear/view/transpose/matmul/softmax, GELU feed-forward, residuals,
                         pooler Linear+tanh on token 0, classifier; hidden 64, vocab 100; input
                         int64 token ids 1x16.
  dtypes.pt              traced module whose buffers hold float32, float64, float16, bfloat16,
                         int64, int32, int16, int8, uint8 and bool tensors (values in the script).
  views.pt               traced module with a parameter and buffers that are views of it: its
                         transpose, a slice with a storage offset, and a strided column.
  constants.pt           traced module whose forward uses tensor literals (they land in
                         constants.pkl), plus a 0-d buffer.
  attributes.pt          scripted module with nested list/tuple/dict attributes of ints, floats,
                         strings, bools and None, and a submodule.

`train-fmnist` writes fmnist_resnet.pt (FashionResNet below: torchvision BasicBlocks at widths
16/32/64 on 1x28x28) trained on the 60,000 training images, and fmnist_resnet.json with its top-1
on the 10,000 test images. Inputs are normalised as the Java translator does: pixels / 255, then
(x - 0.2860406) / 0.3530242 (examples/.../data/FashionMnist.java).
"""

import argparse
import gzip
import json
import os
import struct
import sys
import time
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from torchvision.models import efficientnet, mobilenetv3, resnet

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                   "djl-quant-plugin", "src", "test", "resources", "torchscript")
FMNIST_MEAN = 0.2860406
FMNIST_STD = 0.3530242


def warm_batchnorm(model, shape, batches=4, dtype=torch.float32):
    """A few train-mode forwards so running_mean/var move away from 0/1."""
    model.train()
    with torch.no_grad():
        for _ in range(batches):
            model(torch.randn(*shape, dtype=dtype) * 2.0 + 0.5)
    model.eval()


def save_traced(model, example, name):
    model.eval()
    with torch.no_grad():
        traced = torch.jit.trace(model, example)
    path = os.path.join(OUT, name)
    torch.jit.save(traced, path)
    print(f"{name}: {os.path.getsize(path)} bytes")


def small_resnet(block, layers, widths=(8, 16, 32, 64), num_classes=10):
    """torchvision's ResNet, its stem and stages rebuilt narrower with its own _make_layer.

    The classes (ResNet, BasicBlock, Bottleneck) and their forward code stay torchvision's; only
    the widths are smaller than the hard-coded 64/128/256/512.
    """
    model = resnet.ResNet(block, layers, num_classes=num_classes)
    model.inplanes = widths[0]
    model.conv1 = nn.Conv2d(3, widths[0], kernel_size=7, stride=2, padding=3, bias=False)
    model.bn1 = model._norm_layer(widths[0])
    model.layer1 = model._make_layer(block, widths[0], layers[0])
    model.layer2 = model._make_layer(block, widths[1], layers[1], stride=2)
    model.layer3 = model._make_layer(block, widths[2], layers[2], stride=2)
    model.layer4 = model._make_layer(block, widths[3], layers[3], stride=2)
    model.fc = nn.Linear(widths[3] * block.expansion, num_classes)
    return model


class SelfAttention(nn.Module):
    def __init__(self, hidden, heads):
        super().__init__()
        self.heads = heads
        self.head_dim = hidden // heads
        self.query = nn.Linear(hidden, hidden)
        self.key = nn.Linear(hidden, hidden)
        self.value = nn.Linear(hidden, hidden)
        self.output = nn.Linear(hidden, hidden)

    def split(self, x):
        b, s, _ = x.size()
        return x.view(b, s, self.heads, self.head_dim).transpose(1, 2)

    def forward(self, x):
        b, s, h = x.size()
        q = self.split(self.query(x))
        k = self.split(self.key(x))
        v = self.split(self.value(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / (self.head_dim ** 0.5)
        probs = torch.softmax(scores, dim=-1)
        context = torch.matmul(probs, v).transpose(1, 2).contiguous().view(b, s, h)
        return self.output(context)


class EncoderLayer(nn.Module):
    def __init__(self, hidden, heads, ff):
        super().__init__()
        self.attention = SelfAttention(hidden, heads)
        self.attention_norm = nn.LayerNorm(hidden, eps=1e-12)
        self.intermediate = nn.Linear(hidden, ff)
        self.activation = nn.GELU()
        self.ff_output = nn.Linear(ff, hidden)
        self.dropout = nn.Dropout(0.1)
        self.output_norm = nn.LayerNorm(hidden, eps=1e-12)

    def forward(self, x):
        x = self.attention_norm(x + self.dropout(self.attention(x)))
        y = self.ff_output(self.activation(self.intermediate(x)))
        return self.output_norm(x + self.dropout(y))


class BertEncoder(nn.Module):
    def __init__(self, vocab=100, hidden=64, heads=4, layers=2, ff=128, max_len=16, classes=3):
        super().__init__()
        self.token_embeddings = nn.Embedding(vocab, hidden)
        self.position_embeddings = nn.Embedding(max_len, hidden)
        self.embedding_norm = nn.LayerNorm(hidden, eps=1e-12)
        self.layers = nn.ModuleList([EncoderLayer(hidden, heads, ff) for _ in range(layers)])
        self.pooler = nn.Linear(hidden, hidden)
        self.classifier = nn.Linear(hidden, classes)
        self.register_buffer("position_ids", torch.arange(max_len).unsqueeze(0))

    def forward(self, token_ids):
        seq = token_ids.size(1)
        x = self.token_embeddings(token_ids) + self.position_embeddings(self.position_ids[:, :seq])
        x = self.embedding_norm(x)
        for layer in self.layers:
            x = layer(x)
        pooled = torch.tanh(self.pooler(x[:, 0]))
        return self.classifier(pooled)


class Dtypes(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("f32", torch.tensor([[1.5, -2.25, 3.0], [0.0, 1e-7, -0.0]], dtype=torch.float32))
        self.register_buffer("f64", torch.tensor([1.0 / 3.0, -1e300, 2.5], dtype=torch.float64))
        self.register_buffer("f16", torch.tensor([0.5, -65504.0, 6.1e-5, 1.0], dtype=torch.float16))
        self.register_buffer("bf16", torch.tensor([1.0, -2.5, 3.0e38], dtype=torch.bfloat16))
        self.register_buffer("i64", torch.tensor([-(2 ** 63), 2 ** 63 - 1, 7], dtype=torch.int64))
        self.register_buffer("i32", torch.tensor([-(2 ** 31), 2 ** 31 - 1], dtype=torch.int32))
        self.register_buffer("i16", torch.tensor([-32768, 32767, 5], dtype=torch.int16))
        self.register_buffer("i8", torch.tensor([-128, 127, 0, -1], dtype=torch.int8))
        self.register_buffer("u8", torch.tensor([[0, 255], [128, 7]], dtype=torch.uint8))
        self.register_buffer("flags", torch.tensor([True, False, True], dtype=torch.bool))
        self.register_buffer("empty", torch.zeros(0, 3, dtype=torch.float32))

    def forward(self, x):
        return x * self.f32.sum() + self.f64.float().sum() + self.u8.float().sum()


class Views(nn.Module):
    def __init__(self):
        super().__init__()
        base = torch.arange(12, dtype=torch.float32).reshape(3, 4) * 0.5 - 1.0
        self.base = nn.Parameter(base)
        self.register_buffer("transposed", self.base.data.t())
        self.register_buffer("row_slice", self.base.data[1:, 1:3])
        self.register_buffer("column", self.base.data[:, 2])

    def forward(self, x):
        return torch.matmul(x, self.base) + self.column.sum()


class Constants(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("scalar", torch.tensor(2.5))

    def forward(self, x):
        weights = torch.tensor([1.0, -2.0, 0.25, 4.0])
        offsets = torch.tensor([[3, 1], [4, 1]], dtype=torch.int64)
        return x * weights * self.scalar + offsets.sum()


class Leaf(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = 0.5
        self.label = "leaf"
        self.linear = nn.Linear(2, 2)

    def forward(self, x):
        return self.linear(x) * self.scale


class Attributes(nn.Module):
    nothing: Optional[int]

    def __init__(self):
        super().__init__()
        self.ints = [1, -2, 3]
        self.floats = [0.5, -1.25]
        self.words = ["alpha", "beta", "\u00fcber"]
        self.nested = [[1, 2], [3]]
        self.pair = (7, "seven", 7.5)
        self.table = {"a": 1, "b": 2}
        self.by_int = {3: [1.0, 2.0], 1: [3.0]}
        self.flag = True
        self.nothing = None
        self.big = 2 ** 40
        self.leaf = Leaf()

    def forward(self, x):
        return self.leaf(x) + float(len(self.ints)) + self.floats[0]



def make_models():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)
    image = torch.randn(1, 3, 64, 64)

    m = small_resnet(resnet.BasicBlock, [2, 2, 2, 2])
    warm_batchnorm(m, (4, 3, 64, 64))
    save_traced(m, image, "resnet18.pt")

    torch.manual_seed(1)
    m = small_resnet(resnet.Bottleneck, [3, 4, 6, 3], widths=(8, 16, 24, 32))
    warm_batchnorm(m, (4, 3, 64, 64))
    save_traced(m, image, "resnet50.pt")

    torch.manual_seed(2)
    m = torchvision.models.mobilenet_v2(width_mult=0.25, num_classes=10)
    # MobileNetV2 hard-codes a 1280-channel last conv; a 320-channel one of the same classes
    # (Conv2dNormActivation, Linear) keeps the fixture small and the forward code torchvision's.
    m.features[-1] = torchvision.ops.Conv2dNormActivation(
        m.features[-1][0].in_channels, 320, kernel_size=1, norm_layer=nn.BatchNorm2d, activation_layer=nn.ReLU6)
    m.classifier[1] = nn.Linear(320, 10)
    warm_batchnorm(m, (4, 3, 64, 64))
    save_traced(m, image, "mobilenet_v2.pt")

    torch.manual_seed(3)
    setting, last = mobilenetv3._mobilenet_v3_conf("mobilenet_v3_small", width_mult=0.25)
    m = mobilenetv3.MobileNetV3(setting, last, num_classes=10)
    warm_batchnorm(m, (4, 3, 64, 64))
    save_traced(m, image, "mobilenet_v3_small.pt")

    torch.manual_seed(4)
    setting, last = efficientnet._efficientnet_conf("efficientnet_b0", width_mult=0.25, depth_mult=0.5)
    m = efficientnet.EfficientNet(setting, dropout=0.2, last_channel=last, num_classes=10)
    warm_batchnorm(m, (4, 3, 64, 64))
    save_traced(m, image, "efficientnet_b0.pt")

    torch.manual_seed(5)
    m = BertEncoder()
    save_traced(m, torch.randint(0, 100, (1, 16), dtype=torch.int64), "bert_encoder.pt")

    save_traced(Dtypes(), torch.ones(2, 3), "dtypes.pt")
    save_traced(Views(), torch.ones(2, 3), "views.pt")
    save_traced(Constants(), torch.ones(4), "constants.pt")

    torch.manual_seed(6)
    scripted = torch.jit.script(Attributes().eval())
    path = os.path.join(OUT, "attributes.pt")
    torch.jit.save(scripted, path)
    print(f"attributes.pt: {os.path.getsize(path)} bytes")


class FashionResNet(nn.Module):
    """A small ResNet for 1x28x28 built from torchvision's BasicBlock."""

    def __init__(self, widths=(16, 32, 64), num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, widths[0], kernel_size=3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.relu = nn.ReLU(inplace=True)
        stages = []
        inplanes = widths[0]
        for i, width in enumerate(widths):
            stride = 1 if i == 0 else 2
            downsample = None
            if stride != 1 or inplanes != width:
                downsample = nn.Sequential(
                    nn.Conv2d(inplanes, width, kernel_size=1, stride=stride, bias=False),
                    nn.BatchNorm2d(width))
            stages.append(nn.Sequential(
                resnet.BasicBlock(inplanes, width, stride, downsample),
                resnet.BasicBlock(width, width)))
            inplanes = width
        self.layer1, self.layer2, self.layer3 = stages
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(inplanes, num_classes)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        x = torch.flatten(self.avgpool(x), 1)
        return self.fc(x)


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack(">I", data[:4])[0]
    dims = magic & 0xFF
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    tensor = torch.frombuffer(bytearray(data[4 + 4 * dims:]), dtype=torch.uint8)
    return tensor.reshape(*shape)


def load_split(folder, prefix):
    images = read_idx(os.path.join(folder, f"{prefix}-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(folder, f"{prefix}-labels-idx1-ubyte.gz")).long()
    x = (images.float() / 255.0 - FMNIST_MEAN) / FMNIST_STD
    return x.unsqueeze(1), labels


def evaluate(model, x, y):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), 500):
            correct += (model(x[i:i + 500]).argmax(1) == y[i:i + 500]).sum().item()
    return correct / len(x)


def train_fmnist(args):
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    train_x, train_y = load_split(args.data, "train")
    test_x, test_y = load_split(args.data, "t10k")
    model = FashionResNet()
    steps_per_epoch = (len(train_x) + args.batch - 1) // args.batch
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4, nesterov=True)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=0.2, epochs=args.epochs, steps_per_epoch=steps_per_epoch)
    start = time.time()
    history = []
    for epoch in range(args.epochs):
        model.train()
        order = torch.randperm(len(train_x))
        for i in range(0, len(train_x), args.batch):
            idx = order[i:i + args.batch]
            x = train_x[idx]
            flip = torch.rand(len(idx)) < 0.5  # horizontal flips: the classes are left-right symmetric
            x[flip] = x[flip].flip(3)
            loss = F.cross_entropy(model(x), train_y[idx], label_smoothing=0.05)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
        top1 = evaluate(model, test_x, test_y)
        history.append(round(top1, 4))
        print(f"epoch {epoch + 1}: test top-1 {top1:.4f}, {time.time() - start:.0f} s", flush=True)
    seconds = time.time() - start
    top1 = evaluate(model, test_x, test_y)
    save_traced(model, test_x[:1], "fmnist_resnet.pt")
    report = {
        "model": "FashionResNet (torchvision BasicBlock x2 per stage, widths 16/32/64, 1x28x28)",
        "test_top1": round(top1, 4),
        "test_images": len(test_x),
        "epochs": args.epochs,
        "top1_per_epoch": history,
        "seed": args.seed,
        "batch": args.batch,
        "threads": args.threads,
        "training_seconds": round(seconds),
        "normalisation": f"(pixels / 255 - {FMNIST_MEAN}) / {FMNIST_STD}",
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "command": "/usr/bin/python3 examples/scripts/torchscript/make_fixtures.py train-fmnist "
                   f"--data {args.data} --epochs {args.epochs} --seed {args.seed} "
                   f"--batch {args.batch} --threads {args.threads}",
    }
    with open(os.path.join(OUT, "fmnist_resnet.json"), "w") as f:
        json.dump(report, f, indent=2)
        f.write("\n")
    print(json.dumps(report, indent=2))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("models")
    train = sub.add_parser("train-fmnist")
    train.add_argument("--data", default="/tmp/fmnist/usr/share/datasets/fashion-mnist")
    train.add_argument("--epochs", type=int, default=6)
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--batch", type=int, default=128)
    train.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    if args.command == "models":
        make_models()
    else:
        train_fmnist(args)


if __name__ == "__main__":
    sys.exit(main())
