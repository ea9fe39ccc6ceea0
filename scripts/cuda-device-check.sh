#!/usr/bin/env bash
# Builds the CUDA backend on a GPU machine, runs its tests (and compute-sanitizer on the kernel tests), then the
# benchmarks of docs/BENCHMARKS.md. Logs and JSON go to $OUT (default ./out). Usage, from the project root:
#   scripts/cuda-device-check.sh [arch=90] [shapes="internlm2-1.8b internlm2-7b internlm2-20b"] [sanitize=1]
set -uo pipefail
arch=${1:-90}
shapes=${2:-"internlm2-1.8b internlm2-7b internlm2-20b"}
sanitize=${3:-1}
out=${OUT:-out}
mkdir -p "$out"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.mem --format=csv | tee "$out/gpu.txt"
cmake -S . -B build-gpu -G Ninja -DJETCHAT_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES="$arch" -DJETCHAT_FIXTURES="${FIXTURES:-}" \
  >"$out/configure.log" 2>&1 || { tail -30 "$out/configure.log"; exit 1; }
ninja -C build-gpu -j16 jetchat-cli test_cuda_ops test_cuda_end_to_end test_kv_cache_int8 test_gpu_memory >"$out/build.log" 2>&1 || { grep -A5 -E "error|FAILED" "$out/build.log" | head -60; exit 1; }
echo "== tests"
build-gpu/tests/test_cuda_ops >"$out/tests.log" 2>&1
build-gpu/tests/test_cuda_end_to_end >>"$out/tests.log" 2>&1
build-gpu/tests/test_kv_cache_int8 >>"$out/tests.log" 2>&1
build-gpu/tests/test_gpu_memory >>"$out/tests.log" 2>&1
grep -E "OK \]|FAILED|Failure|Expected|Which is|actual|^/" "$out/tests.log" | head -40
if [ "$sanitize" = 1 ]; then
  echo "== compute-sanitizer"
  # JETCHAT_TEST_SMALL=1: only the small cases of each size list (sanitised runs are ~100x slower, racecheck far
  # more; the large cases take the same code paths).
  filter='CudaOps.NormSiluAddEmbedMatchCpu:CudaOps.RopeMatchesCpu:CudaOps.SamplingOnTheDevice:CudaOps.AttentionMatchesCpuForDecodeAndPrefill:CudaOps.RopeAttentionDecodeMatchesCpu:CudaOps.Int8CacheAttentionMatchesCpuWithTheSameQuantisation:CudaOps.W4MatmulMatchesDequantisedReference:CudaOps.FusedNormAndGateW4ProductsMatchCpu'
  for tool in memcheck racecheck synccheck; do
    JETCHAT_TEST_SMALL=1 timeout 170 compute-sanitizer --tool $tool --error-exitcode 9 build-gpu/tests/test_cuda_ops \
      --gtest_filter="$filter" >>"$out/sanitizer.log" 2>&1
    echo "$tool exit $? ($(grep -E 'RACECHECK SUMMARY|ERROR SUMMARY' "$out/sanitizer.log" | tail -1))"
  done
  # The whole decode path (recorded graphs included) under memcheck, on the smallest shape.
  timeout 150 compute-sanitizer --tool memcheck --error-exitcode 9 build-gpu/engine/jetchat-cli bench --random-w4 internlm2-1.8b \
    --device cuda --prompt-tokens 70 --gen-tokens 4 --prefill-tokens 130 --long-context 0 >>"$out/sanitizer.log" 2>&1
  echo "memcheck bench exit $? ($(grep -E 'ERROR SUMMARY' "$out/sanitizer.log" | tail -1))"
fi
echo "== bench"
for s in $shapes; do
  build-gpu/engine/jetchat-cli bench --random-w4 "$s" --device cuda --prompt-tokens 128 --gen-tokens 128 \
    --prefill-tokens 512 --long-context 4000 --kernels --json >"$out/bench-$s.json" 2>"$out/bench-$s.err"
  python3 - "$out/bench-$s.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
print(f"{j['model']}: decode {j['decode_tok_s']:.1f} tok/s roofline {j['roofline_fraction']:.3f} | 4K {j['long_decode_tok_s']:.1f} tok/s ({j['long_roofline_fraction']:.3f}) | prefill512 {j['prefill_tok_s']:.0f} tok/s | ttft {j['ttft_ms']:.1f} ms | copy {j['copy_bandwidth_gb_s']:.0f} GB/s | peak {j['peak_backend_bytes']/2**30:.2f} GiB")
for k in j['kernels']:
    print(f"   {k['matrix']:10s} {k.get('input', ''):8s} {k['rows']:6d}x{k['cols']:<6d} {k['dtype']:4s} {k['us']:8.1f} us {k['gb_s']:7.0f} GB/s ({k['fraction_of_copy_bandwidth']:.2f})")
PY
done
