//===- HoistLoadTime.cpp - work on weights alone -> the load table --------===//
//
// Runs right after smepilot-form-dispatches, on its finished phase tables.
// A dispatch whose result is the same on every run, because it reads only
// weights (and what other such dispatches wrote) and no run-time constant,
// moves into the load table `smepilot.dispatch_table @load {smepilot.load}`,
// which the runtime runs once, after binding the weights (abi.h v2). What it
// writes and a phase still reads becomes a packed buffer: an argument of the
// load table and of the phase, named `pack<i>(<weight>)`. The K-major weight
// copies smepilot-tile-sme makes for its SME kernels are the case this is
// for: without it every phase call would transpose every weight again.
//
// Per phase table:
//   1. classify: a dispatch is load-time when it reads no run-time state
//      (`reads_state`), has a fixed tile count, reads only weights (buffers
//      marked `weight` that no dispatch writes) and temporaries load-time
//      dispatches wrote, and writes only fixed-size temporaries. A temporary
//      that a phase dispatch also writes, or that a phase dispatch reads
//      before a later load-time dispatch writes it again, is banned and the
//      classification repeated until nothing changes;
//   2. enter the load-time dispatches into the load table; the same dispatch
//      of several phases (the same kernel text, tiles and mode on the same
//      inputs) is entered once, and its buffers are shared;
//   3. rebuild the phase table from what stays, renumbering buffers, kernels
//      and dependencies; weights only load-time work read leave it.
// Finally kernels no table refers to any more are erased.
//
//===----------------------------------------------------------------------===//

#include "smepilot/Dialect/SMEPilot/Transforms/Passes.h"

#include "smepilot/Dialect/SMEPilot/Transforms/DispatchFormation.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringMap.h"

#include <map>

namespace mlir::smepilot {
#define GEN_PASS_DEF_HOISTLOADTIME
#include "smepilot/Dialect/SMEPilot/Transforms/Passes.h.inc"
} // namespace mlir::smepilot

using namespace mlir;
using namespace mlir::smepilot;

namespace {

/// `d` with other kernels, bindings, dependencies and name.
DispatchAttr rebuildDispatch(DispatchAttr d, StringRef name, int64_t kernel,
                             int64_t smeKernel, ArrayRef<BindingAttr> bindings,
                             ArrayRef<int64_t> deps) {
  return DispatchAttr::get(d.getContext(), name, kernel, smeKernel, d.getMode(),
                           d.getSmeShare(), d.getTileGranule(), d.getTiles(),
                           bindings, deps, d.getReadsState());
}

/// The load table being built from every phase's load-time dispatches.
/// Buffers are numbered in the order they appear (the table puts its
/// arguments first when it is built).
class LoadTable {
public:
  /// A binding of a dispatch being entered: its load-table buffer, or
  /// std::nullopt for a temporary first written here (of `bytes` and
  /// `alignment`).
  struct Binding {
    std::optional<unsigned> buffer;
    Access access;
    int64_t bytes, alignment;
  };

