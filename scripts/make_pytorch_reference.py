#!/usr/bin/env python3
"""Generates the small PyTorch reference files that tests/eddl/test_parity.cpp reads.

Run once, with torch and numpy installed (CI never runs it):
    python scripts/make_pytorch_reference.py tests/eddl/data/pytorch

Each case trains a small MLP for 3 steps on one fixed batch and saves, as float32 .npy:
x, y (targets), the initial weights w{i} ([in, out], EDDL's layout) and b{i}, the outputs of the
first forward, the loss of each step, and the weights after the last step.
"""
import os
import zlib
import sys

import numpy as np
import torch

torch.use_deterministic_algorithms(True)
torch.set_num_threads(1)

ACTS = {
    "relu": torch.nn.ReLU, "leaky_relu": lambda: torch.nn.LeakyReLU(0.01), "sigmoid": torch.nn.Sigmoid,
    "tanh": torch.nn.Tanh, "elu": torch.nn.ELU, "selu": torch.nn.SELU, "softplus": torch.nn.Softplus,
    "softsign": torch.nn.Softsign, "gelu": torch.nn.GELU, "swish": torch.nn.SiLU,
}

OPTS = {
    "sgd": lambda p: torch.optim.SGD(p, lr=0.1),
    "sgd_momentum": lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, weight_decay=0.01),
    "sgd_nesterov": lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
    "adam": lambda p: torch.optim.Adam(p, lr=0.01, eps=1e-8, weight_decay=0.01),
    "adam_amsgrad": lambda p: torch.optim.Adam(p, lr=0.01, eps=1e-8, amsgrad=True),
    "adamw": lambda p: torch.optim.AdamW(p, lr=0.01, eps=1e-8, weight_decay=0.1),
    "rmsprop": lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9, eps=1e-5),
    "adagrad": lambda p: torch.optim.Adagrad(p, lr=0.1, eps=1e-10),
    "adadelta": lambda p: torch.optim.Adadelta(p, lr=1.0, rho=0.9, eps=1e-6),
    "adamax": lambda p: torch.optim.Adamax(p, lr=0.002, eps=1e-8),
    "nadam": lambda p: torch.optim.NAdam(p, lr=0.002, eps=1e-8, momentum_decay=0.004),
}

# (case name, activation, optimizer, loss): sizes 6 -> 16 -> 16 -> 4, batch 8
CASES = [(f"act_{a}", a, "sgd_momentum", "sce") for a in ACTS] + \
        [(f"opt_{o}", "leaky_relu", o, "sce") for o in OPTS] + \
        [("loss_mse", "tanh", "sgd", "mse"), ("loss_bce", "relu", "adam", "bce"),
         ("loss_bce_logits", "relu", "adam", "binary_cross_entropy_with_logits"),
         ("clip_norm", "relu", "sgd_momentum", "sce_clip")]


