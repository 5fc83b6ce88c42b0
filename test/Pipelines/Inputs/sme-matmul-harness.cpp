// QEMU harness for the SME kernels of test/Pipelines/sme-numerics.mlir:
// calls each kernel's _mlir_ciface_ entry point with memref descriptors over
// deterministic inputs and compares every output element against a scalar
// reference loop (double accumulation). Prints one line per case and exits
// nonzero if any element is off.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

template <typename T> struct Memref2D {
  T *allocated;
  T *aligned;
  int64_t offset;
  int64_t sizes[2];
  int64_t strides[2];
};

template <typename T> struct Memref3D {
  T *allocated;
  T *aligned;
  int64_t offset;
  int64_t sizes[3];
  int64_t strides[3];
};

template <typename T> Memref3D<T> view3(std::vector<T> &v, int64_t b, int64_t rows, int64_t cols) {
  return {v.data(), v.data(), 0, {b, rows, cols}, {rows * cols, cols, 1}};
}

template <typename T> Memref2D<T> view(std::vector<T> &v, int64_t rows, int64_t cols) {
  return {v.data(), v.data(), 0, {rows, cols}, {cols, 1}};
}

using F32 = Memref2D<float>;
using BF16 = Memref2D<uint16_t>;

extern "C" {
// C[m, n] += sum_k A[m, k] * W[n, k]   (projection, [out, in] weights)
void _mlir_ciface_matmul_f32_tb(F32 *a, F32 *w, F32 *c);
// C[m, n] += sum_k A[m, k] * B[k, n]
void _mlir_ciface_matmul_f32_nn(F32 *a, F32 *b, F32 *c);
// M = 1 (static): the streaming-SVE FMLA kernel.
void _mlir_ciface_matvec_f32_tb(F32 *a, F32 *w, F32 *c);
// bf16 x bf16 -> f32 with transposed B and a static K (6, 32, odd 5).
void _mlir_ciface_matmul_bf16_tb_k6(BF16 *a, BF16 *w, F32 *c);
void _mlir_ciface_matmul_bf16_tb_k32(BF16 *a, BF16 *w, F32 *c);
void _mlir_ciface_matmul_bf16_tb_k5(BF16 *a, BF16 *w, F32 *c);
// out = silu(C + A * W^T): the SME kernel, then vector code in the caller.
// The result is not an in-place update of C, so it is a trailing out-param
// (docs/compiled-model.md's calling convention); C is clobbered.
void _mlir_ciface_proj_silu(F32 *a, F32 *w, F32 *c, F32 *out);
// Batched: S[b] += Q[b] K[b]^T (bf16, 8x33x17, K = 64) and O[b] += P[b] V[b].
void _mlir_ciface_qkt_bf16(Memref3D<uint16_t> *q, Memref3D<uint16_t> *k, Memref3D<float> *s);
void _mlir_ciface_pv_f32(Memref3D<float> *p, Memref3D<float> *v, Memref3D<float> *o);
// f16 x f16 -> f32, transposed B, K = 32.
void _mlir_ciface_matmul_f16_tb_k32(Memref2D<_Float16> *a, Memref2D<_Float16> *w, F32 *c);
}

/// Small multiples of 1/8: exact in bf16 and f32, sums exact for these K.
static float value(int64_t i, int64_t j, int seed) {
  return static_cast<float>(((i * 7 + j * 3 + seed * 5) % 11) - 5) / 8.0f;
}

static uint16_t toBF16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  return static_cast<uint16_t>(bits >> 16); // exact for these values
}

static int failures = 0;

/// Compares rows x cols outputs; `shape` names the case in the report.
static void compareAll(const char *name, const std::string &shape, int64_t rows,
                       int64_t cols, const std::vector<float> &got,
                       const std::vector<double> &want) {
  int64_t bad = 0;
  for (int64_t i = 0; i < rows * cols; ++i)
    if (std::fabs(got[i] - want[i]) > 1e-4 * (1.0 + std::fabs(want[i]))) {
      if (bad < 3)
        std::printf("  %s: C[%lld, %lld] = %g, expected %g\n", name,
                    (long long)(i / cols), (long long)(i % cols), got[i], want[i]);
      ++bad;
    }
  std::printf("%s %s %s\n", bad ? "MISMATCH" : "OK", name, shape.c_str());
  if (bad)
    ++failures;
}

static void compare(const char *name, int64_t M, int64_t N, int64_t K,
                    const std::vector<float> &got, const std::vector<double> &want) {
  compareAll(name, std::to_string(M) + "x" + std::to_string(N) + "x" + std::to_string(K),
             M, N, got, want);
}

/// Reference: C0 + A * op(B); transposedB: B is [N, K].
static std::vector<double> reference(const std::vector<float> &a, const std::vector<float> &b,
                                     const std::vector<float> &c0, int64_t M, int64_t N,
                                     int64_t K, bool transposedB) {
  std::vector<double> r(M * N);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      double s = c0[m * N + n];
      for (int64_t k = 0; k < K; ++k)
        s += double(a[m * K + k]) * double(transposedB ? b[n * K + k] : b[k * N + n]);
      r[m * N + n] = s;
    }
  return r;
}

