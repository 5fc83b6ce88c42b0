//===- HostJITTest.cpp - host pipeline + JIT against plain C++ loops ------===//
//
// Each case parses a small linalg-on-tensors function of one op kind the
// graph builder emits, runs smepilot-host-pipeline, JIT-compiles it and
// compares its output on data with a straightforward C++ loop nest.
//
//===----------------------------------------------------------------------===//

#include "smepilot/Codegen/HostJIT.h"
#include "smepilot/Pipelines/Pipelines.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

using namespace mlir;
using namespace mlir::smepilot;

namespace {

class HostJITTest : public ::testing::Test {
protected:
  HostJITTest() {
    DialectRegistry registry;
    registerHostPipelineDialects(registry);
    context.appendDialectRegistry(registry);
    context.loadAllAvailableDialects();
  }

  /// Parses `source`, lowers it with the host pipeline and JIT-compiles it.
  std::unique_ptr<HostJIT> compile(StringRef source) {
    module = parseSourceString<ModuleOp>(source, &context);
    if (!module) {
      ADD_FAILURE() << "parse failed";
      return nullptr;
    }
    PassManager pm(&context);
    HostPipelineOptions options;
    if (failed(buildHostPipeline(pm, options)) || failed(pm.run(*module))) {
      ADD_FAILURE() << "host pipeline failed";
      return nullptr;
    }
    FailureOr<std::unique_ptr<HostJIT>> jit = HostJIT::compile(*module);
    if (failed(jit)) {
      ADD_FAILURE() << "JIT compilation failed";
      return nullptr;
    }
    // Recorded in the test log: the JIT's cost per kernel.
    RecordProperty("compile_ms", std::to_string((*jit)->getCompileMillis()));
    return std::move(*jit);
  }

  void call(HostJIT &jit, StringRef name, ArrayRef<JITArg> args) {
    std::string error;
    ASSERT_TRUE(succeeded(jit.invoke(name, args, &error))) << error;
  }

  static std::vector<float> random(size_t n, unsigned seed) {
    std::mt19937 gen(seed);
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    std::vector<float> v(n);
    for (float &x : v)
      x = dist(gen);
    return v;
  }

  /// Compiles matmulTransposedB(m, n, k), runs it on random inputs (seeds
  /// `seed`, `seed + 1`) into an out-param prefilled with garbage, and
  /// compares with a plain triple loop.
  void checkMatmulTransposedB(int64_t m, int64_t n, int64_t k, unsigned seed,
                              float tolerance);

  static void expectNear(const std::vector<float> &got,
                         const std::vector<float> &want, float tol) {
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i)
      ASSERT_NEAR(got[i], want[i], tol * (1.0f + std::fabs(want[i])))
          << "at " << i;
  }

  MLIRContext context;
  OwningOpRef<ModuleOp> module;
};

/// C[m, n] = sum_k A[m, k] * B[n, k]: the graph builder's projection (weights
/// are [out, in], the GGUF order).
std::string matmulTransposedB(int64_t m, int64_t n, int64_t k) {
  return llvm::formatv(R"mlir(
func.func @mm(%a: tensor<{0}x{2}xf32>, %b: tensor<{1}x{2}xf32>) -> tensor<{0}x{1}xf32>
    attributes {{llvm.emit_c_interface} {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<{0}x{1}xf32>
  %c = linalg.fill ins(%z : f32) outs(%e : tensor<{0}x{1}xf32>) -> tensor<{0}x{1}xf32>
  %r = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>,
                                      affine_map<(m, n, k) -> (n, k)>,
                                      affine_map<(m, n, k) -> (m, n)>]
         ins(%a, %b : tensor<{0}x{2}xf32>, tensor<{1}x{2}xf32>)
         outs(%c : tensor<{0}x{1}xf32>) -> tensor<{0}x{1}xf32>
  return %r : tensor<{0}x{1}xf32>
}
)mlir",
                       m, n, k)
      .str();
}

