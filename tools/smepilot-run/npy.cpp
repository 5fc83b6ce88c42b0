// smepilot-run: .npy writer. Layout: magic "\x93NUMPY", version 1.0, a
// little-endian u16 header length, then an ASCII dict padded with spaces and
// ended by '\n' so that the data starts on a 64-byte boundary, then the raw
// float32 data.
#include "npy.h"

#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace smepilot::run {

rt::status write_npy_f32(const std::string &path,
                         const std::vector<int64_t> &shape, const float *data) {
  static_assert(std::endian::native == std::endian::little,
                "the writer assumes little-endian");
  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (";
  uint64_t count = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    dict += std::to_string(shape[i]);
    dict += shape.size() == 1 ? "," : (i + 1 < shape.size() ? ", " : "");
    count *= uint64_t(shape[i]);
  }
  dict += "), }";
  const size_t preamble = 10;
  size_t total = preamble + dict.size() + 1;
  dict.append((64 - total % 64) % 64, ' ');
  dict += '\n';
  std::string header = "\x93NUMPY";
  header += char(1);
  header += char(0);
  header += char(dict.size() & 0xff);
  header += char(dict.size() >> 8);
  header += dict;

  std::FILE *f = std::fopen(path.c_str(), "wb");
  if (!f)
    return rt::status::error(
        path + ": cannot open for writing: " + std::strerror(errno));
  bool ok = std::fwrite(header.data(), 1, header.size(), f) == header.size() &&
            std::fwrite(data, sizeof(float), count, f) == count;
  ok = (std::fclose(f) == 0) && ok;
  if (!ok)
    return rt::status::error(path + ": write failed: " + std::strerror(errno));
  return rt::status::ok();
}

} // namespace smepilot::run
