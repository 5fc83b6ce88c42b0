//===- HostPipeline.cpp - linalg on tensors to LLVM for the host CPU
//--------===//
//
// smepilot-host-pipeline: the whole-module host path of the compiled model
// (docs/compiled-model.md). Every op runs on the vector cores: the Roofline
// annotation records that (host profile), softmax is decomposed, elementwise
// producers are fused, every op is tiled and vectorized (scalar loops where
// the vectorizer declines), math functions become polynomials, the module is
// bufferized across function boundaries with results turned into
// caller-provided out-params, each phase function (`smepilot.phase`) becomes
// kernels over tile ranges and a dispatch table (FormDispatchRegions before
// tiling, FormDispatches after bufferization, EmitDispatchTables at the end),
// and everything is lowered to the LLVM dialect for the JIT (lib/Codegen).
//
// The stages are data (getHostPipelineStages), so a driver can print the IR
// between them and tests can stop after any of them (stop-after=<stage>).
//
//===----------------------------------------------------------------------===//

#include "smepilot/Pipelines/Pipelines.h"

#include "smepilot/Dialect/SMEPilot/Transforms/Passes.h"

#include "mlir/Conversion/AffineToStandard/AffineToStandard.h"
#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ArmSMEToLLVM/ArmSMEToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVMPass.h"
#include "mlir/Conversion/IndexToLLVM/IndexToLLVM.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/MemRefToLLVM/MemRefToLLVM.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Conversion/UBToLLVM/UBToLLVM.h"
#include "mlir/Conversion/VectorToLLVM/ConvertVectorToLLVMPass.h"
#include "mlir/Conversion/VectorToSCF/VectorToSCF.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/Vector/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using namespace mlir::smepilot;

