// SMEPilot runtime: the GGUF v3 writer.
//
// Metadata is encoded into one buffer as it is added; tensor infos are
// computed at write time from the recorded shapes, and tensor data is copied
// from the caller's bytes or produced chunk by chunk by a fill callback, so
// writing needs memory for the metadata and one 4 MiB chunk, not the model.
#include "smepilot_rt/gguf_writer.h"

#include "smepilot_rt/output_file.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>

#include <fcntl.h>
#include <unistd.h>

namespace smepilot::rt {
namespace {

constexpr uint64_t fill_chunk = 4ull << 20;
constexpr uint64_t header_size = 4 + 4 + 8 + 8;
constexpr size_t file_buffer_size = 1u << 20;

template <typename T> void append(std::vector<uint8_t> &out, T v) {
  uint8_t b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  out.insert(out.end(), b, b + sizeof(T));
}

void append_string(std::vector<uint8_t> &out, std::string_view s) {
  append<uint64_t>(out, s.size());
  out.insert(out.end(), s.begin(), s.end());
}

uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

constexpr uint32_t id(gguf_type type) { return static_cast<uint32_t>(type); }

} // namespace

gguf_writer::gguf_writer(uint64_t alignment) : alignment_(alignment) {
  if (alignment == 0 || (alignment & (alignment - 1)) != 0 ||
      alignment > std::numeric_limits<uint32_t>::max()) {
    fail("gguf_writer: alignment " + std::to_string(alignment) +
         " is not a non-zero power of two that fits in uint32");
    alignment_ = 32;
    return;
  }
  if (alignment != 32)
    add_u32("general.alignment", uint32_t(alignment));
}

void gguf_writer::fail(std::string message) {
  if (error_.is_ok())
    error_ = status::error(std::move(message));
}

bool gguf_writer::begin_key(std::string_view key, uint32_t type_id) {
  if (!keys_.emplace(key).second) {
    fail("gguf_writer: key '" + std::string(key) + "' added twice");
    return false;
  }
  ++n_kv_;
  append_string(kv_bytes_, key);
  append<uint32_t>(kv_bytes_, type_id);
  return true;
}

template <typename T> void gguf_writer::add_scalar(std::string_view key, uint32_t type_id, T v) {
  if (begin_key(key, type_id))
    append<T>(kv_bytes_, v);
}

void gguf_writer::add_u8(std::string_view key, uint8_t v) {
  add_scalar(key, id(gguf_type::uint8), v);
}
void gguf_writer::add_i8(std::string_view key, int8_t v) {
  add_scalar(key, id(gguf_type::int8), v);
}
void gguf_writer::add_u16(std::string_view key, uint16_t v) {
  add_scalar(key, id(gguf_type::uint16), v);
}
void gguf_writer::add_i16(std::string_view key, int16_t v) {
  add_scalar(key, id(gguf_type::int16), v);
}
void gguf_writer::add_u32(std::string_view key, uint32_t v) {
  add_scalar(key, id(gguf_type::uint32), v);
}
void gguf_writer::add_i32(std::string_view key, int32_t v) {
  add_scalar(key, id(gguf_type::int32), v);
}
void gguf_writer::add_u64(std::string_view key, uint64_t v) {
  add_scalar(key, id(gguf_type::uint64), v);
}
void gguf_writer::add_i64(std::string_view key, int64_t v) {
  add_scalar(key, id(gguf_type::int64), v);
}
void gguf_writer::add_f32(std::string_view key, float v) {
  add_scalar(key, id(gguf_type::float32), v);
}
void gguf_writer::add_f64(std::string_view key, double v) {
  add_scalar(key, id(gguf_type::float64), v);
}
void gguf_writer::add_bool(std::string_view key, bool v) {
  add_scalar<uint8_t>(key, id(gguf_type::boolean), v ? 1 : 0);
}
void gguf_writer::add_string(std::string_view key, std::string_view v) {
  if (begin_key(key, id(gguf_type::string)))
    append_string(kv_bytes_, v);
}

template <typename T>
void gguf_writer::add_numeric_array(std::string_view key, uint32_t type_id, std::span<const T> v) {
  if (!begin_key(key, id(gguf_type::array)))
    return;
  append<uint32_t>(kv_bytes_, type_id);
  append<uint64_t>(kv_bytes_, v.size());
  for (const T &x : v)
    append<T>(kv_bytes_, x);
}

void gguf_writer::add_array(std::string_view key, std::span<const uint8_t> v) {
  add_numeric_array(key, id(gguf_type::uint8), v);
}
void gguf_writer::add_array(std::string_view key, std::span<const int8_t> v) {
  add_numeric_array(key, id(gguf_type::int8), v);
}
void gguf_writer::add_array(std::string_view key, std::span<const uint16_t> v) {
  add_numeric_array(key, id(gguf_type::uint16), v);
}
void gguf_writer::add_array(std::string_view key, std::span<const int16_t> v) {
  add_numeric_array(key, id(gguf_type::int16), v);
}
void gguf_writer::add_array(std::string_view key, std::span<const uint32_t> v) {
  add_numeric_array(key, id(gguf_type::uint32), v);
}
void gguf_writer::add_array(std::string_view key, std::span<const int32_t> v) {
  add_numeric_array(key, id(gguf_type::int32), v);
}
void gguf_writer::add_array(std::string_view key, std::span<const uint64_t> v) {
  add_numeric_array(key, id(gguf_type::uint64), v);
}
void gguf_writer::add_array(std::string_view key, std::span<const int64_t> v) {
  add_numeric_array(key, id(gguf_type::int64), v);
}
void gguf_writer::add_array(std::string_view key, std::span<const float> v) {
  add_numeric_array(key, id(gguf_type::float32), v);
}
void gguf_writer::add_array(std::string_view key, std::span<const double> v) {
  add_numeric_array(key, id(gguf_type::float64), v);
}

void gguf_writer::add_bool_array(std::string_view key, const std::vector<bool> &v) {
  if (!begin_key(key, id(gguf_type::array)))
    return;
  append<uint32_t>(kv_bytes_, id(gguf_type::boolean));
  append<uint64_t>(kv_bytes_, v.size());
  for (bool b : v)
    kv_bytes_.push_back(b ? 1 : 0);
}

void gguf_writer::add_string_array(std::string_view key, size_t n,
                                   const std::function<std::string_view(size_t)> &at) {
  if (!begin_key(key, id(gguf_type::array)))
    return;
  append<uint32_t>(kv_bytes_, id(gguf_type::string));
  append<uint64_t>(kv_bytes_, n);
  for (size_t i = 0; i < n; ++i)
    append_string(kv_bytes_, at(i));
}

void gguf_writer::add_array(std::string_view key, std::span<const std::string> v) {
  add_string_array(key, v.size(), [&](size_t i) { return std::string_view(v[i]); });
}
void gguf_writer::add_array(std::string_view key, std::span<const std::string_view> v) {
  add_string_array(key, v.size(), [&](size_t i) { return v[i]; });
}

void gguf_writer::add_raw(std::string_view key, uint32_t type_id,
                          std::span<const uint8_t> encoded_value) {
  if (begin_key(key, type_id))
    kv_bytes_.insert(kv_bytes_.end(), encoded_value.begin(), encoded_value.end());
}

uint64_t gguf_writer::tensor_bytes(ggml_type type, const std::vector<int64_t> &dims) {
  const ggml_type_traits *tr = ggml_traits(type);
  if (!tr || dims.empty() || dims.size() > 4)
    return 0;
  for (int64_t d : dims)
    if (d <= 0)
      return 0;
  if (uint64_t(dims[0]) % tr->block_size != 0)
    return 0;
  uint64_t bytes = uint64_t(dims[0]) / tr->block_size, elems = 1;
  if (__builtin_mul_overflow(bytes, uint64_t(tr->type_size), &bytes))
    return 0;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (__builtin_mul_overflow(elems, uint64_t(dims[i]), &elems) ||
        (i > 0 && __builtin_mul_overflow(bytes, uint64_t(dims[i]), &bytes)))
      return 0;
  }
  if (elems > uint64_t(std::numeric_limits<int64_t>::max()))
    return 0;
  return bytes;
}

