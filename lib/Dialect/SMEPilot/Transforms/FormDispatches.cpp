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
// projection kernel is the first layer's with other bindings. Kernels whose
// views carry a layer's fixed offset (the K/V cache slices) differ per layer
// and are kept apart.
//
//===----------------------------------------------------------------------===//

#include "smepilot/Dialect/SMEPilot/Transforms/Passes.h"

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

constexpr int64_t kRead = 1, kWrite = 2;

/// base + scale * constants[constant]; constant -1: base alone.
struct Extent {
  int64_t base = 0, scale = 0, constant = -1;
};

std::optional<Extent> addExtents(Extent a, Extent b, int64_t sign) {
  if (a.constant >= 0 && b.constant >= 0 && a.constant != b.constant)
    return std::nullopt;
  Extent r;
  r.base = a.base + sign * b.base;
  r.scale = a.scale + sign * b.scale;
  r.constant = a.constant >= 0 ? a.constant : b.constant;
  return r;
}

Extent scaleExtent(Extent a, int64_t factor) {
  a.base *= factor;
  a.scale *= factor;
  return a;
}

/// Unrolls a phase's calls to single-block functions, innermost first.
LogicalResult inlineCalls(func::FuncOp phase, SymbolTable &symbols) {
  bool changed = true;
  while (changed) {
    changed = false;
    SmallVector<func::CallOp> calls;
    phase.walk([&](func::CallOp call) { calls.push_back(call); });
    for (func::CallOp call : calls) {
      auto callee = symbols.lookup<func::FuncOp>(call.getCallee());
      // An SME kernel keeps its own function: it enters streaming mode and
      // enables ZA inside itself (smepilot-tile-sme).
      if (callee && callee->hasAttr(kSMEKernelAttr))
        continue;
      if (!callee || callee.isExternal())
        return call.emitError("smepilot-form-dispatches: cannot inline a call "
                              "to an external function into a phase");
      if (!callee.getBody().hasOneBlock())
        return call.emitError("smepilot-form-dispatches: the callee has "
                              "several blocks; only single-block functions "
                              "are inlined");
      Block &body = callee.getBody().front();
      IRMapping map;
      map.map(body.getArguments(), call.getOperands());
      OpBuilder b(call);
      for (Operation &op : body.without_terminator())
        b.clone(op, map);
      auto ret = cast<func::ReturnOp>(body.getTerminator());
      for (auto [result, value] : llvm::zip(call.getResults(), ret.getOperands()))
        result.replaceAllUsesWith(map.lookupOrDefault(value));
      call.erase();
      changed = true;
    }
  }
  return success();
}

/// The load table (abi.h) being built from every phase's load-time
/// dispatches: work that reads weights only, run once by the runtime.
/// Buffers are numbered in the order they appear (the table puts its
/// arguments first when it is built); identical dispatches of different
/// phases (the same kernel text on the same weights) are entered once.
class LoadTable {
public:
  /// The buffer of weight `name`.
  unsigned weight(StringRef name, int64_t bytes);
  /// A dispatch of kernel `kernelSym` (printed form `text`) over
  /// `bindings`: per binding, its load-table buffer, or std::nullopt for a
  /// temporary first written here (of `bytes` and `alignment`). Returns the
  /// buffer of every binding. With `shareable` (every temporary it writes
  /// is written by it alone, so a buffer's contents are this dispatch's
  /// result on its inputs), an identical shareable dispatch already entered
  /// (same kernel, tile space, mode and inputs) gives its buffers instead.
  /// A temporary several dispatches write (a pad: a fill, then a copy into
  /// it) is never shared: its contents are the whole sequence's.
  SmallVector<unsigned>
  dispatch(StringRef text, FlatSymbolRefAttr kernelSym, DictionaryAttr fields,
           ArrayRef<std::tuple<std::optional<unsigned>, int64_t, int64_t, int64_t>>
               bindings,
           bool shareable);
  /// Marks `buffer` as read by a phase: a packed buffer (an argument the
  /// load table writes). Returns its name.
  StringAttr pack(unsigned buffer, MLIRContext *ctx);
  bool empty() const { return dispatches.empty(); }
  /// Builds `smepilot.dispatch_table @load` at `b`.
  void build(OpBuilder &b, Location loc);

private:
  struct Buffer {
    std::string name;   ///< weights and packed buffers
    std::string source; ///< the weight it derives from
    int64_t bytes = 0, alignment = 0;
    bool isWeight = false, packed = false;
  };
  struct Dispatch {
    DictionaryAttr fields;
    unsigned kernel;
    SmallVector<std::pair<unsigned, int64_t>> bindings;
    SmallVector<int64_t> deps;
  };
  SmallVector<Buffer> buffers;
  llvm::StringMap<unsigned> weightByName;
  SmallVector<Dispatch> dispatches;
  std::map<std::string, unsigned> dispatchByKey;
  SmallVector<Attribute> kernelSyms;
  llvm::StringMap<unsigned> kernelByText;
  llvm::DenseMap<unsigned, int64_t> lastWriter;
  llvm::DenseMap<unsigned, SmallVector<int64_t>> readersSince;
  unsigned nPacked = 0;
};