  /// The buffer of weight `name` (passed as GGML type `ggmlType`).
  unsigned weight(StringRef name, int64_t bytes, int64_t ggmlType);
  /// Enters dispatch `d` of kernel `kernelSym` (printed form `text`) over
  /// `bindings`; returns the load-table buffer of every binding. With
  /// `shareable` (every temporary it writes is written by it alone, so a
  /// buffer's contents are this dispatch's result on its inputs), an
  /// identical shareable dispatch already entered (same kernel, tile space,
  /// mode and inputs) gives its buffers instead. A temporary several
  /// dispatches write (a pad: a fill, then a copy into it) is never shared:
  /// its contents are the whole sequence's.
  SmallVector<unsigned> dispatch(StringRef text, FlatSymbolRefAttr kernelSym,
                                 DispatchAttr d, ArrayRef<Binding> bindings,
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
    int64_t bytes = 0, alignment = 0, ggmlType = 0;
    bool isWeight = false, packed = false;
  };
  struct Dispatch {
    DispatchAttr attr;
    unsigned kernel;
    SmallVector<std::pair<unsigned, Access>> bindings;
    SmallVector<int64_t> deps;
  };
  SmallVector<Buffer> buffers;
  llvm::StringMap<unsigned> weightByName;
  SmallVector<Dispatch> dispatches;
  std::map<std::string, unsigned> dispatchByKey;
  SmallVector<Attribute> kernelSyms;
  llvm::StringMap<unsigned> kernelByText;
  HazardTracker hazards;
  unsigned nPacked = 0;
};

unsigned LoadTable::weight(StringRef name, int64_t bytes, int64_t ggmlType) {
  auto [it, inserted] = weightByName.try_emplace(name, buffers.size());
  if (inserted) {
    Buffer w;
    w.name = name.str();
    w.source = w.name;
    w.bytes = bytes;
    w.ggmlType = ggmlType;
    w.isWeight = true;
    buffers.push_back(w);
  }
  return it->second;
}

SmallVector<unsigned>
LoadTable::dispatch(StringRef text, FlatSymbolRefAttr kernelSym, DispatchAttr d,
                    ArrayRef<Binding> bindings, bool shareable) {
  // The key: the kernel, its tile space and mode (the kernel text does not
  // hold the forall's bounds), and per binding the buffer it reads or "new".
  std::string key = text.str();
  {
    llvm::raw_string_ostream os(key);
    os << "|tiles:" << d.getTiles().getBase() << ":" << d.getTiles().getScale()
       << ":" << d.getTiles().getConstant()
       << "|mode:" << stringifyExecMode(d.getMode());
    for (const Binding &b : bindings)
      os << "|" << (b.buffer ? std::to_string(*b.buffer) : "new") << ":"
         << uint32_t(b.access);
  }
  if (shareable)
    if (auto it = dispatchByKey.find(key); it != dispatchByKey.end()) {
      SmallVector<unsigned> result;
      for (auto [i, binding] :
           llvm::enumerate(dispatches[it->second].bindings)) {
        result.push_back(binding.first);
        // The strictest alignment any phase assumes.
        Buffer &b = buffers[binding.first];
        b.alignment = std::max(b.alignment, bindings[i].alignment);
      }
      return result;
    }
  auto [kernelIt, newKernel] =
      kernelByText.try_emplace(text, kernelSyms.size());
  if (newKernel)
    kernelSyms.push_back(kernelSym);
  Dispatch entry;
  entry.attr = d;
  entry.kernel = kernelIt->second;
  std::string source;
  for (const Binding &b : bindings)
    if (b.buffer && source.empty())
      source = buffers[*b.buffer].source;
  // A buffer first written from nothing (a pad's fill) is named after what
  // is later written into it.
  for (const Binding &b : bindings)
    if (b.buffer && writes(b.access) && buffers[*b.buffer].source.empty())
      buffers[*b.buffer].source = source;
  SmallVector<unsigned> result;
  for (const Binding &b : bindings) {
    unsigned index;
    if (b.buffer) {
      index = *b.buffer;
    } else {
      index = buffers.size();
      Buffer t;
      t.source = source;
      t.bytes = b.bytes;
      t.alignment = b.alignment;
      buffers.push_back(t);
    }
    entry.bindings.push_back({index, b.access});
    result.push_back(index);
  }
  entry.deps = hazards.addDispatch(entry.bindings);
  if (shareable)
    dispatchByKey.try_emplace(key, dispatches.size());
  dispatches.push_back(entry);
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
  MLIRContext *ctx = b.getContext();
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
    std::string name =
        buf.name.empty() ? "tmp" + std::to_string(pos - nArguments) : buf.name;
    bufferAttrs.push_back(
        BufferAttr::get(ctx, name, ExtentAttr::get(ctx, buf.bytes),
                        buf.alignment, buf.isWeight, buf.ggmlType));
  }
  SmallVector<Attribute> dispatchAttrs;
  for (auto [i, d] : llvm::enumerate(dispatches)) {
    SmallVector<BindingAttr> bindings;
    for (auto [buffer, access] : d.bindings)
      bindings.push_back(BindingAttr::get(ctx, index[buffer], access));
    // "<phase>_d<j>:<op>" -> "load_d<i>:<op>"; a name without an op keeps
    // itself whole.
    StringRef op = d.attr.getName().rsplit(':').second;
    std::string name = "load_d" + std::to_string(i) + ":" +
                       (op.empty() ? d.attr.getName() : op).str();
    // Load-time work is never a collab pair: one kernel for both fields.
    dispatchAttrs.push_back(rebuildDispatch(
        d.attr, name, d.kernel,
        d.attr.getSmeKernel() >= 0 ? int64_t(d.kernel) : -1, bindings, d.deps));
  }
  auto table = DispatchTableOp::create(
      b, loc, b.getStringAttr(kLoadTableName), b.getArrayAttr(kernelSyms),
      b.getI64IntegerAttr(0), b.getI64IntegerAttr(nArguments),
      b.getArrayAttr(bufferAttrs), b.getArrayAttr(dispatchAttrs),
      /*chunk=*/IntegerAttr(), /*last_row_only=*/UnitAttr());
  table->setAttr(kLoadTableAttr, b.getUnitAttr());
}