bool gguf_writer::check_tensor(std::string_view name, ggml_type type,
                               const std::vector<int64_t> &dims, uint64_t &n_bytes) {
  const std::string what = "gguf_writer: tensor '" + std::string(name) + "': ";
  const ggml_type_traits *tr = ggml_traits(type);
  if (!tr) {
    fail(what + "unknown ggml type id " + std::to_string(uint32_t(type)));
    return false;
  }
  n_bytes = tensor_bytes(type, dims);
  if (n_bytes == 0) {
    fail(what + "invalid shape " + gguf_dims_string(dims) + " for " + tr->name +
         " (1 to 4 positive dims, ne[0] a multiple of " + std::to_string(tr->block_size) +
         ", no overflow)");
    return false;
  }
  if (tensor_names_.count(std::string(name))) {
    fail(what + "added twice");
    return false;
  }
  return true;
}

void gguf_writer::push_tensor(tensor t) {
  tensor_names_.insert(t.name);
  t.offset = data_size_;
  data_size_ = align_up(data_size_ + t.n_bytes, alignment_);
  tensors_.push_back(std::move(t));
}

void gguf_writer::add_tensor(std::string_view name, ggml_type type, std::vector<int64_t> dims,
                             std::vector<uint8_t> bytes) {
  tensor t;
  t.owned = std::move(bytes);
  t.ref = t.owned; // stays valid: moving the tensor moves the vector's buffer with it
  add_bytes_tensor(name, type, std::move(dims), std::move(t));
}

void gguf_writer::add_tensor_ref(std::string_view name, ggml_type type, std::vector<int64_t> dims,
                                 std::span<const uint8_t> bytes) {
  tensor t;
  t.ref = bytes;
  add_bytes_tensor(name, type, std::move(dims), std::move(t));
}

