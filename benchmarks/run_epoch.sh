#!/usr/bin/env bash
# Epoch benchmarks: EDDL (epoch.cpp) vs PyTorch (epoch_pytorch.py) on the CPU, same threads.
#
# Usage: benchmarks/run_epoch.sh [path/to/epoch_bench]
#   $1       the EDDL binary (default build/benchmarks/epoch_bench)
#   $MODEL   mlp (default; with GFLOP/s against the SGEMM rate) or cnn
#   $PYTHON  a Python with torch and numpy (default /work/bench-venv/bin/python; see docs/benchmarks.md)
#   $THREADS thread counts to run (default "1 2"); $REPS repetitions of each (default 2)
#
# For each thread count the two peers run alternately (eddl, pytorch, eddl, pytorch, ...); the
# table reports the best epoch time of the repetitions. Raw JSON lines go to stderr.
set -euo pipefail

EDDL_BIN=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build/benchmarks/epoch_bench}
PYTHON=${PYTHON:-/work/bench-venv/bin/python}
THREADS=${THREADS:-"1 2"}
REPS=${REPS:-2}
MODEL=${MODEL:-mlp}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PEER="$HERE/epoch_pytorch.py"

[[ -x "$EDDL_BIN" ]] || { echo "run_mlp_epoch.sh: $EDDL_BIN is not an executable (build target epoch_bench)" >&2; exit 1; }
[[ -x "$PYTHON" ]] || { echo "run_mlp_epoch.sh: $PYTHON is not an executable" >&2; exit 1; }

results=$(mktemp)
trap 'rm -f "$results"' EXIT

for t in $THREADS; do
    for ((r = 1; r <= REPS; ++r)); do
        line=$("$EDDL_BIN" --model "$MODEL" --threads "$t" | tail -n 1)
        echo "$line" >&2
        echo "$line" >>"$results"
        line=$("$PYTHON" "$PEER" --model "$MODEL" --threads "$t" --epochs 1 --warmup-batches 20 | tail -n 1)
        echo "$line" >&2
        echo "$line" >>"$results"
    done
done

python3 - "$results" <<'EOF'
import json, sys
runs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
by = {}
for r in runs:
    by.setdefault((r["threads"], r["peer"]), []).append(r)
torch_run = next((r for r in runs if r["peer"] == "pytorch"), None)
if torch_run:
    print(f"torch {torch_run['version']}  BLAS: {torch_run['blas']}")
mlp = runs[0].get("model", "mlp") == "mlp"
hdr = ("threads", "eddl s", "pytorch s", "eddl/pytorch", "eddl GFLOP/s", "SGEMM 1024", "SGEMM 100x1024",
       "epoch % SGEMM1024", "nominal % SGEMM1024", "nominal % best SGEMM1024", "RSS eddl MB", "RSS pytorch MB", "loss eddl", "loss pytorch")
rows = []
for t in sorted({k[0] for k in by}):
    e = min(by.get((t, "eddl"), []), key=lambda r: r["epoch_seconds"], default=None)
    p = min(by.get((t, "pytorch"), []), key=lambda r: r["epoch_seconds"], default=None)
    if not e or not p:
        continue
    rows.append((
        str(t), f"{e['epoch_seconds']:.3f}", f"{p['epoch_seconds']:.3f}",
        f"{e['epoch_seconds'] / p['epoch_seconds']:.3f}",
        *((f"{e['gflops']:.1f}", f"{e['sgemm_gflops_1024']:.1f}", f"{e['sgemm_gflops_100x1024x1024']:.1f}",
           f"{100 * e['gflops'] / e['sgemm_gflops_1024']:.1f}%",
           f"{100 * e['gflops_nominal'] / e['sgemm_gflops_1024']:.1f}%",
           # the SGEMM reference is a 13 ms burst that swings 10-20% on a shared machine: the
           # conservative figure divides by the highest reading of the runs at this thread count
           f"{100 * e['gflops_nominal'] / max(r['sgemm_gflops_1024'] for r in by[(t, 'eddl')]):.1f}%")
          if mlp else ("",) * 6),
        f"{max(r['max_rss_mb'] for r in by[(t, 'eddl')]):.1f}",
        f"{max(r['max_rss_mb'] for r in by[(t, 'pytorch')]):.1f}",
        f"{e['train_loss']:.4f}", f"{p['train_loss']:.4f}",
    ))
if not mlp:  # no FLOP columns for the CNN
    keep = [0, 1, 2, 3, 10, 11, 12, 13]
    hdr = tuple(hdr[i] for i in keep)
    rows = [tuple(r[i] for i in keep) for r in rows]
w = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(hdr)]
fmt = lambda cells: "  ".join(c.rjust(w[i]) for i, c in enumerate(cells))
print(fmt(hdr))
for r in rows:
    print(fmt(r))
print(f"(best of {max(len(v) for v in by.values())} runs per peer and thread count; "
      "SGEMM columns are EDDL's Tensor::matmul in the same process; RSS is the max over runs)")
EOF
