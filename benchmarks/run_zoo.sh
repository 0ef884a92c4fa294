#!/usr/bin/env bash
# Model-zoo benchmarks: EDDL (zoo.cpp) vs PyTorch/torchvision (zoo_pytorch.py) on the CPU, same
# threads, alternating peers. ResNet-18 training (batch 16), ResNet-18 and VGG-16 inference
# (batch 1 and 16), at each thread count; then images/s ratios, 1 -> 2 thread scaling, max RSS.
#
# Usage: benchmarks/run_zoo.sh [path/to/zoo_bench]
#   $PYTHON  a Python with torch, torchvision and numpy (default /work/bench-venv/bin/python)
#   $THREADS thread counts (default "1 2"); $REPS repetitions of each run (default 1)
#   $CASES   "model:mode:batch:iters ..." (default: the five cases above; model resnet18, vgg16
#            or unet, e.g. CASES="unet:train:8:3" for U-Net training at 1x128x128)
#   $MEM     EDDL memory level for the runs (default full_mem)
set -euo pipefail

EDDL_BIN=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build/benchmarks/zoo_bench}
PYTHON=${PYTHON:-/work/bench-venv/bin/python}
THREADS=${THREADS:-"1 2"}
REPS=${REPS:-1}
MEM=${MEM:-full_mem}
CASES=${CASES:-"resnet18:train:16:3 resnet18:infer:1:20 resnet18:infer:16:3 vgg16:infer:1:6 vgg16:infer:16:2"}
PEER="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/zoo_pytorch.py"

[[ -x "$EDDL_BIN" ]] || { echo "run_zoo.sh: $EDDL_BIN is not an executable (build target zoo_bench)" >&2; exit 1; }
[[ -x "$PYTHON" ]] || { echo "run_zoo.sh: $PYTHON is not an executable" >&2; exit 1; }

results=$(mktemp)
trap 'rm -f "$results"' EXIT
for c in $CASES; do
    IFS=: read -r model mode batch iters <<<"$c"
    for t in $THREADS; do
        for ((r = 1; r <= REPS; ++r)); do
            args=(--model "$model" --mode "$mode" --batch "$batch" --threads "$t" --iters "$iters")
            "$EDDL_BIN" "${args[@]}" --mem "$MEM" | tail -n 1 | tee -a "$results" >&2
            "$PYTHON" "$PEER" "${args[@]}" | tail -n 1 | tee -a "$results" >&2
        done
    done
done

python3 - "$results" <<'PY'
import json, sys
runs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
best = {}
for r in runs:
    k = (r["model"], r["mode"], r["batch"], r["threads"], r["peer"])
    if k not in best or r["images_per_second"] > best[k]["images_per_second"]:
        best[k] = r
torch_run = next(r for r in runs if r["peer"] == "pytorch")
print(f"torch {torch_run['version']}; EDDL memory level {next(r for r in runs if r['peer'] == 'eddl')['mem']}")
hdr = ("model", "mode", "batch", "threads", "eddl img/s", "pytorch img/s", "eddl/pytorch", "eddl 1->2",
       "pytorch 1->2", "RSS eddl MB", "RSS pytorch MB")
rows = []
for (m, mode, b, t, peer), e in sorted(best.items()):
    if peer != "eddl" or (m, mode, b, t, "pytorch") not in best:
        continue
    p = best[(m, mode, b, t, "pytorch")]
    def scale(who):
        one = best.get((m, mode, b, 1, who))
        return f"{best[(m, mode, b, t, who)]['images_per_second'] / one['images_per_second']:.2f}x" if one and t > 1 else ""
    rows.append((m, mode, str(b), str(t), f"{e['images_per_second']:.2f}", f"{p['images_per_second']:.2f}",
                 f"{e['images_per_second'] / p['images_per_second']:.2f}", scale("eddl"), scale("pytorch"),
                 f"{e['max_rss_mb']:.0f}", f"{p['max_rss_mb']:.0f}"))
w = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(hdr)]
fmt = lambda cells: "  ".join(c.rjust(w[i]) for i, c in enumerate(cells))
print(fmt(hdr))
for r in rows:
    print(fmt(r))
print("(eddl/pytorch > 1: EDDL is faster; best of the repetitions; RSS: whole process, max over its runs)")
PY
