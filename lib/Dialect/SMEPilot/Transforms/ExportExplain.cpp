//===- ExportExplain.cpp - the compiler's decisions as a global -----------===//
//
// Exports what the compiler decided, per dispatch of every table, as the
// NUL-terminated JSON document `smepilot_explain` (an optional global of a
// compiled model, abi.h), which `smepilot-run --explain` renders. It says
// only what the IR already records, so the explanation cannot drift from
// what was compiled:
//   - per dispatch, from its #smepilot.dispatch: mode, SME share, granule,
//     tile count, the buffers it reads and writes;
//   - which builder ops its kernels compute, with their Roofline decisions,
//     and which layout changes they make: the provenance records
//     (Provenance.h) in the locations of the kernels' ops and of the
//     functions they call, collected once per kernel.
//
// Schema (version 1; a consumer checks "version"):
//   {"version": 1, "target": "host" | <smepilot.sme_target>,
//    "profile": <smepilot.target's name> | null,
//    "records": [ {"decision": <index>, "id": <builder op>, "loops": [...]}
//               | {"layout_change": "<layout>"}, ... ],
//    "decisions": [{kind, shape_class, elem, mode, sme_fraction, flops,
//                   weight_bytes, act_bytes, cpu_us, sme_us, collab_us, bound,
//                   vectorization, reason, assumed}, ...],
//    "tables": [{"name", "chunk", "last_row_only", "load",
//                "buffers": [names],
//                "dispatches": [{"name", "mode", "sme_share",
//                                "reads": [buffer], "writes": [buffer],
//                                "records": [record]}]}]}
// (tile counts and granules are the table's business: smepilot-run -v and
// the trace show them; 1B has 5,300 dispatches, every byte here counts).
// Times are microseconds, negative when the choice is impossible. A record
// is one builder op (or layout change); an op split over several dispatches
// (attention pipelined per head) is one record they all list. Equal
// decisions (identical layers) are listed once.
//
//===----------------------------------------------------------------------===//

#include "smepilot/Dialect/SMEPilot/IR/Provenance.h"
#include "smepilot/Dialect/SMEPilot/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/Support/JSON.h"

namespace mlir::smepilot {
#define GEN_PASS_DEF_EXPORTEXPLAIN
#include "smepilot/Dialect/SMEPilot/Transforms/Passes.h.inc"
} // namespace mlir::smepilot

using namespace mlir;
using namespace mlir::smepilot;

namespace {

constexpr int64_t kExplainVersion = 1;

/// Whether `op` reads, writes or computes tensor data (a float or vector
/// value), as opposed to setting up a kernel (loading binding pointers,
/// addresses, loop bounds: ops that passes create at the location of
/// whatever produced a buffer) or materializing a constant (CSE keeps one
/// op's location for every user).
bool computesData(Operation *op) {
  if (op->hasTrait<OpTrait::ConstantLike>() ||
      isa<LLVM::ZeroOp, LLVM::UndefOp, LLVM::PoisonOp>(op))
    return false;
  auto isData = [](Type t) { return isa<FloatType, VectorType>(t); };
  return llvm::any_of(op->getResultTypes(), isData) ||
         llvm::any_of(op->getOperandTypes(), isData);
}

class Exporter {
public:
  explicit Exporter(ModuleOp module) : module(module), symbols(module) {}

