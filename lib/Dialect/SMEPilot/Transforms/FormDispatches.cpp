//===- FormDispatches.cpp - phases -> kernels + dispatch table ------------===//
//
// The second half of dispatch formation (docs/compiled-model.md, "Dispatch
// tables"): after bufferization, each phase function becomes kernels with the
// C signature of runtime/include/smepilot_rt/abi.h and a
// `smepilot.dispatch_table` describing how the runtime walks them. Generated
// code never calls back into the runtime: the runtime calls the kernels.
//
// Why after bufferization: buffers are what the runtime allocates and binds,
// and one-shot bufferization has already decided which tensors share memory
// (the in-place K/V cache update, the out-params). Why the tile spaces come
// from before (FormDispatchRegions.cpp): only on tensors does an scf.forall
// promise that its iterations write disjoint slices; that promise survives
// bufferization and is what makes a kernel's tiles independent.
//
// The phase body, once its calls are inlined, is a sequence of top-level ops
// of four kinds:
//   roots  the function's memref arguments (argument buffers), its index and
//          integer arguments (constants), and top-level memref.alloc with
//          sizes fixed or linear in one constant (temporaries);
//   free   ops without memory effects or regions whose operands are all
//          roots or free (constants, index arithmetic, views of buffers,
//          memref.get_global, ub.poison): cloned into every kernel that uses
//          them, so a view of the K/V cache at (layer, pos) is recomputed
//          from the binding pointer and the constants inside the kernel;
//   drop   memref.dealloc of a temporary (the runtime owns the arena);
//   work   everything else.
// Work ops are grouped into contiguous ranges, each closed under SSA uses:
// a range ends only where no value it defines is used later. Each range is a
// dispatch. A range that is a single one-dimensional scf.forall is tiled: the
// kernel runs iterations [tile_begin, tile_end) of it. Any other range is a
// one-tile dispatch whose kernel runs the ops as they are.
//
// In a kernel, binding j is a 0-d memref built from bindings[j] (an LLVM
// struct cast to memref, reconciled away when memrefs lower to LLVM), and
// each root memref the range uses is a memref.reinterpret_cast of it to the
// root's own type; constant c is loaded from constants[c].
//
// Kernels are deduplicated by their printed form: the n-th layer's
// projection kernel is the first layer's with other bindings. A kernel whose
// every view of a binding starts at the same fixed index of the outermost
// dimension (layer L of the K/V cache) would differ per layer; its views
// start at 0 instead and the dispatch's binding points L rows into the
// buffer (`offset`, abi.h v5), so the layers share one kernel there too.
//
//===----------------------------------------------------------------------===//

#include "smepilot/Dialect/SMEPilot/Transforms/Passes.h"

#include "smepilot/Dialect/SMEPilot/Transforms/DispatchFormation.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/SmallBitVector.h"
#include "llvm/ADT/StringMap.h"

#include <map>

namespace mlir::smepilot {
#define GEN_PASS_DEF_FORMDISPATCHES
#include "smepilot/Dialect/SMEPilot/Transforms/Passes.h.inc"
} // namespace mlir::smepilot

using namespace mlir;
using namespace mlir::smepilot;

namespace {

/// One phase being turned into a table.
class PhaseOutliner {
public:
  PhaseOutliner(func::FuncOp phase, StringRef name,
                const PhaseClassification &roots)
      : phase(phase), name(name), roots(roots) {}

