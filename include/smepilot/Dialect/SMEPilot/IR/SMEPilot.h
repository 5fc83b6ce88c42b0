//===- SMEPilot.h - the smepilot dialect and its attributes -----*- C++ -*-===//
//
// The dialect that carries SMEPilot's hardware profiles, per-operator
// execution decisions and packed layouts (see SMEPilotDialect.td).
//
//===----------------------------------------------------------------------===//

#ifndef SMEPILOT_DIALECT_SMEPILOT_IR_SMEPILOT_H
#define SMEPILOT_DIALECT_SMEPILOT_IR_SMEPILOT_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "llvm/ADT/Hashing.h"

#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>

namespace mlir::smepilot {
/// A double as an attribute parameter: converts to and from double, and
/// hashes by value (attribute storage is uniqued by hash).
struct F64 {
  F64(double v = 0) : value(v) {}
  operator double() const { return value; }
  double value;
};
inline llvm::hash_code hash_value(F64 v) {
  // +0.0 and -0.0 compare equal, so they must hash alike.
  double d = v.value == 0 ? 0.0 : v.value;
  uint64_t bits;
  std::memcpy(&bits, &d, sizeof(bits));
  return llvm::hash_value(bits);
}
} // namespace mlir::smepilot

namespace mlir::smepilot::detail {
/// Parses a double (an integer or floating-point literal, optionally negative).
FailureOr<F64> parseF64(AsmParser &parser);
/// Prints a double in its shortest form that parses back to the same value.
void printF64(AsmPrinter &printer, double value);
} // namespace mlir::smepilot::detail

namespace mlir::smepilot::detail {
/// Parses `[e, e, ...]` (possibly empty) of FieldParser<T> elements: a list
/// parameter of an attribute that may stand anywhere in a struct of
/// parameters (ArrayRefParameter's own syntax has no brackets).
template <typename T>
FailureOr<llvm::SmallVector<T>> parseList(AsmParser &parser) {
  llvm::SmallVector<T> elements;
  if (parser.parseCommaSeparatedList(AsmParser::Delimiter::Square, [&] {
        FailureOr<T> element = FieldParser<T>::parse(parser);
        if (failed(element))
          return failure();
        elements.push_back(*element);
        return success();
      }))
    return failure();
  return elements;
}
/// Prints what parseList parses; attributes without their dialect prefix.
template <typename T>
void printList(AsmPrinter &printer, llvm::ArrayRef<T> elements) {
  printer << '[';
  llvm::interleaveComma(elements, printer, [&](const T &element) {
    if constexpr (std::is_base_of_v<Attribute, T>)
      printer.printStrippedAttrOrType(element);
    else
      printer << element;
  });
  printer << ']';
}
} // namespace mlir::smepilot::detail

namespace mlir::smepilot {
/// A double in its shortest round-tripping form, always with a '.' or an
/// exponent ("70.0", "0.125", "1e-06"): for IR and for messages.
std::string formatF64(double value);
} // namespace mlir::smepilot

#include "smepilot/Dialect/SMEPilot/IR/SMEPilotEnums.h.inc"
#include "smepilot/Dialect/SMEPilot/IR/SMEPilotOpsDialect.h.inc"

#define GET_ATTRDEF_CLASSES
#include "smepilot/Dialect/SMEPilot/IR/SMEPilotAttrs.h.inc"

