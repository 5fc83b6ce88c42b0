// SMEPilot runtime: GGUF model files.
//
// GGUF (versions 2 and 3), all little-endian:
//
//   u32 magic "GGUF" | u32 version | u64 n_tensors | u64 n_kv
//   n_kv x { string key | u32 value_type | value }
//   n_tensors x { string name | u32 n_dims | u64 dims[n_dims] | u32 ggml_type | u64 offset }
//   padding to `general.alignment` (default 32)
//   tensor data; each tensor's `offset` is relative to the start of this section
//   and a multiple of the alignment.
//
//   string = u64 length | bytes (not NUL-terminated)
//   value  = scalar | string | array
//   array  = u32 element value_type | u64 count | count x element
//
// Everything is validated when the file is opened, before any use: a file
// that opens is safe to read through this interface. Errors name the file,
// the byte offset, and the key or tensor concerned.
//
// Checked on open: magic; version (1 is rejected: it used 32-bit counts; a
// byte-swapped version is reported as a big-endian file); every count and
// string length against the bytes that remain (no allocation is ever sized by
// an unchecked count); value types; booleans are 0 or 1; nested arrays are
// rejected (the format allows them, no model uses them); duplicate keys;
// `general.alignment` (an integer, a non-zero power of two); per tensor:
// 1 to 4 dims, each > 0, element and byte counts without overflow, a known
// type id, ne[0] a multiple of the type's block size, an offset that is a
// multiple of the alignment, data inside the file and not overlapping another
// tensor; duplicate tensor names.
//
// Data pointers are aligned to `alignment` in files opened with open() (the
// image starts on a page); from_bytes() images are only as aligned as the
// vector's storage (16 bytes with the default allocator).
#pragma once

#include "smepilot_rt/ggml_types.h"
#include "smepilot_rt/status.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace smepilot::rt {

/// GGUF metadata value types, numbered as in the file format.
enum class gguf_type : uint32_t {
  uint8 = 0,
  int8 = 1,
  uint16 = 2,
  int16 = 3,
  uint32 = 4,
  int32 = 5,
  float32 = 6,
  boolean = 7,
  string = 8,
  array = 9,
  uint64 = 10,
  int64 = 11,
  float64 = 12,
};

/// "uint32", "string", ...: for messages.
const char *gguf_type_name(gguf_type type);

/// One metadata value. Strings and array payloads point into the file's
/// bytes, which live as long as the gguf_file.
struct gguf_value {
  gguf_type type = gguf_type::uint8;
  // Scalars (whichever matches `type`).
  uint64_t u = 0;
  int64_t i = 0;
  double f = 0;
  bool b = false;
  std::string_view str;
  // Arrays: element type, count, and the offset of the first element in the
  // file. Elements are decoded on demand by the typed accessors below.
  gguf_type array_type = gguf_type::uint8;
  uint64_t array_count = 0;
  uint64_t array_offset = 0;
};

/// The size in bytes of a scalar of `type` (0 for string and array).
uint64_t gguf_scalar_size(gguf_type type);

struct gguf_kv {
  std::string_view key;
  gguf_value value;
  uint64_t offset = 0; ///< Byte offset of the key in the file.
};

struct gguf_tensor_info {
  std::string_view name;
  ggml_type type = ggml_type::f32;
  std::vector<int64_t> dims; ///< ne[0] (innermost, contiguous) first, as in GGUF.
  uint64_t offset = 0;       ///< Relative to the data section.
  uint64_t n_elements = 0;
  uint64_t n_bytes = 0;
  const uint8_t *data = nullptr; ///< Valid while the gguf_file lives.
  uint64_t info_offset = 0;      ///< Byte offset of the tensor info (for messages).
};

/// "[64, 128256]": for messages and tools.
std::string gguf_dims_string(const std::vector<int64_t> &dims);

/// How tensor data is brought into memory.
enum class gguf_load_mode {
  /// Anonymous memory when the file fits comfortably in RAM, else mmap.
  automatic,
  /// mmap (MAP_PRIVATE, read-only). Pages may be evicted under pressure.
  mmap,
  /// Read the whole file into anonymous memory (immune to page-cache eviction).
  read,
};

struct gguf_open_options {
  gguf_load_mode mode = gguf_load_mode::automatic;
  /// Print a progress line to stderr while reading large files (> 256 MiB).
  bool progress = false;
};

