//===- EmitDispatchTables.cpp - smepilot.dispatch_table -> abi.h globals --===//
//
// The last step of dispatch formation: once the kernels are LLVM functions,
// each `smepilot.dispatch_table @<name>` becomes constant data laid out
// exactly as runtime/include/smepilot_rt/abi.h declares it, so the runtime
// reads the table the JIT (or an AOT object) produced with no translation:
//
//   smepilot_table_<name>            smepilot_rt_dispatch_table (external)
//   __smepilot_<name>_kernels        smepilot_rt_kernel_fn[n_kernels]
//   __smepilot_<name>_buffers        smepilot_rt_buffer[n_buffers]
//   __smepilot_<name>_dispatches     smepilot_rt_dispatch[n_dispatches]
//   __smepilot_<name>_bindings       smepilot_rt_binding[n_bindings]
//   __smepilot_<name>_deps           uint32_t[n_deps]
//   __smepilot_<name>_s<i>           the names, NUL-terminated
//
// and once per module the compiled model listing every table as a phase
// (chunk and last-row flag from the table's `chunk` / `last_row_only`
// attributes, target from the module's `smepilot.sme_target`, else "host"),
// but the load table (`smepilot.load`), which is the model's `load` field:
//
//   smepilot_compiled_model          smepilot_rt_compiled_model (external)
//   __smepilot_model_phases          smepilot_rt_phase[n_tables]
//
// The compiler mirrors the ABI instead of linking the runtime: abi.h is a
// plain C header, included here only for its constants and so that the
// static_asserts below tie the LLVM struct types built by this pass to the C
// layouts (field offsets on LP64, which is every target we emit for).
//
//===----------------------------------------------------------------------===//

#include "smepilot/Dialect/SMEPilot/Transforms/Passes.h"

#include "smepilot_rt/abi.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/SymbolTable.h"

#include <cstddef>

namespace mlir::smepilot {
#define GEN_PASS_DEF_EMITDISPATCHTABLES
#include "smepilot/Dialect/SMEPilot/Transforms/Passes.h.inc"
} // namespace mlir::smepilot

using namespace mlir;
using namespace mlir::smepilot;

// The field orders the struct types below encode.
static_assert(offsetof(smepilot_rt_extent, base) == 0 &&
              offsetof(smepilot_rt_extent, scale) == 8 &&
              offsetof(smepilot_rt_extent, constant) == 16 &&
              sizeof(smepilot_rt_extent) == 24);
static_assert(offsetof(smepilot_rt_buffer, name) == 0 &&
              offsetof(smepilot_rt_buffer, size) == 8 &&
              offsetof(smepilot_rt_buffer, alignment) == 32 &&
              sizeof(smepilot_rt_buffer) == 40);
static_assert(offsetof(smepilot_rt_binding, buffer) == 0 &&
              offsetof(smepilot_rt_binding, access) == 4 &&
              offsetof(smepilot_rt_binding, offset) == 8 &&
              sizeof(smepilot_rt_binding) == 16);
static_assert(offsetof(smepilot_rt_dispatch, name) == 0 &&
              offsetof(smepilot_rt_dispatch, cpu_kernel) == 8 &&
              offsetof(smepilot_rt_dispatch, sme_kernel) == 12 &&
              offsetof(smepilot_rt_dispatch, mode) == 16 &&
              offsetof(smepilot_rt_dispatch, sme_share) == 20 &&
              offsetof(smepilot_rt_dispatch, tile_granule) == 24 &&
              offsetof(smepilot_rt_dispatch, tile_count) == 32 &&
              offsetof(smepilot_rt_dispatch, bindings_begin) == 56 &&
              offsetof(smepilot_rt_dispatch, deps_count) == 68 &&
              sizeof(smepilot_rt_dispatch) == 72);