/// The printed form of each kernel, without its name: two kernels with the
/// same text compute the same thing on their bindings. Printed once per
/// kernel (a phase's one transpose kernel serves every layer's weights).
class KernelTexts {
public:
  explicit KernelTexts(ModuleOp module) : symbols(module) {}

  /// Whether `kernel` names a func.func (the form the texts are taken of).
  bool isFunc(FlatSymbolRefAttr kernel) {
    return bool(symbols.lookup<func::FuncOp>(kernel.getAttr()));
  }
  StringRef get(FlatSymbolRefAttr kernel) {
    auto [it, inserted] = texts.try_emplace(kernel.getAttr());
    if (inserted)
      it->second = print(symbols.lookup<func::FuncOp>(kernel.getAttr()));
    return it->second;
  }

private:
  static std::string print(func::FuncOp kernel) {
    StringAttr name = kernel.getSymNameAttr();
    // The name smepilot-form-dispatches deduplicated candidates under.
    kernel.setSymName("__smepilot_kernel_candidate");
    std::string text;
    llvm::raw_string_ostream os(text);
    // Local scope: numbering the whole module for every kernel would make
    // this quadratic in the number of kernels.
    kernel.print(os, OpPrintingFlags().printGenericOpForm().useLocalScope());
    kernel.setSymNameAttr(name);
    return text;
  }

  SymbolTable symbols;
  llvm::DenseMap<StringAttr, std::string> texts;
};

/// Which dispatches of `table` are load-time (step 1 of the file comment).
SmallVector<bool> classifyLoadTime(ArrayRef<BufferAttr> buffers,
                                   ArrayRef<DispatchAttr> dispatches,
                                   unsigned nArguments,
                                   const llvm::DenseSet<unsigned> &weights) {
  const unsigned nDispatches = dispatches.size();
  llvm::DenseSet<unsigned> banned;
  SmallVector<bool> loadTime;
  while (true) {
    loadTime.assign(nDispatches, false);
    llvm::DenseSet<unsigned> written; // by load-time dispatches so far
    llvm::DenseSet<unsigned> readByPhase;
    bool changed = false;
    for (unsigned d = 0; d < nDispatches; ++d) {
      bool ok = !dispatches[d].getReadsState() &&
                dispatches[d].getTiles().isFixed() &&
                dispatches[d].getMode() != ExecMode::collab;
      for (BindingAttr binding : dispatches[d].getBindings()) {
        // The load table's bindings carry no offsets (a slice of a weight
        // or of a packed buffer is not what load-time work reads).
        ok &= binding.getOffset() == 0;
        if (!ok)
          break;
        unsigned buffer = binding.getBuffer();
        bool temp = buffer >= nArguments;
        if (binding.writes()) {
          ok = temp && !banned.count(buffer) &&
               buffers[buffer].getSize().isFixed() &&
               (!binding.reads() || !written.count(buffer));
        } else {
          ok = weights.count(buffer) || (temp && written.count(buffer));
        }
      }
      if (!ok) {
        for (BindingAttr binding : dispatches[d].getBindings())
          if (written.count(binding.getBuffer()))
            readByPhase.insert(binding.getBuffer());
        continue;
      }
      loadTime[d] = true;
      for (BindingAttr binding : dispatches[d].getBindings())
        if (binding.writes()) {
          written.insert(binding.getBuffer());
          if (readByPhase.count(binding.getBuffer()) &&
              banned.insert(binding.getBuffer()).second)
            changed = true;
        }
    }
    for (unsigned d = 0; d < nDispatches; ++d)
      if (!loadTime[d])
        for (BindingAttr binding : dispatches[d].getBindings())
          if (binding.writes() && written.count(binding.getBuffer()) &&
              banned.insert(binding.getBuffer()).second)
            changed = true;
    if (!changed)
      return loadTime;
  }
}

