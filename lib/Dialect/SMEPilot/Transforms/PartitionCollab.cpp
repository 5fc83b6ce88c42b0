//===- PartitionCollab.cpp - smepilot-partition-collab ---------------------===//
//
// Work in progress (issue 13): the pass is declared and wired into the SME
// pipeline; it does not change the IR yet.
//
//===----------------------------------------------------------------------===//

#include "smepilot/Dialect/SMEPilot/Transforms/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

namespace mlir::smepilot {
#define GEN_PASS_DEF_PARTITIONCOLLAB
#include "smepilot/Dialect/SMEPilot/Transforms/Passes.h.inc"
} // namespace mlir::smepilot

using namespace mlir;
using namespace mlir::smepilot;

namespace {
struct PartitionCollabPass : public smepilot::impl::PartitionCollabBase<PartitionCollabPass> {
  using PartitionCollabBase::PartitionCollabBase;
  void runOnOperation() override {}
};
} // namespace