  LogicalResult run();

private:
  LogicalResult outlineRange(ArrayRef<Operation *> range, unsigned index);
  LogicalResult outlineCollab(func::CallOp call, scf::ForallOp forall,
                              unsigned index);
  /// A kernel running `range` (a forall: its iterations [tile_begin,
  /// tile_end); `collabCall`, the call of a collab op's SME variant: that
  /// call for the tile range; else the ops once), its buffers added to
  /// `binds` and its tile count in `tiles`. Returns the kernel's index.
  /// With `offsets`, bindings whose views all start at one fixed row are
  /// rebased (rebaseOutermost): offsets[j] is binding j's byte offset.
  FailureOr<unsigned> buildKernel(ArrayRef<Operation *> range,
                                  llvm::MapVector<unsigned, Access> &binds,
                                  Extent &tiles, func::CallOp collabCall,
                                  SmallVectorImpl<int64_t> *offsets = nullptr);
  Value materialize(OpBuilder &b, Value v, IRMapping &map, Value bindings,
                    Value constants, llvm::MapVector<unsigned, Access> &binds);
  void computeAccess(ArrayRef<Operation *> range,
                     llvm::MapVector<unsigned, Access> &binds);
  /// The next dispatch's binding attributes for `binds` (into
  /// `bindingAttrs`) and its dependencies by the hazard rule.
  SmallVector<int64_t>
  addBindings(const llvm::MapVector<unsigned, Access> &binds,
              SmallVector<BindingAttr> &bindingAttrs,
              ArrayRef<int64_t> offsets = {}) {
    SmallVector<std::pair<unsigned, Access>> accesses;
    for (auto [j, entry] : llvm::enumerate(binds)) {
      auto [buffer, access] = entry;
      bindingAttrs.push_back(
          BindingAttr::get(phase.getContext(), buffer, access,
                           j < offsets.size() ? offsets[j] : 0));
      accesses.push_back({buffer, access});
    }
    return hazards.addDispatch(accesses);
  }