static_assert(offsetof(smepilot_rt_dispatch_table, abi_version) == 0 &&
              offsetof(smepilot_rt_dispatch_table, n_constants) == 4 &&
              offsetof(smepilot_rt_dispatch_table, phase_name) == 8 &&
              offsetof(smepilot_rt_dispatch_table, n_kernels) == 16 &&
              offsetof(smepilot_rt_dispatch_table, n_arguments) == 20 &&
              offsetof(smepilot_rt_dispatch_table, kernels) == 24 &&
              offsetof(smepilot_rt_dispatch_table, n_buffers) == 32 &&
              offsetof(smepilot_rt_dispatch_table, n_dispatches) == 36 &&
              offsetof(smepilot_rt_dispatch_table, buffers) == 40 &&
              offsetof(smepilot_rt_dispatch_table, dispatches) == 48 &&
              offsetof(smepilot_rt_dispatch_table, n_bindings) == 56 &&
              offsetof(smepilot_rt_dispatch_table, n_deps) == 60 &&
              offsetof(smepilot_rt_dispatch_table, bindings) == 64 &&
              offsetof(smepilot_rt_dispatch_table, deps) == 72 &&
              sizeof(smepilot_rt_dispatch_table) == 80);
static_assert(offsetof(smepilot_rt_phase, chunk) == 8 &&
              offsetof(smepilot_rt_phase, last_row_only) == 16 &&
              offsetof(smepilot_rt_phase, table) == 24 &&
              sizeof(smepilot_rt_phase) == 32);
static_assert(uint32_t(ExecMode::cpu) == SMEPILOT_RT_MODE_CPU &&
              uint32_t(ExecMode::sme) == SMEPILOT_RT_MODE_SME &&
              uint32_t(ExecMode::collab) == SMEPILOT_RT_MODE_COLLAB);
static_assert(uint32_t(Access::read) == SMEPILOT_RT_ACCESS_READ &&
              uint32_t(Access::write) == SMEPILOT_RT_ACCESS_WRITE);
static_assert(offsetof(smepilot_rt_compiled_model, n_phases) == 4 &&
              offsetof(smepilot_rt_compiled_model, phases) == 8 &&
              offsetof(smepilot_rt_compiled_model, target) == 16 &&
              offsetof(smepilot_rt_compiled_model, load) == 24 &&
              sizeof(smepilot_rt_compiled_model) == 32);

namespace {

/// Builds constant LLVM globals (structs and arrays of constants, strings,
/// addresses of symbols) at an insertion point of the module.
class GlobalEmitter {
public:
  GlobalEmitter(ModuleOp module, Location loc)
      : module(module), ctx(module.getContext()), b(module.getBodyRegion()),
        loc(loc) {
    ptr = LLVM::LLVMPointerType::get(ctx);
    i32 = b.getI32Type();
    i64 = b.getI64Type();
  }

