//===- GraphEmitter.h - linalg building blocks of the model -----*- C++ -*-===//
//
// Small emitters shared by the forward function (ModelBuilder.cpp), the
// layer body (Layer.cpp) and the MoE feed-forward (MoE.cpp): zero-filled
// inits, transposed-B projections, RMSNorm, row reductions, elementwise add,
// and the scalar bodies more than one linalg.generic computes. Internal to
// lib/ModelBuilder.
//
//===----------------------------------------------------------------------===//

#ifndef SMEPILOT_LIB_MODELBUILDER_GRAPHEMITTER_H
#define SMEPILOT_LIB_MODELBUILDER_GRAPHEMITTER_H

#include "smepilot/Dialect/SMEPilot/IR/SMEPilot.h"
#include "smepilot/ModelBuilder/ModelBuilder.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseMap.h"

namespace mlir::smepilot::detail {

/// Emits ops at the builder's insertion point, all on one location.
class GraphEmitter {
public:
  GraphEmitter(OpBuilder &b, Location loc) : b(b), loc(loc) {}

  /// Q8_0 and Q4_0 projections take their activations quantized to Q8_0
  /// blocks, BF16 projections rounded to bf16
  /// (ModelBuildOptions::quantizedActivations; see quantizeActivations and
  /// activationsBF16).
  void setQuantizedActivations(bool on) { quantizedActivations = on; }

  OpBuilder &builder() { return b; }
  Location location() const { return loc; }

  RankedTensorType f32Tensor(ArrayRef<int64_t> shape);
  Value indexConst(int64_t v);
  Value f32Const(double v);

  /// tensor.empty of f32 with `dynSizes` for the dynamic dims of `shape`.
  Value empty(ArrayRef<int64_t> shape, ValueRange dynSizes = {});
  /// An f32 tensor filled with `value`.
  Value filled(ArrayRef<int64_t> shape, double value, ValueRange dynSizes = {});

  /// tensor.dim of each dynamic dimension of x, in order.
  SmallVector<Value> dynamicDims(Value x);

  /// y[m, n] = sum_k x[m, k] * w[n, k]: a projection by a weight in the GGUF
  /// [out, in] layout; m may be dynamic. An F32 weight gives linalg.matmul
  /// with a transposed-B indexing map; a weight in another format
  /// (weightTensorType) a linalg.generic that widens (F16, BF16) or
  /// dequantizes (Q8_0, Q4_0: see projectionQuantized) each weight in its
  /// body, so the kernel reads the weight's own bytes.
  Value projection(Value x, Value w);

  /// Element (row, col) of the embedding table `table` (any weight format)
  /// as f32, emitted in a linalg body at `nb`: the gather's scalar code.
  Value embeddingElement(OpBuilder &nb, Location l, Value table, Value row,
                         Value col);

  /// Row-wise RMSNorm of x [R, D] with weight [D]:
  /// y = (x * (1 / sqrt(sum(x^2) / D + eps))) * w.
  Value rmsNorm(Value x, Value weight, double eps);

  /// Sum of squares of x over its last dimension (a reduction generic).
  Value sumOfSquares(Value x);

  /// Maximum of x over its last dimension, from -inf (a reduction generic).
  Value rowMax(Value x);

  /// acc = combine(x[..., k], acc) over the last dimension of x, acc starting
  /// at `init`: a reduction generic whose result drops that dimension (the
  /// others must be static).
  Value reduceLastDim(
      Value x, double init,
      function_ref<Value(OpBuilder &, Location, Value elem, Value acc)>
          combine);

  /// a + b, same shapes.
  Value add(Value a, Value bv);

  /// silu(gate) * up elementwise on [R, F] (R may be dynamic),
  /// silu(g) = g / (1 + exp(-g)).
  Value swiglu(Value gate, Value up);

  /// Reshapes (tensor.expand_shape / collapse_shape) with static shapes.
  Value expand(Value x, ArrayRef<int64_t> shape,
               ArrayRef<ReassociationIndices> reassociation);
  Value collapse(Value x, ArrayRef<ReassociationIndices> reassociation);

private:
  /// projection() for a Q8_0 or Q4_0 weight [N, K/32, bytes]: a generic over
  /// (m, n, block, [half,] j) reading x as [M, K/32, [2,] 32 or 16], the
  /// quants and the two scale bytes through slices of the weight.
  Value projectionQuantized(Value x, Value w, WeightFormat format);

