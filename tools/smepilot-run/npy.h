// smepilot-run: writing float32 .npy files (NumPy format version 1.0).
#pragma once

#include "smepilot_rt/status.h"

#include <cstdint>
#include <string>
#include <vector>

namespace smepilot::run {

/// Writes `data` (row-major, shape[0] * shape[1] * ... floats) as a
/// little-endian float32 C-order .npy file, through rt::output_file (never
/// onto one of `inputs`, atomically replacing an existing file).
rt::status write_npy_f32(const std::string &path,
                         const std::vector<int64_t> &shape, const float *data,
                         const std::vector<std::string> &inputs = {});

} // namespace smepilot::run
