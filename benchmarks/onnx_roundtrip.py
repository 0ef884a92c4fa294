#!/usr/bin/env python3
"""ONNX round trips between EDDL and its peers (not run by CI: needs torch).

  benchmarks/onnx_roundtrip.py BUILD_DIR/onnx_models [WORK_DIR]

1. EDDL -> ONNX Runtime: `onnx_models export` writes an MLP, a small CNN, ResNet-18 and a U-Net
   (fixed weights) with their inputs and EDDL's outputs; each model must pass
   onnx.checker.check_model(full_check=True) and ONNX Runtime's outputs must equal ours within 1e-5.
2. PyTorch -> EDDL: the same four architectures built in PyTorch (eval mode, BatchNorm statistics
   made non-trivial), exported by torch.onnx.export with a dynamic batch, imported and run by
   `onnx_models run`; outputs must equal PyTorch's within 1e-4. Two more models exercise the
   operators that only import creates layers for: "attention" (LayerNorm over the last axis,
   Linear on [B, T, D], Q K^T and weights x V as MatMul of two computed tensors, PReLU, a strided
   Slice, ReduceMean/ReduceLogSumExp/ReduceMax over one axis, LogSoftmax) and "pools" (average
   pooling with ceil_mode and count_include_pad, dilated max pooling with ceil_mode) and "misc"
   (ArgMax, Greater, IsNaN cast to float, TopK, Split, Tile, Expand, reductions) and "seq" (a
   bidirectional LSTM feeding a GRU, batch_first, classified from h_n[-1]) and "interp"
   (F.interpolate: bilinear with align_corners, bicubic, nearest to sizes, downsampling).
3. PyTorch -> EDDL -> ONNX Runtime: each imported network exported again by us must pass
   onnx.checker and give, in ONNX Runtime, our outputs within 1e-5 (relative to the largest output
   when that exceeds 1).
Needs: pip install onnx onnxruntime torch torchvision (torch only here, never in CI).
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort

TOL_ORT, TOL_TORCH = 1e-5, 1e-4


def eddl_to_ort(tool, work):
    subprocess.run([tool, "export", work], check=True, stdout=subprocess.DEVNULL)
    ok = True
    for name in ["mlp", "cnn", "resnet18", "unet", "layers"]:
        path = os.path.join(work, name + ".onnx")
        onnx.checker.check_model(onnx.load(path), full_check=True)
        x, y = np.load(os.path.join(work, name + "_x.npy")), np.load(os.path.join(work, name + "_y.npy"))
        s = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        out = s.run(None, {s.get_inputs()[0].name: x})[0]
        err = float(np.abs(out - y).max())
        good = out.shape == y.shape and err <= TOL_ORT
        ok &= good
        print(f"EDDL -> ONNX Runtime  {name:9s} checker ok, max |diff| {err:.2e}  {'PASS' if good else 'FAIL'}")
    return ok


def torch_models():
    import torch
    import torch.nn as nn
    import torchvision

    class UNet(nn.Module):
        def __init__(self, c=8):
            super().__init__()
            def block(i, o):
                return nn.Sequential(nn.Conv2d(i, o, 3, padding=1, bias=False), nn.BatchNorm2d(o), nn.ReLU(),
                                     nn.Conv2d(o, o, 3, padding=1, bias=False), nn.BatchNorm2d(o), nn.ReLU())
            self.d1, self.d2, self.mid = block(1, c), block(c, 2 * c), block(2 * c, 4 * c)
            self.u2, self.b2 = nn.ConvTranspose2d(4 * c, 2 * c, 2, 2), block(4 * c, 2 * c)
            self.u1, self.b1 = nn.ConvTranspose2d(2 * c, c, 2, 2), block(2 * c, c)
            self.head = nn.Conv2d(c, 1, 1)

        def forward(self, x):
            a = self.d1(x)
            b = self.d2(nn.functional.max_pool2d(a, 2))
            m = self.mid(nn.functional.max_pool2d(b, 2))
            b = self.b2(torch.cat([b, self.u2(m)], 1))
            a = self.b1(torch.cat([a, self.u1(b)], 1))
            return torch.sigmoid(self.head(a))

    class Flat(nn.Module):  # x.view(x.size(0), -1): Shape/Gather/Unsqueeze/Concat/Reshape in the graph
        def forward(self, x):
            return x.view(x.size(0), -1)

    mlp = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Dropout(0.2), nn.Linear(128, 64), nn.Sigmoid(),
                        nn.Linear(64, 10), nn.Softmax(dim=1))
    cnn = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Conv2d(16, 32, 3, stride=2, padding=1, groups=2), nn.LeakyReLU(0.01), nn.AvgPool2d(2),
                        Flat(), nn.Linear(32 * 4 * 4, 10), nn.Softmax(dim=1))
    class Attention(nn.Module):
        def __init__(self, d=16, classes=5):
            super().__init__()
            self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
            self.q, self.k, self.v = nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, d)
            self.act, self.head = nn.PReLU(), nn.Linear(d, classes)

        def forward(self, x):  # [B, T, D]
            h = self.ln1(x)
            a = torch.softmax(self.q(h) @ self.k(h).transpose(1, 2) / 4.0, dim=-1)
            h = self.act(self.ln2(x + a @ self.v(h)))
            s = h[:, ::2, :]
            p = s.mean(dim=1) + torch.logsumexp(s, dim=1) + s.amax(dim=1)
            return torch.log_softmax(self.head(p), dim=-1)

    class Pools(nn.Module):
        def __init__(self):
            super().__init__()
            self.c = nn.Conv2d(3, 8, 3, padding=1)
            self.head = nn.Linear(8 * 8 * 8 + 8 * 7 * 7, 4)

        def forward(self, x):  # [B, 3, 15, 15]
            h = self.c(x)
            a = nn.functional.avg_pool2d(h, 3, stride=2, padding=1, ceil_mode=True, count_include_pad=True)
            b = nn.functional.max_pool2d(h, 3, stride=2, padding=1, dilation=2, ceil_mode=True)
            return self.head(torch.cat([a.flatten(1), b.flatten(1)], 1))

    class Misc(nn.Module):  # integer and boolean results used as floats
        def forward(self, x):  # [B, 6, 10]
            v, i = x.topk(3, dim=2)
            a, b = torch.split(x, [4, 6], dim=2)
            r = a.repeat(1, 1, 2)
            e = x[:, :, :1].expand(-1, -1, 5)
            return (x.argmax(dim=2).float() + (x > 0.3).float().sum(dim=2) + x.amin(dim=2) +
                    torch.isnan(x).float().mean(dim=2) + v.sum(dim=2) + i.float().sum(dim=2) + r.mean(dim=2) +
                    b.amax(dim=2) + e.sum(dim=2))

    class Seq(nn.Module):  # PyTorch's recurrent export: Transposes around layout-0 LSTM/GRU, h_n[-1]
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(5, 8, batch_first=True, bidirectional=True)
            self.gru = nn.GRU(16, 6, batch_first=True)
            self.head = nn.Linear(6, 3)

        def forward(self, x):  # [B, 10, 5]
            y, _ = self.lstm(x)
            _, h = self.gru(y)
            return self.head(h[-1])

    class Interp(nn.Module):  # F.interpolate's modes: ONNX Resize beyond integer nearest/bilinear
        def forward(self, x):  # [B, 3, 10, 12]
            F = nn.functional
            a = F.interpolate(x, scale_factor=1.5, mode="bilinear", align_corners=True)
            b = F.interpolate(x, size=(7, 5), mode="bicubic", align_corners=False)
            c = F.interpolate(x, size=(6, 9), mode="nearest")
            return a.mean(dim=(2, 3)) + b.amax(dim=(2, 3)) + c.sum(dim=(2, 3))

    resnet = torchvision.models.resnet18(num_classes=10)
    return [("mlp", mlp, (4, 64)), ("cnn", cnn, (4, 3, 32, 32)), ("resnet18", resnet, (4, 3, 64, 64)),
            ("unet", UNet(), (4, 1, 64, 64)), ("attention", Attention(), (4, 8, 16)), ("pools", Pools(), (4, 3, 15, 15)),
            ("misc", Misc(), (4, 6, 10)), ("seq", Seq(), (4, 10, 5)),
            ("interp", Interp(), (4, 3, 10, 12))]


def torch_to_eddl(tool, work):
    import torch
    torch.manual_seed(0)
    ok = True
    for name, m, shape in torch_models():
        for mod in m.modules():  # non-trivial running statistics
            if isinstance(mod, torch.nn.BatchNorm2d):
                mod.running_mean.uniform_(-0.5, 0.5)
                mod.running_var.uniform_(0.5, 1.5)
                mod.weight.data.uniform_(0.5, 1.5)
                mod.bias.data.uniform_(-0.2, 0.2)
        m.eval()
        x = torch.randn(*shape)
        with torch.no_grad():
            y = m(x).numpy()
        path = os.path.join(work, "torch_" + name + ".onnx")
        torch.onnx.export(m, x, path, input_names=["x"], output_names=["y"], opset_version=17,
                          dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}}, dynamo=False)
        xp, yp = os.path.join(work, "torch_" + name + "_x.npy"), os.path.join(work, "torch_" + name + "_out.npy")
        np.save(xp, x.numpy())
        again = os.path.join(work, "torch_" + name + "_eddl.onnx")
        r = subprocess.run([tool, "run", path, xp, yp, again], capture_output=True, text=True)
        if r.returncode:
            print(f"PyTorch -> EDDL        {name:9s} import FAILED: {r.stderr.strip()}")
            ok = False
            continue
        out = np.load(yp)
        err = float(np.abs(out.reshape(y.shape) - y).max())
        good = out.size == y.size and err <= TOL_TORCH
        ok &= good
        ops = sorted({n.op_type for n in onnx.load(path).graph.node})
        print(f"PyTorch -> EDDL        {name:9s} max |diff| {err:.2e}  {'PASS' if good else 'FAIL'}  ({', '.join(ops)})")
        # and our export of what we imported, in ONNX Runtime
        onnx.checker.check_model(onnx.load(again), full_check=True)
        s = ort.InferenceSession(again, providers=["CPUExecutionProvider"])
        o2 = s.run(None, {s.get_inputs()[0].name: x.numpy()})[0]
        err2 = float(np.abs(o2.reshape(out.shape) - out).max())
        good = o2.size == out.size and err2 <= TOL_ORT * max(1.0, float(np.abs(out).max()))  # relative for large outputs
        ok &= good
        print(f"  -> EDDL export -> ORT {name:9s} checker ok, max |diff| {err2:.2e}  {'PASS' if good else 'FAIL'}")
    return ok


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    tool = sys.argv[1]
    work = sys.argv[2] if len(sys.argv) > 2 else tempfile.mkdtemp(prefix="onnx_roundtrip_")
    os.makedirs(work, exist_ok=True)
    ok = eddl_to_ort(tool, work)
    ok &= torch_to_eddl(tool, work)
    print("all round trips PASS" if ok else "some round trips FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
