// SMEPilot runtime: writing GGUF v3 files (the layout is described in gguf.h).
//
// Metadata is encoded as it is added (in order); tensors are described first
// and their bytes are produced only while writing, so a multi-GB model never
// has to be in memory at once:
//
//   gguf_writer w;                       // alignment 32
//   w.add_string("general.architecture", "llama");
//   w.add_u32("llama.block_count", 2);
//   w.add_array("tokenizer.ggml.tokens", tokens);        // span of strings
//   w.add_tensor("output_norm.weight", ggml_type::f32, {64}, bytes);  // owned copy
//   w.add_tensor_ref("token_embd.weight", ggml_type::f16, {64, 512}, span); // borrowed
//   w.add_tensor_stream("blk.0.ffn_up.weight", ggml_type::q8_0, {4096, 14336},
//                       [&](uint64_t offset, std::span<uint8_t> out) {
//                         ... fill out with bytes [offset, offset + out.size()) ...
//                         return status::ok();
//                       });
//   status s = w.write_file("model.gguf");  // or write_bytes()
//
// The add_* calls do not return a status: the first mistake (a duplicate key
// or tensor name, a bad shape, a data size that does not match the shape) is
// remembered and returned by error() and by every write. Files are written
// to a fresh temporary beside PATH and renamed into place only when complete
// (output_file.h).
#pragma once

#include "smepilot_rt/ggml_types.h"
#include "smepilot_rt/gguf.h"
#include "smepilot_rt/status.h"

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace smepilot::rt {

class gguf_writer {
public:
  /// Produces bytes [offset, offset + out.size()) of a tensor's data. Called
  /// with consecutive, non-overlapping chunks in order (at most 4 MiB each).
  using fill_fn = std::function<status(uint64_t offset, std::span<uint8_t> out)>;

  /// `alignment` must be a non-zero power of two; a value other than the
  /// default 32 is also recorded as the uint32 key general.alignment.
  explicit gguf_writer(uint64_t alignment = 32);

  uint64_t alignment() const { return alignment_; }
  /// The first error of any add_* call, or ok.
  const status &error() const { return error_; }

  // Scalars and strings.
  void add_u8(std::string_view key, uint8_t v);
  void add_i8(std::string_view key, int8_t v);
  void add_u16(std::string_view key, uint16_t v);
  void add_i16(std::string_view key, int16_t v);
  void add_u32(std::string_view key, uint32_t v);
  void add_i32(std::string_view key, int32_t v);
  void add_u64(std::string_view key, uint64_t v);
  void add_i64(std::string_view key, int64_t v);
  void add_f32(std::string_view key, float v);
  void add_f64(std::string_view key, double v);
  void add_bool(std::string_view key, bool v);
  void add_string(std::string_view key, std::string_view v);

  // Arrays (the element type follows the span's element type).
  void add_array(std::string_view key, std::span<const uint8_t> v);
  void add_array(std::string_view key, std::span<const int8_t> v);
  void add_array(std::string_view key, std::span<const uint16_t> v);
  void add_array(std::string_view key, std::span<const int16_t> v);
  void add_array(std::string_view key, std::span<const uint32_t> v);
  void add_array(std::string_view key, std::span<const int32_t> v);
  void add_array(std::string_view key, std::span<const uint64_t> v);
  void add_array(std::string_view key, std::span<const int64_t> v);
  void add_array(std::string_view key, std::span<const float> v);
  void add_array(std::string_view key, std::span<const double> v);
  void add_array(std::string_view key, std::span<const std::string> v);
  void add_array(std::string_view key, std::span<const std::string_view> v);
  void add_bool_array(std::string_view key, const std::vector<bool> &v);

  /// Appends a key with an already-encoded value (type id, then the value's
  /// bytes as GGUF stores them), unchecked. For tests that need values the
  /// typed calls cannot express (nested arrays, bad bools, unknown types).
  void add_raw(std::string_view key, uint32_t type_id, std::span<const uint8_t> encoded_value);

  // Tensors, written in the order added. `dims` are ne[0] first.
  /// Copies `bytes` (convenient for small tensors and tests).
  void add_tensor(std::string_view name, ggml_type type, std::vector<int64_t> dims,
                  std::vector<uint8_t> bytes);
  /// Borrows `bytes`: they must stay valid until the last write.
  void add_tensor_ref(std::string_view name, ggml_type type, std::vector<int64_t> dims,
                      std::span<const uint8_t> bytes);
  /// Produces the bytes while writing, chunk by chunk.
  void add_tensor_stream(std::string_view name, ggml_type type, std::vector<int64_t> dims,
                         fill_fn fill);

  /// Bytes the data of a tensor of this shape takes (0 if invalid).
  static uint64_t tensor_bytes(ggml_type type, const std::vector<int64_t> &dims);

  /// Offset of the data section and total size of the file, as written.
  uint64_t data_offset() const;
  uint64_t file_size() const;

  /// Writes the file through output_file (output_file.h): a fresh temporary
  /// beside PATH, renamed into place when complete; PATH must not be one of
  /// `inputs` nor a directory, device or FIFO. Can be called again.
  status write_file(const std::string &path, const std::vector<std::string> &inputs = {}) const;
  /// The whole file as bytes.
  result<std::vector<uint8_t>> write_bytes() const;

private:
  struct tensor {
    std::string name;
    ggml_type type;
    std::vector<int64_t> dims;
    uint64_t n_bytes = 0;
    uint64_t offset = 0; // relative to the data section
    std::vector<uint8_t> owned;
    std::span<const uint8_t> ref;
    fill_fn fill;
  };
  using output_fn = std::function<status(const uint8_t *data, size_t size)>;

  bool begin_key(std::string_view key, uint32_t type_id);
  void fail(std::string message);
  template <typename T> void add_scalar(std::string_view key, uint32_t type_id, T v);
  template <typename T>
  void add_numeric_array(std::string_view key, uint32_t type_id, std::span<const T> v);
  void add_string_array(std::string_view key, size_t n,
                        const std::function<std::string_view(size_t)> &at);
  bool check_tensor(std::string_view name, ggml_type type, const std::vector<int64_t> &dims,
                    uint64_t &n_bytes);
  /// add_tensor and add_tensor_ref: checks `t.ref` (the bytes) against the
  /// shape, then adds `t`.
  void add_bytes_tensor(std::string_view name, ggml_type type, std::vector<int64_t> dims, tensor t);
  void push_tensor(tensor t);
  status write_to(const output_fn &out) const;
  uint64_t infos_size() const;

  uint64_t alignment_;
  status error_;
  uint64_t n_kv_ = 0;
  std::vector<uint8_t> kv_bytes_; // encoded key-value pairs
  std::unordered_set<std::string> keys_;
  std::unordered_set<std::string> tensor_names_;
  std::vector<tensor> tensors_;
  uint64_t data_size_ = 0; // data section size (tensors padded to alignment)
};

} // namespace smepilot::rt
