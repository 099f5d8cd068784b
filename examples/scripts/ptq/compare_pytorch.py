#!/usr/bin/python3
"""Our int8 quantizer against PyTorch's eager-mode post-training quantization, same weights, same
calibration images, same test split.

Reads what ai.djlquant.examples.ptq.ExportForPyTorch wrote (data.npz, <model>.npz, <model>.json),
rebuilds each reference model in torch.nn with DJL's semantics, checks that its fp32 top-1 equals
ours (a mismatch is a bug in the rebuild: the script stops), then runs PyTorch's documented eager
PTQ recipe (fuse, QuantStub/DeQuantStub, qconfig, prepare, calibrate, convert) for each engine and
observer variant, and prints one table with both tools' top-1.

    /usr/bin/python3 examples/scripts/ptq/compare_pytorch.py /tmp/ptq [--models cnn,resnet]
    /usr/bin/python3 examples/scripts/ptq/compare_pytorch.py /tmp/ptq --models cnn,resnet --time

Written for Debian's python3-torch 1.13 (engines qnnpack and onednn; no fbgemm/x86 in that build).

DJL semantics the rebuild follows (read from DJL's sources, checked by the fp32 assertion):
  * Linear: y = x W^T + b on the last axis (W is (units, in)), as torch.nn.Linear;
  * Conv2d weight (out, in/groups, kh, kw), as torch; batchFlatten = reshape(N, -1) in C order;
  * BatchNorm in inference: running mean/variance, eps 1e-5; LayerNorm on the last axis, eps 1e-5;
  * Activation.gelu: the PyTorch engine's torch::nn::functional::gelu, the erf form;
  * maxPool2dBlock(k): stride k, no padding; globalAvgPool2dBlock: mean over H, W to (N, C);
  * ScaledDotProductAttentionBlock (self-attention, no mask): key, query, value projections
    (Linear E->E with bias), each reshaped (B, S, E) -> (B, S, N, H) -> (B, N, S, H); scores
    q k^T * (1 / sqrt(H)); softmax on the last axis; times v; (B, N, S, H) -> (B, S, E); result
    projection. Its parameters come in the order key, query, value, result.
"""

import argparse
import json
import math
import os
import platform
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.ao.quantization as tq
import torch.ao.nn.quantized as nnq

MODELS = ["cnn", "resnet", "mlp", "mobilenet", "vit"]
CALIBRATION_BATCH = 32  # ours calibrates in batches of 32 (QuantizeReferenceModels)
EVAL_BATCH = 1000


class Params:
    """The exported parameters in DJL's order; each take() checks the name's suffix and shape."""

    def __init__(self, npz):
        self.items = [(k[len("param/"):], npz[k]) for k in npz.files if k.startswith("param/")]
        self.pos = 0

    def take(self, suffix, shape):
        if self.pos >= len(self.items):
            raise ValueError("rebuild wants parameter %s %s but the export has only %d"
                             % (suffix, shape, len(self.items)))
        name, value = self.items[self.pos]
        if not name.endswith("_" + suffix) or tuple(value.shape) != tuple(shape):
            raise ValueError("rebuild wants parameter %d as *_%s %s, export has %s %s"
                             % (self.pos, suffix, tuple(shape), name, value.shape))
        self.pos += 1
        return torch.from_numpy(np.ascontiguousarray(value))

    def done(self):
        if self.pos != len(self.items):
            raise ValueError("rebuild used %d of %d exported parameters, next is %s"
                             % (self.pos, len(self.items), self.items[self.pos][0]))


def load_conv(conv, p):
    conv.weight.data.copy_(p.take("weight", conv.weight.shape))
    if conv.bias is not None:
        conv.bias.data.copy_(p.take("bias", conv.bias.shape))


def load_linear(linear, p):
    linear.weight.data.copy_(p.take("weight", linear.weight.shape))
    linear.bias.data.copy_(p.take("bias", linear.bias.shape))


def load_bn(bn, p):
    c = bn.num_features
    bn.weight.data.copy_(p.take("gamma", (c,)))
    bn.bias.data.copy_(p.take("beta", (c,)))
    bn.running_mean.data.copy_(p.take("runningMean", (c,)))
    bn.running_var.data.copy_(p.take("runningVar", (c,)))