  func::FuncOp phase;
  std::string name;
  const PhaseClassification &roots;
  /// Kernels, deduplicated by their printed form.
  llvm::StringMap<unsigned> kernelIndexByText;
  SmallVector<Attribute> kernelSyms;
  /// Whether the kernel being built reads a constant or a global that is
  /// not constant (state of the run).
  bool materializedConstant = false;
  /// The kernel being built's view of each binding it made: (j, view).
  SmallVector<std::pair<unsigned, memref::ReinterpretCastOp>> bindingViews;
  SmallVector<DispatchAttr> dispatches;
  HazardTracker hazards;
};

Value PhaseOutliner::materialize(OpBuilder &b, Value v, IRMapping &map,
                                 Value bindings, Value constants,
                                 llvm::MapVector<unsigned, Access> &binds) {
  if (Value mapped = map.lookupOrNull(v))
    return mapped;
  Location loc = v.getLoc();
  MLIRContext *ctx = b.getContext();
  auto ptrType = LLVM::LLVMPointerType::get(ctx);
  if (auto it = roots.constantOf.find(v); it != roots.constantOf.end()) {
    materializedConstant = true;
    Value slot =
        LLVM::GEPOp::create(b, loc, ptrType, b.getI64Type(), constants,
                            ArrayRef<LLVM::GEPArg>{int32_t(it->second)});
    Value c = LLVM::LoadOp::create(b, loc, b.getI64Type(), slot);
    Value r = c;
    if (v.getType().isIndex())
      r = arith::IndexCastOp::create(b, loc, v.getType(), c);
    else if (!v.getType().isInteger(64))
      r = arith::TruncIOp::create(b, loc, v.getType(), c);
    map.map(v, r);
    return r;
  }
  if (auto it = roots.bufferOf.find(v); it != roots.bufferOf.end()) {
    // bindings[j] -> memref<elt> -> the root's own type.
    auto inserted = binds.insert({it->second, Access::none}).first;
    unsigned j = std::distance(binds.begin(), inserted);
    Value slot = LLVM::GEPOp::create(b, loc, ptrType, ptrType, bindings,
                                     ArrayRef<LLVM::GEPArg>{int32_t(j)});
    Value ptr = LLVM::LoadOp::create(b, loc, ptrType, slot);
    auto type = cast<MemRefType>(v.getType());
    auto descType = LLVM::LLVMStructType::getLiteral(
        ctx, {ptrType, ptrType, b.getI64Type()});
    Value desc = LLVM::PoisonOp::create(b, loc, descType);
    desc = LLVM::InsertValueOp::create(b, loc, desc, ptr, ArrayRef<int64_t>{0});
    desc = LLVM::InsertValueOp::create(b, loc, desc, ptr, ArrayRef<int64_t>{1});
    Value zero = LLVM::ConstantOp::create(b, loc, b.getI64Type(),
                                          b.getI64IntegerAttr(0));
    desc =
        LLVM::InsertValueOp::create(b, loc, desc, zero, ArrayRef<int64_t>{2});
    auto scalarType = MemRefType::get({}, type.getElementType());
    Value scalar = UnrealizedConversionCastOp::create(b, loc, scalarType, desc)
                       .getResult(0);
    // Sizes (dynamic ones from the alloc's operands) and row-major strides.
    SmallVector<OpFoldResult> sizes, strides(type.getRank());
    unsigned dyn = 0;
    for (int64_t d = 0; d < type.getRank(); ++d) {
      if (!type.isDynamicDim(d)) {
        sizes.push_back(b.getIndexAttr(type.getDimSize(d)));
        continue;
      }
      auto alloc = v.getDefiningOp<memref::AllocOp>();
      sizes.push_back(materialize(b, alloc.getDynamicSizes()[dyn++], map,
                                  bindings, constants, binds));
    }
    OpFoldResult stride = b.getIndexAttr(1);
    for (int64_t d = type.getRank() - 1; d >= 0; --d) {
      strides[d] = stride;
      if (d == 0)
        break;
      auto s = getConstantIntValue(stride), z = getConstantIntValue(sizes[d]);
      if (s && z) {
        stride = b.getIndexAttr(*s * *z);
      } else if (s && *s == 1) {
        stride = sizes[d];
      } else {
        auto asValue = [&](OpFoldResult f) -> Value {
          if (auto val = dyn_cast<Value>(f))
            return val;
          return arith::ConstantIndexOp::create(b, loc,
                                                *getConstantIntValue(f));
        };
        stride =
            arith::MulIOp::create(b, loc, asValue(stride), asValue(sizes[d]))
                .getResult();
      }
    }
    auto view = memref::ReinterpretCastOp::create(
        b, loc, type, scalar, b.getIndexAttr(0), sizes, strides);
    bindingViews.push_back({j, view});
    map.map(v, view.getResult());
    return view;
  }
  Operation *def = v.getDefiningOp();
  assert(def && roots.freeOps.count(def) &&
         "only free values are materialized");
  // The dynamic size of a view is the value it was made with: materializing
  // that instead of the dim keeps a buffer used only for its shape unbound.
  if (auto dim = dyn_cast<memref::DimOp>(def))
    if (std::optional<Value> size = dynamicSizeOf(dim)) {
      Value r = materialize(b, *size, map, bindings, constants, binds);
      map.map(v, r);
      return r;
    }
  for (Value operand : def->getOperands())
    materialize(b, operand, map, bindings, constants, binds);
  // A global the phase may write is state of the run, like a constant.
  if (auto get = dyn_cast<memref::GetGlobalOp>(def)) {
    auto global = SymbolTable::lookupNearestSymbolFrom<memref::GlobalOp>(
        get, get.getNameAttr());
    if (!global || !global.getConstant())
      materializedConstant = true;
  }
  b.clone(*def, map);
  return map.lookup(v);
}

void PhaseOutliner::computeAccess(ArrayRef<Operation *> range,
                                  llvm::MapVector<unsigned, Access> &binds) {
  auto mark = [&](Value v, Access access) {
    if (std::optional<unsigned> root = roots.rootBuffer(v)) {
      auto it = binds.find(*root);
      if (it != binds.end())
        it->second |= access;
    }
  };
  for (Operation *top : range)
    if (!forEachAccess(top, mark)) {
      for (auto &entry : binds)
        entry.second = Access::read | Access::write;
      break;
    }
  // A buffer used only for its shape is still bound: call it read.
  for (auto &entry : binds)
    if (entry.second == Access::none)
      entry.second = Access::read;
}

/// "@<stage>" when an op of `range` (or in it) carries a `smepilot.stage`
/// (smepilot-pipeline-attention: "attn.qk.h0", ...), else "".
static std::string stageSuffix(ArrayRef<Operation *> range) {
  std::string stage;
  for (Operation *top : range)
    top->walk([&](Operation *op) {
      auto s = op->getAttrOfType<StringAttr>(kStageAttr);
      // Bufferization rebuilds calls without their attributes: an SME
      // kernel carries the stage of its call itself.
      if (auto call = dyn_cast<func::CallOp>(op); call && !s)
        if (auto callee = SymbolTable::lookupNearestSymbolFrom<func::FuncOp>(
                call, call.getCalleeAttr()))
          s = callee->getAttrOfType<StringAttr>(kStageAttr);
      if (s && stage.empty())
        stage = s.getValue().str();
    });
  return stage.empty() ? stage : "@" + stage;
}

/// The collab variant `call` calls, or null.
static func::FuncOp collabVariant(Operation *op) {
  auto call = dyn_cast<func::CallOp>(op);
  if (!call)
    return {};
  auto callee = SymbolTable::lookupNearestSymbolFrom<func::FuncOp>(
      call, call.getCalleeAttr());
  return callee && callee->hasAttr(kCollabKernelAttr) ? callee : func::FuncOp();
}

/// If every use of `view` (a binding's whole buffer, row-major) is a subview
/// starting at the same fixed index L > 0 of the outermost dimension, with a
/// result whose offset is dynamic anyway (so its type does not change): makes
/// those subviews start at 0 and returns L rows in bytes, the offset the
/// binding then carries. Else changes nothing and returns 0.
static int64_t rebaseOutermost(memref::ReinterpretCastOp view) {
  MemRefType type = view.getType();
  if (type.getRank() < 2 || !type.getLayout().isIdentity() ||
      !type.getElementType().isIntOrFloat() ||
      type.getElementTypeBitWidth() % 8 != 0 || view->use_empty())
    return 0;
  int64_t rowElements = 1;
  for (int64_t d = 1; d < type.getRank(); ++d) {
    if (type.isDynamicDim(d))
      return 0;
    rowElements *= type.getDimSize(d);
  }
  std::optional<int64_t> row;
  SmallVector<memref::SubViewOp> subviews;
  for (OpOperand &use : view->getUses()) {
    auto sub = dyn_cast<memref::SubViewOp>(use.getOwner());
    if (!sub || use.get() != sub.getSource())
      return 0;
    // A constant index: static, or (before canonicalization) a constant op.
    std::optional<int64_t> first =
        getConstantIntValue(sub.getMixedOffsets()[0]);
    if (!first || (row && *row != *first))
      return 0;
    auto [strides, offset] = sub.getType().getStridesAndOffset();
    if (!ShapedType::isDynamic(offset))
      return 0;
    row = *first;
    subviews.push_back(sub);
  }
  if (!row || *row == 0)
    return 0;
  // The new start is an index constant, not a static 0: the subviews'
  // result types (offset ?) stay valid; canonicalization folds it later.
  // It takes the old constant's place when there was one, so every
  // layer's kernel prints the same.
  for (memref::SubViewOp sub : subviews) {
    OpFoldResult start = sub.getMixedOffsets()[0];
    Operation *oldConstant = nullptr;
    if (auto value = dyn_cast<Value>(start))
      oldConstant = value.getDefiningOp();
    OpBuilder b(sub);
    if (oldConstant)
      b.setInsertionPointAfter(oldConstant);
    Value zero = arith::ConstantIndexOp::create(b, sub.getLoc(), 0);
    b.setInsertionPoint(sub);
    SmallVector<OpFoldResult> offsets = sub.getMixedOffsets();
    offsets[0] = zero;
    auto rebased = memref::SubViewOp::create(
        b, sub.getLoc(), sub.getType(), sub.getSource(), offsets,
        sub.getMixedSizes(), sub.getMixedStrides());
    sub.replaceAllUsesWith(rebased.getResult());
    sub.erase();
    if (oldConstant && oldConstant->use_empty())
      oldConstant->erase();
  }
  return *row * rowElements * (type.getElementTypeBitWidth() / 8);
}

FailureOr<unsigned> PhaseOutliner::buildKernel(
    ArrayRef<Operation *> range, llvm::MapVector<unsigned, Access> &binds,
    Extent &tiles, func::CallOp collabCall, SmallVectorImpl<int64_t> *offsets) {
  MLIRContext *ctx = phase.getContext();
  bindingViews.clear();
  Location loc = range.front()->getLoc();
  OpBuilder mb(ctx);
  mb.setInsertionPoint(phase);
  auto ptrType = LLVM::LLVMPointerType::get(ctx);
  auto i64 = mb.getI64Type();
  auto kernel = func::FuncOp::create(
      mb, loc, "__smepilot_kernel_candidate",
      FunctionType::get(ctx, {ptrType, ptrType, i64, i64}, {}));
  kernel->setAttr(kKernelAttr, mb.getUnitAttr());
  Block *entry = kernel.addEntryBlock();
  OpBuilder b = OpBuilder::atBlockBegin(entry);
  Value bindings = entry->getArgument(0), constants = entry->getArgument(1);

  // Everything the range uses from outside it.
  llvm::SetVector<Value> captured;
  llvm::DenseSet<Operation *> inRange(range.begin(), range.end());
  for (Operation *op : range) {
    for (Value v : op->getOperands())
      if (!v.getDefiningOp() || !inRange.count(v.getDefiningOp()))
        captured.insert(v);
    for (Region &region : op->getRegions())
      getUsedValuesDefinedAbove(region, captured);
  }
  IRMapping map;
  for (Value v : captured) {
    if (Operation *def = v.getDefiningOp(); def && inRange.count(def))
      continue;
    if (!roots.isFree(v)) {
      range.front()->emitError(
          "smepilot-form-dispatches: internal error: a dispatch uses a value "
          "of another dispatch");
      return failure();
    }
    materialize(b, v, map, bindings, constants, binds);
  }

  tiles = Extent{1, 0, -1};
  auto forall = range.size() == 1 ? dyn_cast<scf::ForallOp>(range.front())
                                  : scf::ForallOp();
  std::optional<int64_t> lb, ub, step;
  if (forall && forall.getRank() == 1 && forall.getNumResults() == 0) {
    lb = getConstantIntValue(forall.getMixedLowerBound()[0]);
    ub = getConstantIntValue(forall.getMixedUpperBound()[0]);
    step = getConstantIntValue(forall.getMixedStep()[0]);
  }
  if (lb && ub && step && *step > 0) {
    // Tile t = iteration lb + t * step of the forall.
    tiles.base = llvm::divideCeil(*ub - *lb, *step);
    Value tb = arith::IndexCastOp::create(b, loc, b.getIndexType(),
                                          entry->getArgument(2));
    Value te = arith::IndexCastOp::create(b, loc, b.getIndexType(),
                                          entry->getArgument(3));
    Value one = arith::ConstantIndexOp::create(b, loc, 1);
    auto loop = scf::ForOp::create(b, loc, tb, te, one);
    OpBuilder lb2 = OpBuilder::atBlockBegin(loop.getBody());
    Value iv = arith::AddIOp::create(
        lb2, loc, arith::ConstantIndexOp::create(lb2, loc, *lb),
        arith::MulIOp::create(lb2, loc, loop.getInductionVar(),
                              arith::ConstantIndexOp::create(lb2, loc, *step)));
    map.map(forall.getInductionVar(0), iv);
    lb2.setInsertionPoint(loop.getBody()->getTerminator());
    for (Operation &op : forall.getBody()->without_terminator())
      lb2.clone(op, map);
  } else if (collabCall) {
    // The SME variant of a collab dispatch: one call for the kernel's whole
    // tile range (the variant's last two operands).
    unsigned n = collabCall.getNumOperands();
    Value tb = arith::IndexCastOp::create(b, loc, b.getIndexType(),
                                          entry->getArgument(2));
    Value te = arith::IndexCastOp::create(b, loc, b.getIndexType(),
                                          entry->getArgument(3));
    map.map(collabCall.getOperand(n - 2), tb);
    map.map(collabCall.getOperand(n - 1), te);
    Operation *clone = b.clone(*collabCall, map);
    clone->setOperand(n - 2, tb);
    clone->setOperand(n - 1, te);
  } else {
    for (Operation *op : range)
      b.clone(*op, map);
  }
  func::ReturnOp::create(b, loc);

  if (offsets) {
    offsets->assign(binds.size(), 0);
    for (auto [j, view] : bindingViews)
      (*offsets)[j] = rebaseOutermost(view);
  }

  // Deduplicate by the printed kernel.
  std::string text;
  {
    llvm::raw_string_ostream os(text);
    // Local scope: numbering the whole module for every candidate would make
    // this quadratic in the number of dispatches.
    kernel.print(os, OpPrintingFlags().printGenericOpForm().useLocalScope());
  }
  unsigned kernelIndex;
  auto found = kernelIndexByText.find(text);
  if (found != kernelIndexByText.end()) {
    kernelIndex = found->second;
    kernel.erase();
  } else {
    kernelIndex = kernelSyms.size();
    std::string kernelName = name + "_k" + std::to_string(kernelIndex);
    kernel.setSymName(kernelName);
    kernelIndexByText[text] = kernelIndex;
    kernelSyms.push_back(FlatSymbolRefAttr::get(ctx, kernelName));
  }
  return kernelIndex;
}

LogicalResult PhaseOutliner::outlineRange(ArrayRef<Operation *> range,
                                          unsigned index) {
  MLIRContext *ctx = phase.getContext();
  llvm::MapVector<unsigned, Access> binds;
  Extent tiles;
  materializedConstant = false;
  SmallVector<int64_t> offsets;
  FailureOr<unsigned> kernelIndex =
      buildKernel(range, binds, tiles, {}, &offsets);
  if (failed(kernelIndex))
    return failure();
  computeAccess(range, binds);

  // Bindings and dependencies.
  SmallVector<BindingAttr> bindingAttrs;
  SmallVector<int64_t> deps = addBindings(binds, bindingAttrs, offsets);
  std::string opName = range.front()->getName().getStringRef().str();
  // A dispatch that calls an SME kernel runs on the matrix unit: mode sme,
  // one call of the kernel for all its tiles (abi.h).
  bool callsSME = false;
  for (Operation *op : range)
    op->walk([&](func::CallOp call) {
      auto callee = SymbolTable::lookupNearestSymbolFrom<func::FuncOp>(
          call, call.getCalleeAttr());
      callsSME |= callee && callee->hasAttr(kSMEKernelAttr);
    });
  dispatches.push_back(DispatchAttr::get(
      ctx,
      name + "_d" + std::to_string(index) + ":" + opName + stageSuffix(range),
      *kernelIndex,
      /*smeKernel=*/callsSME ? int64_t(*kernelIndex) : -1,
      callsSME ? ExecMode::sme : ExecMode::cpu, /*smeShare=*/0,
      /*tileGranule=*/1, tiles.toAttr(ctx), bindingAttrs, deps,
      /*readsState=*/materializedConstant));
  return success();
}

LogicalResult PhaseOutliner::outlineCollab(func::CallOp call,
                                           scf::ForallOp forall,
                                           unsigned index) {
  MLIRContext *ctx = phase.getContext();
  auto plan =
      collabVariant(call)->getAttrOfType<DictionaryAttr>(kCollabKernelAttr);
  auto share = plan ? plan.getAs<IntegerAttr>("sme_share") : IntegerAttr();
  auto granule = plan ? plan.getAs<IntegerAttr>("tile_granule") : IntegerAttr();
  auto count = plan ? plan.getAs<IntegerAttr>("tiles") : IntegerAttr();
  if (!share || !granule || !count)
    return call.emitError("smepilot-form-dispatches: the collab variant has "
                          "no sme_share, tile_granule and tiles");
  // Both variants write the same buffer, the forall's tiles are the call's.
  std::optional<unsigned> callOut =
      roots.rootBuffer(call.getOperand(call.getNumOperands() - 3));
  bool sameOut = false;
  forall.walk([&](memref::SubViewOp view) {
    sameOut |= callOut && roots.rootBuffer(view.getSource()) == callOut;
  });
  llvm::MapVector<unsigned, Access> binds;
  Extent smeTiles, cpuTiles;
  materializedConstant = false;
  FailureOr<unsigned> smeKernel = buildKernel({call}, binds, smeTiles, call);
  if (failed(smeKernel))
    return failure();
  FailureOr<unsigned> cpuKernel =
      buildKernel({forall.getOperation()}, binds, cpuTiles, {});
  if (failed(cpuKernel))
    return failure();
  if (!sameOut || cpuTiles.constant != -1 || cpuTiles.base != count.getInt())
    return forall.emitError(
        "smepilot-form-dispatches: internal error: the vector-core variant of "
        "a collab op does not cover the SME variant's tiles of the same "
        "buffer");
  SmallVector<Operation *> both{call, forall};
  computeAccess(both, binds);
  SmallVector<BindingAttr> bindingAttrs;
  SmallVector<int64_t> deps = addBindings(binds, bindingAttrs);
  dispatches.push_back(DispatchAttr::get(
      ctx, name + "_d" + std::to_string(index) + ":collab" + stageSuffix(both),
      *cpuKernel, int64_t(*smeKernel), ExecMode::collab, share.getInt(),
      granule.getInt(), cpuTiles.toAttr(ctx), bindingAttrs, deps,
      /*readsState=*/materializedConstant));
  return success();
}

LogicalResult PhaseOutliner::run() {
  // Contiguous ranges closed under SSA uses.
  ArrayRef<Operation *> work = roots.work;
  Block &body = phase.getBody().front();
  llvm::DenseMap<Operation *, unsigned> position;
  unsigned p = 0;
  for (Operation &op : body)
    position[&op] = p++;
  auto lastUse = [&](Operation *op) {
    unsigned last = position[op];
    for (Value r : op->getResults())
      for (Operation *user : r.getUsers()) {
        Operation *top = body.findAncestorOpInBlock(*user);
        if (top)
          last = std::max(last, position[top]);
      }
    return last;
  };
  unsigned dispatchIndex = 0;
  for (size_t i = 0; i < work.size();) {
    unsigned end = lastUse(work[i]);
    size_t j = i + 1;
    while (j < work.size() && position[work[j]] <= end) {
      end = std::max(end, lastUse(work[j]));
      ++j;
    }
    // The call of a collab op's SME variant and the forall of its
    // vector-core variant right after it are one dispatch.
    if (j == i + 1 && collabVariant(work[i])) {
      auto forall =
          j < work.size() ? dyn_cast<scf::ForallOp>(work[j]) : scf::ForallOp();
      if (!forall || lastUse(work[j]) != position[work[j]])
        return work[i]->emitError(
            "smepilot-form-dispatches: internal error: the SME variant of a "
            "collab op is not followed by its vector-core variant");
      if (failed(outlineCollab(cast<func::CallOp>(work[i]), forall,
                               dispatchIndex++)))
        return failure();
      i = j + 1;
      continue;
    }
    // A free op or temporary defined inside the span but used after it is
    // fine (re-materialized); a work op is not, and cannot be (the range
    // would have grown to cover its users).
    if (failed(outlineRange(ArrayRef<Operation *>(work).slice(i, j - i),
                            dispatchIndex++)))
      return failure();
    i = j;
  }

  OpBuilder b(phase);
  SmallVector<Attribute> bufferAttrs(roots.buffers.begin(),
                                     roots.buffers.end());
  SmallVector<Attribute> dispatchAttrs(dispatches.begin(), dispatches.end());
  DispatchTableOp::create(
      b, phase.getLoc(), b.getStringAttr(name), b.getArrayAttr(kernelSyms),
      b.getI64IntegerAttr(roots.nConstants),
      b.getI64IntegerAttr(roots.nArguments), b.getArrayAttr(bufferAttrs),
      b.getArrayAttr(dispatchAttrs),
      // What the compiled model's phase list says of it (abi.h).
      phase->getAttrOfType<IntegerAttr>(kChunkAttr),
      phase->hasAttr(kLastRowAttr) ? b.getUnitAttr() : UnitAttr());
  phase.erase();
  return success();
}

struct FormDispatchesPass
    : public smepilot::impl::FormDispatchesBase<FormDispatchesPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    SmallVector<func::FuncOp> phases;
    for (auto func : module.getOps<func::FuncOp>())
      if (func->hasAttr(kPhaseAttr))
        phases.push_back(func);
    llvm::DenseSet<Operation *> callees;
    for (func::FuncOp phase : phases) {
      auto name = phase->getAttrOfType<StringAttr>(kPhaseAttr);
      if (!name || name.getValue().empty()) {
        phase.emitError("smepilot-form-dispatches: '")
            << kPhaseAttr << "' must be a non-empty string";
        return signalPassFailure();
      }
      if (phase.isExternal()) {
        phase.emitError("smepilot-form-dispatches: phase '")
            << name.getValue()
            << "' is a declaration: a phase needs a body to form dispatches "
               "from";
        return signalPassFailure();
      }
      if (phase.isPrivate()) {
        phase.emitError("smepilot-form-dispatches: phase '")
            << name.getValue() << "' must be a public function";
        return signalPassFailure();
      }
      phase.walk([&](func::CallOp call) {
        if (Operation *callee = symbols.lookup(call.getCallee()))
          callees.insert(callee);
      });
      if (failed(inlinePhaseCalls(phase, symbols)))
        return signalPassFailure();
    }
    // One kernel numbering per table keeps names stable; dedup is per table
    // too (kernels of different phases differ in their static shapes).
    for (func::FuncOp phase : phases) {
      std::string name =
          phase->getAttrOfType<StringAttr>(kPhaseAttr).getValue().str();
      if (name == kLoadTableName) {
        phase.emitError("smepilot-form-dispatches: a phase may not be named '")
            << kLoadTableName << "' (the load table's name)";
        return signalPassFailure();
      }
      if (phase.getNumResults() != 0) {
        phase.emitError("smepilot-form-dispatches: phase '")
            << name << "' has results; bufferize with out-params first";
        return signalPassFailure();
      }
      if (!phase.getBody().hasOneBlock()) {
        phase.emitError("smepilot-form-dispatches: phase '")
            << name << "' has several blocks";
        return signalPassFailure();
      }
      FailureOr<PhaseClassification> roots =
          PhaseClassification::classify(phase);
      if (failed(roots) || failed(PhaseOutliner(phase, name, *roots).run()))
        return signalPassFailure();
    }
    // Inlined private callees nobody calls any more.
    for (Operation *callee : callees) {
      auto func = cast<func::FuncOp>(callee);
      if (func.isPrivate() && SymbolTable::symbolKnownUseEmpty(func, module))
        func.erase();
    }
  }
};

} // namespace
