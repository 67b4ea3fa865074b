#!/usr/bin/env bash
# Compiles every .cu file of this folder into <out>/<name>.fatbin with nvcc: SASS for sm_80 and
# sm_90a plus PTX for compute_90 (newer GPUs JIT it). Run by Maven (exec-maven-plugin, phase
# generate-resources) with <out> = target/classes/dev/kiln/kernels/cuda, so the fatbins become
# resources of the kernels jar. Up-to-date fatbins (newer than their .cu and every .cuh) are kept.
#
# nvcc is looked up in KILN_NVCC (a path; "none" skips the GPU kernels), PATH, CUDA_HOME, CUDA_PATH,
# /usr/local/cuda*, /usr/lib/cuda. Without nvcc one line says that the GPU kernels were skipped and
# the build goes on. ptxas register and spill counts are printed, one line per kernel and target.
set -euo pipefail
src=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: build-fatbin.sh OUTPUT_DIR}

find_nvcc() {
  if [ -n "${KILN_NVCC-}" ]; then
    [ "$KILN_NVCC" = none ] && return 1
    [ -x "$KILN_NVCC" ] && { echo "$KILN_NVCC"; return 0; }
    echo "[kiln-cuda] KILN_NVCC=$KILN_NVCC is not an executable" >&2
    return 1
  fi
  if command -v nvcc >/dev/null 2>&1; then command -v nvcc; return 0; fi
  local d
  for d in "${CUDA_HOME-}" "${CUDA_PATH-}" /usr/local/cuda /usr/local/cuda-* /usr/lib/cuda; do
    [ -n "$d" ] && [ -x "$d/bin/nvcc" ] && { echo "$d/bin/nvcc"; return 0; }
  done
  return 1
}

if ! nvcc=$(find_nvcc); then
  echo "[kiln-cuda] nvcc not found (KILN_NVCC, PATH, CUDA_HOME, CUDA_PATH, /usr/local/cuda*, /usr/lib/cuda): GPU kernels skipped, everything else builds; the CUDA device will be unavailable"
  exit 0
fi

mkdir -p "$out"
newest_header=$(ls -t "$src"/*.cuh | head -n 1)
todo=()
for cu in "$src"/*.cu; do
  name=$(basename "$cu" .cu)
  fb="$out/$name.fatbin"
  if [ -f "$fb" ] && [ "$fb" -nt "$cu" ] && [ "$fb" -nt "$newest_header" ] && [ "$fb" -nt "$0" ]; then
    continue
  fi
  todo+=("$name")
done
if [ ${#todo[@]} -eq 0 ]; then
  echo "[kiln-cuda] GPU kernels up to date in $out"
  exit 0
fi

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
echo "[kiln-cuda] $nvcc: compiling ${todo[*]} (sm_80, sm_90a SASS + compute_90 PTX)"
jobs=$(nproc 2>/dev/null || echo 2)
export nvcc src out logs
printf '%s\n' "${todo[@]}" | xargs -P "$jobs" -I{} bash -c '
  "$nvcc" -O3 -std=c++17 -lineinfo -Xptxas -v \
    -gencode arch=compute_80,code=sm_80 -gencode arch=compute_90a,code=sm_90a -gencode arch=compute_90,code=compute_90 \
    -fatbin -o "$out/{}.fatbin.tmp" "$src/{}.cu" >"$logs/{}.log" 2>&1 \
  && mv "$out/{}.fatbin.tmp" "$out/{}.fatbin" || { echo FAILED > "$logs/{}.failed"; }' || true

status=0
for name in "${todo[@]}"; do
  if [ -f "$logs/$name.failed" ]; then
    echo "[kiln-cuda] nvcc failed on $name.cu:"
    grep -v "^ptxas info\|bytes stack frame" "$logs/$name.log" || true
    status=1
    continue
  fi
  # "Compiling entry function 'k' for 'sm_90a'" ... "N bytes spill stores, M bytes spill loads" ... "Used R registers"
  awk -v file="$name.cu" '
    /Compiling entry function/ { match($0, /function .[^'"'"']*/); fn = substr($0, RSTART + 10, RLENGTH - 10);
                                 match($0, /for .[^'"'"']*/); arch = substr($0, RSTART + 5, RLENGTH - 5) }
    /spill stores/ { split($0, a, ","); st = a[2]; ld = a[3]; gsub(/^ +| bytes spill (stores|loads)/, "", st); gsub(/^ +| bytes spill (stores|loads)/, "", ld) }
    /Used [0-9]+ registers/ { match($0, /Used [0-9]+ registers/); r = substr($0, RSTART + 5, RLENGTH - 15);
                              printf "[kiln-cuda]   %-26s %-8s %3s registers, spill %s B stores %s B loads\n", fn, arch, r, st, ld }
  ' "$logs/$name.log"
  grep -i "warning" "$logs/$name.log" | sed "s/^/[kiln-cuda] $name.cu: /" || true
done
exit $status