def load_ln(ln, p):
    e = ln.normalized_shape[0]
    ln.weight.data.copy_(p.take("gamma", (e,)))
    ln.bias.data.copy_(p.take("beta", (e,)))


class ConvBnAct(nn.Module):
    """Conv2d, BatchNorm (eps 1e-5) and an optional activation (nn.ReLU / nn.ReLU6 / None)."""

    def __init__(self, cin, cout, k, stride=1, groups=1, bias=True, act=nn.ReLU):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=bias)
        self.bn = nn.BatchNorm2d(cout, eps=1e-5)
        self.act = act() if act is not None else None

    def forward(self, x):
        x = self.bn(self.conv(x))
        return self.act(x) if self.act is not None else x

    def load(self, p):
        load_conv(self.conv, p)
        load_bn(self.bn, p)

    def fuse_groups(self, prefix):
        # eager fusion knows conv-bn-relu and conv-bn, not ReLU6 (it stays a separate quantized op)
        if isinstance(self.act, nn.ReLU):
            return [[prefix + "conv", prefix + "bn", prefix + "act"]]
        return [[prefix + "conv", prefix + "bn"]]


class Cnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.quant = tq.QuantStub()
        self.b1 = ConvBnAct(1, 32, 3)
        self.b2 = ConvBnAct(32, 64, 3)
        self.fc1 = nn.Linear(64 * 7 * 7, 128)
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(128, 10)
        self.dequant = tq.DeQuantStub()

    def forward(self, x):
        x = self.quant(x)
        x = F.max_pool2d(self.b1(x), 2)
        x = F.max_pool2d(self.b2(x), 2)
        x = self.relu(self.fc1(torch.flatten(x, 1)))
        return self.dequant(self.fc2(x))

    def load(self, p):
        self.b1.load(p)
        self.b2.load(p)
        load_linear(self.fc1, p)
        load_linear(self.fc2, p)

    def fuse_groups(self):
        return self.b1.fuse_groups("b1.") + self.b2.fuse_groups("b2.") + [["fc1", "relu"]]


class Residual(nn.Module):
    """ResNetBlockFactory.residual: Conv-BN-ReLU-Conv-BN plus identity or 1x1 Conv-BN, add, ReLU."""

    def __init__(self, cin, cout, stride, project):
        super().__init__()
        self.a = ConvBnAct(cin, cout, 3, stride)
        self.b = ConvBnAct(cout, cout, 3, 1, act=None)
        self.shortcut = ConvBnAct(cin, cout, 1, stride, act=None) if project else None
        self.add_relu = nnq.FloatFunctional()

    def forward(self, x):
        y = self.b(self.a(x))
        s = self.shortcut(x) if self.shortcut is not None else x
        return self.add_relu.add_relu(y, s)

    def load(self, p):
        self.a.load(p)
        self.b.load(p)
        if self.shortcut is not None:
            self.shortcut.load(p)

    def fuse_groups(self, prefix):
        groups = self.a.fuse_groups(prefix + "a.") + self.b.fuse_groups(prefix + "b.")
        if self.shortcut is not None:
            groups += self.shortcut.fuse_groups(prefix + "shortcut.")
        return groups


class ResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.quant = tq.QuantStub()
        self.stem = ConvBnAct(1, 16, 3)
        self.r1 = Residual(16, 16, 1, False)
        self.r2 = Residual(16, 32, 2, True)
        self.r3 = Residual(32, 64, 2, True)
        self.fc = nn.Linear(64 * 7 * 7, 10)
        self.dequant = tq.DeQuantStub()

    def forward(self, x):
        x = self.r3(self.r2(self.r1(self.stem(self.quant(x)))))
        return self.dequant(self.fc(torch.flatten(x, 1)))

    def load(self, p):
        for m in (self.stem, self.r1, self.r2, self.r3):
            m.load(p)
        load_linear(self.fc, p)

    def fuse_groups(self):
        g = self.stem.fuse_groups("stem.")
        for n in ("r1", "r2", "r3"):
            g += getattr(self, n).fuse_groups(n + ".")
        return g


