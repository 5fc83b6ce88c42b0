//===- RooflineTest.cpp - the Roofline cost model
//---------------------------===//
//
// Parses small modules from strings and checks the cost model's numbers
// against values computed by hand here.
//
//===----------------------------------------------------------------------===//

#include "smepilot/Analysis/Roofline.h"
#include "smepilot/Analysis/HardwareProfile.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace mlir;
using namespace mlir::smepilot;

namespace {

class RooflineTest : public ::testing::Test {
protected:
  RooflineTest() {
    ctx.loadDialect<func::FuncDialect, linalg::LinalgDialect,
                    arith::ArithDialect, math::MathDialect,
                    tensor::TensorDialect, SMEPilotDialect>();
  }

  /// Parses `body` inside a module and returns the first costable op.
  Operation *parseFirstOp(StringRef source) {
    module = parseSourceString<ModuleOp>(source, &ctx);
    if (!module)
      return nullptr;
    Operation *found = nullptr;
    module->walk([&](Operation *op) {
      if (!found && isCostableOp(op))
        found = op;
    });
    return found;
  }

  OpCharacterization characterize(StringRef source,
                                  CharacterizeOptions options = {}) {
    Operation *op = parseFirstOp(source);
    EXPECT_NE(op, nullptr) << "no costable op parsed from:\n" << source.str();
    if (!op)
      return {};
    FailureOr<OpCharacterization> c = characterizeOp(op, options);
    EXPECT_TRUE(succeeded(c));
    return succeeded(c) ? *c : OpCharacterization{};
  }

  TargetAttr profile(StringRef name) {
    llvm::Expected<TargetAttr> t = loadHardwareProfile(&ctx, name);
    EXPECT_TRUE(bool(t)) << (t ? "" : llvm::toString(t.takeError()));
    return t ? *t : TargetAttr();
  }