void HostJITTest::checkMatmulTransposedB(int64_t m, int64_t n, int64_t k,
                                         unsigned seed, float tolerance) {
  std::unique_ptr<HostJIT> jit = compile(matmulTransposedB(m, n, k));
  ASSERT_TRUE(jit);
  std::vector<float> a = random(m * k, seed), b = random(n * k, seed + 1);
  std::vector<float> c(m * n, -42.0f), want(m * n, 0.0f);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j)
      for (int64_t p = 0; p < k; ++p)
        want[i * n + j] += a[i * k + p] * b[j * k + p];
  // The result is an out-param after the arguments.
  call(*jit, "mm",
       {JITArg::memref(a.data(), {m, k}), JITArg::memref(b.data(), {n, k}),
        JITArg::memref(c.data(), {m, n})});
  expectNear(c, want, tolerance);
}

TEST_F(HostJITTest, MatmulTransposedBOddSizes) {
  checkMatmulTransposedB(5, 7, 9, 1, 1e-5f);
}

TEST_F(HostJITTest, MatmulTransposedB64) {
  checkMatmulTransposedB(64, 64, 64, 3, 1e-4f);
}

/// The dot-product schedule's edges: partial 4 x 4 register blocks in m
/// (6 = 4 + 2) and n (13 = 3 * 4 + 1), and a k tail (35 = 2 * 16 + 3) read
/// with masked loads.
TEST_F(HostJITTest, MatmulTransposedBPartialBlocks) {
  checkMatmulTransposedB(6, 13, 35, 5, 1e-5f);
}

/// Decode-shaped projection (M = 1): 1 x 8 blocks over n (37 = 4 * 8 + 5)
/// and a long k with a tail (300 = 18 * 16 + 12). 16 lane partial sums + a
/// tree instead of the loop's sequential order: about sqrt(300) products of
/// magnitude <= 1 rounded differently.
TEST_F(HostJITTest, MatvecTransposedB) {
  checkMatmulTransposedB(1, 37, 300, 7, 1e-5f);
}