class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.quant = tq.QuantStub()
        self.fc1 = nn.Linear(784, 256)
        self.relu1 = nn.ReLU()
        self.fc2 = nn.Linear(256, 128)
        self.relu2 = nn.ReLU()
        self.fc3 = nn.Linear(128, 10)
        self.dequant = tq.DeQuantStub()

    def forward(self, x):
        x = self.quant(torch.flatten(x, 1))
        x = self.relu2(self.fc2(self.relu1(self.fc1(x))))
        return self.dequant(self.fc3(x))

    def load(self, p):
        for fc in (self.fc1, self.fc2, self.fc3):
            load_linear(fc, p)

    def fuse_groups(self):
        return [["fc1", "relu1"], ["fc2", "relu2"]]


class InvertedResidual(nn.Module):
    """MobileNetBlockFactory.invertedResidual: expand 1x1 (t != 1), depthwise 3x3, linear 1x1."""

    def __init__(self, cin, cout, t, stride):
        super().__init__()
        hidden = cin * t
        self.expand = ConvBnAct(cin, hidden, 1, bias=False, act=nn.ReLU6) if t != 1 else None
        self.dw = ConvBnAct(hidden, hidden, 3, stride, groups=hidden, bias=False, act=nn.ReLU6)
        self.project = ConvBnAct(hidden, cout, 1, bias=False, act=None)
        self.residual = stride == 1 and cin == cout
        self.add = nnq.FloatFunctional()

    def forward(self, x):
        y = self.expand(x) if self.expand is not None else x
        y = self.project(self.dw(y))
        return self.add.add(y, x) if self.residual else y

    def load(self, p):
        for m in (self.expand, self.dw, self.project):
            if m is not None:
                m.load(p)

    def fuse_groups(self, prefix):
        g = []
        for n in ("expand", "dw", "project"):
            if getattr(self, n) is not None:
                g += getattr(self, n).fuse_groups(prefix + n + ".")
        return g


class MobileNet(nn.Module):
    STAGES = [(1, 16, 1, 2), (6, 24, 2, 1), (6, 32, 3, 2), (6, 64, 2, 1)]  # MobileNetBlockFactory.STAGES

    def __init__(self):
        super().__init__()
        self.quant = tq.QuantStub()
        self.stem = ConvBnAct(1, 16, 3, bias=False, act=nn.ReLU6)
        blocks, cin = [], 16
        for t, c, n, s in self.STAGES:
            for i in range(n):
                blocks.append(InvertedResidual(cin, c, t, s if i == 0 else 1))
                cin = c
        self.blocks = nn.Sequential(*blocks)
        self.head = ConvBnAct(cin, 256, 1, bias=False, act=nn.ReLU6)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(256, 10)
        self.dequant = tq.DeQuantStub()

    def forward(self, x):
        x = self.head(self.blocks(self.stem(self.quant(x))))
        return self.dequant(self.fc(torch.flatten(self.pool(x), 1)))

    def load(self, p):
        self.stem.load(p)
        for b in self.blocks:
            b.load(p)
        self.head.load(p)
        load_linear(self.fc, p)

    def fuse_groups(self):
        g = self.stem.fuse_groups("stem.")
        for i, b in enumerate(self.blocks):
            g += b.fuse_groups("blocks.%d." % i)
        return g + self.head.fuse_groups("head.")


class Quantized(nn.Module):
    """A float island's int8 part: QuantStub, the module, DeQuantStub (eager static mode needs the
    stubs wherever int8 starts and ends; the transformer's matmuls, softmax, LayerNorm and GELU stay
    float between these islands)."""

    def __init__(self, module):
        super().__init__()
        self.quant = tq.QuantStub()
        self.m = module
        self.dequant = tq.DeQuantStub()

    def forward(self, x):
        return self.dequant(self.m(self.quant(x)))


