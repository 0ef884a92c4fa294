#!/usr/bin/env bash
# MLP epoch benchmark: EDDL (mlp_epoch) vs PyTorch (mlp_epoch_pytorch.py) on the CPU.
#
# Usage: benchmarks/run_mlp_epoch.sh [path/to/mlp_epoch]
#   $1       the EDDL binary (default build/benchmarks/mlp_epoch)
#   $PYTHON  a Python with torch and numpy (default /work/bench-venv/bin/python; see docs/benchmarks.md)
#   $THREADS thread counts to run (default "1 2"); $REPS repetitions of each (default 2)
#
# For each thread count the two peers run alternately (eddl, pytorch, eddl, pytorch, ...); the
# table reports the best epoch time of the repetitions. Raw JSON lines go to stderr.
set -euo pipefail

EDDL_BIN=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build/benchmarks/mlp_epoch}
PYTHON=${PYTHON:-/work/bench-venv/bin/python}
THREADS=${THREADS:-"1 2"}
REPS=${REPS:-2}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PEER="$HERE/mlp_epoch_pytorch.py"

[[ -x "$EDDL_BIN" ]] || { echo "run_mlp_epoch.sh: $EDDL_BIN is not an executable (build target mlp_epoch)" >&2; exit 1; }
[[ -x "$PYTHON" ]] || { echo "run_mlp_epoch.sh: $PYTHON is not an executable" >&2; exit 1; }

results=$(mktemp)
trap 'rm -f "$results"' EXIT

for t in $THREADS; do
    for ((r = 1; r <= REPS; ++r)); do
        line=$("$EDDL_BIN" --threads "$t" | tail -n 1)
        echo "$line" >&2
        echo "$line" >>"$results"
        line=$("$PYTHON" "$PEER" --threads "$t" --epochs 1 --warmup-batches 20 | tail -n 1)
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
hdr = ("threads", "eddl s", "pytorch s", "eddl/pytorch", "eddl GFLOP/s", "SGEMM 1024", "SGEMM 100x1024",
       "epoch % SGEMM1024", "nominal % SGEMM1024", "RSS eddl MB", "RSS pytorch MB", "loss eddl", "loss pytorch")
rows = []
for t in sorted({k[0] for k in by}):
    e = min(by.get((t, "eddl"), []), key=lambda r: r["epoch_seconds"], default=None)
    p = min(by.get((t, "pytorch"), []), key=lambda r: r["epoch_seconds"], default=None)
    if not e or not p:
        continue
    rows.append((
        str(t), f"{e['epoch_seconds']:.3f}", f"{p['epoch_seconds']:.3f}",
        f"{e['epoch_seconds'] / p['epoch_seconds']:.3f}",
        f"{e['gflops']:.1f}", f"{e['sgemm_gflops_1024']:.1f}", f"{e['sgemm_gflops_100x1024x1024']:.1f}",
        f"{100 * e['gflops'] / e['sgemm_gflops_1024']:.1f}%",
        f"{100 * e['gflops_nominal'] / e['sgemm_gflops_1024']:.1f}%",
        f"{max(r['max_rss_mb'] for r in by[(t, 'eddl')]):.1f}",
        f"{max(r['max_rss_mb'] for r in by[(t, 'pytorch')]):.1f}",
        f"{e['train_loss']:.4f}", f"{p['train_loss']:.4f}",
    ))
w = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(hdr)]
fmt = lambda cells: "  ".join(c.rjust(w[i]) for i, c in enumerate(cells))
print(fmt(hdr))
for r in rows:
    print(fmt(r))
print(f"(best of {max(len(v) for v in by.values())} runs per peer and thread count; "
      "SGEMM columns are EDDL's Tensor::matmul in the same process; RSS is the max over runs)")
EOF
