//===- SMEPipeline.cpp - linalg on tensors to LLVM with Arm SME kernels
//-----===//
//
// smepilot-sme-pipeline: the aarch64 path for modules whose contractions the
// Roofline model assigned to the matrix unit (docs/sme-path.md).
// smepilot-tile-sme first rewrites those contractions into outlined,
// tiled kernels of outer products on K-major operands; everything else
// follows the host pipeline's stages (decompose, fuse, vectorize for the
// vector cores -- NEON on aarch64 --, polynomial math, bufferize). After
// bufferization the kernels are lowered to the arm_sme dialect (vector
// legalization to ZA tiles, outer product fusion into the widening 2-way /
// 4-way forms, tile slices moved by scf loops), the kernels alone are made
// streaming with a new ZA state (enable-arm-streaming if-required-by-ops),
// and the whole module is lowered to the LLVM dialect with the SME tile
// allocation in convert-arm-sme-to-llvm (which needs CF, hence after
// scf-to-cf).
//
// The target (sme-sve or sme2-nosve) does not change the IR: it is recorded
// on the module as `smepilot.sme_target` and chooses the CPU features when
// the object is emitted (lib/Codegen/AOTCompile.cpp).
//
//===----------------------------------------------------------------------===//

#include "smepilot/Pipelines/Pipelines.h"

#include "smepilot/Dialect/SMEPilot/Transforms/Passes.h"

#include "mlir/Conversion/AffineToStandard/AffineToStandard.h"
#include "mlir/Conversion/ArithToArmSME/ArithToArmSME.h"
#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ArmSMEToLLVM/ArmSMEToLLVM.h"
#include "mlir/Conversion/ArmSMEToSCF/ArmSMEToSCF.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVMPass.h"
#include "mlir/Conversion/IndexToLLVM/IndexToLLVM.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/MemRefToLLVM/MemRefToLLVM.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Conversion/UBToLLVM/UBToLLVM.h"
#include "mlir/Conversion/VectorToArmSME/VectorToArmSME.h"
#include "mlir/Conversion/VectorToLLVM/ConvertVectorToLLVMPass.h"
#include "mlir/Conversion/VectorToSCF/VectorToSCF.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/ArmSME/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/Vector/Transforms/Passes.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"

using namespace mlir;
using namespace mlir::smepilot;