namespace {

/// The options the stages need, copied out of the (non-copyable) pass
/// pipeline options so that the stage closures own them.
struct StageConfig {
  std::string profile;
  SmallVector<int64_t> contractionTileSizes;
  int64_t vectorWidth;
  bool vectorize;
  bool approximateSinCos;
  int64_t maxTiles;
  bool int8Dot;
  bool bf16Dot;
};

void addCleanup(OpPassManager &pm) {
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void addAnnotate(OpPassManager &pm, const StageConfig &config) {
  RooflineAnnotateOptions options;
  options.profile = config.profile;
  pm.addPass(createRooflineAnnotate(options));
}

void addDecompose(OpPassManager &pm) {
  pm.addNestedPass<func::FuncOp>(createDecomposeAggregates());
}

void addFuse(OpPassManager &pm) {
  // Generic ops only from here on: one vectorization path for named and
  // generic ops alike, and named elementwise ops become fusable.
  pm.addNestedPass<func::FuncOp>(createLinalgGeneralizeNamedOpsPass());
  // Fuses elementwise producers with a single use into their consumers
  // (not costly ones into contractions: FuseElementwise.cpp).
  pm.addNestedPass<func::FuncOp>(createFuseElementwise());
  addCleanup(pm);
}

void addDispatchRegions(OpPassManager &pm, const StageConfig &config) {
  FormDispatchRegionsOptions options;
  options.maxTiles = config.maxTiles;
  options.vectorWidth = config.vectorWidth;
  pm.addPass(createFormDispatchRegions(options));
  addCleanup(pm);
}

void addDispatch(OpPassManager &pm) {
  pm.addPass(createFormDispatches());
  // Right after outlining: it compares the kernels as outlined.
  pm.addPass(createHoistLoadTime());
  addCleanup(pm);
  // After the cleanup, which may make kernels of different tables equal.
  pm.addPass(createDedupKernels());
}

void addVectorize(OpPassManager &pm, const StageConfig &config) {
  if (!config.vectorize)
    return;
  TileCPUOptions options;
  options.contractionTileSizes = config.contractionTileSizes;
  options.vectorWidth = config.vectorWidth;
  options.int8Dot = config.int8Dot;
  options.bf16Dot = config.bf16Dot;
  pm.addNestedPass<func::FuncOp>(createTileCPU(options));
  // Masks are lowered before canonicalization: in LLVM 22 folding a
  // tensor.cast into a masked transfer_write breaks the vector.mask region.
  pm.addNestedPass<func::FuncOp>(vector::createLowerVectorMaskPass());
  addCleanup(pm);
  // Keeps loop-carried tiles (reduction accumulators) in registers.
  pm.addPass(createLoopInvariantSubsetHoistingPass());
  addCleanup(pm);
}

void addApproximateMath(OpPassManager &pm, const StageConfig &config) {
  ApproximateMathOptions options;
  options.sinCos = config.approximateSinCos;
  pm.addNestedPass<func::FuncOp>(createApproximateMath(options));
}

void addBufferize(OpPassManager &pm) {
  // One-shot across function boundaries with identity layouts, except the
  // matrix-unit kernels' arguments (strided views, not copies, at calls).
  pm.addPass(createBufferize());
  // Folds loop-carried memrefs that are yielded unchanged, so that returned
  // buffers are visible as allocations below.
  addCleanup(pm);
  // Results that are an argument updated in place (the KV caches) leave the
  // signature, public functions included; the others become trailing out-params
  // the caller allocates, and a static allocation that is returned is replaced
  // by the out-param (no copy).
  pm.addPass(createDropInPlaceResults());
  bufferization::BufferResultsToOutParamsPassOptions outParams;
  outParams.hoistStaticAllocs = true;
  outParams.modifyPublicFunctions = true;
  pm.addPass(bufferization::createBufferResultsToOutParamsPass(outParams));
  addCleanup(pm);
  bufferization::buildBufferDeallocationPipeline(pm);
  addCleanup(pm);
}

void addLowerToLLVM(OpPassManager &pm, const StageConfig &config) {
  // Without AVX512-BF16 (bf16-dot off), an f32 -> bf16 truncation would be a
  // __truncsfbf2 call per lane, which the JIT cannot even resolve. Here, in
  // the host's own last stage: the SME pipeline shares the earlier ones and
  // expands bf16 itself, after its outer-product fusion.
  if (!config.bf16Dot)
    pm.addNestedPass<func::FuncOp>(createExpandBF16Conversions());
  addLowerToLLVMPasses(pm, /*armSME=*/false);
}

} // namespace

void mlir::smepilot::addLowerToLLVMPasses(OpPassManager &pm, bool armSME) {
  // Strided copies (new K/V rows into the cache) stay in generated code
  // instead of calling the C runner utilities' memrefCopy.
  pm.addNestedPass<func::FuncOp>(createCopiesToLinalg());
  // Whatever was not vectorized becomes scalar loops.
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToLoopsPass());
  // convert-vector-to-llvm does not lower multi_reduction (masked or not).
  pm.addNestedPass<func::FuncOp>(vector::createLowerVectorMultiReductionPass(
      vector::VectorMultiReductionLowering::InnerReduction));
  VectorTransferToSCFOptions transfers;
  transfers.enableFullUnroll(true);
  pm.addNestedPass<func::FuncOp>(createConvertVectorToSCFPass(transfers));
  pm.addPass(createLowerAffinePass());
  pm.addPass(createSCFToControlFlowPass());
  // SME tile allocation and intrinsics: it needs unstructured control flow.
  if (armSME)
    pm.addNestedPass<func::FuncOp>(createConvertArmSMEToLLVMPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  // smepilot.dot4_u8s8 (int8-dot) -> the vpdpbusd intrinsic.
  pm.addPass(createLowerX86Dot());
  // vector.contract -> outer products: one FMA of a broadcast A element and
  // a 16-lane B row per output row.
  ConvertVectorToLLVMPassOptions vectorToLLVM;
  vectorToLLVM.vectorContractLowering =
      vector::VectorContractLowering::OuterProduct;
  vectorToLLVM.armSVE = armSME;
  pm.addPass(createConvertVectorToLLVMPass(vectorToLLVM));
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createUBToLLVMConversionPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  // The kernels are LLVM functions now: what they compute is exported
  // (from their locations) and the tables can point at them.
  pm.addPass(createExportExplain());
  pm.addPass(createEmitDispatchTables());
  addCleanup(pm);
}

SmallVector<PipelineStage>
mlir::smepilot::getHostPipelineStages(const HostPipelineOptions &options) {
  StageConfig config{options.profile,
                     SmallVector<int64_t>(options.contractionTileSizes.begin(),
                                          options.contractionTileSizes.end()),
                     options.vectorWidth,
                     options.vectorize,
                     options.approximateSinCos,
                     options.maxTiles,
                     options.int8Dot,
                     options.bf16Dot};
  SmallVector<PipelineStage> stages;
  stages.push_back(
      {"annotate", [config](OpPassManager &pm) { addAnnotate(pm, config); }});
  stages.push_back({"decompose", addDecompose});
  stages.push_back({"fuse", addFuse});
  stages.push_back({"dispatch-regions", [config](OpPassManager &pm) {
                      addDispatchRegions(pm, config);
                    }});
  stages.push_back(
      {"vectorize", [config](OpPassManager &pm) { addVectorize(pm, config); }});
  stages.push_back({"approximate-math", [config](OpPassManager &pm) {
                      addApproximateMath(pm, config);
                    }});
  stages.push_back({"bufferize", addBufferize});
  stages.push_back({"dispatch", addDispatch});
  stages.push_back({"lower-to-llvm", [config](OpPassManager &pm) {
                      addLowerToLLVM(pm, config);
                    }});
  return stages;
}

SmallVector<std::string> mlir::smepilot::getHostPipelineStageNames() {
  HostPipelineOptions options;
  return llvm::map_to_vector(getHostPipelineStages(options),
                             [](const PipelineStage &s) { return s.name; });
}

LogicalResult
mlir::smepilot::buildHostPipeline(OpPassManager &pm,
                                  const HostPipelineOptions &options) {
  return addPipelineStages(pm, getHostPipelineStages(options),
                           options.stopAfter);
}

LogicalResult mlir::smepilot::addPipelineStages(OpPassManager &pm,
                                                ArrayRef<PipelineStage> stages,
                                                StringRef stopAfter) {
  if (!stopAfter.empty() && llvm::none_of(stages, [&](const PipelineStage &s) {
        return s.name == stopAfter;
      }))
    return failure();
  for (const PipelineStage &stage : stages) {
    stage.addPasses(pm);
    if (stage.name == stopAfter)
      break;
  }
  return success();
}

void mlir::smepilot::registerHostPipeline() {
  static bool registered = false;
  if (registered)
    return;
  registered = true;
  std::string names = llvm::join(getHostPipelineStageNames(), ", ");
  registerPassPipeline(
      "smepilot-host-pipeline",
      "Compile linalg on tensors for the host CPU down to the LLVM dialect "
      "(stages: " +
          names + ")",
      [](OpPassManager &pm, StringRef optionString,
         function_ref<LogicalResult(const Twine &)> errorHandler) {
        std::unique_ptr<HostPipelineOptions> options =
            HostPipelineOptions::createFromString(optionString);
        if (!options)
          return errorHandler("smepilot-host-pipeline: bad options '" +
                              optionString + "'");
        if (failed(buildHostPipeline(pm, *options)))
          return errorHandler(
              "smepilot-host-pipeline: unknown stop-after stage '" +
              options->stopAfter + "' (stages: " +
              llvm::join(getHostPipelineStageNames(), ", ") + ")");
        return success();
      },
      [](function_ref<void(const mlir::detail::PassOptions &)> printOptions) {
        printOptions(HostPipelineOptions());
      });
}