unsigned LoadTable::weight(StringRef name, int64_t bytes) {
  auto [it, inserted] = weightByName.try_emplace(name, buffers.size());
  if (inserted) {
    Buffer w;
    w.name = name.str();
    w.source = w.name;
    w.bytes = bytes;
    w.isWeight = true;
    buffers.push_back(w);
  }
  return it->second;
}

SmallVector<unsigned> LoadTable::dispatch(
    StringRef text, FlatSymbolRefAttr kernelSym, DictionaryAttr fields,
    ArrayRef<std::tuple<std::optional<unsigned>, int64_t, int64_t, int64_t>>
        bindings,
    bool shareable) {
  // The key: the kernel, its tile space and mode (the kernel text does not
  // hold the forall's bounds), and per binding the buffer it reads or "new".
  std::string key = text.str();
  {
    llvm::raw_string_ostream os(key);
    os << "|tiles";
    for (int64_t v : fields.getAs<DenseI64ArrayAttr>("tiles").asArrayRef())
      os << ":" << v;
    if (auto mode = fields.getAs<IntegerAttr>("mode"))
      os << "|mode:" << mode.getInt();
  }
  for (auto [buffer, access, bytes, alignment] : bindings)
    key += "|" + (buffer ? std::to_string(*buffer) : std::string("new")) +
           ":" + std::to_string(access);
  if (shareable)
    if (auto it = dispatchByKey.find(key); it != dispatchByKey.end()) {
      SmallVector<unsigned> result;
      for (auto [i, binding] : llvm::enumerate(dispatches[it->second].bindings)) {
        result.push_back(binding.first);
        // The strictest alignment any phase assumes.
        Buffer &b = buffers[binding.first];
        b.alignment = std::max(b.alignment, std::get<3>(bindings[i]));
      }
      return result;
    }
  auto [kernelIt, newKernel] =
      kernelByText.try_emplace(text, kernelSyms.size());
  if (newKernel)
    kernelSyms.push_back(kernelSym);
  Dispatch d;
  d.fields = fields;
  d.kernel = kernelIt->second;
  std::string source;
  for (auto [buffer, access, bytes, alignment] : bindings)
    if (buffer && source.empty())
      source = buffers[*buffer].source;
  // A buffer first written from nothing (a pad's fill) is named after what
  // is later written into it.
  for (auto [buffer, access, bytes, alignment] : bindings)
    if (buffer && (access & kWrite) && buffers[*buffer].source.empty())
      buffers[*buffer].source = source;
  SmallVector<unsigned> result;
  for (auto [buffer, access, bytes, alignment] : bindings) {
    unsigned index;
    if (buffer) {
      index = *buffer;
    } else {
      index = buffers.size();
      Buffer t;
      t.source = source;
      t.bytes = bytes;
      t.alignment = alignment;
      buffers.push_back(t);
    }
    d.bindings.push_back({index, access});
    result.push_back(index);
  }
  // Dependencies from hazards, as in the phases.
  const int64_t self = dispatches.size();
  llvm::SetVector<int64_t> deps;
  for (auto [buffer, access] : d.bindings) {
    if (auto it = lastWriter.find(buffer); it != lastWriter.end())
      deps.insert(it->second);
    if (access & kWrite)
      for (int64_t r : readersSince[buffer])
        deps.insert(r);
  }
  for (auto [buffer, access] : d.bindings) {
    if (access & kWrite) {
      lastWriter[buffer] = self;
      readersSince[buffer].clear();
    } else {
      readersSince[buffer].push_back(self);
    }
  }
  d.deps.assign(deps.begin(), deps.end());
  llvm::sort(d.deps);
  if (shareable)
    dispatchByKey.try_emplace(key, dispatches.size());
  dispatches.push_back(d);
  return result;
}

StringAttr LoadTable::pack(unsigned buffer, MLIRContext *ctx) {
  Buffer &b = buffers[buffer];
  if (!b.packed) {
    b.packed = true;
    // Named after the weight it derives from; work that reads nothing (a
    // constant table) is "constant".
    b.name = "pack" + std::to_string(nPacked++) + "(" +
             (b.source.empty() ? std::string("constant") : b.source) + ")";
  }
  return StringAttr::get(ctx, b.name);
}

