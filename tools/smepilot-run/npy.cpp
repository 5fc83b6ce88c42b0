// smepilot-run: .npy writer. Layout: magic "\x93NUMPY", version 1.0, a
// little-endian u16 header length, then an ASCII dict padded with spaces and
// ended by '\n' so that the data starts on a 64-byte boundary, then the raw
// float32 data.
#include "npy.h"

#include "smepilot_rt/output_file.h"

#include <bit>

namespace smepilot::run {

rt::status write_npy_f32(const std::string &path,
                         const std::vector<int64_t> &shape, const float *data,
                         const std::vector<std::string> &inputs) {
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

  // Through a temporary renamed into place (output_file.h): a failed write
  // leaves the previous file as it was.
  auto out = rt::output_file::create(path, inputs);
  if (!out)
    return out.take_error();
  SMEPILOT_RT_RETURN_IF_ERROR((*out)->write(header.data(), header.size()));
  SMEPILOT_RT_RETURN_IF_ERROR((*out)->write(data, count * sizeof(float)));
  return (*out)->commit();
}

} // namespace smepilot::run
