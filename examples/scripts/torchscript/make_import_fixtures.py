#!/usr/bin/python3
"""Writes the importer's refusal fixtures into djl-quant-plugin/src/test/resources/torchscript/import/.

Command (from the repository root; Debian bookworm's python3-torch 1.13, CPU, nothing downloaded):

    /usr/bin/python3 examples/scripts/torchscript/make_import_fixtures.py

Each file is a small module the importer must refuse with one sentence naming the module path
and the source line (TorchScriptImportRefusalTest):

  cumsum.pt           traced; its forward calls torch.cumsum, which is not in the op table.
  scripted_if.pt      torch.jit.script of a forward with data-dependent control flow (an if).
  conv_transpose.pt   traced ConvTranspose2d: a transposed torch._convolution.
  train_mode_bn.pt    a BatchNorm2d traced in training mode: batch_norm(..., training=True, ...).
"""

import os

import torch
import torch.nn as nn

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "..",
                   "djl-quant-plugin", "src", "test", "resources", "torchscript", "import")


class Cumsum(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        return torch.cumsum(self.fc(x), 1)


class ScriptedIf(nn.Module):
    def forward(self, x):
        if bool(x.sum() > 0):
            return x
        return -x


def main():
    torch.manual_seed(0)
    os.makedirs(OUT, exist_ok=True)
    torch.jit.trace(Cumsum().eval(), torch.randn(1, 4)).save(os.path.join(OUT, "cumsum.pt"))
    torch.jit.script(ScriptedIf().eval()).save(os.path.join(OUT, "scripted_if.pt"))
    deconv = nn.Sequential(nn.ConvTranspose2d(2, 2, 3)).eval()
    torch.jit.trace(deconv, torch.randn(1, 2, 5, 5)).save(os.path.join(OUT, "conv_transpose.pt"))
    bn = nn.Sequential(nn.Conv2d(2, 2, 1), nn.BatchNorm2d(2)).train()
    torch.jit.trace(bn, torch.randn(2, 2, 5, 5)).save(os.path.join(OUT, "train_mode_bn.pt"))


if __name__ == "__main__":
    main()
