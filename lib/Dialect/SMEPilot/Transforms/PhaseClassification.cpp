//===- PhaseClassification.cpp - a phase's values, sorted -----------------===//
//
// The first step of smepilot-form-dispatches (DispatchFormation.h): sorts a
// phase's arguments and top-level ops into roots (argument buffers,
// constants, temporaries), free ops (re-materialized in every kernel),
// dropped deallocations and work, and expresses sizes as extents of the
// run-time constants.
//
//===----------------------------------------------------------------------===//

#include "smepilot/Dialect/SMEPilot/Transforms/DispatchFormation.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "llvm/ADT/SmallBitVector.h"

using namespace mlir;
using namespace mlir::smepilot;

static std::optional<Extent> addExtents(Extent a, Extent b, int64_t sign) {
  if (a.constant >= 0 && b.constant >= 0 && a.constant != b.constant)
    return std::nullopt;
  Extent r;
  r.base = a.base + sign * b.base;
  r.scale = a.scale + sign * b.scale;
  r.constant = a.constant >= 0 ? a.constant : b.constant;
  return r;
}

static Extent scaleExtent(Extent a, int64_t factor) {
  a.base *= factor;
  a.scale *= factor;
  return a;
}

bool PhaseClassification::isFree(Value v) const {
  if (bufferOf.count(v) || constantOf.count(v))
    return true;
  Operation *def = v.getDefiningOp();
  return def && freeOps.count(def);
}

std::optional<Value> mlir::smepilot::dynamicSizeOf(memref::DimOp dim) {
  std::optional<int64_t> index = dim.getConstantIndex();
  if (!index)
    return std::nullopt;
  auto type = cast<MemRefType>(dim.getSource().getType());
  if (!type.isDynamicDim(*index))
    return std::nullopt;
  Operation *src = dim.getSource().getDefiningOp();
  OpFoldResult size;
  if (auto alloc = dyn_cast_or_null<memref::AllocOp>(src))
    return alloc.getDynamicSizes()[type.getDynamicDimIndex(*index)];
  if (auto expand = dyn_cast_or_null<memref::ExpandShapeOp>(src)) {
    size = expand.getMixedOutputShape()[*index];
  } else if (auto subview = dyn_cast_or_null<memref::SubViewOp>(src)) {
    // Sizes of a rank-reducing subview: the non-dropped ones, in order.
    llvm::SmallBitVector dropped = subview.getDroppedDims();
    SmallVector<OpFoldResult> sizes;
    for (auto [i, s] : llvm::enumerate(subview.getMixedSizes()))
      if (!dropped.test(i))
        sizes.push_back(s);
    size = sizes[*index];
  } else if (auto cast = dyn_cast_or_null<memref::ReinterpretCastOp>(src)) {
    size = cast.getMixedSizes()[*index];
  } else {
    return std::nullopt;
  }
  if (auto value = dyn_cast<Value>(size))
    return value;
  return std::nullopt;
}

std::optional<Extent> PhaseClassification::linearize(Value v) const {
  auto it = constantOf.find(v);
  if (it != constantOf.end())
    return Extent{0, 1, int64_t(it->second)};
  Operation *def = v.getDefiningOp();
  if (!def)
    return std::nullopt;
  APInt value;
  if (matchPattern(v, m_ConstantInt(&value)))
    return Extent{value.getSExtValue(), 0, -1};
  if (isa<arith::IndexCastOp, arith::IndexCastUIOp, arith::ExtSIOp,
          arith::ExtUIOp>(def))
    return linearize(def->getOperand(0));
  if (isa<arith::AddIOp, arith::SubIOp>(def)) {
    std::optional<Extent> a = linearize(def->getOperand(0));
    std::optional<Extent> b = linearize(def->getOperand(1));
    if (!a || !b)
      return std::nullopt;
    return addExtents(*a, *b, isa<arith::AddIOp>(def) ? 1 : -1);
  }
  if (isa<arith::MulIOp>(def)) {
    std::optional<Extent> a = linearize(def->getOperand(0));
    std::optional<Extent> b = linearize(def->getOperand(1));
    if (!a || !b)
      return std::nullopt;
    if (a->constant < 0)
      return scaleExtent(*b, a->base);
    if (b->constant < 0)
      return scaleExtent(*a, b->base);
    return std::nullopt;
  }
  if (auto dim = dyn_cast<memref::DimOp>(def)) {
    std::optional<int64_t> index = dim.getConstantIndex();
    if (!index)
      return std::nullopt;
    auto type = cast<MemRefType>(dim.getSource().getType());
    if (!type.isDynamicDim(*index))
      return Extent{type.getDimSize(*index), 0, -1};
    if (std::optional<Value> size = dynamicSizeOf(dim))
      return linearize(*size);
  }
  return std::nullopt;
}

