// AWQ's weight clipping search (Lin et al. 2023; AutoAWQ's _search_best_clip): per group of one output row, the
// range [min, max] the 4-bit grid spans is shrunk by the factor that loses least on the calibration inputs.
// Clipping a few large weights buys a finer step for all the others; the inputs decide whether that pays.
#pragma once

#include <cstdint>
#include <vector>

namespace jetchat::quant {

// The calibration inputs' second moments per group of `group` input channels: for group g, the [group, group]
// matrix G_g = Σ_t x_t,g x_t,gᵀ over every calibration row t. A change d of one output row's group g of weights
// changes that group's partial sums of the row's outputs by a squared total of dᵀ G_g d over all calibration
// rows, so the search needs no pass over the tokens.
struct GroupGram {
  int64_t cols = 0;
  int group = 0;
  std::vector<double> g;  // [cols / group][group][group]
};

// x: [tokens, cols] f32 inputs of the linear; in_scale: [cols] divisors of x (the AWQ scales folded into the
// op that produces x), or empty for none. threads: 0 for one per core.
GroupGram group_gram(const std::vector<float>& x, int64_t cols, const std::vector<float>& in_scale, int group,
                     int threads = 0);

// w: [rows, cols] f32, changed in place: each group's weights clamped to the range whose round-to-nearest
// loses least, dᵀ G_g d, with the unclipped range among the candidates (as AutoAWQ, the groups are scored apart:
// the cross terms between groups are left out). Returns that error summed, unclipped and chosen.
struct ClipResult {
  double before = 0, after = 0;
};
ClipResult clip_search(float* w, int64_t rows, const GroupGram& gram, int threads = 0);

}  // namespace jetchat::quant