class Attention(nn.Module):
    def __init__(self, e, heads):
        super().__init__()
        self.e, self.n, self.h = e, heads, e // heads
        self.key = Quantized(nn.Linear(e, e))
        self.query = Quantized(nn.Linear(e, e))
        self.value = Quantized(nn.Linear(e, e))
        self.result = Quantized(nn.Linear(e, e))

    def heads(self, x):
        b, s, _ = x.shape
        return x.reshape(b, s, self.n, self.h).transpose(1, 2)

    def forward(self, x):
        b, s, _ = x.shape
        k, q, v = self.heads(self.key(x)), self.heads(self.query(x)), self.heads(self.value(x))
        scores = torch.matmul(q, k.transpose(2, 3)) * torch.tensor(1.0 / math.sqrt(self.h),
                                                                     dtype=torch.float32)
        out = torch.matmul(torch.softmax(scores, dim=3), v)
        return self.result(out.transpose(1, 2).reshape(b, s, self.e))

    def load(self, p):
        for m in (self.key, self.query, self.value, self.result):
            load_linear(m.m, p)


class EncoderLayer(nn.Module):
    def __init__(self, e, heads, hidden):
        super().__init__()
        self.ln1 = nn.LayerNorm(e, eps=1e-5)
        self.attn = Attention(e, heads)
        self.ln2 = nn.LayerNorm(e, eps=1e-5)
        self.fc1 = Quantized(nn.Linear(e, hidden))
        self.fc2 = Quantized(nn.Linear(hidden, e))

    def forward(self, x):
        x = self.attn(self.ln1(x)) + x
        return self.fc2(F.gelu(self.fc1(self.ln2(x)))) + x

    def load(self, p):
        load_ln(self.ln1, p)
        self.attn.load(p)
        load_ln(self.ln2, p)
        load_linear(self.fc1.m, p)
        load_linear(self.fc2.m, p)


class Vit(nn.Module):
    E, HEADS, HIDDEN, LAYERS, PATCH = 64, 4, 128, 4, 4

    def __init__(self):
        super().__init__()
        e = self.E
        self.patch = Quantized(nn.Conv2d(1, e, self.PATCH, self.PATCH))
        self.pos = nn.Parameter(torch.zeros(49, e))
        self.layers = nn.ModuleList(
            [EncoderLayer(e, self.HEADS, self.HIDDEN) for _ in range(self.LAYERS)])
        self.ln = nn.LayerNorm(e, eps=1e-5)
        self.fc = Quantized(nn.Linear(e, 10))

    def forward(self, x):
        g = self.patch(x)
        n, e = g.shape[0], g.shape[1]
        x = g.reshape(n, e, -1).transpose(1, 2) + self.pos
        for layer in self.layers:
            x = layer(x)
        return self.fc(self.ln(x).mean(1))

    def load(self, p):
        load_conv(self.patch.m, p)
        self.pos.data.copy_(p.take("positions", (49, self.E)))
        for layer in self.layers:
            layer.load(p)
        load_ln(self.ln, p)
        load_linear(self.fc.m, p)

    def fuse_groups(self):
        return []


ARCHITECTURES = {"cnn": Cnn, "resnet": ResNet, "mlp": Mlp, "mobilenet": MobileNet, "vit": Vit}

# The Linear that computes each model's logits. PyTorch's static int8 model quantizes its output
# too (quint8 on a grid fixed by calibration, here 0.2-0.4 apart), so 1-2% of the test images
# end with their top two logits equal, and argmax gives such a tie to the lower class index.
HEADS = {"cnn": "fc2", "resnet": "fc", "mlp": "fc3", "mobilenet": "fc", "vit": "fc.m"}


def quantizable_parts(model):
    """Where a static qconfig goes: the whole model for the CNNs and the MLP (stubs at its ends),
    only the Quantized islands for the transformer (its LayerNorm would otherwise be swapped for
    quantized::layer_norm on float inputs)."""
    if isinstance(model, Vit):
        return [m for m in model.modules() if isinstance(m, Quantized)]
    return [model]


def top1(model, x, y):
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), EVAL_BATCH):
            out = model(x[i:i + EVAL_BATCH])
            correct += int((out.argmax(1) == y[i:i + EVAL_BATCH]).sum())
    return correct / len(x)