/// Attention scores as a generic batch contraction with k (head_dim)
/// contiguous in Q and K: batch tiled by 1, a 3 x 4 block over queries x keys.
TEST_F(HostJITTest, BatchContractionTransposedB) {
  const int64_t h = 2, m = 3, n = 10, k = 24;
  std::unique_ptr<HostJIT> jit = compile(llvm::formatv(R"mlir(
func.func @scores(%q: tensor<{0}x{1}x{3}xf32>, %k: tensor<{0}x{2}x{3}xf32>) -> tensor<{0}x{1}x{2}xf32>
    attributes {{llvm.emit_c_interface} {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<{0}x{1}x{2}xf32>
  %c = linalg.fill ins(%z : f32) outs(%e : tensor<{0}x{1}x{2}xf32>) -> tensor<{0}x{1}x{2}xf32>
  %r = linalg.generic {{indexing_maps = [affine_map<(b, m, n, k) -> (b, m, k)>,
                                        affine_map<(b, m, n, k) -> (b, n, k)>,
                                        affine_map<(b, m, n, k) -> (b, m, n)>],
                       iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%q, %k : tensor<{0}x{1}x{3}xf32>, tensor<{0}x{2}x{3}xf32>)
      outs(%c : tensor<{0}x{1}x{2}xf32>) {{
  ^bb0(%a: f32, %b: f32, %o: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %o, %p : f32
    linalg.yield %s : f32
  } -> tensor<{0}x{1}x{2}xf32>
  return %r : tensor<{0}x{1}x{2}xf32>
}
)mlir",
                                                       h, m, n, k)
                                             .str());
  ASSERT_TRUE(jit);
  std::vector<float> q = random(h * m * k, 9), kk = random(h * n * k, 10);
  std::vector<float> s(h * m * n, -42.0f), want(h * m * n, 0.0f);
  for (int64_t b = 0; b < h; ++b)
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j)
        for (int64_t p = 0; p < k; ++p)
          want[(b * m + i) * n + j] +=
              q[(b * m + i) * k + p] * kk[(b * n + j) * k + p];
  call(*jit, "scores",
       {JITArg::memref(q.data(), {h, m, k}),
        JITArg::memref(kk.data(), {h, n, k}),
        JITArg::memref(s.data(), {h, m, n})});
  expectNear(s, want, 1e-5f);
}

/// An RMSNorm fused into the projection (the LM head after elementwise
/// fusion): the normalized row is computed per k vector inside the kernel.
/// Partial blocks (m = 3 of 4, n = 13) and a masked k tail (35 = 2 * 16 + 3)
/// where the fused division must not turn padding into NaN.
TEST_F(HostJITTest, FusedNormProjection) {
  const int64_t m = 3, n = 13, k = 35;
  std::unique_ptr<HostJIT> jit = compile(llvm::formatv(R"mlir(
func.func @head(%x: tensor<{0}x{2}xf32>, %s: tensor<{0}xf32>, %g: tensor<{2}xf32>,
                %w: tensor<{1}x{2}xf32>) -> tensor<{0}x{1}xf32> attributes {{llvm.emit_c_interface} {
  %z = arith.constant 0.0 : f32
  %kf = arith.constant {2}.0 : f32
  %eps = arith.constant 1.0e-5 : f32
  %one = arith.constant 1.0 : f32
  %e = tensor.empty() : tensor<{0}x{1}xf32>
  %c = linalg.fill ins(%z : f32) outs(%e : tensor<{0}x{1}xf32>) -> tensor<{0}x{1}xf32>
  %r = linalg.generic {{indexing_maps = [affine_map<(m, n, k) -> (m, k)>,
                                        affine_map<(m, n, k) -> (m)>,
                                        affine_map<(m, n, k) -> (k)>,
                                        affine_map<(m, n, k) -> (n, k)>,
                                        affine_map<(m, n, k) -> (m, n)>],
                       iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %s, %g, %w : tensor<{0}x{2}xf32>, tensor<{0}xf32>, tensor<{2}xf32>, tensor<{1}x{2}xf32>)
      outs(%c : tensor<{0}x{1}xf32>) {{
  ^bb0(%xi: f32, %si: f32, %gi: f32, %wi: f32, %o: f32):
    %mean = arith.divf %si, %kf : f32
    %v = arith.addf %mean, %eps : f32
    %sq = math.sqrt %v : f32
    %inv = arith.divf %one, %sq : f32
    %xn = arith.mulf %xi, %inv : f32
    %xg = arith.mulf %xn, %gi : f32
    %p = arith.mulf %xg, %wi : f32
    %acc = arith.addf %o, %p : f32
    linalg.yield %acc : f32
  } -> tensor<{0}x{1}xf32>
  return %r : tensor<{0}x{1}xf32>
}
)mlir",
                                                       m, n, k)
                                             .str());
  ASSERT_TRUE(jit);
  std::vector<float> x = random(m * k, 11), g = random(k, 12),
                     w = random(n * k, 13), sum(m, 0.0f);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t p = 0; p < k; ++p)
      sum[i] += x[i * k + p] * x[i * k + p];
  std::vector<float> c(m * n, -42.0f), want(m * n, 0.0f);
  for (int64_t i = 0; i < m; ++i) {
    float inv = 1.0f / std::sqrt(sum[i] / float(k) + 1e-5f);
    for (int64_t j = 0; j < n; ++j)
      for (int64_t p = 0; p < k; ++p)
        want[i * n + j] += x[i * k + p] * inv * g[p] * w[j * k + p];
  }
  call(*jit, "head",
       {JITArg::memref(x.data(), {m, k}), JITArg::memref(sum.data(), {m}),
        JITArg::memref(g.data(), {k}), JITArg::memref(w.data(), {n, k}),
        JITArg::memref(c.data(), {m, n})});
  expectNear(c, want, 1e-5f);
}

/// Two reduction loops ([heads, head_dim], the attention output projection
/// after reshape propagation): a heads loop around the k vector loop, with a
/// k tail (20 = 16 + 4) in every head and partial blocks (m = 2, n = 11).
TEST_F(HostJITTest, TwoReductionDims) {
  const int64_t m = 2, n = 11, h = 3, k = 20;
  std::unique_ptr<HostJIT> jit = compile(llvm::formatv(R"mlir(
func.func @proj(%x: tensor<{0}x{2}x{3}xf32>, %w: tensor<{1}x{2}x{3}xf32>) -> tensor<{0}x{1}xf32>
    attributes {{llvm.emit_c_interface} {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<{0}x{1}xf32>
  %c = linalg.fill ins(%z : f32) outs(%e : tensor<{0}x{1}xf32>) -> tensor<{0}x{1}xf32>
  %r = linalg.generic {{indexing_maps = [affine_map<(m, n, h, k) -> (m, h, k)>,
                                        affine_map<(m, n, h, k) -> (n, h, k)>,
                                        affine_map<(m, n, h, k) -> (m, n)>],
                       iterator_types = ["parallel", "parallel", "reduction", "reduction"]}
      ins(%x, %w : tensor<{0}x{2}x{3}xf32>, tensor<{1}x{2}x{3}xf32>)
      outs(%c : tensor<{0}x{1}xf32>) {{
  ^bb0(%a: f32, %b: f32, %o: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %o, %p : f32
    linalg.yield %s : f32
  } -> tensor<{0}x{1}xf32>
  return %r : tensor<{0}x{1}xf32>
}
)mlir",
                                                       m, n, h, k)
                                             .str());
  ASSERT_TRUE(jit);
  std::vector<float> x = random(m * h * k, 14), w = random(n * h * k, 15);
  std::vector<float> c(m * n, -42.0f), want(m * n, 0.0f);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j)
      for (int64_t p = 0; p < h * k; ++p)
        want[i * n + j] += x[i * h * k + p] * w[j * h * k + p];
  call(*jit, "proj",
       {JITArg::memref(x.data(), {m, h, k}),
        JITArg::memref(w.data(), {n, h, k}), JITArg::memref(c.data(), {m, n})});
  expectNear(c, want, 1e-5f);
}

TEST_F(HostJITTest, Softmax) {
  std::unique_ptr<HostJIT> jit = compile(R"mlir(
func.func @softmax(%x: tensor<3x37xf32>) -> tensor<3x37xf32> attributes {llvm.emit_c_interface} {
  %e = tensor.empty() : tensor<3x37xf32>
  %r = linalg.softmax dimension(1) ins(%x : tensor<3x37xf32>) outs(%e : tensor<3x37xf32>) -> tensor<3x37xf32>
  return %r : tensor<3x37xf32>
}
)mlir");
  ASSERT_TRUE(jit);
  std::vector<float> x = random(3 * 37, 5), y(3 * 37), want(3 * 37);
  for (float &v : x)
    v *= 8.0f;
  for (int r = 0; r < 3; ++r) {
    float mx = -INFINITY, sum = 0;
    for (int j = 0; j < 37; ++j)
      mx = std::max(mx, x[r * 37 + j]);
    for (int j = 0; j < 37; ++j)
      sum += want[r * 37 + j] = std::exp(x[r * 37 + j] - mx);
    for (int j = 0; j < 37; ++j)
      want[r * 37 + j] /= sum;
  }
  call(*jit, "softmax",
       {JITArg::memref(x.data(), {3, 37}), JITArg::memref(y.data(), {3, 37})});
  expectNear(y, want, 1e-5f);
}

TEST_F(HostJITTest, RMSNorm) {
  std::unique_ptr<HostJIT> jit = compile(R"mlir(
func.func @rmsnorm(%x: tensor<4x70xf32>, %w: tensor<70xf32>) -> tensor<4x70xf32> attributes {llvm.emit_c_interface} {
  %z = arith.constant 0.0 : f32
  %n = arith.constant 70.0 : f32
  %eps = arith.constant 1.0e-5 : f32
  %e = tensor.empty() : tensor<4xf32>
  %acc = linalg.fill ins(%z : f32) outs(%e : tensor<4xf32>) -> tensor<4xf32>
  %ss = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i)>],
                        iterator_types = ["parallel", "reduction"]}
      ins(%x : tensor<4x70xf32>) outs(%acc : tensor<4xf32>) {
  ^bb0(%v: f32, %a: f32):
    %sq = arith.mulf %v, %v : f32
    %s = arith.addf %a, %sq : f32
    linalg.yield %s : f32
  } -> tensor<4xf32>
  %e2 = tensor.empty() : tensor<4x70xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i)>,
                                        affine_map<(i, j) -> (j)>, affine_map<(i, j) -> (i, j)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%x, %ss, %w : tensor<4x70xf32>, tensor<4xf32>, tensor<70xf32>) outs(%e2 : tensor<4x70xf32>) {
  ^bb0(%v: f32, %s: f32, %g: f32, %o: f32):
    %m = arith.divf %s, %n : f32
    %me = arith.addf %m, %eps : f32
    %r = math.rsqrt %me : f32
    %t = arith.mulf %v, %r : f32
    %u = arith.mulf %t, %g : f32
    linalg.yield %u : f32
  } -> tensor<4x70xf32>
  return %y : tensor<4x70xf32>
}
)mlir");
  ASSERT_TRUE(jit);
  std::vector<float> x = random(4 * 70, 6), w = random(70, 7);
  std::vector<float> y(4 * 70), want(4 * 70);
  for (int r = 0; r < 4; ++r) {
    float ss = 0;
    for (int j = 0; j < 70; ++j)
      ss += x[r * 70 + j] * x[r * 70 + j];
    float scale = 1.0f / std::sqrt(ss / 70.0f + 1e-5f);
    for (int j = 0; j < 70; ++j)
      want[r * 70 + j] = x[r * 70 + j] * scale * w[j];
  }
  call(*jit, "rmsnorm",
       {JITArg::memref(x.data(), {4, 70}), JITArg::memref(w.data(), {70}),
        JITArg::memref(y.data(), {4, 70})});
  expectNear(y, want, 1e-5f);
}