  std::string run() {
    std::string text;
    llvm::raw_string_ostream os(text);
    llvm::json::OStream j(os);
    SmallVector<DispatchTableOp> tables(module.getOps<DispatchTableOp>());
    // Records are numbered as the tables first use them.
    SmallVector<SmallVector<SmallVector<unsigned>>> dispatchRecords;
    for (DispatchTableOp table : tables) {
      auto &perDispatch = dispatchRecords.emplace_back();
      for (DispatchAttr d : table.getDispatchList())
        perDispatch.push_back(recordsOf(table, d));
    }
    j.object([&] {
      j.attribute("version", kExplainVersion);
      auto target = module->getAttrOfType<StringAttr>("smepilot.sme_target");
      j.attribute("target", target ? target.getValue() : "host");
      if (TargetAttr profile = TargetAttr::lookup(module))
        j.attribute("profile", profile.getName());
      else
        j.attribute("profile", nullptr);
      j.attributeArray("records", [&] {
        for (DictionaryAttr record : records)
          writeRecord(j, record);
      });
      j.attributeArray("decisions", [&] {
        for (DecisionAttr d : decisions)
          writeDecision(j, d);
      });
      j.attributeArray("tables", [&] {
        for (auto [table, perDispatch] : llvm::zip(tables, dispatchRecords))
          writeTable(j, table, perDispatch);
      });
    });
    return text;
  }

private:
  /// The records of `func` and of the functions it calls.
  const llvm::SetVector<DictionaryAttr> &functionRecords(Operation *func) {
    auto [it, inserted] = byFunction.try_emplace(func);
    if (!inserted)
      return it->second;
    llvm::SetVector<DictionaryAttr> found;
    llvm::DenseSet<Location> visited;
    SmallVector<Operation *> callees;
    func->walk([&](Operation *op) {
      if (computesData(op))
        collectRecords(op->getLoc(), found, visited);
      StringRef callee;
      if (auto call = dyn_cast<LLVM::CallOp>(op))
        callee = call.getCallee().value_or("");
      else if (auto call = dyn_cast<func::CallOp>(op))
        callee = call.getCallee();
      if (!callee.empty())
        if (Operation *f = symbols.lookup(callee); f && f != func)
          callees.push_back(f);
    });
    for (Operation *f : callees) {
      const llvm::SetVector<DictionaryAttr> &inner = functionRecords(f);
      found.insert(inner.begin(), inner.end());
    }
    // try_emplace's iterator may have moved while callees were inserted.
    return byFunction[func] = std::move(found);
  }

  SmallVector<unsigned> recordsOf(DispatchTableOp table, DispatchAttr d) {
    llvm::SetVector<DictionaryAttr> found;
    auto kernels = table.getKernels().getValue();
    for (int64_t k : {d.getKernel(), d.getSmeKernel()}) {
      if (k < 0 || k >= int64_t(kernels.size()))
        continue;
      auto sym = cast<FlatSymbolRefAttr>(kernels[k]);
      if (Operation *f = symbols.lookup(sym.getValue())) {
        const llvm::SetVector<DictionaryAttr> &r = functionRecords(f);
        found.insert(r.begin(), r.end());
      }
    }
    // Kernels are shared between structurally equal ops
    // (smepilot-dedup-kernels): the K and V projections of a layer may run
    // K's CPU kernel beside V's SME variant. Equal decisions over equal
    // loops are then one op of this dispatch, whichever op's record names it.
    SmallVector<unsigned> indices;
    llvm::DenseSet<std::pair<Attribute, Attribute>> seen;
    for (DictionaryAttr record : found) {
      if (Attribute d = record.get(kOpRecordKey))
        if (!seen.insert({d, record.get(kLoopsRecordKey)}).second)
          continue;
      auto [it, inserted] = recordIndex.try_emplace(record, records.size());
      if (inserted)
        records.push_back(record);
      indices.push_back(it->second);
    }
    return indices;
  }

  /// A number as the decision printed it (shortest round trip).
  static void writeF64(llvm::json::OStream &j, StringRef key, double v) {
    j.attributeBegin(key);
    j.rawValue(formatF64(v));
    j.attributeEnd();
  }

  void writeRecord(llvm::json::OStream &j, DictionaryAttr record) {
    j.object([&] {
      if (auto layout = record.getAs<StringAttr>(kLayoutChangeRecordKey)) {
        j.attribute("layout_change", layout.getValue());
        return;
      }
      auto d = record.getAs<DecisionAttr>(kOpRecordKey);
      auto [it, inserted] = decisionIndex.try_emplace(d, decisions.size());
      if (inserted)
        decisions.push_back(d);
      j.attribute("decision", int64_t(it->second));
      if (auto id = record.getAs<IntegerAttr>(kIdRecordKey))
        j.attribute("id", id.getInt());
      j.attributeArray("loops", [&] {
        if (auto loops = record.getAs<DenseI64ArrayAttr>(kLoopsRecordKey))
          for (int64_t r : loops.asArrayRef())
            j.value(r);
      });
    });
  }

