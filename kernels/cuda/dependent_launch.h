// Programmatic dependent launch (sm_90+, CUDA 11.8+): a kernel launched with it may start while the kernel before
// it in the stream is finishing, so its launch and its first weight loads overlap that kernel's tail. Such a
// kernel calls pdl_wait() before it reads anything the previous kernel wrote (or writes anything it reads);
// kernels call pdl_trigger() early to let their successor start. Both are no-ops before sm_90, and the launch
// attribute is only set where the device has it: the portable path (Orin, sm_87) is the plain launch.
#pragma once

#include <cuda_runtime.h>

namespace jetchat::cuda {

__device__ __forceinline__ void pdl_wait() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.wait;" ::: "memory");
#endif
}

__device__ __forceinline__ void pdl_trigger() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
#endif
}

// Whether the decode kernels are launched this way (set_dependent_launch in ops.h, once per backend).
bool dependent_launch_enabled();

// Launches kernel<<<grid, block, smem, stream>>>(args...), as a programmatic dependent launch when `dependent`.
template <class... Params, class... Args>
cudaError_t launch_kernel(bool dependent, void (*kernel)(Params...), dim3 grid, dim3 block, size_t smem,
                          cudaStream_t stream, Args&&... args) {
#if CUDART_VERSION >= 11080
  if (dependent) {
    cudaLaunchConfig_t cfg = {};
    cfg.gridDim = grid;
    cfg.blockDim = block;
    cfg.dynamicSmemBytes = smem;
    cfg.stream = stream;
    cudaLaunchAttribute attr[1];
    attr[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
    attr[0].val.programmaticStreamSerializationAllowed = 1;
    cfg.attrs = attr;
    cfg.numAttrs = 1;
    return cudaLaunchKernelEx(&cfg, kernel, std::forward<Args>(args)...);
  }
#endif
  kernel<<<grid, block, smem, stream>>>(std::forward<Args>(args)...);
  return cudaGetLastError();
}

}  // namespace jetchat::cuda
