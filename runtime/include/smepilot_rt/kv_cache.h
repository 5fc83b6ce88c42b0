// SMEPilot runtime: the attention key/value cache.
//
// One K and one V buffer per layer, each laid out [kv_head][position][head_dim]
// so that all keys (values) of one head are contiguous: attention for one head
// walks a single dense [n_pos][head_dim] matrix. Elements are F32 or F16 (F16
// halves the memory; values are rounded to nearest even when stored).
//
// Capacity is the context length: positions 0..capacity-1. Memory is reserved
// untouched, so the operating system only backs the pages that positions
// actually written use; a very large capacity (a model's full n_ctx_train) is
// cheap until it is filled, but must still fit in the address space.
#pragma once

#include "smepilot_rt/status.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

namespace smepilot::rt {

enum class kv_cache_type { f32, f16 };

/// "f32" / "f16".
const char *kv_cache_type_name(kv_cache_type type);
/// Parses "f32" / "f16"; fails with a message naming the accepted values.
result<kv_cache_type> parse_kv_cache_type(std::string_view name);

struct kv_cache_shape {
  int32_t n_layer = 0;
  int32_t n_ctx = 0; ///< Capacity in positions.
  int32_t n_head_kv = 0;
  int32_t head_dim_k = 0;
  int32_t head_dim_v = 0;
};

class kv_cache {
public:
  /// Reserves the cache (address space, backed as positions are written);
  /// fails with the size and the flag to change (-c) when the shape's bytes
  /// overflow, exceed the address space left (ulimit -v) or cannot be
  /// reserved, or when the shape is invalid.
  static result<std::unique_ptr<kv_cache>> create(const kv_cache_shape &shape, kv_cache_type type);

  const kv_cache_shape &shape() const { return shape_; }
  kv_cache_type type() const { return type_; }
  int32_t capacity() const { return shape_.n_ctx; }
  /// Total bytes reserved for K and V of all layers.
  uint64_t bytes() const { return bytes_; }
  /// Bytes one position takes over all layers (K + V).
  uint64_t bytes_per_position() const;

  /// Ok when positions [pos, pos + n_tokens) are inside the cache; otherwise
  /// an error saying how many positions are needed and how many there are.
  status check_room(int64_t pos, int64_t n_tokens) const;

  /// Stores the K and V rows of one position of `layer`: `k` holds
  /// n_head_kv * head_dim_k floats (head-major), `v` n_head_kv * head_dim_v.
  void store(int32_t layer, int32_t pos, const float *k, const float *v);

  /// The keys of positions [0, n_pos) of one head as a dense
  /// [n_pos][head_dim_k] F32 matrix: a pointer into the cache for F32, or
  /// `scratch` (n_pos * head_dim_k floats) filled by conversion for F16.
  const float *keys(int32_t layer, int32_t head, int32_t n_pos, float *scratch) const;
  /// The values, as keys() ([n_pos][head_dim_v]).
  const float *values(int32_t layer, int32_t head, int32_t n_pos, float *scratch) const;

private:
  kv_cache() = default;
  const float *read(const uint8_t *base, int32_t layer, int32_t head, int32_t n_pos,
                    int32_t head_dim, float *scratch) const;
  uint8_t *slot(uint8_t *base, int32_t layer, int32_t head, int32_t pos, int32_t head_dim) const;

  kv_cache_shape shape_;
  kv_cache_type type_ = kv_cache_type::f32;
  size_t elt_size_ = 4;
  uint64_t bytes_ = 0;
  std::shared_ptr<void> storage_; ///< The reservation k_ and v_ point into.
  uint8_t *k_ = nullptr;
  uint8_t *v_ = nullptr;
};

} // namespace smepilot::rt