def float_logits_top1(model, name, x, y):
    """Top-1 of a converted model whose head returns float logits, as ours does: the head's own
    int8 inputs and weights, dequantized, times each other plus the bias, without the output's
    quint8 grid (and so without the ties it makes). Returns (top-1, images with tied top-2)."""
    head = model.get_submodule(HEADS[name])

    def float_head(module, inputs, output):
        return F.linear(inputs[0].dequantize(), module.weight().dequantize(), module.bias())

    ties = 0
    with torch.no_grad():
        for i in range(0, len(x), EVAL_BATCH):
            top2 = model(x[i:i + EVAL_BATCH]).topk(2, 1).values
            ties += int((top2[:, 0] == top2[:, 1]).sum())
    handle = head.register_forward_hook(float_head)
    try:
        return top1(model, x, y), ties
    finally:
        handle.remove()


def logits(model, x):
    with torch.no_grad():
        return torch.cat([model(x[i:i + EVAL_BATCH]) for i in range(0, len(x), EVAL_BATCH)])


def rebuild(name, npz):
    model = ARCHITECTURES[name]()
    p = Params(npz)
    model.load(p)
    p.done()
    return model.eval()


def qconfigs(engine):
    """The observer variants, each as (label, QConfig): activations per-tensor affine quint8 from
    MinMax or Histogram observers, weights symmetric qint8 MinMax per tensor or per channel. The
    engine's own default (get_default_qconfig: Histogram activations, per-channel weights for
    onednn, per-tensor for qnnpack) is one of them, marked with a star. reduce_range stays False:
    this host's onednn has VNNI (u8 x s8 products summed in int32, no AVX2 pair-sum saturation),
    and qnnpack never needs it; one onednn row with reduce_range=True (7-bit activations, what
    fbgemm/x86 default to) shows what the AVX2 workaround costs."""
    per_tensor_w = tq.default_weight_observer
    per_channel_w = tq.default_per_channel_weight_observer
    minmax_a = tq.MinMaxObserver.with_args(reduce_range=False)
    hist_a = tq.HistogramObserver.with_args(reduce_range=False)
    default = {"onednn": "hist/channel", "qnnpack": "hist/tensor"}.get(engine)
    variants = [
        ("minmax/tensor", tq.QConfig(activation=minmax_a, weight=per_tensor_w)),
        ("minmax/channel", tq.QConfig(activation=minmax_a, weight=per_channel_w)),
        ("hist/tensor", tq.QConfig(activation=hist_a, weight=per_tensor_w)),
        ("hist/channel", tq.QConfig(activation=hist_a, weight=per_channel_w)),
    ]
    out = [(label + ("*" if label == default else ""), qc) for label, qc in variants]
    if default is None:
        out.append(("default*", tq.get_default_qconfig(engine)))
    if engine == "onednn":
        out.append(("hist/channel rr", tq.QConfig(
            activation=tq.HistogramObserver.with_args(reduce_range=True), weight=per_channel_w)))
    return out


def static_ptq(float_model, name, npz, engine, qconfig, calib):
    """PyTorch's eager static recipe: fuse, qconfig, prepare, calibrate, convert."""
    torch.backends.quantized.engine = engine
    model = rebuild(name, npz)  # a fresh copy: fusion and convert work in place
    groups = model.fuse_groups()
    if groups:
        model = tq.fuse_modules(model, groups)
    for part in quantizable_parts(model):
        part.qconfig = qconfig
    tq.prepare(model, inplace=True)
    with torch.no_grad():
        for i in range(0, len(calib), CALIBRATION_BATCH):
            model(calib[i:i + CALIBRATION_BATCH])
    tq.convert(model, inplace=True)
    return model


def dynamic_ptq(name, npz, engine):
    """PyTorch's documented recipe for transformers and MLPs: quantize_dynamic on every Linear
    (int8 weights, activations quantized per batch from their own range, per-tensor)."""
    torch.backends.quantized.engine = engine
    model = rebuild(name, npz)
    return tq.quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8)


def host_line():
    flags = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = line
                    break
        with open("/proc/cpuinfo") as f:
            cpu = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "?")
    except OSError:
        cpu = platform.processor() or "?"
    isa = "avx512_vnni" if "avx512_vnni" in flags else ("avx2" if " avx2" in flags else "other")
    return "%s, %d CPUs, %s; torch %s, engines %s, %d threads" % (
        cpu, os.cpu_count() or 0, isa, torch.__version__,
        ",".join(e for e in torch.backends.quantized.supported_engines if e != "none"),
        torch.get_num_threads())


