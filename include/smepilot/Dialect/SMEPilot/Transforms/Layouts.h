//===- Layouts.h - copies of operands in another layout ---*- C++ -*-===//
//
// What the passes that lay operands out for a unit share (smepilot-tile-sme,
// smepilot-partition-collab, smepilot-pipeline-attention: the K-major
// operands of the SME outer products).
//
//===----------------------------------------------------------------------===//

#ifndef SMEPILOT_DIALECT_SMEPILOT_TRANSFORMS_LAYOUTS_H
#define SMEPILOT_DIALECT_SMEPILOT_TRANSFORMS_LAYOUTS_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/Value.h"

namespace mlir::smepilot {

/// `v` with its dimensions in the order `perm` (result dimension i is `v`'s
/// dimension perm[i]). When the permutation moves only dimensions of static
/// size 1 (the others keep their order), the bytes are already in the new
/// order: the result is a reshape of `v` (its unit dimensions collapsed
/// away and expanded back where `perm` puts them), a view once bufferized,
/// and `copy` is null. Otherwise it is a linalg.transpose into a new
/// tensor, `copy`, whose location records a layout change to `layout`
/// (Provenance.h). A decode step's activation [1, K] is its K-major [K, 1]
/// as it stands.
Value permuteDims(OpBuilder &b, Location loc, Value v, ArrayRef<int64_t> perm,
                  StringRef layout, Operation **copy = nullptr);

} // namespace mlir::smepilot

#endif // SMEPILOT_DIALECT_SMEPILOT_TRANSFORMS_LAYOUTS_H
