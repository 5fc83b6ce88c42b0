//===- Roofline.h - the Roofline cost model ---------------------*- C++ -*-===//
//
// SMEPilot's cost model, in two steps that are tested separately:
//
//  1. characterizeOp(): what an operator does, independent of any machine:
//     FLOPs, compulsory bytes (weights and activations apart), element type,
//     shape class, vectorizability, whether a matrix unit can run it, and the
//     contraction sizes the matrix unit's tile utilization depends on.
//  2. predict(): what that costs on a hardware profile: time on the vector
//     cores, on the matrix unit(s), and split between both, each the maximum
//     of compute time and memory time (the Roofline), and the resulting mode.
//
// Model assumptions (printed by the report beside every prediction):
//  - Traffic is compulsory: each operand crosses the memory bus once (perfect
//    cache reuse); outputs are written once, and read too when the op
//    accumulates into them. Exact for GEMV and elementwise ops, optimistic for
//    large GEMMs whose operands exceed the cache.
//  - A multiply-add is 2 FLOPs; a division 4 FLOP-equivalents and a
//    transcendental (exp, tanh, rsqrt, ...) 10, the cost of the in-kernel
//    polynomial that replaces it.
//  - Matrix-unit compute scales with tile utilization: an M x N output padded
//    to whole SVL/32 x SVL/32 accumulator tiles. Widening types pad K to 2
//    (bf16/f16) or 4 (i8). An f32 matrix-vector product (M = 1) is the
//    streaming-SVE FMLA kernel smepilot-tile-sme emits for it, not an outer
//    product: one FMLA of SVL/32 lanes per cycle (2 x SVL/32 FLOP, an
//    assumption: the profiles give no streaming-SVE rate), N padded to whole
//    vectors. On the M4 and phone profiles (512-bit SVL, 512 f32 FLOP per
//    cycle) that is 1/16 of the matrix peak, what an outer product filling
//    one ZA row of sixteen would also reach; the kernel differs in what it
//    uses (no ZA, whole vectors), not in this rate.
//  - Vector cores run gathers and unvectorizable bodies one lane at a time.
//  - Element types a unit has no peak for run at its f32 peak after
//    conversion (vector cores) or not at all (matrix unit).
//  - In collab mode each side streams its share of the weights and all of the
//    activations, both draw from the shared memory bandwidth, and the split
//    costs the profile's sync_overhead_us.
//
//===----------------------------------------------------------------------===//

#ifndef SMEPILOT_ANALYSIS_ROOFLINE_H
#define SMEPILOT_ANALYSIS_ROOFLINE_H

#include "smepilot/Dialect/SMEPilot/IR/SMEPilot.h"

#include "mlir/IR/Operation.h"
#include "llvm/ADT/SmallVector.h"

#include <cstdint>
#include <string>

namespace mlir::smepilot {

/// Options of the op characterization.
struct CharacterizeOptions {
  /// Size assumed for each dynamic dimension; 0 refuses dynamic shapes.
  int64_t dynamicSize = 128;
};

/// The ceiling of every FLOP and byte count of the model: a count that would
/// exceed it (a product of huge static sizes) is clamped to it instead of
/// wrapping around. It is INT64_MAX, so that a count stays a valid signed
/// 64-bit integer (JSON, int64_t consumers) and the sum of two counts
/// (`totalBytes`) cannot wrap.
inline constexpr uint64_t kSaturatedCount = INT64_MAX;

/// `a * b` and `a + b`, clamped to kSaturatedCount.
uint64_t saturatingMul(uint64_t a, uint64_t b);
uint64_t saturatingAdd(uint64_t a, uint64_t b);

/// What an operator does, independent of the machine.
struct OpCharacterization {
  std::string kind;       ///< "matmul", "generic", "softmax", ...
  std::string shapeClass; ///< gemm | gemv | elementwise | reduction | fill |
                          ///< softmax | gather | other
  Type elementType; ///< What the FLOPs are computed on (the inputs' type).
  /// Work and compulsory traffic, each at most kSaturatedCount.
  uint64_t flops = 0;
  uint64_t weightBytes = 0;
  uint64_t actBytes = 0;
  std::string vectorization = "full"; ///< full | reduction | gather | scalar
  bool hasTranscendental = false;
  /// Whether a matrix unit can run it: a multiply-accumulate contraction.
  bool matrixEligible = false;
  /// Contraction sizes (products over the batch/m/n/k loop dimensions,
  /// clamped to INT64_MAX).
  int64_t batch = 1, m = 1, n = 1, k = 1;
  /// Assumptions made for dynamic sizes, e.g. "d0=128".
  llvm::SmallVector<std::string> assumptions;