  /// A constant global `name` of `type` whose initializer `fill` builds.
  void global(StringRef name, Type type, LLVM::Linkage linkage,
              function_ref<Value(OpBuilder &)> fill) {
    auto g = LLVM::GlobalOp::create(b, loc, type, /*isConstant=*/true, linkage,
                                    name, Attribute(), /*alignment=*/8);
    OpBuilder::InsertionGuard guard(b);
    b.createBlock(&g.getInitializerRegion());
    LLVM::ReturnOp::create(b, loc, fill(b));
  }
  /// A private NUL-terminated string global `name`.
  void stringGlobal(StringRef name, StringRef text) {
    std::string bytes = text.str();
    bytes.push_back('\0');
    auto type = LLVM::LLVMArrayType::get(b.getI8Type(), bytes.size());
    LLVM::GlobalOp::create(b, loc, type, /*isConstant=*/true,
                           LLVM::Linkage::Private, name, b.getStringAttr(bytes),
                           /*alignment=*/1);
  }
  Value c32(OpBuilder &ob, int64_t v) {
    return LLVM::ConstantOp::create(ob, loc, i32, ob.getI32IntegerAttr(v));
  }
  Value c64(OpBuilder &ob, int64_t v) {
    return LLVM::ConstantOp::create(ob, loc, i64, ob.getI64IntegerAttr(v));
  }
  Value addressOrNull(OpBuilder &ob, StringRef symbol) {
    if (symbol.empty())
      return LLVM::ZeroOp::create(ob, loc, ptr);
    return LLVM::AddressOfOp::create(ob, loc, ptr, symbol);
  }
  /// Builds a struct (or array) value from its fields.
  Value aggregate(OpBuilder &ob, Type type, ArrayRef<Value> fields) {
    Value v = LLVM::PoisonOp::create(ob, loc, type);
    for (auto [i, f] : llvm::enumerate(fields))
      v = LLVM::InsertValueOp::create(ob, loc, v, f,
                                      ArrayRef<int64_t>{int64_t(i)});
    return v;
  }

protected:
  ModuleOp module;
  MLIRContext *ctx;
  OpBuilder b;
  Location loc;
  Type ptr, i32, i64;
};

class TableEmitter : public GlobalEmitter {
public:
  TableEmitter(ModuleOp module, DispatchTableOp table)
      : GlobalEmitter(module, table.getLoc()), table(table),
        prefix("__smepilot_" + table.getSymName().str()) {
    b.setInsertionPoint(table);
    extentType = LLVM::LLVMStructType::getLiteral(ctx, {i64, i64, i32, i32});
    bufferType =
        LLVM::LLVMStructType::getLiteral(ctx, {ptr, extentType, i32, i32});
    bindingType = LLVM::LLVMStructType::getLiteral(ctx, {i32, i32, i64});
    dispatchType = LLVM::LLVMStructType::getLiteral(
        ctx, {ptr, i32, i32, i32, i32, i64, extentType, i32, i32, i32, i32});
    tableType = LLVM::LLVMStructType::getLiteral(
        ctx,
        {i32, i32, ptr, i32, i32, ptr, i32, i32, ptr, ptr, i32, i32, ptr, ptr});
  }

  LogicalResult emit();

private:
  /// A NUL-terminated string global named after the table; returns its
  /// symbol.
  std::string string(StringRef text) {
    std::string name = prefix + "_s" + std::to_string(nStrings++);
    stringGlobal(name, text);
    return name;
  }
  Value extent(OpBuilder &ob, ExtentAttr e) {
    return aggregate(ob, extentType,
                     {c64(ob, e.getBase()), c64(ob, e.getScale()),
                      c32(ob, e.getConstant()), c32(ob, 0)});
  }
  /// An array global of `elements` built by `element(i)`; "" when empty.
  std::string array(StringRef suffix, Type elementType, size_t count,
                    function_ref<Value(OpBuilder &, size_t)> element) {
    if (count == 0)
      return "";
    std::string name = prefix + suffix.str();
    auto type = LLVM::LLVMArrayType::get(elementType, count);
    global(name, type, LLVM::Linkage::Private, [&](OpBuilder &ob) {
      SmallVector<Value> values;
      for (size_t i = 0; i < count; ++i)
        values.push_back(element(ob, i));
      return aggregate(ob, type, values);
    });
    return name;
  }