static void fill(std::vector<float> &v, int64_t rows, int64_t cols, int seed) {
  v.resize(rows * cols);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j)
      v[i * cols + j] = value(i, j, seed);
}

static void runF32(int64_t M, int64_t N, int64_t K, bool transposedB) {
  std::vector<float> a, b, c;
  fill(a, M, K, 1);
  if (transposedB)
    fill(b, N, K, 2);
  else
    fill(b, K, N, 2);
  fill(c, M, N, 3); // nonzero C: the kernels accumulate into it
  std::vector<double> want = reference(a, b, c, M, N, K, transposedB);
  F32 ma = view(a, M, K), mc = view(c, M, N);
  if (transposedB) {
    F32 mb = view(b, N, K);
    _mlir_ciface_matmul_f32_tb(&ma, &mb, &mc);
  } else {
    F32 mb = view(b, K, N);
    _mlir_ciface_matmul_f32_nn(&ma, &mb, &mc);
  }
  compare(transposedB ? "f32_tb" : "f32_nn", M, N, K, c, want);
}

// y[1, N] += x[1, K] W[N, K]^T through the matvec kernel (a static M = 1).
static void runMatvec(int64_t N, int64_t K) {
  std::vector<float> a, w, c;
  fill(a, 1, K, 1);
  fill(w, N, K, 2);
  fill(c, 1, N, 3);
  std::vector<double> want = reference(a, w, c, 1, N, K, /*transposedB=*/true);
  F32 ma = view(a, 1, K), mw = view(w, N, K), mc = view(c, 1, N);
  _mlir_ciface_matvec_f32_tb(&ma, &mw, &mc);
  compare("matvec_f32_tb", 1, N, K, c, want);
}

static void runBF16(int64_t M, int64_t N, int64_t K) {
  std::vector<float> a, w, c;
  fill(a, M, K, 4);
  fill(w, N, K, 5);
  fill(c, M, N, 6);
  std::vector<double> want = reference(a, w, c, M, N, K, /*transposedB=*/true);
  std::vector<uint16_t> a16(a.size()), w16(w.size());
  for (size_t i = 0; i < a.size(); ++i)
    a16[i] = toBF16(a[i]);
  for (size_t i = 0; i < w.size(); ++i)
    w16[i] = toBF16(w[i]);
  BF16 ma = view(a16, M, K), mw = view(w16, N, K);
  F32 mc = view(c, M, N);
  if (K == 6)
    _mlir_ciface_matmul_bf16_tb_k6(&ma, &mw, &mc);
  else if (K == 32)
    _mlir_ciface_matmul_bf16_tb_k32(&ma, &mw, &mc);
  else
    _mlir_ciface_matmul_bf16_tb_k5(&ma, &mw, &mc);
  compare("bf16_tb", M, N, K, c, want);
}

static void runF16(int64_t M, int64_t N, int64_t K) {
  std::vector<float> a, w, c;
  fill(a, M, K, 7);
  fill(w, N, K, 8);
  fill(c, M, N, 9);
  std::vector<double> want = reference(a, w, c, M, N, K, /*transposedB=*/true);
  std::vector<_Float16> a16(a.begin(), a.end()), w16(w.begin(), w.end());
  Memref2D<_Float16> ma = view(a16, M, K), mw = view(w16, N, K);
  F32 mc = view(c, M, N);
  _mlir_ciface_matmul_f16_tb_k32(&ma, &mw, &mc);
  compare("f16_tb", M, N, K, c, want);
}

static void runSiLU(int64_t M, int64_t N, int64_t K) {
  std::vector<float> a, w, c;
  fill(a, M, K, 10);
  fill(w, N, K, 11);
  fill(c, M, N, 12);
  std::vector<double> want = reference(a, w, c, M, N, K, /*transposedB=*/true);
  for (double &x : want)
    x = x / (1.0 + std::exp(-x));
  std::vector<float> out(M * N, -1.0f);
  F32 ma = view(a, M, K), mw = view(w, N, K), mc = view(c, M, N),
      mo = view(out, M, N);
  _mlir_ciface_proj_silu(&ma, &mw, &mc, &mo);
  compare("f32_silu", M, N, K, out, want);
}

