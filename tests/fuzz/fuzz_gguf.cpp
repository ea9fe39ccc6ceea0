// libFuzzer target for the GGUF reader: any bytes must parse or be refused, never read out of bounds or overflow.
// Build with clang: cmake -DCMAKE_CXX_COMPILER=clang++ -DJETCHAT_FUZZ=ON, then `ninja fuzz_gguf` and run
// `fuzz_gguf -max_total_time=600 CORPUS_DIR` with CORPUS_DIR seeded with a few small valid GGUF files.
#include <cstddef>
#include <cstdint>

#include "gguf.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto f = jetchat::GgufFile::parse("fuzz.gguf", data, size);
  if (!f) return 0;
  // Every accessor over every key, whatever its type: each must answer or refuse.
  for (const auto& [key, value] : (*f)->metadata()) {
    (void)(*f)->get_uint(key);
    (void)(*f)->get_int(key);
    (void)(*f)->get_float(key);
    (void)(*f)->get_bool(key);
    (void)(*f)->get_string(key);
    (void)(*f)->get_string_array(key);
    (void)(*f)->get_float_array(key);
    (void)(*f)->get_int_array(key);
  }
  // Touch the first and last byte of every tensor, so the sanitizer checks the validated extents.
  volatile uint8_t sink = 0;
  for (const auto& t : (*f)->tensors()) sink = sink ^ t.data[0] ^ t.data[t.nbytes - 1];
  return 0;
}
