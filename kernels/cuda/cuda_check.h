// CUDA and cuBLAS error checking: every runtime call goes through a macro that turns a failure into a Status
// naming the call, the file and the line. Host code only.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <string>

#include "jetchat/status.h"

namespace jetchat::cuda {

inline Status cuda_status(cudaError_t e, const char* call, const char* file, int line) {
  return Status(e == cudaErrorMemoryAllocation ? StatusCode::kOutOfMemory : StatusCode::kInternal,
                std::string("CUDA error ") + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ") in " + call +
                    " at " + file + ":" + std::to_string(line));
}

inline Status cublas_status(cublasStatus_t e, const char* call, const char* file, int line) {
  return Status(StatusCode::kInternal, std::string("cuBLAS error ") + std::to_string(int(e)) + " in " + call +
                                           " at " + file + ":" + std::to_string(line));
}

}  // namespace jetchat::cuda

// Returns a Status from the enclosing function when a CUDA runtime call fails.
#define JETCHAT_CUDA_TRY(call)                                                          \
  do {                                                                                  \
    const cudaError_t jc_e_ = (call);                                                   \
    if (jc_e_ != cudaSuccess) return ::jetchat::cuda::cuda_status(jc_e_, #call, __FILE__, __LINE__); \
  } while (0)

#define JETCHAT_CUBLAS_TRY(call)                                                           \
  do {                                                                                     \
    const cublasStatus_t jc_e_ = (call);                                                   \
    if (jc_e_ != CUBLAS_STATUS_SUCCESS)                                                    \
      return ::jetchat::cuda::cublas_status(jc_e_, #call, __FILE__, __LINE__);             \
  } while (0)