void LoadTable::build(OpBuilder &b, Location loc) {
  // Arguments (weights read, packed buffers written), then temporaries.
  SmallVector<unsigned> order, index(buffers.size());
  for (unsigned i = 0; i < buffers.size(); ++i)
    if (buffers[i].isWeight)
      order.push_back(i);
  for (unsigned i = 0; i < buffers.size(); ++i)
    if (buffers[i].packed)
      order.push_back(i);
  const int64_t nArguments = order.size();
  for (unsigned i = 0; i < buffers.size(); ++i)
    if (!buffers[i].isWeight && !buffers[i].packed)
      order.push_back(i);
  SmallVector<Attribute> bufferAttrs;
  for (auto [pos, i] : llvm::enumerate(order)) {
    index[i] = pos;
    const Buffer &buf = buffers[i];
    std::string name = buf.name.empty() ? "tmp" + std::to_string(pos - nArguments)
                                        : buf.name;
    bufferAttrs.push_back(b.getDictionaryAttr(
        {b.getNamedAttr("name", b.getStringAttr(name)),
         b.getNamedAttr("size", b.getDenseI64ArrayAttr({buf.bytes, 0, -1})),
         b.getNamedAttr("alignment", b.getI64IntegerAttr(buf.alignment))}));
  }
  SmallVector<Attribute> dispatchAttrs;
  for (auto [i, d] : llvm::enumerate(dispatches)) {
    SmallVector<int64_t> bindingList;
    for (auto [buffer, access] : d.bindings)
      bindingList.append({int64_t(index[buffer]), access});
    NamedAttrList fields(d.fields);
    std::string opName =
        fields.get("name") ? cast<StringAttr>(fields.get("name")).getValue().rsplit(':').second.str()
                           : std::string();
    fields.set("name", b.getStringAttr("load_d" + std::to_string(i) + ":" + opName));
    fields.set("kernel", b.getI64IntegerAttr(d.kernel));
    if (fields.get("sme_kernel"))
      fields.set("sme_kernel", b.getI64IntegerAttr(d.kernel));
    fields.set("bindings", b.getDenseI64ArrayAttr(bindingList));
    fields.set("deps", b.getDenseI64ArrayAttr(d.deps));
    dispatchAttrs.push_back(fields.getDictionary(b.getContext()));
  }
  auto table = DispatchTableOp::create(
      b, loc, b.getStringAttr(kLoadTableName), b.getArrayAttr(kernelSyms),
      b.getI64IntegerAttr(0), b.getI64IntegerAttr(nArguments),
      b.getArrayAttr(bufferAttrs), b.getArrayAttr(dispatchAttrs));
  table->setAttr(kLoadTableAttr, b.getUnitAttr());
}

/// One phase being turned into a table.
class PhaseOutliner {
public:
  PhaseOutliner(func::FuncOp phase, StringRef name, ModuleOp module,
                llvm::StringMap<unsigned> &kernelIndexByText,
                SmallVector<Attribute> &kernelSyms, LoadTable *load)
      : phase(phase), name(name), module(module),
        kernelIndexByText(kernelIndexByText), kernelSyms(kernelSyms),
        load(load) {}

  LogicalResult run();

private:
  // Classification.
  LogicalResult classify();
  bool isFree(Value v) const;
  std::optional<Extent> linearize(Value v) const;
  std::optional<Extent> bufferBytes(memref::AllocOp alloc) const;
  /// The root buffer (argument or temporary) a memref view is taken of.
  std::optional<unsigned> rootBuffer(Value v) const;

  // Outlining.
  LogicalResult outlineRange(ArrayRef<Operation *> range, unsigned index);
  Value materialize(OpBuilder &b, Value v, IRMapping &map, Value bindings,
                    Value constants, llvm::MapVector<unsigned, int64_t> &binds);
  void computeAccess(ArrayRef<Operation *> range,
                     llvm::MapVector<unsigned, int64_t> &binds);
  /// Moves the dispatches that depend on weights alone into the load table
  /// and renumbers what stays.
  void hoistLoadTime();

  func::FuncOp phase;
  std::string name;
  ModuleOp module;
  llvm::StringMap<unsigned> &kernelIndexByText;
  SmallVector<Attribute> &kernelSyms;
  LoadTable *load;
  /// The printed form of each kernel of kernelSyms.
  SmallVector<std::string> kernelTexts;
  /// Per dispatch: whether its kernel reads a constant or a global that is
  /// not constant (state of the run).
  SmallVector<bool> usesConstants;
  bool materializedConstant = false;
  /// The phase arguments marked kWeightAttr.
  llvm::DenseSet<unsigned> weightArgs;

  /// Buffer index of each root memref value (arguments, then temporaries).
  llvm::DenseMap<Value, unsigned> bufferOf;
  /// Constant index of each index/integer argument.
  llvm::DenseMap<Value, unsigned> constantOf;
  llvm::DenseSet<Operation *> freeOps;
  SmallVector<Attribute> buffers;
  SmallVector<Attribute> dispatches;
  SmallVector<Operation *> work;
  unsigned nArguments = 0, nConstants = 0;
  /// Per buffer: the last dispatch writing it, the dispatches reading it
  /// since.
  llvm::DenseMap<unsigned, int64_t> lastWriter;
  llvm::DenseMap<unsigned, SmallVector<int64_t>> readersSince;
};

bool PhaseOutliner::isFree(Value v) const {
  if (bufferOf.count(v) || constantOf.count(v))
    return true;
  Operation *def = v.getDefiningOp();
  return def && freeOps.count(def);
}