namespace mlir::smepilot {
/// Marks a public function as a phase of a compiled model (a prefill chunk,
/// a decode step): a string attribute naming the phase, e.g. "forward_c1".
/// Dispatch formation turns each phase into `smepilot.dispatch_table @<name>`.
inline constexpr llvm::StringLiteral kPhaseAttr = "smepilot.phase";
/// The compiled model's optional explanation (abi.h): a NUL-terminated JSON
/// document, exported by smepilot-export-explain.
inline constexpr llvm::StringLiteral kExplainSymbol = "smepilot_explain";
/// On a phase: the tokens per call (i64) and, as a unit attribute, that it
/// writes the logits of the last position only. Copied to its dispatch table
/// and from there into the compiled model's phase list (abi.h).
inline constexpr llvm::StringLiteral kChunkAttr = "smepilot.chunk";
inline constexpr llvm::StringLiteral kLastRowAttr = "smepilot.last_row";
/// On a phase argument (or result, which becomes an out-param argument): the
/// name of its buffer in the dispatch table, which a runtime binds it by.
inline constexpr llvm::StringLiteral kNameAttr = "smepilot.name";
/// On a function argument: a weight, whose contents are fixed for the life
/// of the compiled model. The Roofline analysis counts its bytes as weight
/// traffic; dispatch formation moves work that reads nothing else into the
/// load table (abi.h), run once.
inline constexpr llvm::StringLiteral kWeightAttr = "smepilot.weight";
/// On a weight argument not passed as F32: the GGML type id of the GGUF
/// tensor it is (an i64: 1 F16, 2 Q4_0, 8 Q8_0, 30 BF16), which the dispatch
/// table's buffer carries so that the runtime binds the tensor in place.
inline constexpr llvm::StringLiteral kGGMLTypeAttr = "smepilot.ggml_type";
/// The one unit that runs an op, cpu or sme, when it is not split between
/// both: smepilot-partition-collab splits 2-D contractions; a collab
/// decision it leaves (a batched contraction) goes whole to the unit the
/// Roofline model predicts faster on its own, so that it is tiled and
/// vectorized for that unit instead of left to scalar loops. No decision
/// means cpu.
inline ExecMode getSingleUnit(DecisionAttr decision) {
  if (!decision || decision.getMode() == ExecMode::cpu)
    return ExecMode::cpu;
  if (decision.getMode() == ExecMode::sme)
    return ExecMode::sme;
  const double cpu = decision.getCpuUs(), sme = decision.getSmeUs();
  return sme >= 0 && sme < cpu ? ExecMode::sme : ExecMode::cpu;
}

/// Marks a function smepilot-tile-sme outlined: a streaming (SME) kernel,
/// called from normal-mode code. Dispatch formation keeps such calls.
inline constexpr llvm::StringLiteral kSMEKernelAttr = "smepilot.sme_kernel";
/// On the SME variant of a collab op (smepilot-partition-collab), a function
/// `(at, wt, c, tile_begin, tile_end) -> c`, and on the scf.forall of its
/// vector-core variant: a dictionary with `sme_share`, `tile_granule`,
/// `tile_size` and `tiles` (i64). Dispatch formation keeps calls to such a
/// function and makes the call and the forall after it one collab dispatch.
inline constexpr llvm::StringLiteral kCollabKernelAttr = "smepilot.collab";
/// Beside kCollabKernelAttr on an SME variant whose operands are packed in
/// k pairs (`at` [K/2, 2M], `wt` [K/2, 2N], bf16/f16): its tile loops are
/// built already (widening outer products, or the FMLA matvec for M = 1),
/// so smepilot-tile-sme has no contraction to tile in it.
inline constexpr llvm::StringLiteral kCollabPackedAttr =
    "smepilot.collab_packed";
/// On an op: the stage of a pipelined computation it belongs to
/// (smepilot-pipeline-attention: "attn.qk.h0", "attn.softmax.h0", ...).
/// Dispatch formation appends it to the dispatch's name ("...@attn.qk.h0"),
/// which is how a runtime tells pipelined dispatches apart.
inline constexpr llvm::StringLiteral kStageAttr = "smepilot.stage";
/// The load table (abi.h): `smepilot.dispatch_table @load` with this unit
/// attribute holds the work on weights alone, run once by the runtime.
inline constexpr llvm::StringLiteral kLoadTableName = "load";
inline constexpr llvm::StringLiteral kLoadTableAttr = "smepilot.load";
/// Marks a function outlined by dispatch formation as a kernel (abi.h).
inline constexpr llvm::StringLiteral kKernelAttr = "smepilot.kernel";
} // namespace mlir::smepilot

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/SymbolTable.h"

#define GET_OP_CLASSES
#include "smepilot/Dialect/SMEPilot/IR/SMEPilotOps.h.inc"

#endif // SMEPILOT_DIALECT_SMEPILOT_IR_SMEPILOT_H
