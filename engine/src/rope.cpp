#include "rope.h"

#include <cmath>

namespace jetchat {

std::vector<float> rope_inv_freq(const ModelConfig& c, int seq_len) {
  const int D = c.head_dim;
  const auto& s = c.rope_scaling;
  double base = c.rope_theta;
  if (s.type == RopeScalingType::kDynamic && seq_len > c.max_position)
    base *= std::pow(s.factor * seq_len / c.max_position - (s.factor - 1.0), double(D) / (D - 2));
  std::vector<float> inv(D / 2);
  for (int j = 0; j < D / 2; ++j) {
    double f = 1.0 / std::pow(base, 2.0 * j / D);
    if (s.type == RopeScalingType::kLinear) {
      f /= s.factor;
    } else if (s.type == RopeScalingType::kLlama3) {
      const double low_wavelen = s.original_max_position / s.low_freq_factor;
      const double high_wavelen = s.original_max_position / s.high_freq_factor;
      const double wavelen = 2 * M_PI / f;
      if (wavelen > low_wavelen) {
        f /= s.factor;
      } else if (wavelen >= high_wavelen) {
        const double smooth = (s.original_max_position / wavelen - s.low_freq_factor) /
                              (s.high_freq_factor - s.low_freq_factor);
        f = (1 - smooth) * f / s.factor + smooth * f;
      }
    }
    if (!c.rope_freq_factors.empty()) f /= c.rope_freq_factors[size_t(j)];
    inv[j] = float(f);
  }
  return inv;
}

}  // namespace jetchat
