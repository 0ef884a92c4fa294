#!/usr/bin/env bash
# Augmentation throughput: ECVL (ecvl_augment_bench) vs albumentations (augment_albumentations.py),
# one thread each, on the same 2,000 RGB uint8 images of 400x350 (one .npy file, made once).
#
# Usage: benchmarks/run_augment.sh [path/to/ecvl_augment_bench]
#   $1        the ECVL binary (default build/benchmarks/ecvl_augment_bench)
#   $PYTHON   a Python with albumentations (default /work/bench-venv/bin/python; see docs/benchmarks.md)
#   $DATA     the images (default ${TMPDIR:-/tmp}/ecvl_augment_bench/images.npy; made when missing)
#   $LAYOUTS  ECVL layouts to run (default "xyc cxy": planar, as ImRead returns and tensors take,
#             and interleaved, as albumentations' HWC arrays)
#   $REPS     repetitions (default 3); the peers alternate and the table keeps each one's best
#   $CLOCK    cpu (default: images per second of the thread's CPU time, which time spent descheduled
#             on a shared machine does not inflate) or wall
#   $OPS      comma-separated subset (default: all eight)
# Raw JSON lines go to stderr.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ECVL_BIN=${1:-$HERE/../build/benchmarks/ecvl_augment_bench}
PYTHON=${PYTHON:-/work/bench-venv/bin/python}
DATA=${DATA:-${TMPDIR:-/tmp}/ecvl_augment_bench/images.npy}
LAYOUTS=${LAYOUTS:-"xyc cxy"}
REPS=${REPS:-3}
CLOCK=${CLOCK:-cpu}
OPS=${OPS:-}
PEER="$HERE/augment_albumentations.py"
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1

[[ -x "$ECVL_BIN" ]] || { echo "run_augment.sh: $ECVL_BIN is not an executable (build target ecvl_augment_bench)" >&2; exit 1; }
[[ -x "$PYTHON" ]] || { echo "run_augment.sh: $PYTHON is not an executable" >&2; exit 1; }
"$PYTHON" -c "import albumentations" 2>/dev/null || {
    echo "run_augment.sh: albumentations is missing: $PYTHON -m pip install albumentations" >&2; exit 1; }

if [[ ! -f "$DATA" ]]; then
    mkdir -p "$(dirname "$DATA")"
    echo "making $DATA (2,000 images, 840 MB)" >&2
    "$PYTHON" "$PEER" --make-data "$DATA"
fi

ops_args=()
[[ -n "$OPS" ]] && ops_args=(--ops "$OPS")
results=$(mktemp)
trap 'rm -f "$results"' EXIT
for ((r = 1; r <= REPS; ++r)); do
    for layout in $LAYOUTS; do
        "$ECVL_BIN" --data "$DATA" --layout "$layout" "${ops_args[@]}" | tee -a "$results" >&2
    done
    "$PYTHON" "$PEER" --data "$DATA" "${ops_args[@]}" | tee -a "$results" >&2
done

python3 - "$results" "$LAYOUTS" "$CLOCK" <<'PY'
import json, sys
best = {}
field = "images_per_cpu_s" if sys.argv[3] == "cpu" else "images_per_s"
for line in open(sys.argv[1]):
    d = json.loads(line)
    key = (d["op"], d.get("layout", "HWC"), d["peer"])
    best[key] = max(best.get(key, 0), d[field])
layouts = sys.argv[2].split()
ops = []
for (op, _, _) in best:
    if op not in ops:
        ops.append(op)
head = f"{'augmentation':<18}{'albumentations':>16}" + "".join(f"{'ECVL ' + l:>12}{'ratio':>8}" for l in layouts)
print(head)
print("-" * len(head))
for op in ops:
    a = best.get((op, "HWC", "albumentations"), 0)
    row = f"{op:<18}{a:>16.0f}"
    for l in layouts:
        e = best.get((op, l, "ecvl"), 0)
        row += f"{e:>12.0f}{(e / a if a else 0):>7.2f}x"
    print(row)
print(f"(images/s of {'thread CPU time' if sys.argv[3] == 'cpu' else 'wall-clock time'}, single thread, best of the "
      "repetitions; ratio = ECVL / albumentations)")
PY
