#!/usr/bin/env python3
"""Builds a small CNN in PyTorch and exports it as ONNX for examples/eddl/onnx_finetune.cpp.

The network (input [batch, 1, 28, 28], pixels / 255) is two Conv-BatchNorm-ReLU-MaxPool blocks,
Flatten, Linear(1568, 64)-ReLU (the backbone) and Linear(64, 5) (the head the C++ example
replaces). With --steps > 0 and Fashion-MNIST present, it is first trained briefly on the
images of classes 0-4 only, so the backbone has learned features the 10-class fine-tuning in
EDDL can reuse; otherwise (--steps 0 or no data) the weights are PyTorch's random init.

  python3 make_pytorch_cnn.py OUT.onnx [--steps 300] [--data /usr/share/datasets/fashion-mnist]

Needs torch (and onnx for torch.onnx.export). Not part of the test suite (docs/onnx.md).
"""
import argparse
import gzip
import os
import sys

import numpy as np
import torch
from torch import nn


def idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


class SmallCNN(nn.Module):
    def __init__(self, classes=5):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(32 * 7 * 7, 64), nn.ReLU())
        self.head = nn.Linear(64, classes)

    def forward(self, x):
        return self.head(self.features(x))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--steps", type=int, default=300, help="training steps on classes 0-4 (0: random weights)")
    ap.add_argument("--data", default=os.environ.get("FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist"))
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    torch.set_num_threads(2)
    net = SmallCNN()
    images = os.path.join(a.data, "train-images-idx3-ubyte.gz")
    if a.steps > 0 and os.path.exists(images):
        x = idx(images).astype(np.float32) / 255.0
        y = idx(os.path.join(a.data, "train-labels-idx1-ubyte.gz")).astype(np.int64)
        keep = y < 5
        x, y = torch.from_numpy(x[keep][:, None]), torch.from_numpy(y[keep])
        opt = torch.optim.Adam(net.parameters(), 1e-3)
        rng = np.random.default_rng(a.seed)
        net.train()
        for step in range(a.steps):
            i = torch.from_numpy(rng.integers(0, len(y), 64))
            loss = nn.functional.cross_entropy(net(x[i]), y[i])
            opt.zero_grad()
            loss.backward()
            opt.step()
            if step % 100 == 0 or step == a.steps - 1:
                print(f"step {step}: loss {loss.item():.4f}")
    else:
        print("random weights (no training)" + ("" if a.steps == 0 else f": {images} not found"))
    net.eval()
    torch.onnx.export(net, torch.zeros(2, 1, 28, 28), a.out, opset_version=17, input_names=["image"],
                      output_names=["logits"], dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}},
                      dynamo=False)
    print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