  static void writeDecision(llvm::json::OStream &j, DecisionAttr d) {
    j.object([&] {
      j.attribute("kind", d.getKind());
      j.attribute("shape_class", d.getShapeClass());
      std::string elem;
      llvm::raw_string_ostream(elem) << d.getElem();
      j.attribute("elem", elem);
      j.attribute("mode", stringifyExecMode(d.getMode()));
      writeF64(j, "sme_fraction", d.getSmeFraction());
      j.attribute("flops", int64_t(d.getFlops()));
      j.attribute("weight_bytes", int64_t(d.getWeightBytes()));
      j.attribute("act_bytes", int64_t(d.getActBytes()));
      writeF64(j, "cpu_us", d.getCpuUs());
      writeF64(j, "sme_us", d.getSmeUs());
      writeF64(j, "collab_us", d.getCollabUs());
      j.attribute("bound", d.getBound());
      j.attribute("vectorization", d.getVectorization());
      j.attribute("reason", d.getReason());
      j.attribute("assumed", d.getAssumed());
    });
  }

  void writeTable(llvm::json::OStream &j, DispatchTableOp table,
                  ArrayRef<SmallVector<unsigned>> perDispatch) {
    j.object([&] {
      j.attribute("name", table.getSymName());
      j.attribute("chunk", table.getChunk().value_or(0));
      j.attribute("last_row_only", table.getLastRowOnly());
      j.attribute("load", table.isLoadTable());
      j.attributeArray("buffers", [&] {
        for (BufferAttr b : table.getBufferList())
          j.value(b.getName());
      });
      j.attributeArray("dispatches", [&] {
        for (auto [d, recordIndices] :
             llvm::zip(table.getDispatchList(), perDispatch))
          j.object([&] {
            j.attribute("name", d.getName());
            j.attribute("mode", stringifyExecMode(d.getMode()));
            j.attribute("sme_share", d.getSmeShare());
            j.attributeArray("reads", [&] {
              for (BindingAttr b : d.getBindings())
                if (b.reads())
                  j.value(b.getBuffer());
            });
            j.attributeArray("writes", [&] {
              for (BindingAttr b : d.getBindings())
                if (b.writes())
                  j.value(b.getBuffer());
            });
            j.attributeArray("records", [&] {
              for (unsigned r : recordIndices)
                j.value(int64_t(r));
            });
          });
      });
    });
  }

  ModuleOp module;
  SymbolTable symbols;
  llvm::DenseMap<Operation *, llvm::SetVector<DictionaryAttr>> byFunction;
  /// Every record a dispatch lists, numbered in order of first use.
  SmallVector<DictionaryAttr> records;
  llvm::DenseMap<DictionaryAttr, unsigned> recordIndex;
  /// The decisions the records name; equal ones (identical layers) once.
  SmallVector<DecisionAttr> decisions;
  llvm::DenseMap<DecisionAttr, unsigned> decisionIndex;
};

struct ExportExplainPass
    : public smepilot::impl::ExportExplainBase<ExportExplainPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (module.getOps<DispatchTableOp>().empty())
      return;
    if (SymbolTable::lookupSymbolIn(module, kExplainSymbol)) {
      module.emitError("smepilot-export-explain: the module already defines @")
          << kExplainSymbol;
      return signalPassFailure();
    }
    std::string text = Exporter(module).run();
    text.push_back('\0');
    OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
    auto type = LLVM::LLVMArrayType::get(b.getI8Type(), text.size());
    LLVM::GlobalOp::create(b, module.getLoc(), type, /*isConstant=*/true,
                           LLVM::Linkage::External, kExplainSymbol,
                           b.getStringAttr(text), /*alignment=*/1);
  }
};

} // namespace
