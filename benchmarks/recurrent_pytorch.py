#!/usr/bin/env python3
"""PyTorch's side of benchmarks/run_recurrent.sh: the same step as recurrent.cpp (LSTM / GRU / RNN
-> Linear(10), MSE, SGD; or inference under no_grad), best time per iteration as one JSON line."""
import argparse
import json
import time

import torch

p = argparse.ArgumentParser()
for k, d in (("kind", "lstm"), ("mode", "train")):
    p.add_argument("--" + k, default=d)
for k, d in (("batch", 64), ("steps", 50), ("features", 64), ("units", 128), ("threads", 1), ("iters", 10)):
    p.add_argument("--" + k, type=int, default=d)
p.add_argument("--bidirectional", action="store_true")
a = p.parse_args()
torch.set_num_threads(a.threads)
cls = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[a.kind]
rnn = cls(a.features, a.units, batch_first=True, bidirectional=a.bidirectional)
fc = torch.nn.Linear(a.units * (2 if a.bidirectional else 1), 10)
opt = torch.optim.SGD(list(rnn.parameters()) + list(fc.parameters()), lr=0.01)
x, y = torch.randn(a.batch, a.steps, a.features), torch.randn(a.batch, 10)


def last(h):  # the final hidden state of each direction, concatenated (our layers' output)
    return torch.cat([h[-2], h[-1]], 1) if a.bidirectional else h[-1]


def once():
    if a.mode == "train":
        opt.zero_grad()
        out = rnn(x)[1]
        loss = ((fc(last(out[0] if a.kind == "lstm" else out)) - y) ** 2).mean()
        loss.backward()
        opt.step()
    else:
        with torch.no_grad():
            out = rnn(x)[1]
            fc(last(out[0] if a.kind == "lstm" else out))


once()
best = 1e30
for _ in range(a.iters):
    t = time.perf_counter()
    once()
    best = min(best, (time.perf_counter() - t) * 1000)
print(json.dumps({"peer": "pytorch", "version": torch.__version__, "kind": a.kind, "mode": a.mode, "batch": a.batch,
                  "steps": a.steps, "features": a.features, "units": a.units, "bidirectional": a.bidirectional,
                  "threads": a.threads, "ms": best}))