/// Enters the load-time dispatches of a table into `load` (step 2 of the
/// file comment). Returns, per temporary of the table they bind, the load
/// table's buffer it became.
llvm::DenseMap<unsigned, unsigned>
enterLoadTime(ArrayRef<BufferAttr> buffers, ArrayRef<DispatchAttr> dispatches,
              ArrayRef<FlatSymbolRefAttr> kernelSyms, ArrayRef<bool> loadTime,
              const llvm::DenseSet<unsigned> &weights, LoadTable &load,
              KernelTexts &kernelTexts) {
  const unsigned nDispatches = dispatches.size();
  // A dispatch may share another's buffers only if each temporary it writes
  // has no other writer.
  llvm::DenseMap<unsigned, unsigned> writers;
  for (unsigned d = 0; d < nDispatches; ++d)
    if (loadTime[d])
      for (BindingAttr binding : dispatches[d].getBindings())
        if (binding.writes())
          ++writers[binding.getBuffer()];
  llvm::DenseMap<unsigned, unsigned> loadBufferOf;
  for (unsigned d = 0; d < nDispatches; ++d) {
    if (!loadTime[d])
      continue;
    bool shareable = true;
    for (BindingAttr binding : dispatches[d].getBindings())
      if (binding.writes())
        shareable &= !binding.reads() && writers[binding.getBuffer()] == 1;
    SmallVector<LoadTable::Binding> binds;
    for (BindingAttr binding : dispatches[d].getBindings()) {
      unsigned buffer = binding.getBuffer();
      BufferAttr attr = buffers[buffer];
      std::optional<unsigned> known;
      if (weights.count(buffer))
        known = load.weight(attr.getName(), attr.getSize().getBase(),
                            attr.getGgmlType());
      else if (auto it = loadBufferOf.find(buffer); it != loadBufferOf.end())
        known = it->second;
      binds.push_back({known, binding.getAccess(), attr.getSize().getBase(),
                       attr.getAlignment()});
    }
    FlatSymbolRefAttr kernel = kernelSyms[dispatches[d].getKernel()];
    SmallVector<unsigned> result = load.dispatch(
        kernelTexts.get(kernel), kernel, dispatches[d], binds, shareable);
    for (auto [i, binding] : llvm::enumerate(dispatches[d].getBindings()))
      loadBufferOf.try_emplace(binding.getBuffer(), result[i]);
  }

  return loadBufferOf;
}

/// Rebuilds `table` from the dispatches that stay (step 3 of the file
/// comment): the kernels and buffers they use, the load-time temporaries
/// they read becoming packed arguments, everything renumbered.
void rebuildTable(DispatchTableOp table, ArrayRef<BufferAttr> buffers,
                  ArrayRef<DispatchAttr> dispatches,
                  ArrayRef<FlatSymbolRefAttr> kernelSyms,
                  ArrayRef<bool> loadTime,
                  const llvm::DenseSet<unsigned> &weights,
                  const llvm::DenseMap<unsigned, unsigned> &loadBufferOf,
                  LoadTable &load) {
  MLIRContext *ctx = table.getContext();
  const unsigned nBuffers = buffers.size(), nDispatches = dispatches.size();
  const unsigned oldArguments = table.getNArguments();
  llvm::SetVector<unsigned> usedBuffers;
  llvm::SetVector<int64_t> usedKernels;
  for (unsigned d = 0; d < nDispatches; ++d) {
    if (loadTime[d])
      continue;
    for (BindingAttr binding : dispatches[d].getBindings())
      usedBuffers.insert(binding.getBuffer());
    usedKernels.insert(dispatches[d].getKernel());
    if (dispatches[d].getSmeKernel() >= 0)
      usedKernels.insert(dispatches[d].getSmeKernel());
  }
  SmallVector<int64_t> newBuffer(nBuffers, -1);
  SmallVector<Attribute> newBuffers;
  auto keep = [&](unsigned buffer, BufferAttr attr) {
    newBuffer[buffer] = newBuffers.size();
    newBuffers.push_back(attr);
  };
  // Arguments stay unless they are weights only load-time work reads.
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
    if (auto seen = argumentOfPack.find(it->second);
        seen != argumentOfPack.end()) {
      newBuffer[t] = seen->second;
      continue;
    }
    argumentOfPack[it->second] = newBuffers.size();
    BufferAttr old = buffers[t];
    keep(t, BufferAttr::get(ctx, load.pack(it->second, ctx).getValue(),
                            old.getSize(), old.getAlignment(), old.getWeight(),
                            old.getGgmlType()));
  }
  const int64_t nArguments = newBuffers.size();
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
    SmallVector<BindingAttr> bindings;
    SmallVector<int64_t> deps;
    for (BindingAttr binding : dispatches[d].getBindings())
      bindings.push_back(BindingAttr::get(ctx, newBuffer[binding.getBuffer()],
                                          binding.getAccess(),
                                          binding.getOffset()));
    for (int64_t dep : dispatches[d].getDeps())
      if (newDispatch[dep] >= 0)
        deps.push_back(newDispatch[dep]);
    const int64_t sme = dispatches[d].getSmeKernel();
    newDispatches.push_back(
        rebuildDispatch(dispatches[d], dispatches[d].getName(),
                        newKernel[dispatches[d].getKernel()],
                        sme >= 0 ? newKernel[sme] : -1, bindings, deps));
  }
  Builder b(ctx);
  table.setKernelsAttr(b.getArrayAttr(newKernelSyms));
  table.setNArguments(nArguments);
  table.setBuffersAttr(b.getArrayAttr(newBuffers));
  table.setDispatchesAttr(b.getArrayAttr(newDispatches));
}