/// "automatic", "mmap", "read".
const char *gguf_load_mode_name(gguf_load_mode mode);

/// MemAvailable from /proc/meminfo in bytes (falling back to sysconf), or 0
/// when it cannot be determined.
uint64_t system_mem_available();

/// The mode `requested` resolves to for a file of `file_size` bytes:
/// automatic becomes read when the file is smaller than half of
/// `mem_available` (0 = unknown: mmap), else mmap.
gguf_load_mode gguf_resolve_load_mode(gguf_load_mode requested, uint64_t file_size,
                                      uint64_t mem_available);

/// A validated, loaded GGUF file.
class gguf_file {
public:
  /// Opens and validates `path`.
  static result<std::unique_ptr<gguf_file>> open(const std::string &path,
                                                 const gguf_open_options &options = {});
  /// Validates an in-memory image (tests, fuzzing). `name` is used in messages.
  static result<std::unique_ptr<gguf_file>> from_bytes(std::vector<uint8_t> bytes,
                                                       std::string name = "<memory>");
  ~gguf_file();
  gguf_file(const gguf_file &) = delete;
  gguf_file &operator=(const gguf_file &) = delete;

  const std::string &path() const { return path_; }
  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }
  uint64_t file_size() const { return size_; }
  /// Which load mode was used in the end, and how long loading took.
  gguf_load_mode load_mode() const { return load_mode_; }
  double load_seconds() const { return load_seconds_; }

  const std::vector<gguf_kv> &metadata() const { return kvs_; }
  const gguf_kv *find(std::string_view key) const;

  // Typed accessors. Each fails with a message naming the file and the key
  // when the key is missing or has another type. Integer accessors accept any
  // integer type whose value fits.
  result<std::string_view> get_string(std::string_view key) const;
  result<uint64_t> get_uint(std::string_view key) const;
  result<int64_t> get_int(std::string_view key) const;
  result<double> get_float(std::string_view key) const;
  result<bool> get_bool(std::string_view key) const;
  result<std::vector<std::string_view>> get_string_array(std::string_view key) const;
  result<std::vector<float>> get_f32_array(std::string_view key) const;
  result<std::vector<int64_t>> get_int_array(std::string_view key) const;

  /// Decodes up to `max_count` elements of an array value (scalars and
  /// strings; each element's `type` is the array's element type).
  std::vector<gguf_value> array_elements(const gguf_value &array,
                                         uint64_t max_count = UINT64_MAX) const;

  const std::vector<gguf_tensor_info> &tensors() const { return tensors_; }
  const gguf_tensor_info *find_tensor(std::string_view name) const;

  /// Bytes of the whole image (header through tensor data).
  std::span<const uint8_t> bytes() const { return {base_, size_}; }

  /// Stops the whole pages inside [data, data + n_bytes) (a tensor's data,
  /// say, once nothing reads it but a packed copy of it) from counting
  /// against this process's resident memory, and returns how many bytes that
  /// was. Their contents stay readable: a later read faults them in again
  /// from the file. mmap mode drops them (MADV_DONTNEED on the file
  /// mapping); read mode maps the file's own pages over its copy of them.
  /// An image from bytes, or a range outside the image, releases nothing.
  /// As with any mapped file, a file changed on disk meanwhile is what such
  /// a later read sees: release only what nothing is expected to read.
  /// Const: the image's contents do not change, only where they live.
  uint64_t release_pages(const void *data, uint64_t n_bytes) const;

private:
  gguf_file() = default;
  status parse();

  std::string path_;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  const uint8_t *base_ = nullptr;
  uint64_t size_ = 0;
  gguf_load_mode load_mode_ = gguf_load_mode::read;
  double load_seconds_ = 0;
  std::vector<uint8_t> owned_; // read / from_bytes
  void *mapping_ = nullptr;    // mmap of the file, or anonymous memory (read)
  int fd_ = -1;                // read mode: the file, for release_pages
  std::vector<gguf_kv> kvs_;
  std::vector<gguf_tensor_info> tensors_;
  std::unordered_map<std::string_view, size_t> kv_index_;
  std::unordered_map<std::string_view, size_t> tensor_index_;
};

} // namespace smepilot::rt