TEST_F(HostJITTest, SiLUTimesUp) {
  std::unique_ptr<HostJIT> jit = compile(R"mlir(
func.func @swiglu(%g: tensor<5x33xf32>, %u: tensor<5x33xf32>) -> tensor<5x33xf32> attributes {llvm.emit_c_interface} {
  %one = arith.constant 1.0 : f32
  %e = tensor.empty() : tensor<5x33xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>,
                                        affine_map<(i, j) -> (i, j)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%g, %u : tensor<5x33xf32>, tensor<5x33xf32>) outs(%e : tensor<5x33xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %n = arith.negf %a : f32
    %x = math.exp %n : f32
    %d = arith.addf %one, %x : f32
    %s = arith.divf %a, %d : f32
    %p = arith.mulf %s, %b : f32
    linalg.yield %p : f32
  } -> tensor<5x33xf32>
  return %r : tensor<5x33xf32>
}
)mlir");
  ASSERT_TRUE(jit);
  std::vector<float> g = random(5 * 33, 8), u = random(5 * 33, 9);
  for (float &v : g)
    v *= 10.0f;
  std::vector<float> y(5 * 33), want(5 * 33);
  for (int i = 0; i < 5 * 33; ++i)
    want[i] = g[i] / (1.0f + std::exp(-g[i])) * u[i];
  call(*jit, "swiglu",
       {JITArg::memref(g.data(), {5, 33}), JITArg::memref(u.data(), {5, 33}),
        JITArg::memref(y.data(), {5, 33})});
  expectNear(y, want, 1e-5f);
}