/// Batched reference and comparison, batch by batch through the 2-D ones.
static void runBatched(const char *name, int64_t B, int64_t M, int64_t N, int64_t K,
                       bool bf16, bool transposedB) {
  std::vector<float> a, b, c;
  fill(a, B * M, K, 13);
  if (transposedB)
    fill(b, B * N, K, 14);
  else
    fill(b, B * K, N, 14);
  fill(c, B * M, N, 15);
  std::vector<double> want;
  for (int64_t i = 0; i < B; ++i) {
    std::vector<float> ai(a.begin() + i * M * K, a.begin() + (i + 1) * M * K);
    std::vector<float> bi(b.begin() + i * N * K, b.begin() + (i + 1) * N * K);
    std::vector<float> ci(c.begin() + i * M * N, c.begin() + (i + 1) * M * N);
    std::vector<double> r = reference(ai, bi, ci, M, N, K, transposedB);
    want.insert(want.end(), r.begin(), r.end());
  }
  Memref3D<float> mc = view3(c, B, M, N);
  if (bf16) {
    std::vector<uint16_t> a16(a.size()), b16(b.size());
    for (size_t i = 0; i < a.size(); ++i)
      a16[i] = toBF16(a[i]);
    for (size_t i = 0; i < b.size(); ++i)
      b16[i] = toBF16(b[i]);
    Memref3D<uint16_t> ma = view3(a16, B, M, K), mb = view3(b16, B, N, K);
    _mlir_ciface_qkt_bf16(&ma, &mb, &mc);
  } else {
    Memref3D<float> ma = view3(a, B, M, K), mb = view3(b, B, K, N);
    _mlir_ciface_pv_f32(&ma, &mb, &mc);
  }
  compareAll(name,
             std::to_string(B) + "x" + std::to_string(M) + "x" + std::to_string(N) + "x" +
                 std::to_string(K),
             B * M, N, c, want);
}

/// A caller with live ZA state calls a kernel: it sets up a lazy save
/// (PSTATE.ZA on, TPIDR2_EL0 -> a TPIDR2 block), as a ZA-using caller of a
/// private-ZA function does. The kernel (new ZA) must commit the save through
/// __arm_tpidr2_save before using ZA: afterwards the save buffer holds the
/// caller's ZA rows, TPIDR2_EL0 is null and ZA is off. This is what checks
/// the SME ABI routine the harness links (a no-op stub fails here).
static void checkLazyZASave() {
  uint64_t svl;
  asm volatile(".arch_extension sme\n rdsvl %0, #1" : "=r"(svl));
  std::vector<uint8_t> pattern(svl * svl), saved(svl * svl, 0);
  for (uint64_t i = 0; i < pattern.size(); ++i)
    pattern[i] = static_cast<uint8_t>(i * 7 + 3);
  struct {
    void *buffer;
    uint16_t slices;
    uint8_t reserved[6];
  } block = {saved.data(), static_cast<uint16_t>(svl), {0, 0, 0, 0, 0, 0}};
  asm volatile(".arch_extension sme\n smstart za" ::: "memory");
  for (uint64_t r = 0; r < svl; ++r)
    asm volatile(".arch_extension sme\n mov w12, %w0\n ldr za[w12, 0], [%1]"
                 :
                 : "r"(r), "r"(pattern.data() + r * svl)
                 : "x12", "memory");
  asm volatile(".arch_extension sme\n msr TPIDR2_EL0, %0" : : "r"(&block) : "memory");
  runF32(7, 13, 5, /*transposedB=*/true);
  uint64_t tpidr2, svcr;
  asm volatile(".arch_extension sme\n mrs %0, TPIDR2_EL0" : "=r"(tpidr2));
  asm volatile(".arch_extension sme\n mrs %0, SVCR" : "=r"(svcr));
  bool ok = saved == pattern && tpidr2 == 0 && (svcr & 2) == 0;
  if (!ok) {
    ++failures;
    std::printf("  lazy save: buffer %s, TPIDR2_EL0 = %llx, SVCR = %llx\n",
                saved == pattern ? "ok" : "wrong", (unsigned long long)tpidr2,
                (unsigned long long)svcr);
    asm volatile(".arch_extension sme\n msr TPIDR2_EL0, xzr\n smstop za" ::: "memory");
  }
  std::printf("%s lazy-za-save SVL=%llu bits\n", ok ? "OK" : "MISMATCH",
              (unsigned long long)(svl * 8));
}

int main() {
  checkLazyZASave();
  const int64_t shapes[][3] = {{7, 13, 5}, {33, 17, 31}, {64, 64, 64}, {1, 1, 1}, {4, 40, 9}};
  for (auto &s : shapes) {
    runF32(s[0], s[1], s[2], /*transposedB=*/true);
    runF32(s[0], s[1], s[2], /*transposedB=*/false);
  }
  const int64_t bf16Shapes[][3] = {{7, 13, 6}, {33, 17, 32}, {64, 64, 32}, {5, 3, 5}};
  for (auto &s : bf16Shapes)
    runBF16(s[0], s[1], s[2]);
  runF16(33, 17, 32);
  runSiLU(7, 13, 5);
  runSiLU(33, 17, 31);
  runBatched("qkt_bf16", 8, 33, 17, 64, /*bf16=*/true, /*transposedB=*/true);
  runBatched("pv_f32", 3, 9, 20, 7, /*bf16=*/false, /*transposedB=*/false);
  // N below, at and above one vector of 16 x vscale lanes, and several.
  const int64_t matvecShapes[][2] = {{1, 1}, {13, 5}, {100, 63}, {257, 31}};
  for (auto &s : matvecShapes)
    runMatvec(s[0], s[1]);
  std::printf("%s\n", failures ? "FAILED" : "ALL OK");
  return failures ? 1 : 0;
}
