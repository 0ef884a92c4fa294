#!/usr/bin/env python3
"""PyTorch peer for the model-zoo benchmarks (zoo.cpp is our side, same protocol).

torchvision ResNet-18 or VGG-16 (1000 classes, random weights) on random 3x224x224 images, or the
U-Net twin of eddl::UNet (scripts/make_pytorch_reference.py; depth 4, 32 base filters, sigmoid
output) on random 1x128x128 images with random masks, CPU:
  --mode train: SGD(lr=0.01, momentum=0.9), CrossEntropyLoss (U-Net: EDDL's dice loss), one step per iteration;
  --mode infer: model.eval() under torch.inference_mode(), forward only.
2 untimed warm-up iterations, then --iters timed ones. Prints exactly one JSON line.
"""
import argparse
import json
import resource
import time

import os
import sys

import torch
import torchvision

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
from make_pytorch_reference import UNet, dice_loss  # noqa: E402

p = argparse.ArgumentParser()
p.add_argument("--model", default="resnet18", choices=["resnet18", "vgg16", "unet"])
p.add_argument("--mode", default="train", choices=["train", "infer"])
p.add_argument("--batch", type=int, default=16)
p.add_argument("--threads", type=int, default=1)
p.add_argument("--iters", type=int, default=5)
a = p.parse_args()

torch.set_num_threads(a.threads)
torch.manual_seed(1)
if a.model == "unet":
    net = UNet(1, 1, 4, 32)
    x = torch.randn(a.batch, 1, 128, 128)
    y = (torch.rand(a.batch, 1, 128, 128) > 0.5).float()
    loss = dice_loss
else:
    net = getattr(torchvision.models, a.model)(num_classes=1000)
    x = torch.randn(a.batch, 3, 224, 224)
    y = torch.tensor([(i * 37) % 1000 for i in range(a.batch)])
    loss = torch.nn.functional.cross_entropy
opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)


def step():
    if a.mode == "train":
        opt.zero_grad()
        loss(net(x), y).backward()
        opt.step()
    else:
        with torch.inference_mode():
            net(x)


if a.mode == "infer":
    net.eval()
for _ in range(2):
    step()
t0 = time.perf_counter()
for _ in range(a.iters):
    step()
s = time.perf_counter() - t0
print(json.dumps({"peer": "pytorch", "version": torch.__version__, "model": a.model, "mode": a.mode,
                  "batch": a.batch, "threads": a.threads, "images_per_second": round(a.batch * a.iters / s, 3),
                  "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)}))
