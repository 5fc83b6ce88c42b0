//===- PipelineAttention.cpp - smepilot-pipeline-attention -----------------===//
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
#define GEN_PASS_DEF_PIPELINEATTENTION
#include "smepilot/Dialect/SMEPilot/Transforms/Passes.h.inc"
} // namespace mlir::smepilot

using namespace mlir;
using namespace mlir::smepilot;

namespace {
struct PipelineAttentionPass : public smepilot::impl::PipelineAttentionBase<PipelineAttentionPass> {
  using PipelineAttentionBase::PipelineAttentionBase;
  void runOnOperation() override {}
};
} // namespace
