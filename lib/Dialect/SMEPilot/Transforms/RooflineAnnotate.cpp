//===- RooflineAnnotate.cpp - Roofline-driven mode selection
//----------------===//
//
// Chooses, for every operator, whether the vector cores (cpu), the matrix
// unit (sme) or both (collab) run it, from the Roofline model in
// lib/Analysis/Roofline.cpp, and records the decision as an attribute. Like
// IREE's strategy selection, this pass only writes attributes: tiling,
// partitioning and dispatch formation read them, and tests check them
// directly. The machine comes from the IR (or the `profile` option, which is
// then written into the IR), never from the host.
//
//===----------------------------------------------------------------------===//

#include "smepilot/Analysis/HardwareProfile.h"
#include "smepilot/Analysis/Roofline.h"
#include "smepilot/Dialect/SMEPilot/IR/Provenance.h"
#include "smepilot/Dialect/SMEPilot/Transforms/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FormatVariadic.h"

namespace mlir::smepilot {
#define GEN_PASS_DEF_ROOFLINEANNOTATE
#include "smepilot/Dialect/SMEPilot/Transforms/Passes.h.inc"
} // namespace mlir::smepilot

using namespace mlir;
using namespace mlir::smepilot;

namespace {

std::optional<ExecMode> parseMode(StringRef s) { return symbolizeExecMode(s); }

/// The mode `force-mode` forces, if any.
std::optional<ExecMode> getForcedMode(ForceMode force) {
  switch (force) {
  case ForceMode::none:
    return std::nullopt;
  case ForceMode::cpu:
    return ExecMode::cpu;
  case ForceMode::sme:
    return ExecMode::sme;
  case ForceMode::collab:
    return ExecMode::collab;
  }
  llvm_unreachable("unknown ForceMode");
}

std::string formatUs(double us) {
  if (us < 0)
    return "n/a";
  return llvm::formatv("{0:F2} us", us).str();
}

struct RooflineAnnotatePass
    : public mlir::smepilot::impl::RooflineAnnotateBase<RooflineAnnotatePass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();

    TargetAttr target;
    if (!profile.empty()) {
      llvm::Expected<TargetAttr> loaded = loadHardwareProfile(ctx, profile);
      if (!loaded) {
        module.emitError("smepilot-roofline-annotate: ")
            << llvm::toString(loaded.takeError());
        return signalPassFailure();
      }
      target = *loaded;
      module->setAttr(TargetAttr::kAttrName, target);
    } else {
      Attribute attr = module->getAttr(TargetAttr::kAttrName);
      target = dyn_cast_or_null<TargetAttr>(attr);
      if (!target) {
        module.emitError("smepilot-roofline-annotate: no hardware profile: "
                         "pass profile=<name|file.json> or attach '")
            << TargetAttr::kAttrName << " = #smepilot.target<...>' to the "
            << "module" << (attr ? " (the attribute there is not one)" : "");
        return signalPassFailure();
      }
    }

    std::optional<ExecMode> globalForce = getForcedMode(forceMode);
    llvm::StringMap<ExecMode> kindForce;
    for (const std::string &entry : forceKind) {
      auto [kind, mode] = StringRef(entry).split(':');
      std::optional<ExecMode> m = parseMode(mode);
      if (kind.empty() || !m) {
        module.emitError("smepilot-roofline-annotate: force-kind entries are "
                         "kind:mode with mode cpu, sme or collab, got '")
            << entry << "'";
        return signalPassFailure();
      }
      kindForce[kind] = *m;
    }

    CharacterizeOptions options;
    options.dynamicSize = dynamicSize;
    bool failedAny = false;
    int64_t nextId = 0;
    module.walk([&](Operation *op) {
      if (!isCostableOp(op))
        return;
      FailureOr<OpCharacterization> c = characterizeOp(op, options);
      if (failed(c)) {
        failedAny = true;
        return;
      }
      RooflinePrediction p = predict(*c, target);
      bool forced = false;
      std::string whyNot;
      auto byKind = kindForce.find(c->kind);
      if (byKind != kindForce.end()) {
        FailureOr<RooflinePrediction> f =
            smepilot::forceMode(*c, target, byKind->second, whyNot);
        if (failed(f)) {
          op->emitError("smepilot-roofline-annotate: cannot force mode ")
              << stringifyExecMode(byKind->second) << ": " << whyNot;
          failedAny = true;
          return;
        }
        p = *f;
        forced = true;
      } else if (globalForce) {
        // Forces every op that can run in the mode; the rest keep theirs.
        FailureOr<RooflinePrediction> f =
            smepilot::forceMode(*c, target, *globalForce, whyNot);
        if (succeeded(f)) {
          p = *f;
          forced = true;
        }
      }
      DecisionAttr decision = buildDecision(ctx, *c, p, forced);
      op->setAttr(DecisionAttr::kAttrName, decision);
      // The decision also travels in the op's location, which every later
      // pass carries to what the op becomes (Provenance.h).
      op->setLoc(
          withOpRecord(op->getLoc(), decision, recordLoopsOf(op), nextId++));
      if (annotateLayouts) {
        SmallVector<Attribute> layouts;
        for (LayoutAttr l : operandLayoutsFor(op, p.mode, target))
          layouts.push_back(l);
        op->setAttr("smepilot.operand_layouts", ArrayAttr::get(ctx, layouts));
      }
      if (explain)
        emitExplanation(op, *c, p, decision, target);
    });
    if (failedAny)
      signalPassFailure();
  }

  void emitExplanation(Operation *op, const OpCharacterization &c,
                       const RooflinePrediction &p, DecisionAttr d,
                       TargetAttr target) {
    InFlightDiagnostic r = op->emitRemark();
    r << "roofline[" << target.getName() << "]: " << c.kind << " ("
      << c.shapeClass << ", " << c.elementType << ") -> "
      << stringifyExecMode(p.mode);
    if (d.getReason() == "forced")
      r << " (forced)";
    r << "; flops=" << c.flops << " weight_bytes=" << c.weightBytes
      << " act_bytes=" << c.actBytes
      << llvm::formatv(" intensity={0:F2} flop/B", c.intensity()).str()
      << "; cpu " << formatUs(p.cpuUs)
      << llvm::formatv(" (compute {0:F2}, memory {1:F2})", p.cpuComputeUs,
                       p.cpuMemoryUs)
             .str()
      << "; sme " << formatUs(p.smeUs);
    if (p.smeUs >= 0)
      r << llvm::formatv(" (compute {0:F2}, memory {1:F2}, tile use {2:P})",
                         p.smeComputeUs, p.smeMemoryUs, p.smeUtilization)
               .str();
    r << "; collab " << formatUs(p.collabUs);
    if (p.collabUs >= 0)
      r << llvm::formatv(" (sme share {0:F2})", p.collabSmeFraction).str();
    r << "; " << (p.memoryBound ? "memory" : "compute") << "-bound";
    if (!c.assumptions.empty())
      r << "; assumed " << d.getAssumed();
  }
};

} // namespace
