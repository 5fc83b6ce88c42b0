// smepilot-run: writing float32 .npy files (NumPy format version 1.0).
#pragma once

#include "smepilot_rt/status.h"

#include <cstdint>
#include <string>
#include <vector>

namespace smepilot::run {

/// Writes `data` (row-major, shape[0] * shape[1] * ... floats) as a
/// little-endian float32 C-order .npy file.
rt::status write_npy_f32(const std::string &path,
                         const std::vector<int64_t> &shape, const float *data);

} // namespace smepilot::run
