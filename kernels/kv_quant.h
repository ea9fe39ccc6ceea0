// The int8 KV cache's quantisation: one rule for every backend, so that the CPU is the exact reference of the GPU.
// Per (token, KV head): scale = max|x| / 127 over the head's head_dim values, q = x * (127 / max|x|) rounded to
// the nearest integer (ties to even), value = q * scale; an all-zero head has scale 0. Header-only, also compiled
// by nvcc for device code.
#pragma once

#include <cmath>
#include <cstdint>

#if defined(__CUDACC__)
#define JETCHAT_HOST_DEVICE __host__ __device__
#else
#define JETCHAT_HOST_DEVICE
#endif

namespace jetchat {

JETCHAT_HOST_DEVICE inline float kv_int8_scale(float amax) { return amax / 127.0f; }
// What x is multiplied by before rounding.
JETCHAT_HOST_DEVICE inline float kv_int8_inv_scale(float amax) { return amax > 0.0f ? 127.0f / amax : 0.0f; }
JETCHAT_HOST_DEVICE inline int8_t kv_int8_quantize(float x, float inv_scale) {
  const float q = rintf(x * inv_scale);  // |q| <= 127 but for the last bit of 127 / amax
  return int8_t(q > 127.0f ? 127.0f : (q < -127.0f ? -127.0f : q));
}

}  // namespace jetchat
