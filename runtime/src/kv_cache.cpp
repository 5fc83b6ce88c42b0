// SMEPilot runtime: the attention key/value cache (see kv_cache.h).
#include "smepilot_rt/kv_cache.h"

#include "smepilot_rt/ggml_types.h"

#include <cstring>
#include <new>
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
  uint64_t per_pos_k = uint64_t(shape.n_layer) * shape.n_head_kv * shape.head_dim_k;
  uint64_t per_pos_v = uint64_t(shape.n_layer) * shape.n_head_kv * shape.head_dim_v;
  uint64_t k_bytes = per_pos_k * uint64_t(shape.n_ctx) * c->elt_size_;
  uint64_t v_bytes = per_pos_v * uint64_t(shape.n_ctx) * c->elt_size_;
  c->bytes_ = k_bytes + v_bytes;
  // Uninitialized on purpose: pages are only backed once written.
  c->k_.reset(new (std::nothrow) uint8_t[k_bytes]);
  c->v_.reset(new (std::nothrow) uint8_t[v_bytes]);
  if (!c->k_ || !c->v_)
    return status::error("cannot allocate the KV cache: " + std::to_string(shape.n_ctx) +
                         " positions need " + std::to_string(c->bytes_ >> 20) +
                         " MiB; use a smaller context size (-c)");
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
    uint8_t *kd = slot(k_.get(), layer, h, pos, shape_.head_dim_k);
    uint8_t *vd = slot(v_.get(), layer, h, pos, shape_.head_dim_v);
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
  return read(k_.get(), layer, head, n_pos, shape_.head_dim_k, scratch);
}

const float *kv_cache::values(int32_t layer, int32_t head, int32_t n_pos, float *scratch) const {
  return read(v_.get(), layer, head, n_pos, shape_.head_dim_v, scratch);
}

} // namespace smepilot::rt