/// Moves `table`'s load-time dispatches into `load` and rebuilds the table
/// from what stays. Returns whether anything moved.
bool hoistTable(DispatchTableOp table, LoadTable &load,
                KernelTexts &kernelTexts) {
  SmallVector<BufferAttr> buffers(table.getBufferList());
  SmallVector<DispatchAttr> dispatches(table.getDispatchList());
  SmallVector<FlatSymbolRefAttr> kernelSyms;
  for (Attribute k : table.getKernels())
    kernelSyms.push_back(cast<FlatSymbolRefAttr>(k));
  const unsigned oldArguments = table.getNArguments();

  // A weight is an argument so marked that no dispatch writes.
  llvm::DenseSet<unsigned> weights;
  for (unsigned a = 0; a < oldArguments; ++a)
    if (buffers[a].getWeight())
      weights.insert(a);
  for (DispatchAttr d : dispatches)
    for (BindingAttr binding : d.getBindings())
      if (binding.writes())
        weights.erase(binding.getBuffer());

  SmallVector<bool> loadTime =
      classifyLoadTime(buffers, dispatches, oldArguments, weights);
  if (llvm::none_of(loadTime, [](bool b) { return b; }))
    return false;
  llvm::DenseMap<unsigned, unsigned> loadBufferOf = enterLoadTime(
      buffers, dispatches, kernelSyms, loadTime, weights, load, kernelTexts);
  rebuildTable(table, buffers, dispatches, kernelSyms, loadTime, weights,
               loadBufferOf, load);
  return true;
}

struct HoistLoadTimePass
    : public smepilot::impl::HoistLoadTimeBase<HoistLoadTimePass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    KernelTexts kernelTexts(module);
    SmallVector<DispatchTableOp> tables(module.getOps<DispatchTableOp>());
    for (DispatchTableOp table : tables)
      if (table.isLoadTable()) {
        table.emitOpError("smepilot-hoist-load-time: the module has a load "
                          "table already; the pass runs once, on the phase "
                          "tables of smepilot-form-dispatches");
        return signalPassFailure();
      }
    for (DispatchTableOp table : tables)
      for (Attribute k : table.getKernels())
        if (!kernelTexts.isFunc(cast<FlatSymbolRefAttr>(k))) {
          table.emitOpError("smepilot-hoist-load-time: kernel ")
              << k
              << " is not a func.func (run the pass right after "
                 "smepilot-form-dispatches)";
          return signalPassFailure();
        }
    LoadTable load;
    Location loadLoc = module.getLoc();
    for (DispatchTableOp table : tables) {
      bool wasEmpty = load.empty();
      if (hoistTable(table, load, kernelTexts) && wasEmpty)
        loadLoc = table.getLoc();
    }
    if (load.empty())
      return;
    OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
    load.build(b, loadLoc);
    // Kernels no table refers to (load-time kernels of a phase whose
    // dispatch another phase had already entered into the load table, or
    // that only load-time work used).
    llvm::DenseSet<StringAttr> referenced;
    for (auto table : module.getOps<DispatchTableOp>())
      for (Attribute k : table.getKernels())
        referenced.insert(cast<FlatSymbolRefAttr>(k).getAttr());
    for (auto func : llvm::make_early_inc_range(module.getOps<func::FuncOp>()))
      if (func->hasAttr(kKernelAttr) &&
          !referenced.count(func.getSymNameAttr()))
        func.erase();
  }
};

} // namespace
