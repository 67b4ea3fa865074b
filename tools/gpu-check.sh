#!/usr/bin/env bash
# The GPU checks of issue 5 in one run, for a machine with an NVIDIA GPU, its driver and PyTorch
# but no Java and no network (the device tool's machines). Needs gpu-carry/ from
# tools/gpu-prepare.sh (run where nvcc and a JDK 25 are), carried along:
#
#   device run: carry ["gpu-carry"], timeout_s 540, command "bash tools/gpu-check.sh"
#
# 1. nvidia-smi; 2. every test class of the CUDA work through the JUnit console (GPU tests skip,
# reported as skipped, where CUDA is unavailable); 3. the GPU bench (./kiln bench --gpu) in fp32,
# then its conv case again with -Dkiln.cuda.matmul=tf32 against cuDNN's TF32. Logs and reports go
# to $OUT (the device tool's folder; 6 files: nvidia-smi.txt, tests.log, junit/TEST-junit-jupiter.xml, bench.log,
# gpu-report-fp32.json, gpu-report-tf32.json) or gpu-check-out/. Arguments: tests | bench | all (default).
set -uo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
carry=gpu-carry
out=${OUT:-gpu-check-out}
mkdir -p "$out"
if [ ! -f "$carry/jdk.tar.xz" ]; then
  echo "gpu-check: $carry/jdk.tar.xz missing: run tools/gpu-prepare.sh first and carry $carry" >&2
  exit 2
fi
jdk=$(mktemp -d)
tar -xJf "$carry/jdk.tar.xz" -C "$jdk"
java="$jdk/jdk/bin/java"
flags=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xss8m -Xmx16g)
echo "gpu-check: $(cat "$carry/BUILD"), $("$java" -version 2>&1 | head -n 1)"
{ nvidia-smi || echo "gpu-check: nvidia-smi failed or is missing"; } 2>&1 | tee "$out/nvidia-smi.txt"
status=0

if [ "$what" = all ] || [ "$what" = tests ]; then
  cp=$(ls "$carry"/test/*.jar "$carry"/lib/*.jar | tr '\n' ':')
  classes=(dev.kiln.kernels.cuda.CudaAvailabilityTest dev.kiln.kernels.cuda.DeviceAllocatorTest
           dev.kiln.kernels.cuda.StridedArgTest dev.kiln.kernels.cuda.CudaBlasTest
           dev.kiln.engine.CudaDeviceTest dev.kiln.engine.CudaBackendTest dev.kiln.nn.cuda.CudaTrainingTest)
  select=()
  for c in "${classes[@]}"; do select+=(--select-class "$c"); done
  echo "gpu-check: tests ${classes[*]}"
  "$java" "${flags[@]}" -jar "$carry/junit-console.jar" execute --class-path "$cp" "${select[@]}" \
    --include-engine junit-jupiter --details=tree --disable-banner --disable-ansi-colors --reports-dir "$out/junit" 2>&1 | tee "$out/tests.log"
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
fi

if [ "$what" = all ] || [ "$what" = bench ]; then
  export KILN_PYTHON=${KILN_PYTHON:-python3}
  echo "gpu-check: bench (fp32 GEMM, TF32, BF16, int8, conv fp32, SpMM)"
  "$java" "${flags[@]}" -cp "$carry/lib/*" dev.kiln.bench.GpuReport --out "$out" 2>&1 | tee "$out/bench.log"
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
  echo "gpu-check: bench (conv with TF32 against cuDNN TF32)"
  "$java" "${flags[@]}" -Dkiln.cuda.matmul=tf32 -cp "$carry/lib/*" dev.kiln.bench.GpuReport --cases conv --out "$out" 2>&1 \
    | tee -a "$out/bench.log"
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
fi
rm -rf "$jdk"
echo "gpu-check: done (status $status); logs and reports in $out"
exit $status