def run(name, act, opt_name, loss, out_dir):
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    sizes = [6, 16, 16, 4]
    x = rng.standard_normal((8, 6)).astype(np.float32)
    if loss in ("sce", "sce_clip"):
        y = np.eye(4, dtype=np.float32)[rng.integers(0, 4, 8)]
    else:
        y = rng.uniform(0, 1, (8, 4)).astype(np.float32)
    layers = []
    for i in range(3):
        lin = torch.nn.Linear(sizes[i], sizes[i + 1])
        with torch.no_grad():
            lin.weight.copy_(torch.tensor(rng.uniform(-0.5, 0.5, (sizes[i + 1], sizes[i])).astype(np.float32)))
            lin.bias.copy_(torch.tensor(rng.uniform(-0.1, 0.1, sizes[i + 1]).astype(np.float32)))
        layers.append(lin)
        if i < 2:
            layers.append(ACTS[act]())
    if loss == "bce":
        layers.append(torch.nn.Sigmoid())
    net = torch.nn.Sequential(*layers)
    opt = OPTS[opt_name](net.parameters())
    lins = [m for m in net if isinstance(m, torch.nn.Linear)]
    save = {"x": x, "y": y}
    for i, l in enumerate(lins):
        save[f"w{i}"] = l.weight.detach().numpy().T.copy()
        save[f"b{i}"] = l.bias.detach().numpy().copy()
    xt, yt = torch.tensor(x), torch.tensor(y)
    losses = []
    for step in range(3):
        opt.zero_grad()
        out = net(xt)
        if loss in ("sce", "sce_clip"):
            l = torch.nn.functional.cross_entropy(out, yt)
            probs = torch.softmax(out, dim=1)
        elif loss == "mse":
            l = torch.nn.functional.mse_loss(out, yt)
            probs = out
        elif loss == "binary_cross_entropy_with_logits":
            l = torch.nn.functional.binary_cross_entropy_with_logits(out, yt)
            probs = out
        else:
            l = torch.nn.functional.binary_cross_entropy(out, yt)
            probs = out
        if step == 0:
            save["out0"] = probs.detach().numpy().copy()
        l.backward()
        if loss == "sce_clip":
            torch.nn.utils.clip_grad_norm_(net.parameters(), 0.5)
        opt.step()
        losses.append(l.item())
    save["losses"] = np.array(losses, dtype=np.float32)
    for i, l in enumerate(lins):
        save[f"w{i}_final"] = l.weight.detach().numpy().T.copy()
        save[f"b{i}_final"] = l.bias.detach().numpy().copy()
    d = os.path.join(out_dir, name)
    os.makedirs(d, exist_ok=True)
    for k, v in save.items():
        np.save(os.path.join(d, k + ".npy"), np.ascontiguousarray(v, dtype=np.float32))


def run_cnn(name, out_dir):
    """Conv(2->4, 3x3, pad 1)-BN-ReLU-MaxPool(2)-Conv(4->4, 3x3, dilation 2, pad 2, groups 2)-ReLU-
    AvgPool(2)-Flatten-Linear(16->3), softmax CE, SGD(0.05, momentum 0.9), batch 4 of 2x8x8."""
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    x = rng.standard_normal((4, 2, 8, 8)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 4)]
    c1 = torch.nn.Conv2d(2, 4, 3, padding=1)
    bn = torch.nn.BatchNorm2d(4, eps=1e-3, momentum=0.1)
    c2 = torch.nn.Conv2d(4, 4, 3, padding=2, dilation=2, groups=2)
    fc = torch.nn.Linear(16, 3)
    with torch.no_grad():
        for m in (c1, c2, fc):
            m.weight.copy_(torch.tensor(rng.uniform(-0.5, 0.5, tuple(m.weight.shape)).astype(np.float32)))
            m.bias.copy_(torch.tensor(rng.uniform(-0.1, 0.1, tuple(m.bias.shape)).astype(np.float32)))
        bn.weight.copy_(torch.tensor(rng.uniform(0.5, 1.5, 4).astype(np.float32)))
        bn.bias.copy_(torch.tensor(rng.uniform(-0.2, 0.2, 4).astype(np.float32)))
    net = torch.nn.Sequential(c1, bn, torch.nn.ReLU(), torch.nn.MaxPool2d(2), c2, torch.nn.ReLU(),
                              torch.nn.AvgPool2d(2), torch.nn.Flatten(), fc)
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    save = {"x": x, "y": y, "c1w": c1.weight, "c1b": c1.bias, "bnw": bn.weight, "bnb": bn.bias,
            "c2w": c2.weight, "c2b": c2.bias, "fcw": fc.weight.T, "fcb": fc.bias}
    save = {k: (v.detach().numpy().copy() if torch.is_tensor(v) else v) for k, v in save.items()}
    xt, yt = torch.tensor(x), torch.tensor(y)
    losses = []
    for step in range(3):
        opt.zero_grad()
        out = net(xt)
        if step == 0:
            save["out0"] = torch.softmax(out, 1).detach().numpy().copy()
        l = torch.nn.functional.cross_entropy(out, yt)
        l.backward()
        opt.step()
        losses.append(l.item())
    net.eval()
    save["out_eval"] = torch.softmax(net(xt), 1).detach().numpy().copy()
    save["losses"] = np.array(losses, dtype=np.float32)
    for k, v in {"c1w": c1.weight, "c2w": c2.weight, "fcw": fc.weight.T, "bnw": bn.weight,
                 "bn_mean": bn.running_mean, "bn_var": bn.running_var}.items():
        save[k + "_final"] = v.detach().numpy().copy()
    d = os.path.join(out_dir, name)
    os.makedirs(d, exist_ok=True)
    for k, v in save.items():
        np.save(os.path.join(d, k + ".npy"), np.ascontiguousarray(v, dtype=np.float32))


