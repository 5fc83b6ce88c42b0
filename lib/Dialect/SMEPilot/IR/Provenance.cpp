//===- Provenance.cpp - provenance records in locations -------------------===//
//
// See Provenance.h.
//
//===----------------------------------------------------------------------===//

#include "smepilot/Dialect/SMEPilot/IR/Provenance.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Builders.h"

using namespace mlir;
using namespace mlir::smepilot;

/// The record `loc` carries at its top, if it is one: a FusedLoc whose
/// metadata is an op's record or a layout change's; null otherwise.
static DictionaryAttr recordOf(Location loc, FusedLoc &fused) {
  fused = dyn_cast<FusedLoc>(loc);
  auto record =
      fused ? dyn_cast_or_null<DictionaryAttr>(fused.getMetadata()) : nullptr;
  if (!record || !(record.contains(kOpRecordKey) ||
                   record.contains(kLayoutChangeRecordKey)))
    return nullptr;
  return record;
}

SmallVector<int64_t> mlir::smepilot::recordLoopsOf(Operation *op) {
  SmallVector<int64_t> ranges;
  if (auto linalgOp = dyn_cast<linalg::LinalgOp>(op))
    ranges = linalgOp.getStaticLoopRanges();
  else if (op->getNumResults() == 1)
    if (auto type = dyn_cast<ShapedType>(op->getResult(0).getType()))
      ranges.assign(type.getShape().begin(), type.getShape().end());
  for (int64_t &r : ranges)
    if (ShapedType::isDynamic(r))
      r = -1;
  return ranges;
}

Location mlir::smepilot::withOpRecord(Location loc, DecisionAttr decision,
                                      ArrayRef<int64_t> loops, int64_t id) {
  MLIRContext *ctx = loc.getContext();
  Builder b(ctx);
  auto record = b.getDictionaryAttr(
      {b.getNamedAttr(kOpRecordKey, decision),
       b.getNamedAttr(kLoopsRecordKey, b.getDenseI64ArrayAttr(loops)),
       b.getNamedAttr(kIdRecordKey, b.getI64IntegerAttr(id))});
  return FusedLoc::get(ctx, {loc}, record);
}

Location mlir::smepilot::withPartRecord(Location loc, DecisionAttr decision,
                                        ArrayRef<int64_t> loops) {
  FusedLoc fused;
  DictionaryAttr record = recordOf(loc, fused);
  if (!record || !record.contains(kOpRecordKey))
    return loc;
  NamedAttrList entries(record);
  entries.set(kOpRecordKey, decision);
  entries.set(kLoopsRecordKey,
              Builder(loc.getContext()).getDenseI64ArrayAttr(loops));
  return FusedLoc::get(loc.getContext(), fused.getLocations(),
                       entries.getDictionary(loc.getContext()));
}

Location mlir::smepilot::withLayoutChange(Location loc, StringRef layout) {
  MLIRContext *ctx = loc.getContext();
  Builder b(ctx);
  auto record = b.getDictionaryAttr(
      {b.getNamedAttr(kLayoutChangeRecordKey, b.getStringAttr(layout))});
  return FusedLoc::get(ctx, {loc}, record);
}

Location mlir::smepilot::withoutRecords(Location loc) {
  FusedLoc fused;
  while (recordOf(loc, fused) && fused.getLocations().size() == 1)
    loc = fused.getLocations().front();
  return loc;
}

void mlir::smepilot::collectRecords(Location loc,
                                    llvm::SetVector<DictionaryAttr> &records,
                                    llvm::DenseSet<Location> &visited) {
  if (!visited.insert(loc).second)
    return;
  FusedLoc fused;
  if (DictionaryAttr record = recordOf(loc, fused)) {
    records.insert(record);
    // A layout change's location is the op it serves, which it does not
    // compute.
    if (record.contains(kLayoutChangeRecordKey))
      return;
  }
  if (fused) {
    for (Location inner : fused.getLocations())
      collectRecords(inner, records, visited);
    return;
  }
  if (auto name = dyn_cast<NameLoc>(loc))
    return collectRecords(name.getChildLoc(), records, visited);
  if (auto callSite = dyn_cast<CallSiteLoc>(loc))
    return collectRecords(callSite.getCallee(), records, visited);
  if (auto opaque = dyn_cast<OpaqueLoc>(loc))
    return collectRecords(opaque.getFallbackLocation(), records, visited);
}