/// The value a dynamic dimension of a view or allocation was made with
/// (alloc operands, expand_shape output shapes, subview sizes), if it is one.
static std::optional<Value> dynamicSizeOf(memref::DimOp dim) {
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

std::optional<Extent> PhaseOutliner::linearize(Value v) const {
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

std::optional<Extent> PhaseOutliner::bufferBytes(memref::AllocOp alloc) const {
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
    std::optional<Extent> size = linearize(alloc.getDynamicSizes()[type.getDynamicDimIndex(d)]);
    if (!size || dynamicSeen || bytes.constant >= 0)
      return std::nullopt;
    dynamicSeen = true;
    bytes = Extent{bytes.base * size->base, bytes.base * size->scale,
                   size->constant};
  }
  return bytes;
}

std::optional<unsigned> PhaseOutliner::rootBuffer(Value v) const {
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
StringAttr argumentName(BlockArgument arg) {
  auto func = cast<func::FuncOp>(arg.getOwner()->getParentOp());
  if (auto name = func.getArgAttrOfType<StringAttr>(arg.getArgNumber(), kNameAttr))
    return name;
  return StringAttr::get(func.getContext(),
                         "arg" + std::to_string(arg.getArgNumber()));
}

LogicalResult PhaseOutliner::classify() {
  Block &body = phase.getBody().front();
  for (BlockArgument arg : body.getArguments()) {
    Type type = arg.getType();
    if (auto memref = dyn_cast<MemRefType>(type)) {
      if (!memref.getLayout().isIdentity() || !memref.hasStaticShape())
        return phase.emitError("smepilot-form-dispatches: phase argument ")
               << arg.getArgNumber()
               << " must be a statically shaped identity-layout memref";
      unsigned index = buffers.size();
      bufferOf[arg] = index;
      if (phase.getArgAttr(arg.getArgNumber(), kWeightAttr))
        weightArgs.insert(index);
      int64_t bytes = memref.getNumElements() *
                      llvm::divideCeil(memref.getElementTypeBitWidth(), 8);
      Builder b(phase.getContext());
      buffers.push_back(b.getDictionaryAttr(
          {b.getNamedAttr("name", argumentName(arg)),
           b.getNamedAttr("size", b.getDenseI64ArrayAttr({bytes, 0, -1})),
           b.getNamedAttr("alignment", b.getI64IntegerAttr(0))}));
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
      return llvm::all_of(op.getOperands(),
                          [&](Value v) { return isFree(v); });
    };
    if (auto alloc = dyn_cast<memref::AllocOp>(&op);
        alloc && operandsFree() && alloc.getType().getLayout().isIdentity()) {
      std::optional<Extent> bytes = bufferBytes(alloc);
      if (!bytes)
        return alloc.emitError("smepilot-form-dispatches: the size of this "
                               "temporary is not linear in one constant");
      unsigned index = buffers.size();
      bufferOf[alloc.getResult()] = index;
      Builder b(phase.getContext());
      buffers.push_back(b.getDictionaryAttr(
          {b.getNamedAttr("name", b.getStringAttr(
                                      "tmp" + std::to_string(index - nArguments))),
           b.getNamedAttr("size", b.getDenseI64ArrayAttr(
                                      {bytes->base, bytes->scale,
                                       bytes->constant})),
           b.getNamedAttr("alignment",
                          b.getI64IntegerAttr(alloc.getAlignment().value_or(0)))}));
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

Value PhaseOutliner::materialize(OpBuilder &b, Value v, IRMapping &map,
                                 Value bindings, Value constants,
                                 llvm::MapVector<unsigned, int64_t> &binds) {
  if (Value mapped = map.lookupOrNull(v))
    return mapped;
  Location loc = v.getLoc();
  MLIRContext *ctx = b.getContext();
  auto ptrType = LLVM::LLVMPointerType::get(ctx);
  if (auto it = constantOf.find(v); it != constantOf.end()) {
    materializedConstant = true;
    Value slot = LLVM::GEPOp::create(b, loc, ptrType, b.getI64Type(), constants,
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
  if (auto it = bufferOf.find(v); it != bufferOf.end()) {
    // bindings[j] -> memref<elt> -> the root's own type.
    auto inserted = binds.insert({it->second, 0}).first;
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
    desc = LLVM::InsertValueOp::create(b, loc, desc, zero, ArrayRef<int64_t>{2});
    auto scalarType = MemRefType::get({}, type.getElementType());
    Value scalar =
        UnrealizedConversionCastOp::create(b, loc, scalarType, desc).getResult(0);
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
        stride = arith::MulIOp::create(b, loc, asValue(stride), asValue(sizes[d]))
                     .getResult();
      }
    }
    Value view = memref::ReinterpretCastOp::create(
        b, loc, type, scalar, b.getIndexAttr(0), sizes, strides);
    map.map(v, view);
    return view;
  }
  Operation *def = v.getDefiningOp();
  assert(def && freeOps.count(def) && "only free values are materialized");
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

/// The memref a view (subview, reinterpret_cast, ...) is ultimately taken
/// of.
static Value viewRoot(Value v) {
  while (Operation *def = v.getDefiningOp()) {
    if (auto view = dyn_cast<ViewLikeOpInterface>(def))
      v = view.getViewSource();
    else if (auto meta = dyn_cast<memref::ExtractStridedMetadataOp>(def))
      v = meta.getSource();
    else
      break;
  }
  return v;
}

/// Reports to `mark` every memory read and write of `root` and the ops in
/// it, by the value accessed (kRead | kWrite). A call reports what its
/// callee does to the call's operands (the SME kernels of smepilot-tile-sme
/// read A and B and read-write C: knowing so lets a caller's dispatch bind
/// the K-major weight copy read-only). Returns false as soon as some access
/// is unknown (an op without memory-effect information, a call to an
/// external function, an effect on memory no value names).
static bool forEachAccess(Operation *root,
                          function_ref<void(Value, int64_t)> mark,
                          unsigned depth = 0) {
  WalkResult walk = root->walk([&](Operation *op) {
    if (auto call = dyn_cast<func::CallOp>(op)) {
      auto callee = SymbolTable::lookupNearestSymbolFrom<func::FuncOp>(
          call, call.getCalleeAttr());
      // Single-block callees only: a value reaching another block through a
      // block argument would not be traced back to the call's operands.
      if (!callee || callee.isExternal() || !callee.getBody().hasOneBlock() ||
          depth > 4)
        return WalkResult::interrupt();
      Block &body = callee.getBody().front();
      auto markArgument = [&](Value v, int64_t access) {
        if (auto arg = dyn_cast<BlockArgument>(viewRoot(v));
            arg && arg.getOwner() == &body)
          mark(call.getOperand(arg.getArgNumber()), access);
      };
      for (Operation &inner : body)
        if (!forEachAccess(&inner, markArgument, depth + 1))
          return WalkResult::interrupt();
      return WalkResult::advance();
    }
    // An op may have both effects of its own (linalg on buffers) and those
    // of its body; the walk visits the body's ops too.
    auto iface = dyn_cast<MemoryEffectOpInterface>(op);
    if (!iface)
      return op->hasTrait<OpTrait::HasRecursiveMemoryEffects>()
                 ? WalkResult::advance()
                 : WalkResult::interrupt();
    SmallVector<MemoryEffects::EffectInstance> effects;
    iface.getEffects(effects);
    for (const MemoryEffects::EffectInstance &e : effects) {
      bool read = isa<MemoryEffects::Read>(e.getEffect());
      bool write = isa<MemoryEffects::Write>(e.getEffect());
      if (!read && !write)
        continue;
      if (!e.getValue()) {
        // Memory no value names: any buffer (a stack slot is no buffer).
        if (isa<SideEffects::AutomaticAllocationScopeResource>(e.getResource()))
          continue;
        return WalkResult::interrupt();
      }
      mark(e.getValue(), (read ? kRead : 0) | (write ? kWrite : 0));
    }
    return WalkResult::advance();
  });
  return !walk.wasInterrupted();
}

void PhaseOutliner::computeAccess(ArrayRef<Operation *> range,
                                  llvm::MapVector<unsigned, int64_t> &binds) {
  auto mark = [&](Value v, int64_t access) {
    if (std::optional<unsigned> root = rootBuffer(v)) {
      auto it = binds.find(*root);
      if (it != binds.end())
        it->second |= access;
    }
  };
  for (Operation *top : range)
    if (!forEachAccess(top, mark)) {
      for (auto &entry : binds)
        entry.second |= kRead | kWrite;
      break;
    }
  // A buffer used only for its shape is still bound: call it read.
  for (auto &entry : binds)
    if (entry.second == 0)
      entry.second = kRead;
}

LogicalResult PhaseOutliner::outlineRange(ArrayRef<Operation *> range,
                                          unsigned index) {
  MLIRContext *ctx = phase.getContext();
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
  llvm::MapVector<unsigned, int64_t> binds;
  IRMapping map;
  materializedConstant = false;
  for (Value v : captured) {
    if (Operation *def = v.getDefiningOp(); def && inRange.count(def))
      continue;
    if (!isFree(v))
      return range.front()->emitError(
          "smepilot-form-dispatches: internal error: a dispatch uses a value "
          "of another dispatch");
    materialize(b, v, map, bindings, constants, binds);
  }

  Extent tiles{1, 0, -1};
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
  } else {
    for (Operation *op : range)
      b.clone(*op, map);
  }
  func::ReturnOp::create(b, loc);
  computeAccess(range, binds);

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
    kernelTexts.push_back(text);
  }
  usesConstants.push_back(materializedConstant);

  // Bindings and dependencies.
  SmallVector<int64_t> bindingList;
  llvm::SetVector<int64_t> deps;
  const int64_t self = dispatches.size();
  for (auto [buffer, access] : binds) {
    bindingList.append({int64_t(buffer), access});
    if (auto it = lastWriter.find(buffer); it != lastWriter.end())
      deps.insert(it->second);
    if (access & kWrite)
      for (int64_t r : readersSince[buffer])
        deps.insert(r);
  }
  for (auto [buffer, access] : binds) {
    if (access & kWrite) {
      lastWriter[buffer] = self;
      readersSince[buffer].clear();
    } else {
      readersSince[buffer].push_back(self);
    }
  }
  SmallVector<int64_t> depList(deps.begin(), deps.end());
  llvm::sort(depList);
  Builder ab(ctx);
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
  SmallVector<NamedAttribute> fields = {
      ab.getNamedAttr("name", ab.getStringAttr(name + "_d" +
                                               std::to_string(index) + ":" +
                                               opName)),
      ab.getNamedAttr("kernel", ab.getI64IntegerAttr(kernelIndex)),
      ab.getNamedAttr("tiles", ab.getDenseI64ArrayAttr(
                                   {tiles.base, tiles.scale, tiles.constant})),
      ab.getNamedAttr("bindings", ab.getDenseI64ArrayAttr(bindingList)),
      ab.getNamedAttr("deps", ab.getDenseI64ArrayAttr(depList))};
  if (callsSME)
    fields.append(
        {ab.getNamedAttr("mode", ab.getI64IntegerAttr(1)),
         ab.getNamedAttr("sme_kernel", ab.getI64IntegerAttr(kernelIndex))});
  dispatches.push_back(ab.getDictionaryAttr(fields));
  return success();
}

void PhaseOutliner::hoistLoadTime() {
  MLIRContext *ctx = phase.getContext();
  const unsigned nBuffers = buffers.size(), nDispatches = dispatches.size();
  auto fieldsOf = [&](unsigned d) { return cast<DictionaryAttr>(dispatches[d]); };
  auto bindingsOf = [&](unsigned d) {
    ArrayRef<int64_t> list =
        fieldsOf(d).getAs<DenseI64ArrayAttr>("bindings").asArrayRef();
    SmallVector<std::pair<unsigned, int64_t>> out;
    for (size_t i = 0; i + 1 < list.size(); i += 2)
      out.push_back({unsigned(list[i]), list[i + 1]});
    return out;
  };
  auto sizeOf = [&](unsigned buffer) {
    return cast<DictionaryAttr>(buffers[buffer])
        .getAs<DenseI64ArrayAttr>("size")
        .asArrayRef();
  };

  // A weight is an argument so marked that no dispatch writes.
  llvm::DenseSet<unsigned> weights = weightArgs;
  for (unsigned d = 0; d < nDispatches; ++d)
    for (auto [buffer, access] : bindingsOf(d))
      if (access & kWrite)
        weights.erase(buffer);

  // Load-time dispatches: no constants, a fixed tile count, reads of weights
  // and of temporaries only load-time dispatches write, writes of fixed-size
  // temporaries only. A temporary that some other dispatch also writes is
  // banned and the classification repeated, until nothing changes.
  // A temporary that a phase dispatch reads before a later load-time
  // dispatch writes it again (one buffer reused for two packed weights) is
  // banned too: the phase would need both contents, and a write may be
  // partial (a pad is a fill and a copy into one buffer), so the two cannot
  // be told apart as versions.
  llvm::DenseSet<unsigned> banned;
  SmallVector<bool> loadTime;
  while (true) {
    loadTime.assign(nDispatches, false);
    llvm::DenseSet<unsigned> written; // by load-time dispatches so far
    llvm::DenseSet<unsigned> readByPhase;
    bool changed = false;
    for (unsigned d = 0; d < nDispatches; ++d) {
      ArrayRef<int64_t> tiles =
          fieldsOf(d).getAs<DenseI64ArrayAttr>("tiles").asArrayRef();
      bool ok = !usesConstants[d] && tiles[2] < 0;
      for (auto [buffer, access] : bindingsOf(d)) {
        if (!ok)
          break;
        bool temp = buffer >= nArguments;
        if (access & kWrite) {
          ok = temp && !banned.count(buffer) && sizeOf(buffer)[2] < 0 &&
               (access == kWrite || !written.count(buffer));
        } else {
          ok = weights.count(buffer) || (temp && written.count(buffer));
        }
      }
      if (!ok) {
        for (auto [buffer, access] : bindingsOf(d))
          if (written.count(buffer))
            readByPhase.insert(buffer);
        continue;
      }
      loadTime[d] = true;
      for (auto [buffer, access] : bindingsOf(d))
        if (access & kWrite) {
          written.insert(buffer);
          if (readByPhase.count(buffer) && banned.insert(buffer).second)
            changed = true;
        }
    }
    for (unsigned d = 0; d < nDispatches; ++d)
      if (!loadTime[d])
        for (auto [buffer, access] : bindingsOf(d))
          if ((access & kWrite) && written.count(buffer) &&
              banned.insert(buffer).second)
            changed = true;
    if (!changed)
      break;
  }
  if (llvm::none_of(loadTime, [](bool b) { return b; }))
    return;

  // Enter them into the load table; note which load buffer each of this
  // phase's temporaries became. A dispatch may share another's buffers only
  // if each temporary it writes has no other writer.
  llvm::DenseMap<unsigned, unsigned> writers;
  for (unsigned d = 0; d < nDispatches; ++d)
    if (loadTime[d])
      for (auto [buffer, access] : bindingsOf(d))
        if (access & kWrite)
          ++writers[buffer];
  llvm::DenseMap<unsigned, unsigned> loadBufferOf;
  for (unsigned d = 0; d < nDispatches; ++d) {
    if (!loadTime[d])
      continue;
    bool shareable = true;
    for (auto [buffer, access] : bindingsOf(d))
      if (access & kWrite)
        shareable &= access == kWrite && writers[buffer] == 1;
    SmallVector<std::tuple<std::optional<unsigned>, int64_t, int64_t, int64_t>>
        binds;
    for (auto [buffer, access] : bindingsOf(d)) {
      std::optional<unsigned> known;
      if (weights.count(buffer))
        known = load->weight(
            cast<DictionaryAttr>(buffers[buffer]).getAs<StringAttr>("name").getValue(),
            sizeOf(buffer)[0]);
      else if (auto it = loadBufferOf.find(buffer); it != loadBufferOf.end())
        known = it->second;
      auto align = cast<DictionaryAttr>(buffers[buffer]).getAs<IntegerAttr>("alignment");
      binds.push_back({known, access, sizeOf(buffer)[0], align ? align.getInt() : 0});
    }
    int64_t kernel = fieldsOf(d).getAs<IntegerAttr>("kernel").getInt();
    SmallVector<unsigned> result =
        load->dispatch(kernelTexts[kernel], cast<FlatSymbolRefAttr>(kernelSyms[kernel]),
                       fieldsOf(d), binds, shareable);
    for (auto [i, binding] : llvm::enumerate(bindingsOf(d)))
      loadBufferOf.try_emplace(binding.first, result[i]);
  }

  // What stays: the other dispatches, the kernels and buffers they use, the
  // load-time temporaries they read becoming packed arguments.
  llvm::SetVector<unsigned> usedBuffers;
  llvm::SetVector<int64_t> usedKernels;
  for (unsigned d = 0; d < nDispatches; ++d) {
    if (loadTime[d])
      continue;
    for (auto [buffer, access] : bindingsOf(d))
      usedBuffers.insert(buffer);
    usedKernels.insert(fieldsOf(d).getAs<IntegerAttr>("kernel").getInt());
  }
  Builder b(ctx);
  SmallVector<int64_t> newBuffer(nBuffers, -1);
  SmallVector<Attribute> newBuffers;
  auto keep = [&](unsigned buffer, Attribute attr) {
    newBuffer[buffer] = newBuffers.size();
    newBuffers.push_back(attr);
  };
  // Arguments stay unless they are weights only load-time work reads.
  const unsigned oldArguments = nArguments;
  for (unsigned a = 0; a < oldArguments; ++a)
    if (!weights.count(a) || usedBuffers.count(a))
      keep(a, buffers[a]);
  // One argument per packed buffer: two temporaries of the phase that are
  // the same load-table result (the same transpose of one weight) bind it
  // once.
  llvm::DenseMap<unsigned, int64_t> argumentOfPack;
  for (unsigned t = oldArguments; t < nBuffers; ++t) {
    auto it = loadBufferOf.find(t);
    if (it == loadBufferOf.end() || !usedBuffers.count(t))
      continue;
    if (auto seen = argumentOfPack.find(it->second); seen != argumentOfPack.end()) {
      newBuffer[t] = seen->second;
      continue;
    }
    NamedAttrList fields(cast<DictionaryAttr>(buffers[t]));
    fields.set("name", load->pack(it->second, ctx));
    argumentOfPack[it->second] = newBuffers.size();
    keep(t, fields.getDictionary(ctx));
  }
  nArguments = newBuffers.size();
  for (unsigned t = oldArguments; t < nBuffers; ++t)
    if (!loadBufferOf.count(t) && usedBuffers.count(t))
      keep(t, buffers[t]);

  SmallVector<int64_t> newKernel(kernelSyms.size(), -1);
  SmallVector<Attribute> newKernelSyms;
  for (unsigned k = 0; k < kernelSyms.size(); ++k)
    if (usedKernels.count(k)) {
      newKernel[k] = newKernelSyms.size();
      newKernelSyms.push_back(kernelSyms[k]);
    }

  SmallVector<int64_t> newDispatch(nDispatches, -1);
  SmallVector<Attribute> newDispatches;
  for (unsigned d = 0; d < nDispatches; ++d) {
    if (loadTime[d])
      continue;
    newDispatch[d] = newDispatches.size();
    NamedAttrList fields(fieldsOf(d));
    SmallVector<int64_t> bindingList, depList;
    for (auto [buffer, access] : bindingsOf(d))
      bindingList.append({newBuffer[buffer], access});
    for (int64_t dep :
         fieldsOf(d).getAs<DenseI64ArrayAttr>("deps").asArrayRef())
      if (newDispatch[dep] >= 0)
        depList.push_back(newDispatch[dep]);
    int64_t kernel = newKernel[fieldsOf(d).getAs<IntegerAttr>("kernel").getInt()];
    fields.set("kernel", b.getI64IntegerAttr(kernel));
    if (fields.get("sme_kernel"))
      fields.set("sme_kernel", b.getI64IntegerAttr(kernel));
    fields.set("bindings", b.getDenseI64ArrayAttr(bindingList));
    fields.set("deps", b.getDenseI64ArrayAttr(depList));
    newDispatches.push_back(fields.getDictionary(ctx));
  }
  buffers = std::move(newBuffers);
  dispatches = std::move(newDispatches);
  kernelSyms = std::move(newKernelSyms);
}

LogicalResult PhaseOutliner::run() {
  if (phase.getNumResults() != 0)
    return phase.emitError("smepilot-form-dispatches: phase '")
           << name << "' has results; bufferize with out-params first";
  if (!phase.getBody().hasOneBlock())
    return phase.emitError("smepilot-form-dispatches: phase '")
           << name << "' has several blocks";
  if (failed(classify()))
    return failure();

  // Contiguous ranges closed under SSA uses.
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
    // A free op or temporary defined inside the span but used after it is
    // fine (re-materialized); a work op is not, and cannot be (the range
    // would have grown to cover its users).
    if (failed(outlineRange(ArrayRef<Operation *>(work).slice(i, j - i),
                            dispatchIndex++)))
      return failure();
    i = j;
  }

  if (load)
    hoistLoadTime();

  OpBuilder b(phase);
  auto table = DispatchTableOp::create(
      b, phase.getLoc(), b.getStringAttr(name),
      b.getArrayAttr(kernelSyms), b.getI64IntegerAttr(nConstants),
      b.getI64IntegerAttr(nArguments), b.getArrayAttr(buffers),
      b.getArrayAttr(dispatches));
  // What the compiled model's phase list says of it (abi.h).
  if (auto chunk = phase->getAttrOfType<IntegerAttr>(kChunkAttr))
    table->setAttr("chunk", chunk);
  if (phase->hasAttr(kLastRowAttr))
    table->setAttr("last_row_only", b.getUnitAttr());
  phase.erase();
  return success();
}

struct FormDispatchesPass
    : public smepilot::impl::FormDispatchesBase<FormDispatchesPass> {
  using FormDispatchesBase::FormDispatchesBase;

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
      if (!name || name.getValue().empty() || phase.isPrivate()) {
        phase.emitError("smepilot-form-dispatches: '")
            << kPhaseAttr << "' must be a non-empty string on a public function";
        return signalPassFailure();
      }
      phase.walk([&](func::CallOp call) {
        if (Operation *callee = symbols.lookup(call.getCallee()))
          callees.insert(callee);
      });
      if (failed(inlineCalls(phase, symbols)))
        return signalPassFailure();
    }
    // One kernel numbering per table keeps names stable; dedup is per table
    // too (kernels of different phases differ in their static shapes).
    LoadTable load;
    Location loadLoc = module.getLoc();
    for (func::FuncOp phase : phases) {
      std::string name =
          phase->getAttrOfType<StringAttr>(kPhaseAttr).getValue().str();
      if (name == kLoadTableName) {
        phase.emitError("smepilot-form-dispatches: a phase may not be named '")
            << kLoadTableName << "' (the load table's name)";
        return signalPassFailure();
      }
      if (load.empty())
        loadLoc = phase.getLoc();
      llvm::StringMap<unsigned> kernelIndexByText;
      SmallVector<Attribute> kernelSyms;
      PhaseOutliner outliner(phase, name, module, kernelIndexByText, kernelSyms,
                             hoistLoadTime ? &load : nullptr);
      if (failed(outliner.run()))
        return signalPassFailure();
    }
    if (!load.empty()) {
      OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
      load.build(b, loadLoc);
    }
    // Kernels no table refers to (a load-time kernel another phase had
    // already entered into the load table).
    llvm::DenseSet<StringAttr> referenced;
    for (auto table : module.getOps<DispatchTableOp>())
      for (Attribute k : table.getKernels())
        referenced.insert(cast<FlatSymbolRefAttr>(k).getAttr());
    for (auto func : llvm::make_early_inc_range(module.getOps<func::FuncOp>()))
      if (func->hasAttr(kKernelAttr) && !referenced.count(func.getSymNameAttr()))
        func.erase();
    // Inlined private callees nobody calls any more.
    for (Operation *callee : callees) {
      auto func = cast<func::FuncOp>(callee);
      if (func.isPrivate() && SymbolTable::symbolKnownUseEmpty(func, module))
        func.erase();
    }
  }
};

} // namespace
