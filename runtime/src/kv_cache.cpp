// SMEPilot runtime: the attention key/value cache (see kv_cache.h).
#include "smepilot_rt/kv_cache.h"

#include "smepilot_rt/ggml_types.h"
#include "smepilot_rt/memory.h"

#include "large_buffer.h"

#include <cstring>
#include <string>

namespace smepilot::rt {

const char *kv_cache_type_name(kv_cache_type type) {
  return type == kv_cache_type::f16 ? "f16" : "f32";
}

result<kv_cache_type> parse_kv_cache_type(std::string_view name) {
  if (name == "f32")
    return kv_cache_type::f32;
  if (name == "f16")
    return kv_cache_type::f16;
  return status::error("unknown KV cache type '" + std::string(name) + "' (expected f32 or f16)");
}

result<std::unique_ptr<kv_cache>> kv_cache::create(const kv_cache_shape &shape,
                                                   kv_cache_type type) {
  if (shape.n_layer <= 0 || shape.n_ctx <= 0 || shape.n_head_kv <= 0 || shape.head_dim_k <= 0 ||
      shape.head_dim_v <= 0)
    return status::error("invalid KV cache shape: n_layer " + std::to_string(shape.n_layer) +
                         ", n_ctx " + std::to_string(shape.n_ctx) + ", n_head_kv " +
                         std::to_string(shape.n_head_kv) + ", head_dim " +
                         std::to_string(shape.head_dim_k) + "/" + std::to_string(shape.head_dim_v) +
                         " (all must be positive)");
  std::unique_ptr<kv_cache> c(new kv_cache());
  c->shape_ = shape;
  c->type_ = type;
  c->elt_size_ = type == kv_cache_type::f16 ? 2 : 4;
  const std::string what = "the KV cache of " + std::to_string(shape.n_ctx) + " positions";
  std::optional<uint64_t> k_bytes =
      checked_product({uint64_t(shape.n_layer), uint64_t(shape.n_head_kv),
                       uint64_t(shape.head_dim_k), uint64_t(shape.n_ctx), c->elt_size_});
  std::optional<uint64_t> v_bytes =
      checked_product({uint64_t(shape.n_layer), uint64_t(shape.n_head_kv),
                       uint64_t(shape.head_dim_v), uint64_t(shape.n_ctx), c->elt_size_});
  if (!k_bytes || !v_bytes || *k_bytes > UINT64_MAX - *v_bytes ||
      *k_bytes + *v_bytes > uint64_t(SIZE_MAX) / 2)
    return status::error(what + " does not fit in the address space; use a smaller context "
                                "size (-c)");
  c->bytes_ = *k_bytes + *v_bytes;
  SMEPILOT_RT_RETURN_IF_ERROR(
      check_reservation(probe_memory_budget(), c->bytes_, what, "use a smaller context size (-c)"));
  // Reserved, not written: pages are only backed once positions are stored.
  result<large_buffer> buf = large_buffer::reserve(size_t(c->bytes_), what.c_str());
  if (!buf)
    return status::error(buf.error().message() + "; use a smaller context size (-c)");
  auto storage = std::make_shared<large_buffer>(std::move(*buf));
  c->k_ = static_cast<uint8_t *>(storage->data());
  c->v_ = c->k_ + *k_bytes;
  c->storage_ = std::move(storage);
  return c;
}

uint64_t kv_cache::bytes_per_position() const {
  return uint64_t(shape_.n_layer) * shape_.n_head_kv * (shape_.head_dim_k + shape_.head_dim_v) *
         elt_size_;
}

status kv_cache::check_room(int64_t pos, int64_t n_tokens) const {
  if (pos < 0 || n_tokens < 0)
    return status::error("invalid KV cache range: position " + std::to_string(pos) + ", " +
                         std::to_string(n_tokens) + " tokens");
  if (pos + n_tokens > shape_.n_ctx)
    return status::error("context overflow: positions up to " + std::to_string(pos + n_tokens) +
                         " are needed but the context holds " + std::to_string(shape_.n_ctx) +
                         " (raise -c or lower -n)");
  return status::ok();
}

uint8_t *kv_cache::slot(uint8_t *base, int32_t layer, int32_t head, int32_t pos,
                        int32_t head_dim) const {
  uint64_t index = ((uint64_t(layer) * shape_.n_head_kv + head) * shape_.n_ctx + pos) * head_dim;
  return base + index * elt_size_;
}

void kv_cache::store(int32_t layer, int32_t pos, const float *k, const float *v) {
  for (int32_t h = 0; h < shape_.n_head_kv; ++h) {
    const float *ks = k + int64_t(h) * shape_.head_dim_k;
    const float *vs = v + int64_t(h) * shape_.head_dim_v;
    uint8_t *kd = slot(k_, layer, h, pos, shape_.head_dim_k);
    uint8_t *vd = slot(v_, layer, h, pos, shape_.head_dim_v);
    if (type_ == kv_cache_type::f32) {
      std::memcpy(kd, ks, sizeof(float) * shape_.head_dim_k);
      std::memcpy(vd, vs, sizeof(float) * shape_.head_dim_v);
    } else {
      uint16_t *kh = reinterpret_cast<uint16_t *>(kd);
      uint16_t *vh = reinterpret_cast<uint16_t *>(vd);
      for (int32_t i = 0; i < shape_.head_dim_k; ++i)
        kh[i] = fp32_to_fp16(ks[i]);
      for (int32_t i = 0; i < shape_.head_dim_v; ++i)
        vh[i] = fp32_to_fp16(vs[i]);
    }
  }
}

const float *kv_cache::read(const uint8_t *base, int32_t layer, int32_t head, int32_t n_pos,
                            int32_t head_dim, float *scratch) const {
  const uint8_t *p = slot(const_cast<uint8_t *>(base), layer, head, 0, head_dim);
  if (type_ == kv_cache_type::f32)
    return reinterpret_cast<const float *>(p);
  const uint16_t *h = reinterpret_cast<const uint16_t *>(p);
  int64_t n = int64_t(n_pos) * head_dim;
  for (int64_t i = 0; i < n; ++i)
    scratch[i] = fp16_to_fp32(h[i]);
  return scratch;
}

const float *kv_cache::keys(int32_t layer, int32_t head, int32_t n_pos, float *scratch) const {
  return read(k_, layer, head, n_pos, shape_.head_dim_k, scratch);
}

const float *kv_cache::values(int32_t layer, int32_t head, int32_t n_pos, float *scratch) const {
  return read(v_, layer, head, n_pos, shape_.head_dim_v, scratch);
}

} // namespace smepilot::rt