namespace {

void addCleanup(OpPassManager &pm) {
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void addTileSME(OpPassManager &pm, bool allContractions,
                SMEWeightType weightType) {
  TileSMEOptions options;
  options.allContractions = allContractions;
  options.weightType = weightType;
  pm.addPass(createTileSME(options));
  addCleanup(pm);
}

void addLowerSME(OpPassManager &pm) {
  // [8]x[8] tiles -> four [4]x[4] ZA tiles.
  pm.addPass(arm_sme::createVectorLegalizationPass());
  addCleanup(pm);
  pm.addPass(createArithToArmSMEConversionPass());
  pm.addPass(createConvertVectorToArmSMEPass());
  pm.addNestedPass<func::FuncOp>(arm_sme::createOuterProductFusionPass());
  pm.addPass(createConvertArmSMEToSCFPass());
  // bf16 <-> f32 conversions inline (no __truncsfbf2 call). Only after the
  // outer product fusion: expanded bf16 extensions would hide the widening
  // pattern from it.
  arith::ArithExpandOpsPassOptions expand;
  expand.includeBf16 = true;
  pm.addNestedPass<func::FuncOp>(arith::createArithExpandOpsPass(expand));
  // Only functions holding arm_sme ops (the kernels) become streaming.
  pm.addNestedPass<func::FuncOp>(arm_sme::createEnableArmStreamingPass(
      arm_sme::ArmStreamingMode::StreamingLocally, arm_sme::ArmZaMode::NewZA,
      /*ifRequiredByOps=*/true));
  addCleanup(pm);
}

/// The host pipeline's lower-to-llvm list with the SME tile allocation and
/// intrinsics conversion after scf-to-cf (it needs unstructured CF).
void addLowerToLLVM(OpPassManager &pm) {
  addLowerToLLVMPasses(pm, /*armSME=*/true);
}

} // namespace

bool mlir::smepilot::isKnownSMETarget(StringRef target) {
  return symbolizeSMETarget(target).has_value();
}

SmallVector<std::string> mlir::smepilot::getSMETargetNames() {
  return {stringifySMETarget(SMETarget::sme_sve).str(),
          stringifySMETarget(SMETarget::sme2_nosve).str()};
}

SmallVector<PipelineStage>
mlir::smepilot::getSMEPipelineStages(const SMEPipelineOptions &options) {
  bool allContractions = options.allContractions;
  SMETarget target = options.target;
  // The host stages the SME path shares. Its annotate stage is not used:
  // the decisions are the input (or all-contractions).
  HostPipelineOptions host;
  SmallVector<PipelineStage> hostStages = getHostPipelineStages(host);
  auto hostStage = [&](StringRef name) {
    return *llvm::find_if(
        hostStages, [&](const PipelineStage &s) { return s.name == name; });
  };
  SmallVector<PipelineStage> stages;
  SMEWeightType weightType = options.weightType;
  int64_t forceShare = options.forceShare;
  bool pipelineAttention = options.pipelineAttention;
  double adaptiveMargin = options.adaptiveMargin;
  stages.push_back({"partition-collab", [forceShare, weightType,
                                         adaptiveMargin](OpPassManager &pm) {
                      PartitionCollabOptions partition;
                      partition.forceShare = forceShare;
                      partition.adaptiveMargin = adaptiveMargin;
                      partition.weightType = weightType;
                      pm.addPass(createPartitionCollab(partition));
                      addCleanup(pm);
                    }});
  stages.push_back(
      {"pipeline-attention", [pipelineAttention](OpPassManager &pm) {
         PipelineAttentionOptions pipeline;
         pipeline.force = pipelineAttention;
         pm.addPass(createPipelineAttention(pipeline));
         addCleanup(pm);
       }});
  stages.push_back({"propagate-layout", [allContractions](OpPassManager &pm) {
                      PropagateLayoutOptions propagate;
                      propagate.allContractions = allContractions;
                      pm.addPass(createPropagateLayout(propagate));
                      addCleanup(pm);
                    }});
  stages.push_back(
      {"tile-sme", [allContractions, weightType](OpPassManager &pm) {
         addTileSME(pm, allContractions, weightType);
       }});
  // The phases of a model (smepilot.phase) become dispatch tables as on the
  // host; a call to an SME kernel stays a call, in a dispatch of its own.
  for (StringRef name : {"decompose", "fuse", "dispatch-regions", "vectorize",
                         "approximate-math", "bufferize", "dispatch"})
    stages.push_back(hostStage(name));
  stages.push_back({"lower-sme", [target](OpPassManager &pm) {
                      RecordSMETargetOptions record;
                      record.target = target;
                      pm.addPass(createRecordSMETarget(record));
                      addLowerSME(pm);
                    }});
  stages.push_back({"lower-to-llvm", addLowerToLLVM});
  return stages;
}

SmallVector<std::string> mlir::smepilot::getSMEPipelineStageNames() {
  SMEPipelineOptions options;
  return llvm::map_to_vector(getSMEPipelineStages(options),
                             [](const PipelineStage &s) { return s.name; });
}

LogicalResult
mlir::smepilot::buildSMEPipeline(OpPassManager &pm,
                                 const SMEPipelineOptions &options,
                                 function_ref<void(const Twine &)> emitError) {
  std::string stopAfter = options.stopAfter;
  if (failed(addPipelineStages(pm, getSMEPipelineStages(options), stopAfter))) {
    emitError("smepilot-sme-pipeline: unknown stop-after stage '" + stopAfter +
              "' (stages: " + llvm::join(getSMEPipelineStageNames(), ", ") +
              ")");
    return failure();
  }
  return success();
}

void mlir::smepilot::registerSMEPipeline() {
  static bool registered = false;
  if (registered)
    return;
  registered = true;
  registerPassPipeline(
      "smepilot-sme-pipeline",
      "Compile linalg on tensors for aarch64 with Arm SME kernels down to the "
      "LLVM dialect (stages: " +
          llvm::join(getSMEPipelineStageNames(), ", ") + ")",
      [](OpPassManager &pm, StringRef optionString,
         function_ref<LogicalResult(const Twine &)> errorHandler) {
        std::unique_ptr<SMEPipelineOptions> options =
            SMEPipelineOptions::createFromString(optionString);
        if (!options)
          return errorHandler("smepilot-sme-pipeline: bad options '" +
                              optionString + "'");
        std::string message;
        if (failed(buildSMEPipeline(
                pm, *options, [&](const Twine &msg) { message = msg.str(); })))
          return errorHandler(message);
        return success();
      },
      [](function_ref<void(const mlir::detail::PassOptions &)> printOptions) {
        printOptions(SMEPipelineOptions());
      });
}
