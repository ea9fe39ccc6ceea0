// How far a result is from its reference, as the tests state their bounds.
#pragma once

#include <vector>

namespace jetchat::test {

// ‖got − ref‖₂ / ‖ref‖₂ in double; infinite when `got` holds a non-finite value (a poisoned element never
// written, a NaN), so that any bound fails.
double relative_l2_error(const std::vector<float>& got, const std::vector<float>& ref);

}  // namespace jetchat::test