def per_call_micros(model, x, rounds, round_s):
    """Median over rounds of the mean time per call (us), after a second of warm-up."""
    with torch.no_grad():
        calls, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < 1.0:
            model(x)
            calls += 1
        per_round = max(1, int(round_s * calls))
        means = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            for _ in range(per_round):
                model(x)
            means.append((time.perf_counter() - t0) / per_round * 1e6)
    return sorted(means)[len(means) // 2]


def time_models(args, engines, calib, test_x):
    """--time: PyTorch's fp32 model and its eager static int8 model (the engine's default-like
    hist/channel qconfig) at batch 1 and 32, one thread, each side timed in turn three times and
    the medians' median kept. torch's fp32 here is built without MKL: compare its int8 times with
    ours, not its ratio."""
    torch.set_num_threads(1)
    print("# host: " + host_line())
    print("| model | engine | batch | torch fp32 us | torch int8 us |")
    print("|---|---|---|---|---|")
    for name in args.models.split(","):
        path = os.path.join(args.export_dir, name + ".npz")
        if not os.path.exists(path):
            print("%s: no export at %s, skipped" % (name, path))
            continue
        npz = np.load(path)
        fp32 = rebuild(name, npz)
        for engine in engines:
            qc = dict(qconfigs(engine)).get("hist/channel") or dict(qconfigs(engine))["hist/channel*"]
            int8 = static_ptq(fp32, name, npz, engine, qc, calib)
            for batch in (1, 32):
                x = test_x[:batch].contiguous()
                f, q = [], []
                for _ in range(3):  # alternate, so that a change of load hits both sides
                    f.append(per_call_micros(fp32, x, args.rounds, 0.2))
                    q.append(per_call_micros(int8, x, args.rounds, 0.2))
                print("| %s | %s | %d | %.1f | %.1f |"
                      % (name, engine, batch, sorted(f)[1], sorted(q)[1]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("export_dir", help="what ExportForPyTorch wrote (data.npz, <model>.npz/json)")
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--engines", default="onednn,qnnpack")
    ap.add_argument("--json", help="write every row here")
    ap.add_argument("--time", action="store_true",
                    help="only time fp32 and static int8 at batch 1 and 32 on one thread")
    ap.add_argument("--rounds", type=int, default=7, help="--time: rounds per side")
    args = ap.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # progress lines show up when piped to a file

    engines = [e for e in args.engines.split(",")
               if e in torch.backends.quantized.supported_engines]
    if not engines:
        sys.exit("none of %s is in this torch's engines %s"
                 % (args.engines, torch.backends.quantized.supported_engines))
    data = np.load(os.path.join(args.export_dir, "data.npz"))
    calib = torch.from_numpy(data["calib_x"])
    test_x = torch.from_numpy(data["test_x"])
    test_y = torch.from_numpy(data["test_y"])
    if args.time:
        time_models(args, engines, calib, test_x)
        return
    print("# host: " + host_line())
    print("# calibration %s (the quantizer's 512 of the committed 1,000), test %s"
          % (tuple(calib.shape), tuple(test_x.shape)))

    rows = []
    for name in args.models.split(","):
        path = os.path.join(args.export_dir, name + ".npz")
        if not os.path.exists(path):
            print("%s: no export at %s, skipped" % (name, path))
            continue
        npz = np.load(path)
        with open(os.path.join(args.export_dir, name + ".json")) as f:
            ours = json.load(f)
        model = rebuild(name, npz)
        torch_fp32 = top1(model, test_x, test_y)
        diff = float((logits(model, test_x) - torch.from_numpy(npz["ours/fp32_test_logits"]))
                     .abs().max())
        print("%s: fp32 top-1 ours %.4f, torch %.4f; max |logit difference| %.2e"
              % (name, ours["fp32_top1"], torch_fp32, diff))
        if round(torch_fp32 * len(test_x)) != round(ours["fp32_top1"] * len(test_x)):
            sys.exit("%s: the torch.nn rebuild's fp32 top-1 differs from ours: the rebuild is "
                     "wrong, stopping" % name)
        row = {"model": name, "ours_fp32": ours["fp32_top1"], "torch_fp32": torch_fp32,
               "max_logit_diff": diff, "ours_int8": ours["int8_top1"],
               "ours_sdf": "%d/%d/%d" % (ours["static"], ours["dynamic"], ours["fp32"]),
               "ours_size_int8": ours["size_int8_top1"],
               "ours_size_sdf": "%d/%d/%d" % (ours["size_static"], ours["size_dynamic"],
                                              ours["size_fp32"]),
               "ours_variants": ours.get("variants", {}),
               "torch": {}, "torch_float_logits": {}}
        for engine in engines:
            for label, qc in qconfigs(engine):
                t0 = time.time()
                try:
                    converted = static_ptq(model, name, npz, engine, qc, calib)
                    acc = top1(converted, test_x, test_y)
                    float_acc, ties = float_logits_top1(converted, name, test_x, test_y)
                except Exception as e:  # an engine without an op: say which, keep going
                    print("  %s %s static: failed: %s" % (engine, label, str(e).splitlines()[0]))
                    acc = None
                row["torch"]["%s %s" % (engine, label)] = acc
                if acc is not None:
                    row["torch_float_logits"]["%s %s" % (engine, label)] = float_acc
                    print("  %-8s %-15s static  %.4f  float logits %.4f  (%d ties, %.0f s)"
                          % (engine, label, acc, float_acc, ties, time.time() - t0))
            if name in ("mlp", "vit"):
                acc = top1(dynamic_ptq(name, npz, engine), test_x, test_y)
                row["torch"]["%s dynamic" % engine] = acc
                row["torch_float_logits"]["%s dynamic" % engine] = acc  # float logits already
                print("  %-8s %-15s dynamic %.4f" % (engine, "quantize_dynamic", acc))
        rows.append(row)

    print()
    configs = []
    for r in rows:
        configs += [c for c in r["torch"] if c not in configs]
    print("| model | ours fp32 | torch fp32 | ours int8 default (S/D/F) | ours int8 SIZE (S/D/F) | "
          + " | ".join("torch %s" % c for c in configs)
          + " | torch best | torch best, float logits | ours best |")
    print("|" + "---|" * (8 + len(configs)))
    for r in rows:
        done = {c: a for c, a in r["torch"].items() if a is not None}
        best = max(done.items(), key=lambda kv: kv[1]) if done else None
        floats = r["torch_float_logits"]
        best_float = max(floats.items(), key=lambda kv: kv[1]) if floats else None
        cells = ["%.2f" % (100 * r["torch"][c]) if r["torch"].get(c) is not None else "-"
                 for c in configs]
        ours_rows = {"default": r["ours_int8"], "SIZE": r["ours_size_int8"]}
        ours_rows.update({"SIZE " + k: v for k, v in r["ours_variants"].items()})
        ours_best = max(ours_rows.items(), key=lambda kv: kv[1])
        print("| `%s` | %.2f | %.2f | %.2f (%s) | %.2f (%s) | %s | %s | %s | %.2f (%s) |" % (
            r["model"], 100 * r["ours_fp32"], 100 * r["torch_fp32"], 100 * r["ours_int8"],
            r["ours_sdf"], 100 * r["ours_size_int8"], r["ours_size_sdf"], " | ".join(cells),
            "%.2f (%s)" % (100 * best[1], best[0]) if best else "-",
            "%.2f (%s)" % (100 * best_float[1], best_float[0]) if best_float else "-",
            100 * ours_best[1], ours_best[0]))
    print("top-1 in %; S/D/F: our static / dynamic / fp32 layers (default: objective BALANCED,"
          " which keeps a layer fp32 where this host times it slower; SIZE: every layer int8);"
          " torch: engine activations/weights, * the engine's default qconfig, rr reduce_range,"
          " otherwise reduce_range=False; dynamic: quantize_dynamic on every Linear; best: the"
          " highest torch row, chosen on the test split; float logits: the same rows with the head's"
          " output left float as ours is (no quint8 logit grid, whose ties argmax gives to the"
          " lower class index); ours best: the highest of our default,"
          " SIZE and (with ExportForPyTorch --variants) SIZE under the same observer/weight"
          " variants, chosen the same way")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
