#!/usr/bin/env bash
# GPU check of issue 15 (training crashed at the first step on CUDA: deterministic mode and the
# alignment's median). Two minutes of the synthetic benchmark with trainer.accelerator=auto and
# the defaults otherwise (deterministic: true -> deterministic kernels where CUDA has them and one
# warning line; precision: auto -> float32 on a GPU); prints the steps and abs_rel.
#
#   bash bench/gpu_check.sh              # about 4 min: render 8+2 streets, train 2 min, score
#   BF16=1 bash bench/gpu_check.sh       # then 2 more minutes in bf16-mixed, for comparison
#
# PYTHON (default .venv/bin/python, with a CUDA build of torch) and OUT (default
# /tmp/packdepth_gpu_check) may be set. Exit status 1 without a CUDA device.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
OUT=${OUT:-/tmp/packdepth_gpu_check}
mkdir -p "$OUT"

"$PY" -c "import torch, sys
ok = torch.cuda.is_available()
print('torch', torch.__version__, '|', torch.cuda.get_device_name(0) if ok else 'no CUDA device')
sys.exit(0 if ok else 1)"

run() {
  local tag=$1
  shift
  "$PY" bench/train_synthetic.py --minutes 2 --out "$OUT/$tag" --data "$OUT/data" \
    --set trainer.accelerator=auto "$@" 2>&1 | tee "$OUT/$tag.log"
  "$PY" - "$OUT/$tag/results.json" "$tag" <<'PYEOF'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"RESULT {sys.argv[2]}: {r['steps']} steps in {r['minutes']:.1f} min, abs_rel "
      f"{r['scaled']['abs_rel']:.4f} (median scaling), constant depth {r['constant']['abs_rel']:.4f}")
PYEOF
}

run auto
if [ "${BF16:-0}" = 1 ]; then
  run bf16 --set trainer.precision=bf16-mixed
fi
grep -h "packdepth: note" "$OUT"/*.log | head -n 1 || echo "(no determinism note printed)"
