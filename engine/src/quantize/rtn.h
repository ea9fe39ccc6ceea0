// Round-to-nearest 4-bit quantization of one linear weight into AutoAWQ's GEMM tensors (asymmetric, per group
// of `group` inputs, fp16 scales), and the matching dequantisation, for the quantizer and its tests.
#pragma once

#include <cstdint>
#include <vector>

namespace jetchat::quant {

// AutoAWQ GEMM tensors of an nn.Linear [rows = out, cols = in] (FORMATS.md section 1).
struct AwqLinear {
  int64_t rows = 0, cols = 0;
  int group = 0;
  std::vector<int32_t> qweight;  // [cols, rows/8], nibble order 0,2,4,6,1,3,5,7
  std::vector<int32_t> qzeros;   // [cols/group, rows/8], same order
  std::vector<uint16_t> scales;  // [cols/group, rows] f16
};

// w: [rows, cols] f32 row-major; rows % 8 == 0, cols % group == 0. Per group: scale = (max - min) / 15 (rounded
// to f16), zero = clamp(round(-min / scale), 0, 15), q = clamp(round(w / scale) + zero, 0, 15).
AwqLinear quantize_rtn(const float* w, int64_t rows, int64_t cols, int group);

// Weight (r, k) of a quantized linear, (q - zero) * scale, written as [rows, cols] f32.
void dequantize(const AwqLinear& q, float* w);

// w <- dequantize(quantize_rtn(w)) in place, without packing (the AWQ scale search's inner loop).
void fake_quantize(float* w, int64_t rows, int64_t cols, int group);

}  // namespace jetchat::quant