/// A dynamic size from an index argument (the chunk's positions): the
/// dynamic result is an out-param the caller sizes.
TEST_F(HostJITTest, DynamicSize) {
  std::unique_ptr<HostJIT> jit = compile(R"mlir(
func.func @prefix_exp(%x: tensor<64xf32>, %n: index) -> tensor<?xf32> attributes {llvm.emit_c_interface} {
  %s = tensor.extract_slice %x[0] [%n] [1] : tensor<64xf32> to tensor<?xf32>
  %e = tensor.empty(%n) : tensor<?xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> (i)>],
                       iterator_types = ["parallel"]}
      ins(%s : tensor<?xf32>) outs(%e : tensor<?xf32>) {
  ^bb0(%a: f32, %o: f32):
    %v = math.exp %a : f32
    linalg.yield %v : f32
  } -> tensor<?xf32>
  return %r : tensor<?xf32>
}
)mlir");
  ASSERT_TRUE(jit);
  std::vector<float> x = random(64, 10);
  for (int64_t n : {int64_t(1), int64_t(21), int64_t(64)}) {
    std::vector<float> y(n + 1, -7.0f);
    call(*jit, "prefix_exp",
         {JITArg::memref(x.data(), {64}), JITArg::index(n),
          JITArg::memref(y.data(), {n})});
    for (int64_t i = 0; i < n; ++i)
      ASSERT_NEAR(y[i], std::exp(x[i]), 1e-6f) << "n=" << n << " i=" << i;
    EXPECT_EQ(y[n], -7.0f) << "wrote past the result, n=" << n;
  }
}

