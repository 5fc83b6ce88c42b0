//===- DedupKernels.cpp - one kernel per structurally identical body ------===//
//
// smepilot-form-dispatches outlines each phase into kernels and keeps one
// kernel per distinct body inside a table, but every table outlines its own:
// the prompt-chunk table and its last-row twin have the same shapes almost
// everywhere, so most of their kernels are the same function twice, and
// LLVM compiled each copy (a third of the JIT's LLVM time for stories260K).
// This pass merges them across tables.
//
// Candidates are the functions a dispatch table names in its `kernels`
// array. They are bucketed by a structural hash (the function type, the
// attributes but the symbol name, and every nested op's name, attributes
// and types, locations ignored), then compared exactly within a bucket with
// OperationEquivalence::isRegionEquivalentTo, which also checks that the
// bodies use their values the same way. The first kernel of a group in
// module order stays; the tables' `kernels` arrays are pointed at it, and
// the others are erased unless something besides a table names them (then
// they stay, unused by the tables). Tables refer to kernels by index into
// their own array, so the dispatches themselves do not change. The symbol
// uses are collected in one walk of the module: per duplicate, a 1B model's
// ~100 duplicates in ~1 MB of IR took seconds.
//
//===----------------------------------------------------------------------===//

#include "smepilot/Dialect/SMEPilot/Transforms/Passes.h"

#include "smepilot/Dialect/SMEPilot/IR/SMEPilot.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/OperationSupport.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SetVector.h"

namespace mlir::smepilot {
#define GEN_PASS_DEF_DEDUPKERNELS
#include "smepilot/Dialect/SMEPilot/Transforms/Passes.h.inc"
} // namespace mlir::smepilot

using namespace mlir;
using namespace mlir::smepilot;

namespace {

/// The function's attributes without its symbol name.
SmallVector<NamedAttribute> attributesButName(func::FuncOp func) {
  SmallVector<NamedAttribute> attrs;
  for (NamedAttribute attr : func->getAttrs())
    if (attr.getName() != SymbolTable::getSymbolAttrName())
      attrs.push_back(attr);
  return attrs;
}

llvm::hash_code hashKernel(func::FuncOp func) {
  llvm::hash_code hash = llvm::hash_combine(
      func.getFunctionType(),
      DictionaryAttr::get(func.getContext(), attributesButName(func)));
  func.getBody().walk([&](Operation *op) {
    hash =
        llvm::hash_combine(hash, OperationEquivalence::computeHash(
                                     op, OperationEquivalence::ignoreHashValue,
                                     OperationEquivalence::ignoreHashValue,
                                     OperationEquivalence::IgnoreLocations));
  });
  return hash;
}

bool sameKernel(func::FuncOp a, func::FuncOp b) {
  return a.getFunctionType() == b.getFunctionType() &&
         attributesButName(a) == attributesButName(b) &&
         OperationEquivalence::isRegionEquivalentTo(
             &a.getBody(), &b.getBody(), OperationEquivalence::IgnoreLocations);
}

struct DedupKernels
    : public mlir::smepilot::impl::DedupKernelsBase<DedupKernels> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);

    // The kernels the tables name, in module order (of the functions).
    llvm::SmallPtrSet<Operation *, 32> named;
    module.walk([&](DispatchTableOp table) {
      for (Attribute kernel : table.getKernels())
        if (Operation *op =
                symbols.lookup(cast<FlatSymbolRefAttr>(kernel).getValue()))
          named.insert(op);
    });
    SmallVector<func::FuncOp> kernels;
    for (auto func : module.getOps<func::FuncOp>())
      if (named.contains(func) && !func.isExternal())
        kernels.push_back(func);

    // Bucket by hash, then compare exactly: the first equal kernel of its
    // bucket is a kernel's representative.
    llvm::MapVector<llvm::hash_code, SmallVector<func::FuncOp>> buckets;
    SmallVector<std::pair<func::FuncOp, func::FuncOp>> duplicates;
    for (func::FuncOp kernel : kernels) {
      SmallVector<func::FuncOp> &bucket = buckets[hashKernel(kernel)];
      auto it = llvm::find_if(
          bucket, [&](func::FuncOp kept) { return sameKernel(kept, kernel); });
      if (it == bucket.end())
        bucket.push_back(kernel);
      else
        duplicates.push_back({kernel, *it});
    }

    if (duplicates.empty())
      return;

    // Point the tables at the kept kernels, then erase each duplicate that
    // nothing else names. Uses are collected in one walk of the module, not
    // one per duplicate (a 1B model has ~100 of them in ~1 MB of IR).
    DenseMap<StringAttr, FlatSymbolRefAttr> keptFor;
    for (auto [duplicate, kept] : duplicates)
      keptFor[duplicate.getSymNameAttr()] =
          FlatSymbolRefAttr::get(kept.getSymNameAttr());
    module.walk([&](DispatchTableOp table) {
      SmallVector<Attribute> refs(table.getKernels().begin(),
                                  table.getKernels().end());
      bool changed = false;
      for (Attribute &ref : refs)
        if (auto it = keptFor.find(cast<FlatSymbolRefAttr>(ref).getAttr());
            it != keptFor.end()) {
          ref = it->second;
          changed = true;
        }
      if (changed)
        table.setKernelsAttr(ArrayAttr::get(&getContext(), refs));
    });
    DenseSet<StringAttr> stillUsed;
    if (std::optional<SymbolTable::UseRange> uses =
            SymbolTable::getSymbolUses(&module.getBodyRegion()))
      for (const SymbolTable::SymbolUse &use : *uses)
        stillUsed.insert(use.getSymbolRef().getRootReference());
    for (auto [duplicate, kept] : duplicates) {
      if (stillUsed.contains(duplicate.getSymNameAttr()))
        continue; // named somewhere other than a table: keep the copy
      symbols.erase(duplicate);
      ++numErased;
    }
  }
};

} // namespace