  /// x [M, K] as Q8_0 blocks, as llama.cpp quantizes the activations of its
  /// Q8_0/Q4_0 matrix products: per row and block of 32, amax = max |x|,
  /// the scale d = f16(amax / 127) (returned widened to f32, [M, K/32]) and
  /// the quants q = roundeven(x * 127 / amax) (0 for an all-zero block) as
  /// i8 [M, K/32, 32]; with `rounded`, instead of q, d * q as f32 [M, K]
  /// (x rounded to what the blocks represent). Reused for the projections
  /// of the same x emitted in the same block (Q, K, V).
  std::pair<Value, Value> quantizeActivations(Value x, bool rounded = false);
  /// x [M, K] rounded to bf16 (truncf: to nearest, ties to even), as
  /// llama.cpp takes the activations of a BF16 product; reused like
  /// quantizeActivations.
  Value activationsBF16(Value x);

  OpBuilder &b;
  Location loc;
  bool quantizedActivations = false;
  llvm::DenseMap<Value, std::pair<Value, Value>> quantizedCache, roundedCache;
  llvm::DenseMap<Value, Value> bf16Cache;
};

/// Scalar bodies for linalg.generic regions, built with the region's builder.
/// In the reference executor's order of operations, so every caller rounds
/// alike.

/// 1 / sqrt(sumSq / n + eps): the RMSNorm scale of a row of n elements whose
/// squares sum to `sumSq` (f32).
Value emitRmsScale(OpBuilder &nb, Location l, Value sumSq, int64_t n,
                   double eps);

/// sigmoid(x) = 1 / (1 + exp(-x)) (f32).
Value emitSigmoid(OpBuilder &nb, Location l, Value x);

/// Weights per quantization block (Q8_0, Q4_0) and bytes per block.
inline constexpr int64_t kQuantBlock = 32;
inline constexpr int64_t kQ8_0BlockBytes = 34;
inline constexpr int64_t kQ4_0BlockBytes = 18;

/// The tensor type of a weight [n, k] passed in `format` (see
/// WeightFormat).
RankedTensorType weightTensorType(MLIRContext *ctx, WeightFormat format,
                                  int64_t n, int64_t k);

/// The tensor type of `experts` stacked weights [n, k] (MoE): [experts] and
/// then weightTensorType's shape.
RankedTensorType stackedWeightTensorType(MLIRContext *ctx, WeightFormat format,
                                         int64_t experts, int64_t n, int64_t k);

/// The format of a weight tensor built by weightTensorType.
WeightFormat weightFormatOf(Type type);

/// silu(x) = x / (1 + exp(-x)) (f32).
Value emitSilu(OpBuilder &nb, Location l, Value x);

/// Builds the private layer function for chunk size `chunk` at the end of
/// `module`:
///   (%x: [C, D], %pos: index, %layer: index, %cos: [C, R/2], %sin: [C, R/2],
///    attn_norm, wq, wk, wv, wo, [q_norm, k_norm], ffn_norm,
///    ffn_gate, ffn_up, ffn_down | ffn_gate_inp [E, D], ffn_gate_exps
///    [E, Fe, D], ffn_up_exps [E, Fe, D], ffn_down_exps [E, D, Fe] (MoE),
///    %k_cache: [L, KVH, Nctx, HD], %v_cache)
///   -> ([C, D], k_cache, v_cache)
func::FuncOp buildLayerFunction(OpBuilder &b, ModuleOp module,
                                const ModelDescription &desc,
                                const ModelBuildOptions &options,
                                int64_t chunk);

/// Number of per-layer weight arguments (9, or 11 with QK-norm; one more
/// with MoE).
int64_t getNumLayerWeights(const ModelDescription &desc);

/// The stacked expert weights of one MoE layer.
struct MoeWeights {
  Value router;   ///< ffn_gate_inp [E, D]
  Value gateExps; ///< ffn_gate_exps [E, Fe, D]
  Value upExps;   ///< ffn_up_exps [E, Fe, D]
  Value downExps; ///< ffn_down_exps [E, D, Fe]
};

/// The MoE feed-forward of the rows h [C, D] (already ffn-normed): router,
/// gating, top-k and the weighted sum of the chosen experts' SwiGLU FFNs.
/// Returns [C, D] (without the residual). See MoE.cpp.
Value emitMoeFeedForward(GraphEmitter &g, const ModelDescription &desc,
                         int64_t chunk, Value h, const MoeWeights &w);

} // namespace mlir::smepilot::detail

#endif // SMEPILOT_LIB_MODELBUILDER_GRAPHEMITTER_H
