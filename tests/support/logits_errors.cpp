#include "support/logits_errors.h"

#include <algorithm>

#include "model_impl.h"
#include "support/error_norms.h"

namespace jetchat::test {

LogitsErrors logits_errors(Model& reference, Model& other, const std::vector<int32_t>& ids, int prompt, int capacity) {
  const int vocab = reference.impl().config.vocab_size;
  Transformer& tr = *reference.impl().transformer;
  Transformer& to = *other.impl().transformer;
  auto kr = tr.alloc_kv(capacity, reference.impl().kv_dtype), ko = to.alloc_kv(capacity, other.impl().kv_dtype);
  LogitsErrors e;
  if (kr.is_ok() && ko.is_ok()) {
    std::vector<float> lr(size_t(prompt) * size_t(vocab)), lo(lr.size());
    tr.forward(*kr, ids.data(), prompt, 0, true, lr.data());
    to.forward(*ko, ids.data(), prompt, 0, true, lo.data());
    e.prefill = relative_l2_error(lo, lr);
    e.decode = 0;
    for (int i = prompt; i < int(ids.size()); ++i) {
      std::vector<float> sr(static_cast<size_t>(vocab)), so(static_cast<size_t>(vocab));
      tr.forward(*kr, &ids[size_t(i)], 1, i, false, sr.data());
      to.forward(*ko, &ids[size_t(i)], 1, i, false, so.data());
      e.decode = std::max(e.decode, relative_l2_error(so, sr));
    }
  }
  if (kr.is_ok()) tr.free_kv(*kr);
  if (ko.is_ok()) to.free_kv(*ko);
  return e;
}

}  // namespace jetchat::test