void gguf_writer::add_bytes_tensor(std::string_view name, ggml_type type, std::vector<int64_t> dims,
                                   tensor t) {
  if (!check_tensor(name, type, dims, t.n_bytes))
    return;
  if (t.ref.size() != t.n_bytes) {
    fail("gguf_writer: tensor '" + std::string(name) + "': " + std::to_string(t.ref.size()) +
         " bytes given, " + ggml_type_name(type) + " " + gguf_dims_string(dims) + " takes " +
         std::to_string(t.n_bytes));
    return;
  }
  t.name = name;
  t.type = type;
  t.dims = std::move(dims);
  push_tensor(std::move(t));
}

void gguf_writer::add_tensor_stream(std::string_view name, ggml_type type,
                                    std::vector<int64_t> dims, fill_fn fill) {
  tensor t;
  if (!check_tensor(name, type, dims, t.n_bytes))
    return;
  if (!fill) {
    fail("gguf_writer: tensor '" + std::string(name) + "': no fill function");
    return;
  }
  t.name = name;
  t.type = type;
  t.dims = std::move(dims);
  t.fill = std::move(fill);
  push_tensor(std::move(t));
}

uint64_t gguf_writer::infos_size() const {
  uint64_t n = 0;
  for (const tensor &t : tensors_)
    n += 8 + t.name.size() + 4 + 8 * t.dims.size() + 4 + 8;
  return n;
}

uint64_t gguf_writer::data_offset() const {
  return align_up(header_size + kv_bytes_.size() + infos_size(), alignment_);
}

uint64_t gguf_writer::file_size() const { return data_offset() + data_size_; }

status gguf_writer::write_to(const output_fn &out) const {
  if (!error_.is_ok())
    return error_;
  std::vector<uint8_t> head;
  head.reserve(size_t(header_size + kv_bytes_.size() + infos_size()));
  head.insert(head.end(), {'G', 'G', 'U', 'F'});
  append<uint32_t>(head, 3);
  append<uint64_t>(head, tensors_.size());
  append<uint64_t>(head, n_kv_);
  head.insert(head.end(), kv_bytes_.begin(), kv_bytes_.end());
  for (const tensor &t : tensors_) {
    append_string(head, t.name);
    append<uint32_t>(head, uint32_t(t.dims.size()));
    for (int64_t d : t.dims)
      append<uint64_t>(head, uint64_t(d));
    append<uint32_t>(head, uint32_t(t.type));
    append<uint64_t>(head, t.offset);
  }
  head.resize(size_t(data_offset()), 0);
  SMEPILOT_RT_RETURN_IF_ERROR(out(head.data(), head.size()));
  head = {};

  static const uint8_t zeros[512] = {};
  std::vector<uint8_t> chunk;
  uint64_t written = 0; // within the data section
  for (const tensor &t : tensors_) {
    if (t.fill) {
      chunk.resize(size_t(std::min(t.n_bytes, fill_chunk)));
      for (uint64_t done = 0; done < t.n_bytes;) {
        const size_t n = size_t(std::min<uint64_t>(chunk.size(), t.n_bytes - done));
        status s = t.fill(done, std::span<uint8_t>(chunk.data(), n));
        if (!s.is_ok())
          return status::error("gguf_writer: tensor '" + t.name + "': " + s.message());
        SMEPILOT_RT_RETURN_IF_ERROR(out(chunk.data(), n));
        done += n;
      }
    } else {
      SMEPILOT_RT_RETURN_IF_ERROR(out(t.ref.data(), t.ref.size()));
    }
    written += t.n_bytes;
    uint64_t pad = align_up(written, alignment_) - written;
    while (pad > 0) {
      size_t k = size_t(std::min<uint64_t>(pad, sizeof zeros));
      SMEPILOT_RT_RETURN_IF_ERROR(out(zeros, k));
      pad -= k;
      written += k;
    }
  }
  return status::ok();
}

result<std::vector<uint8_t>> gguf_writer::write_bytes() const {
  if (!error_.is_ok())
    return error_;
  std::vector<uint8_t> bytes;
  bytes.reserve(size_t(file_size()));
  status s = write_to([&](const uint8_t *p, size_t n) {
    bytes.insert(bytes.end(), p, p + n);
    return status::ok();
  });
  if (!s.is_ok())
    return s;
  return bytes;
}

status gguf_writer::write_file(const std::string &path,
                               const std::vector<std::string> &inputs) const {
  if (!error_.is_ok())
    return error_;
  auto file = output_file::create(path, inputs);
  if (!file)
    return file.take_error();
  output_file &out = **file;
  std::vector<uint8_t> buffer;
  buffer.reserve(file_buffer_size);
  auto flush = [&]() -> status {
    status s = out.write(buffer.data(), buffer.size());
    buffer.clear();
    return s;
  };
  status s = write_to([&](const uint8_t *p, size_t n) -> status {
    if (buffer.size() + n > file_buffer_size) {
      SMEPILOT_RT_RETURN_IF_ERROR(flush());
      if (n >= file_buffer_size)
        return out.write(p, n); // large spans go straight through
    }
    buffer.insert(buffer.end(), p, p + n);
    return status::ok();
  });
  if (!s.is_ok())
    return s; // the temporary is removed with `file`
  SMEPILOT_RT_RETURN_IF_ERROR(flush());
  return out.commit();
}

} // namespace smepilot::rt