  DispatchTableOp table;
  std::string prefix;
  unsigned nStrings = 0;
  LLVM::LLVMStructType extentType, bufferType, bindingType, dispatchType,
      tableType;
};

LogicalResult TableEmitter::emit() {
  SymbolTable symbols(module);
  SmallVector<std::string> kernels;
  for (Attribute attr : table.getKernels()) {
    StringRef kernel = cast<FlatSymbolRefAttr>(attr).getValue();
    if (!symbols.lookup<LLVM::LLVMFuncOp>(kernel))
      return table.emitOpError("kernel @")
             << kernel
             << " is not an LLVM function yet (run "
                "smepilot-emit-dispatch-tables after "
                "convert-func-to-llvm)";
    kernels.push_back(kernel.str());
  }

  // Names first (string globals), then the arrays that point to them. An
  // empty name is a null pointer.
  auto nameOf = [&](StringRef name) {
    return name.empty() ? std::string() : string(name);
  };
  SmallVector<BufferAttr> buffers(table.getBufferList());
  SmallVector<DispatchAttr> dispatches(table.getDispatchList());
  SmallVector<std::string> bufferNames, dispatchNames;
  for (BufferAttr b : buffers)
    bufferNames.push_back(nameOf(b.getName()));
  for (DispatchAttr d : dispatches)
    dispatchNames.push_back(nameOf(d.getName()));
  std::string phaseName = string(table.getSymName());

  // Bindings and deps, concatenated in dispatch order.
  SmallVector<std::array<int64_t, 3>> bindings; // buffer, access, offset
  SmallVector<int64_t> deps;
  SmallVector<std::array<int64_t, 4>> ranges; // bindings begin/count, deps
  for (DispatchAttr d : dispatches) {
    ArrayRef<BindingAttr> bs = d.getBindings();
    ArrayRef<int64_t> ds = d.getDeps();
    ranges.push_back({int64_t(bindings.size()), int64_t(bs.size()),
                      int64_t(deps.size()), int64_t(ds.size())});
    for (BindingAttr binding : bs)
      bindings.push_back({binding.getBuffer(),
                          int64_t(uint32_t(binding.getAccess())),
                          binding.getOffset()});
    deps.append(ds.begin(), ds.end());
  }

  std::string kernelArray =
      array("_kernels", ptr, kernels.size(), [&](OpBuilder &ob, size_t i) {
        return addressOrNull(ob, kernels[i]);
      });
  std::string bufferArray = array(
      "_buffers", bufferType, buffers.size(), [&](OpBuilder &ob, size_t i) {
        BufferAttr buffer = buffers[i];
        return aggregate(
            ob, bufferType,
            {addressOrNull(ob, bufferNames[i]), extent(ob, buffer.getSize()),
             c32(ob, buffer.getAlignment()), c32(ob, buffer.getGgmlType())});
      });
  std::string dispatchArray =
      array("_dispatches", dispatchType, dispatches.size(),
            [&](OpBuilder &ob, size_t i) {
              DispatchAttr d = dispatches[i];
              int64_t smeKernel = d.getSmeKernel() < 0
                                      ? int64_t(SMEPILOT_RT_NO_KERNEL)
                                      : d.getSmeKernel();
              return aggregate(
                  ob, dispatchType,
                  {addressOrNull(ob, dispatchNames[i]), c32(ob, d.getKernel()),
                   c32(ob, smeKernel), c32(ob, uint32_t(d.getMode())),
                   c32(ob, d.getSmeShare()), c64(ob, d.getTileGranule()),
                   extent(ob, d.getTiles()), c32(ob, ranges[i][0]),
                   c32(ob, ranges[i][1]), c32(ob, ranges[i][2]),
                   c32(ob, ranges[i][3])});
            });
  std::string bindingArray = array(
      "_bindings", bindingType, bindings.size(), [&](OpBuilder &ob, size_t i) {
        return aggregate(ob, bindingType,
                         {c32(ob, bindings[i][0]), c32(ob, bindings[i][1]),
                          c64(ob, bindings[i][2])});
      });
  std::string depArray =
      array("_deps", i32, deps.size(),
            [&](OpBuilder &ob, size_t i) { return c32(ob, deps[i]); });

  global("smepilot_table_" + table.getSymName().str(), tableType,
         LLVM::Linkage::External, [&](OpBuilder &ob) {
           return aggregate(
               ob, tableType,
               {c32(ob, SMEPILOT_RT_ABI_VERSION),
                c32(ob, table.getNConstants()), addressOrNull(ob, phaseName),
                c32(ob, kernels.size()), c32(ob, table.getNArguments()),
                addressOrNull(ob, kernelArray), c32(ob, buffers.size()),
                c32(ob, dispatches.size()), addressOrNull(ob, bufferArray),
                addressOrNull(ob, dispatchArray), c32(ob, bindings.size()),
                c32(ob, deps.size()), addressOrNull(ob, bindingArray),
                addressOrNull(ob, depArray)});
         });
  table.erase();
  return success();
}

/// `smepilot_compiled_model` (abi.h): the phase tables as its phases and the
/// load table (`smepilot.load`, may be null) as its own field.
void emitCompiledModel(ModuleOp module, ArrayRef<DispatchTableOp> tables,
                       DispatchTableOp loadTable) {
  struct ModelEmitter : GlobalEmitter {
    using GlobalEmitter::GlobalEmitter;
    void emit(ArrayRef<DispatchTableOp> tables, DispatchTableOp loadTable) {
      std::string load =
          loadTable ? "smepilot_table_" + loadTable.getSymName().str() : "";
      b.setInsertionPointToEnd(module.getBody());
      auto phaseType =
          LLVM::LLVMStructType::getLiteral(ctx, {ptr, i64, i32, i32, ptr});
      auto modelType =
          LLVM::LLVMStructType::getLiteral(ctx, {i32, i32, ptr, ptr, ptr});
      std::string target = "host";
      if (auto t = module->getAttrOfType<StringAttr>("smepilot.sme_target"))
        target = t.getValue().str();
      stringGlobal("__smepilot_model_target", target);
      for (DispatchTableOp t : tables)
        stringGlobal("__smepilot_" + t.getSymName().str() + "_s_phase",
                     t.getSymName());
      auto phasesType = LLVM::LLVMArrayType::get(phaseType, tables.size());
      global("__smepilot_model_phases", phasesType, LLVM::Linkage::Private,
             [&](OpBuilder &ob) {
               SmallVector<Value> entries;
               for (DispatchTableOp t : tables) {
                 std::string name = t.getSymName().str();
                 entries.push_back(aggregate(
                     ob, phaseType,
                     {addressOrNull(ob, "__smepilot_" + name + "_s_phase"),
                      c64(ob, t.getChunk().value_or(0)),
                      c32(ob, t.getLastRowOnly() ? 1 : 0), c32(ob, 0),
                      addressOrNull(ob, "smepilot_table_" + name)}));
               }
               return aggregate(ob, phasesType, entries);
             });
      global("smepilot_compiled_model", modelType, LLVM::Linkage::External,
             [&](OpBuilder &ob) {
               return aggregate(ob, modelType,
                                {c32(ob, SMEPILOT_RT_ABI_VERSION),
                                 c32(ob, tables.size()),
                                 addressOrNull(ob, "__smepilot_model_phases"),
                                 addressOrNull(ob, "__smepilot_model_target"),
                                 addressOrNull(ob, load)});
             });
    }
  };
  ModelEmitter(module, module.getLoc()).emit(tables, loadTable);
}

struct EmitDispatchTablesPass
    : public smepilot::impl::EmitDispatchTablesBase<EmitDispatchTablesPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<DispatchTableOp> tables(module.getOps<DispatchTableOp>());
    if (tables.empty())
      return;
    // A compiled model has at most one load table (abi.h).
    DispatchTableOp load;
    SmallVector<DispatchTableOp> phases;
    for (DispatchTableOp t : tables) {
      if (!t.isLoadTable()) {
        phases.push_back(t);
        continue;
      }
      if (load) {
        t.emitOpError("is a second load table; a module has at most one (@")
            << load.getSymName() << ")";
        return signalPassFailure();
      }
      load = t;
    }
    // The manifest refers to the tables by symbol: built (at the end of the
    // module) before the table ops are erased.
    emitCompiledModel(module, phases, load);
    for (DispatchTableOp table : tables)
      if (failed(TableEmitter(module, table).emit()))
        return signalPassFailure();
  }
};

} // namespace