def run_norms(name, out_dir):
    """GroupNorm(2 groups, 4 channels)-ReLU-Flatten-LayerNorm(36)-Linear(36->3), softmax CE, SGD(0.1)."""
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    x = (rng.standard_normal((4, 4, 3, 3)) * 2 + 1).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 4)]
    gn, ln, fc = torch.nn.GroupNorm(2, 4), torch.nn.LayerNorm(36), torch.nn.Linear(36, 3)
    with torch.no_grad():
        for m in (gn, ln):
            m.weight.copy_(torch.tensor(rng.uniform(0.5, 1.5, tuple(m.weight.shape)).astype(np.float32)))
            m.bias.copy_(torch.tensor(rng.uniform(-0.2, 0.2, tuple(m.bias.shape)).astype(np.float32)))
        fc.weight.copy_(torch.tensor(rng.uniform(-0.5, 0.5, (3, 36)).astype(np.float32)))
        fc.bias.copy_(torch.tensor(rng.uniform(-0.1, 0.1, 3).astype(np.float32)))
    net = torch.nn.Sequential(gn, torch.nn.ReLU(), torch.nn.Flatten(), ln, fc)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    save = {"x": x, "y": y, "gnw": gn.weight, "gnb": gn.bias, "lnw": ln.weight, "lnb": ln.bias,
            "fcw": fc.weight.T, "fcb": fc.bias}
    save = {k: (v.detach().numpy().copy() if torch.is_tensor(v) else v) for k, v in save.items()}
    losses = []
    for step in range(3):
        opt.zero_grad()
        out = net(torch.tensor(x))
        if step == 0:
            save["out0"] = torch.softmax(out, 1).detach().numpy().copy()
        l = torch.nn.functional.cross_entropy(out, torch.tensor(y))
        l.backward()
        opt.step()
        losses.append(l.item())
    save["losses"] = np.array(losses, dtype=np.float32)
    for k, v in {"gnw": gn.weight, "gnb": gn.bias, "lnw": ln.weight, "fcw": fc.weight.T}.items():
        save[k + "_final"] = v.detach().numpy().copy()
    d = os.path.join(out_dir, name)
    os.makedirs(d, exist_ok=True)
    for k, v in save.items():
        np.save(os.path.join(d, k + ".npy"), np.ascontiguousarray(v, dtype=np.float32))


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else "tests/eddl/data/pytorch"
    for c in CASES:
        run(*c, out_dir)
    run_cnn("cnn_conv_bn_pool", out_dir)
    run_norms("group_layer_norm", out_dir)
    with open(os.path.join(out_dir, "README.md"), "w") as f:
        f.write(f"Generated by scripts/make_pytorch_reference.py with torch {torch.__version__}; "
                "read by tests/eddl/test_parity.cpp. Do not edit by hand.\n")
    print(f"{len(CASES) + 2} cases written to {out_dir} (torch {torch.__version__})")


if __name__ == "__main__":
    main()
