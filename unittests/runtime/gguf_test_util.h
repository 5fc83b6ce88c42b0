// Helpers for the GGUF, writer and model tests: a byte builder for
// hand-made (often corrupt) files, and paths to the shared test models.
#pragma once

#include "smepilot_rt/gguf.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace smepilot::rt::test {

/// Appends little-endian GGUF fields; `at()` remembers offsets for patching.
struct gguf_bytes {
  std::vector<uint8_t> b;

  size_t size() const { return b.size(); }
  template <typename T> gguf_bytes &put(T v) {
    uint8_t tmp[sizeof(T)];
    std::memcpy(tmp, &v, sizeof(T));
    b.insert(b.end(), tmp, tmp + sizeof(T));
    return *this;
  }
  gguf_bytes &u8(uint8_t v) { return put(v); }
  gguf_bytes &u32(uint32_t v) { return put(v); }
  gguf_bytes &u64(uint64_t v) { return put(v); }
  gguf_bytes &str(std::string_view s) {
    u64(s.size());
    b.insert(b.end(), s.begin(), s.end());
    return *this;
  }
  gguf_bytes &header(uint64_t n_tensors, uint64_t n_kv, uint32_t version = 3) {
    b.insert(b.end(), {'G', 'G', 'U', 'F'});
    return u32(version).u64(n_tensors).u64(n_kv);
  }
  gguf_bytes &kv_u32(std::string_view key, uint32_t v) { return str(key).u32(4).u32(v); }
  gguf_bytes &kv_str(std::string_view key, std::string_view v) { return str(key).u32(8).str(v); }
  gguf_bytes &tensor_info(std::string_view name, std::vector<uint64_t> dims, uint32_t type,
                          uint64_t offset) {
    str(name).u32(uint32_t(dims.size()));
    for (uint64_t d : dims)
      u64(d);
    return u32(type).u64(offset);
  }
  gguf_bytes &pad_to(uint64_t alignment) {
    while (b.size() % alignment)
      b.push_back(0);
    return *this;
  }
  gguf_bytes &zeros(size_t n) {
    b.insert(b.end(), n, 0);
    return *this;
  }
  template <typename T> void patch(size_t at, T v) { std::memcpy(&b[at], &v, sizeof(T)); }
};

/// Offset of the first occurrence of `needle` in `hay` (npos if absent).
inline size_t find_bytes(const std::vector<uint8_t> &hay, std::string_view needle) {
  std::string_view h(reinterpret_cast<const char *>(hay.data()), hay.size());
  return h.find(needle);
}

inline std::string models_dir() { return SMEPILOT_MODELS_DIR; }
inline std::string model_path(std::string_view name) {
  return models_dir() + "/" + std::string(name);
}

/// Fails (never skips) when the shared models are missing.
#define SMEPILOT_REQUIRE_MODELS()                                                                  \
  ASSERT_TRUE(std::filesystem::is_directory(::smepilot::rt::test::models_dir()))                   \
      << "test models not found at " << ::smepilot::rt::test::models_dir()                         \
      << " (SMEPILOT_MODELS_DIR); these tests need /work/shared/models"

/// Parses `bytes` and returns the error message ("" if it parsed).
inline std::string parse_error(std::vector<uint8_t> bytes, std::string name = "t.gguf") {
  auto f = gguf_file::from_bytes(std::move(bytes), std::move(name));
  return f ? std::string() : f.error().message();
}

} // namespace smepilot::rt::test
