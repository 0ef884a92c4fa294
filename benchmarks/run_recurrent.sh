#!/usr/bin/env bash
# Recurrent layers: EDDL (recurrent.cpp) vs PyTorch (recurrent_pytorch.py) on the CPU, same
# threads, alternating peers; best time per step of each, and the ratio (PyTorch ms / EDDL ms:
# above 1 means we are faster).
#
# Usage: benchmarks/run_recurrent.sh [path/to/recurrent_bench]
#   $PYTHON  a Python with torch (default /work/bench-venv/bin/python)
#   $THREADS thread counts (default "1 2"); $REPS repetitions (default 1)
#   $CASES   "kind:mode:batch:steps:features:units:bi ..." (bi 0 or 1)
set -euo pipefail

EDDL_BIN=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build/benchmarks/recurrent_bench}
PYTHON=${PYTHON:-/work/bench-venv/bin/python}
THREADS=${THREADS:-"1 2"}
REPS=${REPS:-1}
CASES=${CASES:-"lstm:train:64:50:64:128:0 gru:train:64:50:64:128:0 lstm:train:64:50:64:128:1 lstm:infer:1:100:64:128:0 lstm:infer:64:50:64:128:0"}
PEER="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/recurrent_pytorch.py"

[[ -x "$EDDL_BIN" ]] || { echo "run_recurrent.sh: $EDDL_BIN is not an executable (build target recurrent_bench)" >&2; exit 1; }
results=$(mktemp)
trap 'rm -f "$results"' EXIT
for c in $CASES; do
    IFS=: read -r kind mode batch steps features units bi <<<"$c"
    for t in $THREADS; do
        for ((r = 1; r <= REPS; ++r)); do
            args=(--kind "$kind" --mode "$mode" --batch "$batch" --steps "$steps" --features "$features" --units "$units"
                  --threads "$t" --iters 10)
            [[ "$bi" == 1 ]] && args+=(--bidirectional)
            "$EDDL_BIN" "${args[@]}" | tee -a "$results" >&2
            "$PYTHON" "$PEER" "${args[@]}" | tee -a "$results" >&2
        done
    done
done

python3 - "$results" <<'PY'
import json, sys
runs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
best = {}
for r in runs:
    k = (r["kind"], r["mode"], r["batch"], r["steps"], r["features"], r["units"], r["bidirectional"], r["threads"], r["peer"])
    if k not in best or r["ms"] < best[k]["ms"]:
        best[k] = r
print("torch", next(r for r in runs if r["peer"] == "pytorch")["version"])
print(f"{'case':42s} {'threads':>7s} {'EDDL ms':>9s} {'PyTorch ms':>11s} {'PyTorch/EDDL':>13s}")
for k, e in sorted(best.items()):
    if k[-1] != "eddl":
        continue
    p = best.get(k[:-1] + ("pytorch",))
    if not p:
        continue
    kind, mode, b, T, I, H, bi, t, _ = k
    case = f"{kind}{' bi' if bi else ''} {mode} b{b} T{T} I{I} H{H}"
    print(f"{case:42s} {t:7d} {e['ms']:9.2f} {p['ms']:11.2f} {p['ms'] / e['ms']:13.2f}")
PY