std::optional<Extent>
PhaseClassification::bufferBytes(memref::AllocOp alloc) const {
  MemRefType type = alloc.getType();
  int64_t elemBytes = llvm::divideCeil(type.getElementTypeBitWidth(), 8);
  Extent bytes{elemBytes, 0, -1};
  bool dynamicSeen = false;
  for (int64_t d = 0; d < type.getRank(); ++d) {
    if (!type.isDynamicDim(d)) {
      bytes = scaleExtent(bytes, type.getDimSize(d));
      continue;
    }
    // One dynamic dimension, linear in one constant: bytes * (b + s * c).
    std::optional<Extent> size =
        linearize(alloc.getDynamicSizes()[type.getDynamicDimIndex(d)]);
    if (!size || dynamicSeen || bytes.constant >= 0)
      return std::nullopt;
    dynamicSeen = true;
    bytes = Extent{bytes.base * size->base, bytes.base * size->scale,
                   size->constant};
  }
  return bytes;
}

std::optional<unsigned> PhaseClassification::rootBuffer(Value v) const {
  while (true) {
    auto it = bufferOf.find(v);
    if (it != bufferOf.end())
      return it->second;
    Operation *def = v.getDefiningOp();
    if (!def)
      return std::nullopt;
    if (auto view = dyn_cast<ViewLikeOpInterface>(def))
      v = view.getViewSource();
    else if (auto meta = dyn_cast<memref::ExtractStridedMetadataOp>(def))
      v = meta.getSource();
    else
      return std::nullopt;
  }
}

/// The buffer name of a phase argument: its `smepilot.name`, else argN.
static StringAttr argumentName(BlockArgument arg) {
  auto func = cast<func::FuncOp>(arg.getOwner()->getParentOp());
  if (auto name =
          func.getArgAttrOfType<StringAttr>(arg.getArgNumber(), kNameAttr))
    return name;
  return StringAttr::get(func.getContext(),
                         "arg" + std::to_string(arg.getArgNumber()));
}

FailureOr<PhaseClassification>
PhaseClassification::classify(func::FuncOp phase) {
  PhaseClassification c;
  if (failed(c.run(phase)))
    return failure();
  return c;
}

LogicalResult PhaseClassification::run(func::FuncOp phase) {
  Block &body = phase.getBody().front();
  MLIRContext *ctx = phase.getContext();
  for (BlockArgument arg : body.getArguments()) {
    Type type = arg.getType();
    if (auto memref = dyn_cast<MemRefType>(type)) {
      if (!memref.getLayout().isIdentity() || !memref.hasStaticShape())
        return phase.emitError("smepilot-form-dispatches: phase argument ")
               << arg.getArgNumber()
               << " must be a statically shaped identity-layout memref";
      bufferOf[arg] = buffers.size();
      int64_t bytes = memref.getNumElements() *
                      llvm::divideCeil(memref.getElementTypeBitWidth(), 8);
      bool weight = bool(phase.getArgAttr(arg.getArgNumber(), kWeightAttr));
      int64_t ggmlType = 0;
      if (auto t = phase.getArgAttrOfType<IntegerAttr>(arg.getArgNumber(),
                                                       kGGMLTypeAttr))
        ggmlType = t.getInt();
      buffers.push_back(BufferAttr::get(ctx, argumentName(arg).getValue(),
                                        ExtentAttr::get(ctx, bytes),
                                        /*alignment=*/0, weight, ggmlType));
      ++nArguments;
    } else if (type.isIntOrIndex()) {
      constantOf[arg] = nConstants++;
    } else {
      return phase.emitError("smepilot-form-dispatches: phase argument ")
             << arg.getArgNumber() << " has type " << type
             << "; only memrefs (buffers) and integers (constants) are "
                "supported";
    }
  }
  for (Operation &op : body) {
    if (auto ret = dyn_cast<func::ReturnOp>(&op)) {
      if (ret.getNumOperands() != 0)
        return ret.emitError("smepilot-form-dispatches: a phase returns "
                             "nothing (results are out-params)");
      continue;
    }
    auto operandsFree = [&] {
      return llvm::all_of(op.getOperands(), [&](Value v) { return isFree(v); });
    };
    if (auto alloc = dyn_cast<memref::AllocOp>(&op);
        alloc && operandsFree() && alloc.getType().getLayout().isIdentity()) {
      std::optional<Extent> bytes = bufferBytes(alloc);
      if (!bytes)
        return alloc.emitError("smepilot-form-dispatches: the size of this "
                               "temporary is not linear in one constant");
      unsigned index = buffers.size();
      bufferOf[alloc.getResult()] = index;
      buffers.push_back(BufferAttr::get(
          ctx, "tmp" + std::to_string(index - nArguments), bytes->toAttr(ctx),
          alloc.getAlignment().value_or(0), /*weight=*/false,
          /*ggmlType=*/0));
      continue;
    }
    if (auto dealloc = dyn_cast<memref::DeallocOp>(&op);
        dealloc && bufferOf.count(dealloc.getMemref()) &&
        bufferOf.lookup(dealloc.getMemref()) >= nArguments) {
      continue; // the runtime owns temporaries; it goes with the phase
    }
    if (op.getNumRegions() == 0 && isMemoryEffectFree(&op) && operandsFree()) {
      freeOps.insert(&op);
      continue;
    }
    if (isa<memref::GetGlobalOp>(&op)) {
      freeOps.insert(&op);
      continue;
    }
    work.push_back(&op);
  }
  return success();
}
