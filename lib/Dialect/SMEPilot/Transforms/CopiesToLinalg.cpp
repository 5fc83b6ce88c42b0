//===- CopiesToLinalg.cpp - strided memref.copy -> linalg.copy
//---------------===//
//
// memref.copy lowers to a memcpy intrinsic only between contiguous
// identity-layout buffers; every other copy becomes a call of the C runner
// utilities' `memrefCopy`, which the JIT does not load, which has no aarch64
// build, and which streaming kernels may not call. Rewriting such copies as
// linalg.copy keeps them in generated code (loops after
// convert-linalg-to-loops). The graph builder's K/V cache update is the case
// that matters: new rows are copied into a strided subview of the cache.
//
//===----------------------------------------------------------------------===//

#include "smepilot/Dialect/SMEPilot/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"

namespace mlir::smepilot {
#define GEN_PASS_DEF_COPIESTOLINALG
#include "smepilot/Dialect/SMEPilot/Transforms/Passes.h.inc"
} // namespace mlir::smepilot

using namespace mlir;

namespace {

bool hasIdentityLayout(Value v) {
  auto type = dyn_cast<MemRefType>(v.getType());
  return type && type.getLayout().isIdentity();
}

struct CopiesToLinalgPass
    : public mlir::smepilot::impl::CopiesToLinalgBase<CopiesToLinalgPass> {
  void runOnOperation() override {
    SmallVector<memref::CopyOp> copies;
    getOperation().walk([&](memref::CopyOp copy) {
      if (!hasIdentityLayout(copy.getSource()) ||
          !hasIdentityLayout(copy.getTarget()))
        copies.push_back(copy);
    });
    for (memref::CopyOp copy : copies) {
      // linalg.copy needs ranked memrefs; unranked copies stay as they are.
      if (!isa<MemRefType>(copy.getSource().getType()) ||
          !isa<MemRefType>(copy.getTarget().getType()))
        continue;
      OpBuilder b(copy);
      linalg::CopyOp::create(b, copy.getLoc(), copy.getSource(),
                             copy.getTarget());
      copy.erase();
    }
  }
};

} // namespace
