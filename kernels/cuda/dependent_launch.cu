// The switch for programmatic dependent launches (dependent_launch.h), set by the backend from its device.
#include "cuda/dependent_launch.h"
#include "cuda/ops.h"

namespace jetchat::cuda {
namespace {
bool enabled = false;
}  // namespace

void set_dependent_launch(bool on) { enabled = on; }
bool dependent_launch_enabled() { return enabled; }

}  // namespace jetchat::cuda