/// The KV-cache pattern: a private function inserts rows into its argument
/// at a dynamic position; the public function returns the updated cache,
/// which bufferizes in place, so the result leaves the signature and the
/// caller's buffer itself changes.
TEST_F(HostJITTest, InsertSliceUpdatesCallerBufferInPlace) {
  std::unique_ptr<HostJIT> jit = compile(R"mlir(
func.func private @store_row(%cache: tensor<8x16xf32>, %row: tensor<1x16xf32>, %pos: index) -> tensor<8x16xf32> {
  %r = tensor.insert_slice %row into %cache[%pos, 0] [1, 16] [1, 1] : tensor<1x16xf32> into tensor<8x16xf32>
  return %r : tensor<8x16xf32>
}
func.func @update(%cache: tensor<8x16xf32>, %x: tensor<1x16xf32>, %pos: index) -> tensor<8x16xf32> attributes {llvm.emit_c_interface} {
  %two = arith.constant 2.0 : f32
  %e = tensor.empty() : tensor<1x16xf32>
  %row = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
                         iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<1x16xf32>) outs(%e : tensor<1x16xf32>) {
  ^bb0(%a: f32, %o: f32):
    %v = arith.mulf %a, %two : f32
    linalg.yield %v : f32
  } -> tensor<1x16xf32>
  %r = func.call @store_row(%cache, %row, %pos) : (tensor<8x16xf32>, tensor<1x16xf32>, index) -> tensor<8x16xf32>
  return %r : tensor<8x16xf32>
}
)mlir");
  ASSERT_TRUE(jit);
  std::vector<float> cache(8 * 16);
  for (size_t i = 0; i < cache.size(); ++i)
    cache[i] = float(i);
  std::vector<float> want = cache;
  std::vector<float> x = random(16, 11);
  const int64_t pos = 5;
  for (int j = 0; j < 16; ++j)
    want[pos * 16 + j] = 2.0f * x[j];
  // No out-param: the result is the cache argument itself.
  call(*jit, "update",
       {JITArg::memref(cache.data(), {8, 16}),
        JITArg::memref(x.data(), {1, 16}), JITArg::index(pos)});
  expectNear(cache, want, 0.0f);
}

TEST_F(HostJITTest, InvokeChecksArguments) {
  std::unique_ptr<HostJIT> jit = compile(matmulTransposedB(2, 2, 2));
  ASSERT_TRUE(jit);
  float buf[4] = {};
  std::string error;
  EXPECT_TRUE(failed(jit->invoke("mm", {JITArg::memref(buf, {2, 2})}, &error)));
  EXPECT_NE(error.find("expects 3 arguments"), std::string::npos) << error;
  EXPECT_TRUE(failed(jit->invoke("nope", {}, &error)));
  EXPECT_TRUE(failed(jit->invoke("mm",
                                 {JITArg::memref(buf, {2, 2}), JITArg::index(2),
                                  JITArg::memref(buf, {2, 2})},
                                 &error)));
  EXPECT_NE(error.find("argument 1 must be a memref"), std::string::npos)
      << error;
}

/// What smepilot_test_hook's stand-in saw: a function the test binary does
/// not export under that name, as a statically linked runtime's SME ABI
/// routines are not.
int64_t hookSeen = 0;
void hookStandIn(int64_t value) { hookSeen = value; }

/// An LLVM-dialect function `apply(x)` that calls the external
/// `smepilot_test_hook(x)`.
constexpr const char *kCallsAHook = R"mlir(
module {
  llvm.func @smepilot_test_hook(i64)
  llvm.func @_mlir_ciface_apply(%x: i64) {
    llvm.call @smepilot_test_hook(%x) : (i64) -> ()
    llvm.return
  }
}
)mlir";

