// SMEPilot runtime: the reference executor's building blocks (internal).
//
// Every function computes each output from its inputs in a fixed order, so
// the results depend neither on how callers split the outputs across threads
// nor on how many outputs are computed together.
#pragma once

#include "smepilot_rt/thread_pool.h"

#include <cstdint>

namespace smepilot::rt::ref {

/// sum_i a[i] * b[i]: 16 interleaved partial sums (vectorizable), combined
/// pairwise in a fixed tree, then the tail in order.
float dot(const float *a, const float *b, int64_t n);

/// y[t * rows + r] = dot(w + r * cols, x + t * cols, cols) for t < n_tok,
/// r < rows. Rows are split across the pool.
void matmul(thread_pool &pool, const float *w, int64_t rows, int64_t cols, const float *x,
            int64_t n_tok, float *y);

/// y = x / sqrt(mean(x^2) + eps) * weight over n elements (sum of squares in
/// double). y may alias x.
void rms_norm(const float *x, const float *weight, int64_t n, float eps, float *y);

/// In place softmax over n elements (max subtracted, sum in double).
void softmax(float *x, int64_t n);

/// x / (1 + e^-x).
float silu(float x);

/// Rotates one head in place. cos_sin holds rope_dim/2 (cos, sin) pairs for
/// the head's position. interleaved: pairs (2i, 2i+1); otherwise NEOX pairs
/// (i, i + rope_dim/2). Elements from rope_dim on are left alone.
void rope_head(float *x, const float *cos_sin, int64_t rope_dim, bool interleaved);

/// The (cos, sin) pairs of position `pos`: angle_i = pos * theta^(-2i/rope_dim)
/// / freq_factors[i] (freq_factors may be null), computed in double.
void rope_cache(int64_t pos, float theta, int64_t rope_dim, const float *freq_factors,
                float *cos_sin);

} // namespace smepilot::rt::ref
