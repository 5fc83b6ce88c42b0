//===- ModelBuilder.h - model config -> linalg graph ------------*- C++ -*-===//
//
// The graph builder: turns a model description (the compiler's mirror of the
// runtime's model_config) into an MLIR module of linalg on tensors, one
// function per chunk size, as docs/compiled-model.md specifies (signature,
// weight order and shapes, K/V cache layout). The numerics follow the
// runtime's reference executor (runtime/src/reference_executor.cpp): f32
// everywhere, RMSNorm y = (x * (1 / sqrt(mean(x^2) + eps))) * w, scores scaled
// by 1 / sqrt(head_dim), RoPE angles computed from pos + token index.
//
//===----------------------------------------------------------------------===//

#ifndef SMEPILOT_MODELBUILDER_MODELBUILDER_H
#define SMEPILOT_MODELBUILDER_MODELBUILDER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <string>

namespace mlir::smepilot {

/// How RoPE pairs the dimensions of a head.
enum class RopeStyle {
  /// Pairs (2i, 2i + 1): llama (llama.cpp "NORM").
  Interleaved,
  /// Pairs (i, i + rope_dim / 2): qwen3 (llama.cpp "NEOX", rotate-half).
  Neox,
};

/// How the router's logits become expert probabilities (runtime
/// expert_gating).
enum class ExpertGating {
  /// Softmax over the experts (qwen3moe).
  Softmax,
  /// 1 / (1 + exp(-logit)) per expert.
  Sigmoid,
};

/// The hyperparameters the graph depends on; field for field the runtime's
/// model_config (runtime/include/smepilot_rt/model.h), which the compiler
/// does not link.
struct ModelDescription {
  /// GGUF general.architecture: "llama", "qwen3" or "qwen3moe" (qwen3 with a
  /// mixture-of-experts FFN: nExpert > 0).
  std::string arch = "llama";
  int64_t nVocab = 0;
  int64_t nEmbd = 0;
  int64_t nLayer = 0;
  int64_t nHead = 0;
  int64_t nHeadKv = 0;
  int64_t headDim = 0; ///< May differ from nEmbd / nHead (qwen3).
  int64_t nFf = 0;     ///< Dense FFN width; unused (may be 0) when nExpert > 0.
  double ropeTheta = 10000.0;
  RopeStyle ropeStyle = RopeStyle::Interleaved;
  int64_t ropeDim = 0; ///< Leading dims of a head RoPE rotates (= headDim).
  double rmsEps = 1e-5;
  /// A rope_freqs weight [ropeDim / 2] divides the frequencies (Llama 3).
  bool hasRopeFreqs = false;
  /// Per-head RMSNorm of q and k before RoPE (qwen3).
  bool hasQkNorm = false;
  /// No output.weight in the file: the runtime passes token_embd as `output`.
  /// The signature does not change.
  bool tiedEmbeddings = false;

  /// Mixture of experts (qwen3moe); nExpert = 0 for a dense FFN. Per token
  /// the router picks the nExpertUsed most probable experts (ties: lower id),
  /// optionally renormalizes their probabilities to sum 1, and sums their
  /// SwiGLU FFNs (width nFfExpert) weighted by them.
  int64_t nExpert = 0;
  int64_t nExpertUsed = 0;
  int64_t nFfExpert = 0;
  ExpertGating expertGating = ExpertGating::Softmax;
  bool expertWeightsNorm = false;

  bool isMoe() const { return nExpert > 0; }
  int64_t qDim() const { return nHead * headDim; }
  int64_t kvDim() const { return nHeadKv * headDim; }
};

/// The type a weight matrix is passed to the compiled code in: its GGUF
/// tensor type, numbered as GGML's type ids (abi.h's SMEPILOT_RT_TYPE_*).
/// As tensors of the forward functions:
///   F32  f32 [N, K], F16 f16 [N, K], BF16 bf16 [N, K] (the GGUF layout);
///   Q8_0 i8 [N, K/32, 34]: per block of 32 weights an f16 scale (2 bytes,
///        little-endian) then 32 int8 quants, weight = scale * quant;
///   Q4_0 i8 [N, K/32, 18]: an f16 scale then 16 bytes, weight j of the
///        block = scale * ((byte[j % 16] >> (4 * (j / 16))) & 15) - 8).
/// The projections and the embedding read these directly (dequantizing in
/// registers); nothing is converted to F32 in memory.
enum class WeightFormat : int64_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q8_0 = 8,
  BF16 = 30,
};

/// "f32", "f16", "q4_0", "q8_0", "bf16".
llvm::StringRef getWeightFormatName(WeightFormat format);

