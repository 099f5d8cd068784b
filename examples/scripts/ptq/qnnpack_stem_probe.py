"""Where PyTorch 1.13's qnnpack goes wrong on the reference MobileNet: the quantized stem.

    /usr/bin/python3 examples/scripts/ptq/qnnpack_stem_probe.py /tmp/ptq

reads what ExportForPyTorch wrote (mobilenet.npz, data.npz), quantizes the torch.nn rebuild with
each engine's min-max per-tensor qconfig exactly as compare_pytorch.py does, and prints how far
the int8 stem (conv 1 -> 16, 3x3, BN folded, then ReLU6) is from the float stem on 8 test images.
Measured here: onednn 0.09, qnnpack 6.0 (the whole ReLU6 range), while a lone nn.Conv2d of the
same shape quantizes correctly in both engines.
"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare_pytorch as cp  # noqa: E402


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "/tmp/ptq"
    torch.set_num_threads(1)
    npz = np.load(os.path.join(out, "mobilenet.npz"))
    data = np.load(os.path.join(out, "data.npz"))
    calib = torch.from_numpy(data["calib_x"])
    x = torch.from_numpy(data["test_x"][:8])
    with torch.no_grad():
        ref = cp.rebuild("mobilenet", npz).eval().stem(x)
    for engine in ("onednn", "qnnpack"):
        qconfig = dict(cp.qconfigs(engine))["minmax/tensor"]
        m = cp.static_ptq(cp.rebuild("mobilenet", npz), "mobilenet", npz, engine, qconfig, calib)
        with torch.no_grad():
            stem = m.stem(m.quant(x)).dequantize()
        print("%-8s int8 stem vs float: max |difference| %.4f (float stem max %.4f)"
              % (engine, (stem - ref).abs().max(), ref.abs().max()))


if __name__ == "__main__":
    main()
