// SMEPilot runtime: the reference executor's building blocks (see
// reference_ops.h).
#include "reference_ops.h"

#include <algorithm>
#include <cmath>

namespace smepilot::rt::ref {

float dot(const float *a, const float *b, int64_t n) {
  constexpr int64_t kLanes = 16;
  float acc[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int64_t l = 0; l < kLanes; ++l)
      acc[l] += a[i + l] * b[i + l];
  for (int64_t width = kLanes / 2; width > 0; width /= 2)
    for (int64_t l = 0; l < width; ++l)
      acc[l] += acc[l + width];
  float sum = acc[0];
  for (; i < n; ++i)
    sum += a[i] * b[i];
  return sum;
}

void matmul(thread_pool &pool, const float *w, int64_t rows, int64_t cols, const float *x,
            int64_t n_tok, float *y) {
  // Blocks of rows small enough to balance, large enough to amortize a task.
  const int64_t work_per_row = std::max<int64_t>(1, cols * n_tok);
  const int64_t min_rows = std::max<int64_t>(1, (int64_t(1) << 14) / work_per_row);
  const int64_t grain = std::max(min_rows, pool.default_grain(rows));
  pool.parallel_for(rows, grain, [&](int64_t r0, int64_t r1, int) {
    // Row-outer: one weight row stays in L1 while it meets every token.
    for (int64_t r = r0; r < r1; ++r) {
      const float *wr = w + r * cols;
      for (int64_t t = 0; t < n_tok; ++t)
        y[t * rows + r] = dot(wr, x + t * cols, cols);
    }
  });
}

void rms_norm(const float *x, const float *weight, int64_t n, float eps, float *y) {
  double sum = 0;
  for (int64_t i = 0; i < n; ++i)
    sum += double(x[i]) * double(x[i]);
  const float mean = float(sum / double(n));
  const float scale = 1.0f / std::sqrt(mean + eps);
  for (int64_t i = 0; i < n; ++i)
    y[i] = (x[i] * scale) * weight[i];
}

void softmax(float *x, int64_t n) {
  float max = x[0];
  for (int64_t i = 1; i < n; ++i)
    max = std::max(max, x[i]);
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - max);
    sum += x[i];
  }
  const float inv = float(1.0 / sum);
  for (int64_t i = 0; i < n; ++i)
    x[i] *= inv;
}

float silu(float x) { return x / (1.0f + std::exp(-x)); }

void rope_head(float *x, const float *cos_sin, int64_t rope_dim, bool interleaved) {
  const int64_t half = rope_dim / 2;
  for (int64_t i = 0; i < half; ++i) {
    const float c = cos_sin[2 * i], s = cos_sin[2 * i + 1];
    const int64_t i0 = interleaved ? 2 * i : i;
    const int64_t i1 = interleaved ? 2 * i + 1 : i + half;
    const float x0 = x[i0], x1 = x[i1];
    x[i0] = x0 * c - x1 * s;
    x[i1] = x0 * s + x1 * c;
  }
}

void rope_cache(int64_t pos, float theta, int64_t rope_dim, const float *freq_factors,
                float *cos_sin) {
  for (int64_t i = 0; i < rope_dim / 2; ++i) {
    double freq = std::pow(double(theta), -2.0 * double(i) / double(rope_dim));
    if (freq_factors)
      freq /= double(freq_factors[i]);
    const double angle = double(pos) * freq;
    cos_sin[2 * i] = float(std::cos(angle));
    cos_sin[2 * i + 1] = float(std::sin(angle));
  }
}

} // namespace smepilot::rt::ref
