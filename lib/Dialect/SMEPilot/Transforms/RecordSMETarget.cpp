//===- RecordSMETarget.cpp - Record the SME target on the module ----------===//
//
// The SME target (sme-sve or sme2-nosve) does not change the IR the SME
// pipeline produces: it only chooses the CPU features of the object. The
// pipeline records it on the module, so that the object emitter, which may
// run in another process on the saved IR, knows what the IR was built for.
//
//===----------------------------------------------------------------------===//

#include "smepilot/Dialect/SMEPilot/Transforms/Passes.h"

#include "mlir/IR/BuiltinAttributes.h"

namespace mlir::smepilot {
#define GEN_PASS_DEF_RECORDSMETARGET
#include "smepilot/Dialect/SMEPilot/Transforms/Passes.h.inc"
} // namespace mlir::smepilot

using namespace mlir;
using namespace mlir::smepilot;

namespace {

struct RecordSMETargetPass
    : public smepilot::impl::RecordSMETargetBase<RecordSMETargetPass> {
  using Base::Base;

  void runOnOperation() override {
    getOperation()->setAttr(
        kSMETargetAttrName,
        StringAttr::get(&getContext(), stringifySMETarget(target)));
  }
};

} // namespace