/// What to build.
struct ModelBuildOptions {
  /// One `smepilot_forward_c<C>` function per chunk size (1 is decode).
  llvm::SmallVector<int64_t> chunkSizes = {1};
  /// K/V cache capacity in positions.
  int64_t nCtx = 512;
  /// Compute the RoPE angles and their cos/sin in f64 and round to f32, as
  /// the reference executor does (exact agreement; f64 math.cos/math.sin
  /// become libm calls). Off: all in f32 (polynomial-friendly, differs from
  /// the reference by a few ulp of the angle).
  bool ropeInF64 = true;
  /// Also build, for every chunk size above 1, a twin
  /// `smepilot_forward_c<C>_last` that returns only the last position's
  /// logits ([1, V]): a prompt chunk rarely needs the others, and with a
  /// large vocabulary the LM head over every row dominates the chunk.
  bool lastRowLogits = false;
  /// The format of each weight matrix by GGUF tensor name (token_embd,
  /// output, and per layer attn_q/k/v/output, the dense ffn_gate/up/down and
  /// the MoE experts' stacked ffn_gate/up/down_exps); a name not listed is
  /// F32, and so are norms, rope_freqs and the router. A per-layer role whose
  /// layers do not all share one format, or whose K is not a multiple of the
  /// block (32), is F32 in every layer: getWeightFormats() says what the module
  /// actually takes.
  llvm::StringMap<WeightFormat> weightFormats;
  /// Projections by a Q8_0 or Q4_0 weight take their activations rounded to
  /// Q8_0 blocks (a scale per 32 values and int8 quants), as llama.cpp's CPU
  /// backend does: the product is then one of integers per block, which
  /// tile-cpu can compute with int8 dot products (its `int8-dot` option).
  /// The reference executor rounds alike (engine_options::f32_activations).
  bool quantizedActivations = false;
  /// Keep the K cache K-major, [n_layer, n_head_kv, head_dim, n_ctx] (bound
  /// as "k_cache_kmajor", abi.h v4), instead of [n_layer, n_head_kv, n_ctx,
  /// head_dim] ("k_cache"): QK^T then reads K^T straight from the cache,
  /// the layout the matrix unit's outer products take, instead of
  /// transposing each head's keys per call. The SME path's choice; the
  /// vector cores read rows of K as they are.
  bool keyCacheKMajor = false;
};

/// The format each weight argument of the forward functions is taken in,
/// in getWeightNames() order, after resolving `options.weightFormats` as
/// described there.
llvm::SmallVector<WeightFormat>
getWeightFormats(const ModelDescription &desc,
                 const ModelBuildOptions &options);

/// Name of the forward function for chunk size `chunk`:
/// "smepilot_forward_c<chunk>", or "smepilot_forward_c<chunk>_last" for the
/// variant returning only the last position's logits.
std::string getForwardFunctionName(int64_t chunk, bool lastRowOnly = false);

/// The phase name of that function (its `smepilot.phase` attribute):
/// "forward_c<C>" or "forward_c<C>_last". Dispatch formation replaces the
/// function with `smepilot.dispatch_table @<phase>`, emitted as the global
/// `smepilot_table_<phase>`.
std::string getPhaseName(int64_t chunk, bool lastRowOnly = false);

/// GGUF names of the weight arguments of a forward function, in argument
/// order (starting at argument 2, after tokens and pos): "token_embd.weight",
/// "output_norm.weight", "output.weight" (token_embd's when tied),
/// ["rope_freqs.weight"], then "blk.<l>.attn_norm.weight", ... per layer
/// (ending in ffn_norm, ffn_gate, ffn_up, ffn_down, or for MoE ffn_norm,
/// ffn_gate_inp, ffn_gate_exps, ffn_up_exps, ffn_down_exps).
llvm::SmallVector<std::string> getWeightNames(const ModelDescription &desc);

/// Checks that the builder can express `desc` with `options`; reports the
/// first problem through `ctx`'s diagnostic engine.
LogicalResult verifyModelDescription(MLIRContext *ctx,
                                     const ModelDescription &desc,
                                     const ModelBuildOptions &options);

/// Builds the module: one public function per chunk size (attribute
/// llvm.emit_c_interface) and one private layer function per chunk size,
/// called once per layer. The module verifies. Failure (with an error
/// emitted on an unknown location) when verifyModelDescription fails.
FailureOr<OwningOpRef<ModuleOp>>
buildModelModule(MLIRContext *ctx, const ModelDescription &desc,
                 const ModelBuildOptions &options);

/// Built-in descriptions mirroring ../shared/models/README.md:
/// "stories260k", "qwen3-tiny", "llama3-tiny", "qwen3moe-tiny". Failure for an
/// unknown name.
FailureOr<ModelDescription> getModelPreset(StringRef name);

/// Names accepted by getModelPreset.
llvm::ArrayRef<StringRef> getModelPresetNames();

} // namespace mlir::smepilot

#endif // SMEPILOT_MODELBUILDER_MODELBUILDER_H