  uint64_t totalBytes() const { return weightBytes + actBytes; }
  double intensity() const {
    return totalBytes() ? double(flops) / double(totalBytes()) : 0.0;
  }
};

/// Characterizes a linalg structured op, linalg.softmax, linalg.pack or
/// linalg.unpack. Fails, with a diagnostic on `op`, for ops it cannot cost
/// (unsupported element types, unknown ops in a payload, dynamic sizes when
/// no assumption is allowed); returns failure without a diagnostic for ops
/// that are not operators (use isCostableOp to tell).
FailureOr<OpCharacterization>
characterizeOp(Operation *op, const CharacterizeOptions &options);

/// Whether `op` is an operator the cost model should see.
bool isCostableOp(Operation *op);

/// Whether `value` is (a view, reshape or pack of) a weight: a function
/// argument with the `smepilot.weight` attribute, or a constant.
bool isWeight(Value value);

/// The name of the function-argument attribute marking weights.
inline constexpr llvm::StringLiteral kWeightArgAttrName = kWeightAttr;

/// Predicted times (microseconds; negative = impossible) and the choice.
struct RooflinePrediction {
  double cpuUs = 0;
  double smeUs = -1;
  double collabUs = -1;
  /// Optimal share of the tiles on the matrix unit for collab.
  double collabSmeFraction = 0;
  ExecMode mode = ExecMode::cpu;
  double smeFraction = 0;   ///< Of the chosen mode.
  bool memoryBound = false; ///< Of the chosen mode.
  /// Roofline pieces, for explanations.
  double cpuComputeUs = 0, cpuMemoryUs = 0, smeComputeUs = -1, smeMemoryUs = -1;
  double smeUtilization = 0; ///< Tile utilization of the matrix unit.
};

/// Peak GFLOP/s of all vector cores for `elementType` (f32 rate when the type
/// has none), before vectorization losses.
double vectorPeakGflops(TargetAttr target, Type elementType);
/// The share of the vector cores' peak an op with `vectorization` (full |
/// reduction | gather | scalar) reaches: 1, or one lane of `elementType` per
/// register for gathers and unvectorizable bodies.
double vectorEfficiency(llvm::StringRef vectorization, Type elementType,
                        TargetAttr target);
/// Peak GFLOP/s of all matrix units for `elementType`; 0 when none.
double matrixPeakGflops(TargetAttr target, Type elementType);
/// Matrix-unit tile utilization for an m x n x k contraction of `elementType`.
double matrixUtilization(TargetAttr target, Type elementType, int64_t m,
                         int64_t n, int64_t k);

/// Predicts the op on `target` and chooses the fastest mode. Collab is chosen
/// only when it beats both single units after the sync overhead.
RooflinePrediction predict(const OpCharacterization &op, TargetAttr target);

/// Recomputes the prediction with `forced` as the mode. Fails with a reason
/// when the mode is impossible for the op on the target.
FailureOr<RooflinePrediction> forceMode(const OpCharacterization &op,
                                        TargetAttr target, ExecMode forced,
                                        std::string &whyNot);

/// Builds the decision record of an op.
DecisionAttr buildDecision(MLIRContext *context, const OpCharacterization &op,
                           const RooflinePrediction &prediction, bool forced);

/// Packed layouts each operand of a contraction needs on a unit: SME reads
/// A column panels and B row panels of SVL/32 elements contiguously; the
/// vector cores read B in panels of one register width. Identity layouts
/// for operands that need none, and for non-contractions.
llvm::SmallVector<LayoutAttr> operandLayoutsFor(Operation *op, ExecMode mode,
                                                TargetAttr target);

} // namespace mlir::smepilot

#endif // SMEPILOT_ANALYSIS_ROOFLINE_H