  MLIRContext ctx;
  OwningOpRef<ModuleOp> module;
};

TEST_F(RooflineTest, MatmulFlopsAndBytes) {
  // C[M,N] += A[M,K] * W[K,N] with W a weight: 2*M*N*K FLOPs; A and W read
  // once; C read and written (the payload accumulates into it).
  OpCharacterization c = characterize(R"mlir(
    func.func @f(%a: tensor<128x64xf32>,
                 %w: tensor<64x256xf32> {smepilot.weight},
                 %c: tensor<128x256xf32>) -> tensor<128x256xf32> {
      %0 = linalg.matmul ins(%a, %w : tensor<128x64xf32>, tensor<64x256xf32>)
                         outs(%c : tensor<128x256xf32>) -> tensor<128x256xf32>
      return %0 : tensor<128x256xf32>
    })mlir");
  EXPECT_EQ(c.kind, "matmul");
  EXPECT_EQ(c.shapeClass, "gemm");
  EXPECT_EQ(c.flops, 2ull * 128 * 256 * 64);
  EXPECT_EQ(c.weightBytes, 64ull * 256 * 4);
  EXPECT_EQ(c.actBytes, 128ull * 64 * 4 + 2ull * 128 * 256 * 4);
  EXPECT_TRUE(c.matrixEligible);
  EXPECT_EQ(c.m, 128);
  EXPECT_EQ(c.n, 256);
  EXPECT_EQ(c.k, 64);
  EXPECT_EQ(c.vectorization, "reduction");
  EXPECT_TRUE(c.assumptions.empty());
  EXPECT_DOUBLE_EQ(c.intensity(),
                   double(2ull * 128 * 256 * 64) /
                       double(64 * 256 * 4 + 128 * 64 * 4 + 2 * 128 * 256 * 4));
}

TEST_F(RooflineTest, TransposedWeightMatmulBf16) {
  // The GGUF weight layout: W[N,K], C = A * W^T, bf16 inputs, f32 result.
  OpCharacterization c = characterize(R"mlir(
    #mA = affine_map<(m, n, k) -> (m, k)>
    #mB = affine_map<(m, n, k) -> (n, k)>
    #mC = affine_map<(m, n, k) -> (m, n)>
    func.func @f(%a: tensor<16x32xbf16>, %w: tensor<48x32xbf16> {smepilot.weight},
                 %c: tensor<16x48xf32>) -> tensor<16x48xf32> {
      %0 = linalg.matmul indexing_maps = [#mA, #mB, #mC]
             ins(%a, %w : tensor<16x32xbf16>, tensor<48x32xbf16>)
             outs(%c : tensor<16x48xf32>) -> tensor<16x48xf32>
      return %0 : tensor<16x48xf32>
    })mlir");
  EXPECT_EQ(c.shapeClass, "gemm");
  EXPECT_TRUE(c.elementType.isBF16());
  EXPECT_EQ(c.m, 16);
  EXPECT_EQ(c.n, 48);
  EXPECT_EQ(c.k, 32);
  // mulf + addf per iteration (the extf to f32 is free).
  EXPECT_EQ(c.flops, 2ull * 16 * 48 * 32);
  EXPECT_EQ(c.weightBytes, 48ull * 32 * 2);
  EXPECT_EQ(c.actBytes, 16ull * 32 * 2 + 2ull * 16 * 48 * 4);
}

TEST_F(RooflineTest, BatchMatmul) {
  // Attention scores: 8 heads x [L, D] x [D, S], no weights.
  OpCharacterization c = characterize(R"mlir(
    func.func @f(%q: tensor<8x128x64xf32>, %k: tensor<8x64x256xf32>,
                 %s: tensor<8x128x256xf32>) -> tensor<8x128x256xf32> {
      %0 = linalg.batch_matmul ins(%q, %k : tensor<8x128x64xf32>, tensor<8x64x256xf32>)
                               outs(%s : tensor<8x128x256xf32>) -> tensor<8x128x256xf32>
      return %0 : tensor<8x128x256xf32>
    })mlir");
  EXPECT_EQ(c.kind, "batch_matmul");
  EXPECT_EQ(c.shapeClass, "gemm");
  EXPECT_EQ(c.batch, 8);
  EXPECT_EQ(c.flops, 2ull * 8 * 128 * 256 * 64);
  EXPECT_EQ(c.weightBytes, 0u);
  EXPECT_EQ(c.actBytes,
            4ull * (8 * 128 * 64 + 8 * 64 * 256 + 2 * 8 * 128 * 256));
}

TEST_F(RooflineTest, Matvec) {
  // Decode: y[N] += W[N,K] x[K].
  OpCharacterization c = characterize(R"mlir(
    func.func @f(%w: tensor<4096x1024xf16> {smepilot.weight}, %x: tensor<1024xf16>,
                 %y: tensor<4096xf16>) -> tensor<4096xf16> {
      %0 = linalg.matvec ins(%w, %x : tensor<4096x1024xf16>, tensor<1024xf16>)
                         outs(%y : tensor<4096xf16>) -> tensor<4096xf16>
      return %0 : tensor<4096xf16>
    })mlir");
  EXPECT_EQ(c.kind, "matvec");
  EXPECT_EQ(c.shapeClass, "gemv");
  EXPECT_EQ(c.flops, 2ull * 4096 * 1024);
  EXPECT_EQ(c.weightBytes, 4096ull * 1024 * 2);
  EXPECT_EQ(c.actBytes, 1024ull * 2 + 2ull * 4096 * 2);
  EXPECT_TRUE(c.matrixEligible);
  // Intensity just under 1 FLOP/byte: memory-bound everywhere.
  EXPECT_LT(c.intensity(), 1.0);
}

TEST_F(RooflineTest, Softmax) {
  // Per element: max, sub, exp (10), sum, div (4) = 17 FLOP-equivalents.
  OpCharacterization c = characterize(R"mlir(
    func.func @f(%x: tensor<4x128xf32>, %o: tensor<4x128xf32>) -> tensor<4x128xf32> {
      %0 = linalg.softmax dimension(1) ins(%x : tensor<4x128xf32>)
                                       outs(%o : tensor<4x128xf32>) -> tensor<4x128xf32>
      return %0 : tensor<4x128xf32>
    })mlir");
  EXPECT_EQ(c.kind, "softmax");
  EXPECT_EQ(c.shapeClass, "softmax");
  EXPECT_EQ(c.flops, 17ull * 4 * 128);
  EXPECT_EQ(c.actBytes, 2ull * 4 * 128 * 4);
  EXPECT_FALSE(c.matrixEligible);
  EXPECT_TRUE(c.hasTranscendental);
}

TEST_F(RooflineTest, ElementwiseGenericWithTranscendental) {
  // SiLU(g) * u: negf, exp (10), addf, divf (4), mulf = 17 per element.
  OpCharacterization c = characterize(R"mlir(
    #id = affine_map<(d0, d1) -> (d0, d1)>
    func.func @f(%g: tensor<2x8xf32>, %u: tensor<2x8xf32>, %o: tensor<2x8xf32>) -> tensor<2x8xf32> {
      %0 = linalg.generic {indexing_maps = [#id, #id, #id],
                           iterator_types = ["parallel", "parallel"]}
          ins(%g, %u : tensor<2x8xf32>, tensor<2x8xf32>) outs(%o : tensor<2x8xf32>) {
      ^bb0(%a: f32, %b: f32, %out: f32):
        %one = arith.constant 1.0 : f32
        %n = arith.negf %a : f32
        %e = math.exp %n : f32
        %d = arith.addf %e, %one : f32
        %s = arith.divf %a, %d : f32
        %r = arith.mulf %s, %b : f32
        linalg.yield %r : f32
      } -> tensor<2x8xf32>
      return %0 : tensor<2x8xf32>
    })mlir");
  EXPECT_EQ(c.shapeClass, "elementwise");
  EXPECT_EQ(c.flops, 16ull * (1 + 10 + 1 + 4 + 1));
  // Output not read by the payload: written once.
  EXPECT_EQ(c.actBytes, 3ull * 16 * 4);
  EXPECT_EQ(c.vectorization, "full");
  EXPECT_FALSE(c.matrixEligible);
}

TEST_F(RooflineTest, DynamicSizesAreAssumedAndRecorded) {
  CharacterizeOptions options;
  options.dynamicSize = 32;
  OpCharacterization c = characterize(R"mlir(
    func.func @f(%a: tensor<?x64xf32>, %w: tensor<64x16xf32> {smepilot.weight},
                 %c: tensor<?x16xf32>) -> tensor<?x16xf32> {
      %0 = linalg.matmul ins(%a, %w : tensor<?x64xf32>, tensor<64x16xf32>)
                         outs(%c : tensor<?x16xf32>) -> tensor<?x16xf32>
      return %0 : tensor<?x16xf32>
    })mlir",
                                      options);
  EXPECT_EQ(c.flops, 2ull * 32 * 16 * 64);
  ASSERT_EQ(c.assumptions.size(), 1u);
  EXPECT_EQ(c.assumptions[0], "d0=32");
}

TEST_F(RooflineTest, DynamicSizesRefusedWithoutAssumption) {
  Operation *op = parseFirstOp(R"mlir(
    func.func @f(%a: tensor<?x64xf32>, %w: tensor<64x16xf32>,
                 %c: tensor<?x16xf32>) -> tensor<?x16xf32> {
      %0 = linalg.matmul ins(%a, %w : tensor<?x64xf32>, tensor<64x16xf32>)
                         outs(%c : tensor<?x16xf32>) -> tensor<?x16xf32>
      return %0 : tensor<?x16xf32>
    })mlir");
  ASSERT_NE(op, nullptr);
  std::string diag;
  ScopedDiagnosticHandler handler(&ctx, [&](Diagnostic &d) {
    diag = d.str();
    return success();
  });
  CharacterizeOptions options;
  options.dynamicSize = 0;
  EXPECT_TRUE(failed(characterizeOp(op, options)));
  EXPECT_NE(diag.find("dynamic"), std::string::npos) << diag;
}

TEST_F(RooflineTest, HostProfileAlwaysChoosesCpu) {
  TargetAttr host = profile("host-x86");
  ASSERT_TRUE(host);
  OpCharacterization c;
  c.kind = "matmul";
  c.shapeClass = "gemm";
  c.elementType = Float32Type::get(&ctx);
  c.flops = 1ull << 34;
  c.weightBytes = 1 << 20;
  c.actBytes = 1 << 20;
  c.matrixEligible = true;
  c.m = c.n = c.k = 2048;
  RooflinePrediction p = predict(c, host);
  EXPECT_EQ(p.mode, ExecMode::cpu);
  EXPECT_LT(p.smeUs, 0);
  EXPECT_LT(p.collabUs, 0);
  // cpu time = FLOPs / (2 cores * 3.0 GHz * 64 FLOP/cycle) (compute-bound).
  EXPECT_NEAR(p.cpuUs, double(c.flops) / (2 * 3.0 * 64 * 1e3), 1e-6);
  EXPECT_FALSE(p.memoryBound);
}

TEST_F(RooflineTest, MatrixUtilizationOfGemvAndOddShapes) {
  TargetAttr m4 = profile("apple-m4");
  ASSERT_TRUE(m4);
  Type f32 = Float32Type::get(&ctx), bf16 = BFloat16Type::get(&ctx);
  // SVL 512: 16x16 f32 accumulator tiles.
  EXPECT_DOUBLE_EQ(matrixUtilization(m4, f32, 128, 128, 64), 1.0);
  EXPECT_DOUBLE_EQ(matrixUtilization(m4, f32, 1, 4096, 4096), 1.0 / 16);
  EXPECT_DOUBLE_EQ(matrixUtilization(m4, f32, 17, 16, 8), 17.0 / 32);
  // bf16 pairs K: an odd K wastes half a step.
  EXPECT_DOUBLE_EQ(matrixUtilization(m4, bf16, 16, 16, 3), 3.0 / 4);
}

TEST_F(RooflineTest, F32MatvecIsCostedAsTheStreamingFmlaKernel) {
  TargetAttr m4 = profile("apple-m4");
  ASSERT_TRUE(m4);
  Type f32 = Float32Type::get(&ctx), bf16 = BFloat16Type::get(&ctx);
  // The same unit at 256-bit SVL: one FMLA of 8 lanes is 16 FLOP per cycle
  // of 512, 1/32; an outer product would fill one row of eight, 1/8.
  TargetAttr svl256 = TargetAttr::get(
      &ctx, m4.getName(), m4.getArch(), m4.getFeatures(), m4.getVectorCores(),
      m4.getVectorBits(), m4.getVectorGhz(), m4.getVectorFlops(),
      m4.getVectorBwGbps(), m4.getMatrixUnits(), m4.getMatrixGhz(),
      m4.getMatrixFlops(), m4.getMatrixBwGbps(), 256, m4.getMemBwGbps(),
      m4.getLlcBytes(), m4.getSyncOverheadUs());
  EXPECT_DOUBLE_EQ(matrixUtilization(svl256, f32, 1, 4096, 4096), 1.0 / 32);
  // N padded to whole vectors of 8 lanes.
  EXPECT_DOUBLE_EQ(matrixUtilization(svl256, f32, 1, 12, 64),
                   1.0 / 32 * 12 / 16);
  // Widening types keep the outer product (one ZA row of eight).
  EXPECT_DOUBLE_EQ(matrixUtilization(svl256, bf16, 1, 4096, 4096), 1.0 / 8);
}

TEST_F(RooflineTest, M4PrefillProjectionGoesToMatrixUnit) {
  TargetAttr m4 = profile("apple-m4");
  ASSERT_TRUE(m4);
  OpCharacterization c;
  c.kind = "matmul";
  c.shapeClass = "gemm";
  c.elementType = BFloat16Type::get(&ctx);
  c.m = 128;
  c.n = 3072;
  c.k = 3072;
  c.flops = 2ull * 128 * 3072 * 3072;
  c.weightBytes = 3072ull * 3072 * 2;
  c.actBytes = 128ull * 3072 * 2 + 128ull * 3072 * 4;
  c.matrixEligible = true;
  RooflinePrediction p = predict(c, m4);
  // SME: 512 FLOP/cycle * 3.9 GHz = 1996.8 GFLOP/s, full tiles.
  EXPECT_NEAR(p.smeComputeUs, double(c.flops) / (1996.8 * 1e3), 1e-6);
  // CPU: 4 cores * 4.4 GHz * 64 = 1126.4 GFLOP/s for bf16.
  EXPECT_NEAR(p.cpuComputeUs, double(c.flops) / (1126.4 * 1e3), 1e-6);
  EXPECT_TRUE(p.mode == ExecMode::sme || p.mode == ExecMode::collab);
  EXPECT_LT(std::min(p.smeUs, p.collabUs), p.cpuUs);
  if (p.mode == ExecMode::collab) {
    EXPECT_GT(p.smeFraction, 0.5); // the faster unit takes the larger share
    EXPECT_LT(p.smeFraction, 1.0);
  }
}

TEST_F(RooflineTest, M4DecodeGemvIsBandwidthBound) {
  TargetAttr m4 = profile("apple-m4");
  ASSERT_TRUE(m4);
  OpCharacterization c;
  c.kind = "matmul";
  c.shapeClass = "gemv";
  c.elementType = BFloat16Type::get(&ctx);
  c.m = 1;
  c.n = 8192;
  c.k = 3072;
  c.flops = 2ull * 8192 * 3072;
  c.weightBytes = 8192ull * 3072 * 2;
  c.actBytes = 3072ull * 2 + 8192ull * 4 * 2;
  c.matrixEligible = true;
  RooflinePrediction p = predict(c, m4);
  EXPECT_NE(p.mode, ExecMode::sme);
  // The CPU side is memory-bound: bytes / 100 GB/s.
  EXPECT_NEAR(p.cpuUs, double(c.totalBytes()) / (100 * 1e3), 1e-6);
  // Together both units are capped by the shared 120 GB/s.
  EXPECT_GE(p.collabUs, double(c.totalBytes()) / (120 * 1e3) +
                            m4.getSyncOverheadUs() - 1e-9);
}

TEST_F(RooflineTest, ForcingSmeOnSoftmaxExplainsWhyNot) {
  TargetAttr m4 = profile("apple-m4");
  ASSERT_TRUE(m4);
  OpCharacterization c;
  c.kind = "softmax";
  c.shapeClass = "softmax";
  c.elementType = Float32Type::get(&ctx);
  c.flops = 1000;
  c.actBytes = 1000;
  std::string why;
  EXPECT_TRUE(failed(forceMode(c, m4, ExecMode::sme, why)));
  EXPECT_NE(why.find("not a contraction"), std::string::npos) << why;
  EXPECT_TRUE(succeeded(forceMode(c, m4, ExecMode::cpu, why)));
}

TEST_F(RooflineTest, CountsSaturateInsteadOfWrapping) {
  EXPECT_EQ(saturatingMul(uint64_t(1) << 32, uint64_t(1) << 32),
            kSaturatedCount);
  EXPECT_EQ(saturatingMul(uint64_t(1) << 31, uint64_t(1) << 31), uint64_t(1)
                                                                     << 62);
  EXPECT_EQ(saturatingAdd(kSaturatedCount, 1), kSaturatedCount);
  EXPECT_EQ(saturatingAdd(kSaturatedCount - 1, 1), kSaturatedCount);
  EXPECT_EQ(saturatingMul(0, kSaturatedCount), 0u);

  // 2 * 2^22 * 2^22 * 2^22 = 2^67 FLOPs used to wrap to 0; each operand is
  // 2^46 bytes (exact), C is read and written.
  OpCharacterization c = characterize(R"mlir(
    func.func @f(%a: tensor<4194304x4194304xf32>,
                 %w: tensor<4194304x4194304xf32> {smepilot.weight},
                 %c: tensor<4194304x4194304xf32>) -> tensor<4194304x4194304xf32> {
      %0 = linalg.matmul
             ins(%a, %w : tensor<4194304x4194304xf32>, tensor<4194304x4194304xf32>)
             outs(%c : tensor<4194304x4194304xf32>) -> tensor<4194304x4194304xf32>
      return %0 : tensor<4194304x4194304xf32>
    })mlir");
  EXPECT_EQ(c.flops, kSaturatedCount);
  EXPECT_EQ(c.weightBytes, uint64_t(1) << 46);
  EXPECT_EQ(c.actBytes, 3 * (uint64_t(1) << 46));
  EXPECT_EQ(c.m, int64_t(1) << 22);

  TargetAttr m4 = profile("apple-m4");
  ASSERT_TRUE(m4);
  RooflinePrediction p = predict(c, m4);
  // At least 2^63 FLOPs at 563.2 GFLOP/s (4 cores x 4.4 GHz x 32).
  EXPECT_GT(p.cpuUs, 1e13);
  EXPECT_GT(p.smeUs, 1e12);
  EXPECT_GT(p.collabUs, 1e12);
  EXPECT_TRUE(std::isfinite(p.cpuUs) && std::isfinite(p.smeUs) &&
              std::isfinite(p.collabUs));

  // A size of INT64_MAX saturates the element and byte counts too.
  OpCharacterization big = characterize(R"mlir(
    func.func @f(%x: tensor<9223372036854775807x4xf32>,
                 %o: tensor<9223372036854775807x4xf32>)
        -> tensor<9223372036854775807x4xf32> {
      %0 = linalg.exp ins(%x : tensor<9223372036854775807x4xf32>)
                      outs(%o : tensor<9223372036854775807x4xf32>)
                      -> tensor<9223372036854775807x4xf32>
      return %0 : tensor<9223372036854775807x4xf32>
    })mlir");
  EXPECT_EQ(big.flops, kSaturatedCount);
  EXPECT_EQ(big.actBytes, kSaturatedCount);
  EXPECT_EQ(big.totalBytes(), kSaturatedCount);
}

TEST_F(RooflineTest, EmptyMatmulHasFiniteTimes) {
  // m = 0: no FLOPs and a matrix-unit tile use of 0, but no NaN time.
  OpCharacterization c = characterize(R"mlir(
    func.func @f(%a: tensor<0x64xf32>, %w: tensor<64x32xf32> {smepilot.weight},
                 %c: tensor<0x32xf32>) -> tensor<0x32xf32> {
      %0 = linalg.matmul ins(%a, %w : tensor<0x64xf32>, tensor<64x32xf32>)
                         outs(%c : tensor<0x32xf32>) -> tensor<0x32xf32>
      return %0 : tensor<0x32xf32>
    })mlir");
  EXPECT_EQ(c.flops, 0u);
  EXPECT_EQ(c.weightBytes, 64u * 32 * 4);
  EXPECT_EQ(c.actBytes, 0u);
  RooflinePrediction p = predict(c, profile("apple-m4"));
  EXPECT_TRUE(std::isfinite(p.cpuUs));
  EXPECT_TRUE(std::isfinite(p.smeUs));
  EXPECT_TRUE(std::isfinite(p.collabUs));
  EXPECT_EQ(p.smeComputeUs, 0.0);
}

} // namespace
