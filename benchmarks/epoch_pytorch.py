#!/usr/bin/env python3
"""PyTorch peer for the epoch benchmarks (epoch.cpp is our side, same protocol).

--model mlp: the MLP 784-1024-1024-1024-10 (Linear+LeakyReLU(0.01) x3, Linear to 10),
SGD(lr=0.01, momentum=0.9).
--model cnn: Conv(32, 3x3, same)-ReLU-MaxPool(2)-Conv(64, 3x3, same)-ReLU-MaxPool(2)-
Linear(3136, 128)-ReLU-Linear(10), Adam(lr=1e-3, eps=1e-7).
Both on Fashion-MNIST with CrossEntropyLoss (mean over the batch), batch 100,
shuffled with a fixed seed, on the CPU.

Data loading and warm-up batches are outside the timed region (but inside the
RSS measurement).  Prints exactly one JSON line to stdout at the end.
"""
import argparse
import gzip
import json
import os
import re
import resource
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn

DATA_DIR = "/usr/share/datasets/fashion-mnist"
SEED = 1234
BATCH = 100


def read_idx(path):
    """Parse a gzipped IDX file into a numpy array (uint8 payload)."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    zero, dtype_code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype_code != 0x08:
        raise ValueError(f"{path}: unsupported IDX header (dtype 0x{dtype_code:02x})")
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    arr = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if arr.size != int(np.prod(dims)):
        raise ValueError(f"{path}: size mismatch {arr.size} vs {dims}")
    return arr.reshape(dims)


def load_split(data_dir, prefix):
    x = read_idx(os.path.join(data_dir, f"{prefix}-images-idx3-ubyte.gz"))
    y = read_idx(os.path.join(data_dir, f"{prefix}-labels-idx1-ubyte.gz"))
    x = torch.from_numpy(x.reshape(x.shape[0], -1).astype(np.float32) / np.float32(255.0))
    y = torch.from_numpy(y.astype(np.int64))
    return x.contiguous(), y.contiguous()


def blas_info():
    cfg = torch.__config__.show()
    parts = []
    m = re.search(r"Intel\(R\) oneAPI Math Kernel Library Version (\S+)", cfg)
    if m:
        parts.append(f"MKL {m.group(1)}")
    m = re.search(r"MKL-DNN (v[\d.]+)", cfg)
    if m:
        parts.append(f"oneDNN {m.group(1)}")
    m = re.search(r"BLAS_INFO=([^,\s]+)", cfg)
    if m:
        parts.append(f"BLAS_INFO={m.group(1)}")
    m = re.search(r"CPU capability usage: (\S+)", cfg)
    if m:
        parts.append(f"CPU {m.group(1)}")
    return "; ".join(parts) if parts else "unknown"


def build_model(kind):
    if kind == "cnn":
        return nn.Sequential(
            nn.Unflatten(1, (1, 28, 28)),
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10))
    return nn.Sequential(
        nn.Linear(784, 1024), nn.LeakyReLU(negative_slope=0.01),
        nn.Linear(1024, 1024), nn.LeakyReLU(negative_slope=0.01),
        nn.Linear(1024, 1024), nn.LeakyReLU(negative_slope=0.01),
        nn.Linear(1024, 10),
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", choices=["mlp", "cnn"], default="mlp")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--warmup-batches", type=int, default=20)
    ap.add_argument("--eval", action="store_true", help="report test accuracy (t10k)")
    ap.add_argument("--data-dir", default=DATA_DIR)
    args = ap.parse_args()

    torch.set_num_interop_threads(1)
    torch.set_num_threads(args.threads)
    torch.manual_seed(SEED)

    # ---- data loading (not timed) ----
    x_train, y_train = load_split(args.data_dir, "train")
    n = x_train.shape[0]
    nbatches = n // BATCH

    model = build_model(args.model)
    model.train()
    loss_fn = nn.CrossEntropyLoss()  # log-softmax + NLL fused, mean over batch
    if args.model == "cnn":
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    else:
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def step(idx):
        xb = x_train[idx]
        yb = y_train[idx]
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
        return loss.detach()

    gen = torch.Generator().manual_seed(SEED)

    # ---- warm-up (not timed, not counted) ----
    if args.warmup_batches > 0:
        wperm = torch.randperm(n, generator=gen)
        for b in range(args.warmup_batches):
            j = b % nbatches
            step(wperm[j * BATCH:(j + 1) * BATCH])

    # ---- timed epochs ----
    epoch_times = []
    epoch_losses = []
    for _ in range(args.epochs):
        perm = torch.randperm(n, generator=gen)
        loss_sum = torch.zeros(())
        t0 = time.perf_counter()
        for b in range(nbatches):
            loss_sum += step(perm[b * BATCH:(b + 1) * BATCH])
        t1 = time.perf_counter()
        epoch_times.append(t1 - t0)
        epoch_losses.append(loss_sum.item() / nbatches)

    result = {
        "peer": "pytorch",
        "model": args.model,
        "version": torch.__version__,
        "blas": blas_info(),
        "threads": torch.get_num_threads(),
        "epochs": args.epochs,
        "epoch_seconds": round(sum(epoch_times) / len(epoch_times), 4),
        "train_loss": round(epoch_losses[-1], 6),
    }
    if args.epochs > 1:
        result["epoch_seconds_all"] = [round(t, 4) for t in epoch_times]

    if args.eval:
        x_test, y_test = load_split(args.data_dir, "t10k")
        model.eval()
        correct = 0
        with torch.no_grad():
            for i in range(0, x_test.shape[0], 1000):
                pred = model(x_test[i:i + 1000]).argmax(dim=1)
                correct += int((pred == y_test[i:i + 1000]).sum())
        result["test_accuracy"] = round(correct / x_test.shape[0], 6)

    result["max_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
