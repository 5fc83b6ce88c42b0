//===- Pipelines.h - SMEPilot pass pipelines --------------------*- C++ -*-===//
//
// Pass pipelines, registered once (smepilot-opt) and built by the same
// functions from tools (smepilot-run).
//
//===----------------------------------------------------------------------===//

#ifndef SMEPILOT_PIPELINES_PIPELINES_H
#define SMEPILOT_PIPELINES_PIPELINES_H

#include "smepilot/Dialect/SMEPilot/Transforms/PassEnums.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"
#include "llvm/ADT/SmallVector.h"

#include <functional>
#include <string>

namespace mlir {
class DialectRegistry;
} // namespace mlir

namespace mlir::smepilot {

/// Options of `smepilot-host-pipeline`.
struct HostPipelineOptions : public PassPipelineOptions<HostPipelineOptions> {
  Option<std::string> profile{
      *this, "profile",
      llvm::cl::desc("Hardware profile for the Roofline annotation (a "
                     "built-in name or a .json path)"),
      llvm::cl::init("host-x86")};
  ListOption<int64_t> contractionTileSizes{
      *this, "contraction-tile-sizes",
      llvm::cl::desc("Tile = vector sizes of the innermost m, n, k dimensions "
                     "of contractions (default 16,16,1)")};
  Option<int64_t> vectorWidth{
      *this, "vector-width",
      llvm::cl::desc("Lanes of the innermost loop of other ops"),
      llvm::cl::init(16)};
  Option<bool> vectorize{
      *this, "vectorize",
      llvm::cl::desc("Tile and vectorize (off: every op becomes scalar loops)"),
      llvm::cl::init(true)};
  Option<bool> int8Dot{
      *this, "int8-dot",
      llvm::cl::desc("Int8 dot contractions use AVX512-VNNI vpdpbusd "
                     "(smepilot-tile-cpu int8-dot; the CPU must have "
                     "avx512vnni and avx512vl)"),
      llvm::cl::init(false)};
  Option<bool> bf16Dot{
      *this, "bf16-dot",
      llvm::cl::desc("BF16 dot contractions use AVX512-BF16 vdpbf16ps "
                     "(smepilot-tile-cpu bf16-dot; the CPU must have "
                     "avx512bf16); off, f32 <-> bf16 conversions are "
                     "expanded to integer operations "
                     "(smepilot-expand-bf16-conversions)"),
      llvm::cl::init(false)};
  Option<bool> approximateSinCos{
      *this, "approximate-sin-cos",
      llvm::cl::desc("Also replace math.sin/cos by polynomials (otherwise "
                     "they stay sinf/cosf calls)"),
      llvm::cl::init(false)};
  Option<int64_t> maxTiles{
      *this, "max-tiles",
      llvm::cl::desc(
          "Tiles per op of a phase (smepilot-form-dispatch-regions)"),
      llvm::cl::init(64)};
  Option<std::string> stopAfter{
      *this, "stop-after",
      llvm::cl::desc("Stop after the named stage (see hostPipelineStageNames)"),
      llvm::cl::init("")};
};

/// One addressable stage of a pipeline: a name and the passes it adds.
struct PipelineStage {
  std::string name;
  std::function<void(OpPassManager &)> addPasses;
};

/// The stages of the host pipeline, in order:
///   annotate          smepilot-roofline-annotate (host profile: all cpu)
///   decompose         linalg.softmax -> structured ops
///   fuse              generalize named ops, fuse elementwise producers
///   dispatch-regions  smepilot-form-dispatch-regions: an scf.forall tile
///                     space around each top-level op of a phase
///   vectorize         smepilot-tile-cpu, mask lowering, subset hoisting
///   approximate-math  polynomial math (no libm except sin/cos)
///   bufferize         one-shot (function boundaries, identity layouts),
///                     equivalent results dropped, results -> out-params,
///                     buffer deallocation
///   dispatch          smepilot-form-dispatches: phases -> kernels over tile
///                     ranges + smepilot.dispatch_table
///   lower-to-llvm     leftover linalg -> loops, vector/scf/affine/arith/
///                     math/memref/func/index/cf/ub -> llvm, then
///                     smepilot-emit-dispatch-tables (abi.h globals)
/// Running the stages one after another is exactly buildHostPipeline
/// (without stop-after); smepilot-run --dump-mlir prints after each.
SmallVector<PipelineStage> getHostPipelineStages(const HostPipelineOptions &);

/// Adds `stages` to `pm` in order, through the one named `stopAfter` if that
/// is not empty; fails (adding nothing) when no stage has that name. What
/// both pipelines' stop-after options do.
LogicalResult addPipelineStages(OpPassManager &pm,
                                ArrayRef<PipelineStage> stages,
                                StringRef stopAfter);

/// The stage names, in order.
SmallVector<std::string> getHostPipelineStageNames();

/// Adds the host pipeline (up to options.stopAfter, if set) to `pm`, which
/// must be anchored on builtin.module. Fails on an unknown stop-after name.
LogicalResult buildHostPipeline(OpPassManager &pm,
                                const HostPipelineOptions &options);

/// The passes of the lower-to-llvm stage, shared by the host and SME
/// pipelines: leftover linalg -> loops, vector/scf/affine/arith/math/memref/
/// func/index/cf/ub -> llvm, then smepilot-emit-dispatch-tables. With
/// `armSME`, arm_sme ops are converted after scf-to-cf (tile allocation needs
/// unstructured control flow) and vector-to-llvm handles SVE's scalable
/// vectors.
void addLowerToLLVMPasses(OpPassManager &pm, bool armSME);

/// Registers `smepilot-host-pipeline` (once per process).
void registerHostPipeline();

/// Options of `smepilot-sme-pipeline`.
struct SMEPipelineOptions : public PassPipelineOptions<SMEPipelineOptions> {
  Option<SMETarget> target{
      *this, "target", llvm::cl::desc("SME target"),
      llvm::cl::init(SMETarget::sme_sve),
      llvm::cl::values(clEnumValN(SMETarget::sme_sve, "sme-sve",
                                  "+sve,+sme,+bf16 (runs under QEMU)"),
                       clEnumValN(SMETarget::sme2_nosve, "sme2-nosve",
                                  "+sme2 without +sve (Apple M4 style)"))};
  Option<bool> allContractions{
      *this, "all-contractions",
      llvm::cl::desc("Put every contraction of a supported type on SME, "
                     "whatever its smepilot.decision (for tests)"),
      llvm::cl::init(false)};
  Option<SMEWeightType> weightType{
      *this, "weight-type",
      llvm::cl::desc("What f32 contractions with a weight compute in on SME "
                     "(smepilot-tile-sme weight-type)"),
      llvm::cl::init(SMEWeightType::f32),
      llvm::cl::values(
          clEnumValN(SMEWeightType::f32, "f32", "f32 outer products"),
          clEnumValN(SMEWeightType::bf16, "bf16",
                     "bf16 widening outer products"),
          clEnumValN(SMEWeightType::f16, "f16",
                     "f16 widening outer products"))};
  Option<int64_t> forceShare{
      *this, "force-share",
      llvm::cl::desc("Partition every SME-capable contraction between both "
                     "units with this SME share in parts per 65536 "
                     "(smepilot-partition-collab force-share; -1: the "
                     "Roofline decisions)"),
      llvm::cl::init(-1)};
  Option<double> adaptiveMargin{
      *this, "adaptive-margin",
      llvm::cl::desc("Both kernels for contractions decided cpu or sme whose "
                     "other unit's predicted time is within this factor "
                     "(smepilot-partition-collab adaptive-margin; 0: none)"),
      llvm::cl::init(0.0)};
  Option<bool> pipelineAttention{
      *this, "pipeline-attention",
      llvm::cl::desc("Pipeline prefill attention whatever the decisions say "
                     "(smepilot-pipeline-attention force)"),
      llvm::cl::init(false)};
  Option<std::string> stopAfter{
      *this, "stop-after",
      llvm::cl::desc(
          "Stop after the named stage (see getSMEPipelineStageNames)"),
      llvm::cl::init("")};
};

/// The SME target names, and whether `target` is one of them. The SME
/// target is also `smepilot.sme_target` (kSMETargetAttrName, PassEnums.h),
/// which the lower-sme stage writes for the object emitter.
SmallVector<std::string> getSMETargetNames();
bool isKnownSMETarget(llvm::StringRef target);

/// The stages of the SME pipeline, in order:
///   tile-sme          smepilot-tile-sme (K-major operands, outlined kernels
///                     of outer products on [8]x[8] scalable tiles)
///   decompose, fuse, vectorize, approximate-math, bufferize
///                     as in the host pipeline (for the non-SME ops)
///   lower-sme         arith-expand (bf16), arm-sme vector legalization,
///                     arith/vector -> arm_sme, outer product fusion,
///                     arm_sme -> scf, enable-arm-streaming on the kernels
///   lower-to-llvm     the host list plus convert-arm-sme-to-llvm after
///                     scf-to-cf
SmallVector<PipelineStage> getSMEPipelineStages(const SMEPipelineOptions &);

/// The stage names, in order.
SmallVector<std::string> getSMEPipelineStageNames();

/// Adds the SME pipeline to `pm` (anchored on builtin.module). Fails, after
/// calling `emitError`, on an unknown stop-after stage (the target and the
/// weight type are enum options: parsing them already rejects a bad name).
LogicalResult buildSMEPipeline(OpPassManager &pm,
                               const SMEPipelineOptions &options,
                               function_ref<void(const Twine &)> emitError);

/// Registers `smepilot-sme-pipeline` (once per process).
void registerSMEPipeline();

/// Registers every dialect and interface the host pipeline's input and
/// intermediate IR use (linalg, tensor, bufferization models, LLVM, ...).
void registerHostPipelineDialects(DialectRegistry &registry);

} // namespace mlir::smepilot

#endif // SMEPILOT_PIPELINES_PIPELINES_H