TEST_F(HostJITTest, ExtraSymbolsResolveWhatTheProcessDoesNotExport) {
  module = parseSourceString<ModuleOp>(kCallsAHook, &context);
  ASSERT_TRUE(module);
  HostJITOptions options;
  options.extraSymbols = {
      {"smepilot_test_hook", reinterpret_cast<void *>(&hookStandIn)}};
  FailureOr<std::unique_ptr<HostJIT>> jit = HostJIT::compile(*module, options);
  ASSERT_TRUE(succeeded(jit));
  std::string error;
  hookSeen = 0;
  ASSERT_TRUE(succeeded((*jit)->invoke("apply", {JITArg::index(42)}, &error)))
      << error;
  EXPECT_EQ(hookSeen, 42);

  // Without it the object does not link, and the error names the symbol
  // (the JIT session reports it, not the lookup).
  std::string diagnostic;
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &d) {
    diagnostic += d.str();
    return success();
  });
  module = parseSourceString<ModuleOp>(kCallsAHook, &context);
  ASSERT_TRUE(module);
  EXPECT_TRUE(failed(HostJIT::compile(*module)));
  EXPECT_NE(diagnostic.find("cannot materialize '_smepilot_packed_apply'"),
            std::string::npos)
      << diagnostic;
  EXPECT_NE(diagnostic.find("smepilot_test_hook"), std::string::npos)
      << diagnostic;
}

/// Two entry points sharing an internal helper and a private constant:
/// split across threads, the helper lands in one part and the other calls
/// it from another object; the constant is copied into each part that
/// reads it (so its loads fold).
constexpr const char *kTwoEntries = R"mlir(
module {
  llvm.func @smepilot_test_hook(i64)
  llvm.mlir.global private constant @offsets(dense<[1000, 2000]> : tensor<2xi64>) : !llvm.array<2 x i64>
  llvm.func internal @helper(%x: i64, %i: i64) -> i64 {
    %table = llvm.mlir.addressof @offsets : !llvm.ptr
    %slot = llvm.getelementptr %table[0, %i] : (!llvm.ptr, i64) -> !llvm.ptr, !llvm.array<2 x i64>
    %c = llvm.load %slot : !llvm.ptr -> i64
    %y = llvm.add %x, %c : i64
    llvm.return %y : i64
  }
  llvm.func @_mlir_ciface_first(%x: i64) {
    %zero = llvm.mlir.constant(0 : i64) : i64
    %y = llvm.call @helper(%x, %zero) : (i64, i64) -> i64
    llvm.call @smepilot_test_hook(%y) : (i64) -> ()
    llvm.return
  }
  llvm.func @_mlir_ciface_second(%x: i64) {
    %c = llvm.mlir.constant(3 : i64) : i64
    %one = llvm.mlir.constant(1 : i64) : i64
    %table = llvm.mlir.addressof @offsets : !llvm.ptr
    %slot = llvm.getelementptr %table[0, 1] : (!llvm.ptr) -> !llvm.ptr, !llvm.array<2 x i64>
    %d = llvm.load %slot : !llvm.ptr -> i64
    %m = llvm.mul %x, %c : i64
    %n = llvm.add %m, %d : i64
    %y = llvm.call @helper(%n, %one) : (i64, i64) -> i64
    llvm.call @smepilot_test_hook(%y) : (i64) -> ()
    llvm.return
  }
}
)mlir";

TEST_F(HostJITTest, CompilesInPartsOnThreads) {
  for (unsigned threads : {1u, 2u, 3u}) {
    module = parseSourceString<ModuleOp>(kTwoEntries, &context);
    ASSERT_TRUE(module);
    HostJITOptions options;
    options.compileThreads = threads;
    options.extraSymbols = {
        {"smepilot_test_hook", reinterpret_cast<void *>(&hookStandIn)}};
    FailureOr<std::unique_ptr<HostJIT>> jit =
        HostJIT::compile(*module, options);
    ASSERT_TRUE(succeeded(jit)) << threads;
    const HostJIT::Times &times = (*jit)->getTimes();
    // One object per part that defines something; more than one whenever
    // more than one thread was given (five functions to spread).
    EXPECT_EQ((*jit)->getObjects().size(), times.parts) << threads;
    if (threads == 1)
      EXPECT_EQ(times.parts, 1u);
    else
      EXPECT_GE(times.parts, 2u) << threads;
    EXPECT_LE(times.parts, threads);
    std::string error;
    hookSeen = 0;
    ASSERT_TRUE(succeeded((*jit)->invoke("first", {JITArg::index(7)}, &error)))
        << error;
    EXPECT_EQ(hookSeen, 1007) << threads;
    ASSERT_TRUE(succeeded((*jit)->invoke("second", {JITArg::index(7)}, &error)))
        << error;
    EXPECT_EQ(hookSeen, 7 * 3 + 2000 + 2000) << threads;
  }
}

} // namespace
