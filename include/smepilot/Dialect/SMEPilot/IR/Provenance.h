//===- Provenance.h - what a compiled op computes, carried in locations ---===//
//
// The Roofline decisions are made on the graph builder's ops
// (smepilot-roofline-annotate), but what finally runs are fused,
// generalized, tiled, vectorized, bufferized and lowered descendants of
// those ops. MLIR carries locations through every one of those steps
// (fusion fuses the producer's and the consumer's, tiling, vectorization
// and lowering copy them), so the annotation also wraps each op's location
// in a FusedLoc whose metadata is a provenance record. Whatever an op
// becomes, the records in its location say which builder ops it computes
// and what was decided for them; smepilot-export-explain reads them from
// each kernel to explain the dispatch tables without recomputing anything.
//
// A record is a DictionaryAttr, the metadata of a FusedLoc:
//   {smepilot.op = #smepilot.decision<...>, loops = array<i64: ...>, id = N}
//       a builder op: its decision, its loop ranges (-1: dynamic) and a
//       number unique in the module (identical layers have equal decisions,
//       but are different ops);
//   {smepilot.layout_change = "<layout>"}
//       a copy of an operand in another layout that the compiler inserted
//       (e.g. "k-major" for the SME outer products). Its location wraps the
//       one of the op it was made for, which it does not compute:
//       collectRecords does not look inside.
//
// Locations are not part of an op's identity (CSE, kernel deduplication and
// the printed IR ignore them), so records change no transformation.
//
//===----------------------------------------------------------------------===//

#ifndef SMEPILOT_DIALECT_SMEPILOT_IR_PROVENANCE_H
#define SMEPILOT_DIALECT_SMEPILOT_IR_PROVENANCE_H

#include "smepilot/Dialect/SMEPilot/IR/SMEPilot.h"

#include "mlir/IR/Location.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/SetVector.h"

namespace mlir::smepilot {

/// The key of a builder op's record (its DecisionAttr) and of its loops.
inline constexpr llvm::StringLiteral kOpRecordKey = "smepilot.op";
inline constexpr llvm::StringLiteral kLoopsRecordKey = "loops";
inline constexpr llvm::StringLiteral kIdRecordKey = "id";
/// The key of a layout change's record (the layout it produces).
inline constexpr llvm::StringLiteral kLayoutChangeRecordKey =
    "smepilot.layout_change";

/// The loop ranges a record gives for `op`, -1 for a dynamic one: a
/// structured op's loops, else (softmax, pack, unpack) its result's shape.
llvm::SmallVector<int64_t> recordLoopsOf(Operation *op);

/// `loc` wrapped with the record of a builder op.
Location withOpRecord(Location loc, DecisionAttr decision,
                      llvm::ArrayRef<int64_t> loops, int64_t id);
/// `loc` with the decision and loops of its outermost op record replaced
/// (for a part of the op, e.g. one head of a pipelined attention); `loc`
/// itself when it does not start with an op record.
Location withPartRecord(Location loc, DecisionAttr decision,
                        llvm::ArrayRef<int64_t> loops);
/// `loc` (of the op the change is made for) wrapped as a layout change to
/// `layout`.
Location withLayoutChange(Location loc, llvm::StringRef layout);

/// The location a record wraps (recursively): what a diagnostic or report
/// names; `loc` itself when it is not a record.
Location withoutRecords(Location loc);

/// Adds the records in `loc` to `records`, in the order they nest. Does not
/// look inside a layout change's own location. `visited` (shared between
/// calls) skips locations already seen.
void collectRecords(Location loc, llvm::SetVector<DictionaryAttr> &records,
                    llvm::DenseSet<Location> &visited);

} // namespace mlir::smepilot

#endif // SMEPILOT_DIALECT_SMEPILOT_IR_PROVENANCE_H
