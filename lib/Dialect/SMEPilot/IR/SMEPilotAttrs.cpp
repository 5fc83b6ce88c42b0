//===- SMEPilotAttrs.cpp - smepilot attributes
//------------------------------===//
//
// Parsers, printers and verifiers of the smepilot attributes. Verifiers reject
// what no later pass could make sense of (a profile with no cores, a negative
// bandwidth, a layout whose tiles do not match its dimensions) with a message
// naming the field.
//
//===----------------------------------------------------------------------===//

#include "smepilot/Dialect/SMEPilot/IR/SMEPilot.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/SmallBitVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/MathExtras.h"

#include <charconv>
#include <cmath>

using namespace mlir;
using namespace mlir::smepilot;

//===----------------------------------------------------------------------===//
// Doubles
//===----------------------------------------------------------------------===//

FailureOr<F64> mlir::smepilot::detail::parseF64(AsmParser &parser) {
  // Profiles are mostly whole numbers: accept `32` and `-1` as well as
  // `32.0` and `-1.0`.
  bool negative = succeeded(parser.parseOptionalMinus());
  uint64_t integer = 0;
  OptionalParseResult asInteger = parser.parseOptionalInteger(integer);
  double value = 0;
  if (asInteger.has_value()) {
    if (failed(*asInteger))
      return failure();
    value = static_cast<double>(integer);
  } else if (parser.parseFloat(value)) {
    return failure();
  }
  return F64(negative ? -value : value);
}

std::string mlir::smepilot::formatF64(double value) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  std::string text(buf, ec == std::errc() ? end : buf);
  // Keep it a float literal so the parser's lexer reads it back as one: MLIR
  // floats need a '.' before any exponent ("4e-05" lexes as the integer 4).
  if (std::isfinite(value) && text.find('.') == std::string::npos) {
    size_t e = text.find('e');
    text.insert(e == std::string::npos ? text.size() : e, ".0");
  }
  return text;
}

void mlir::smepilot::detail::printF64(AsmPrinter &printer, double value) {
  printer << formatF64(value);
}

#include "smepilot/Dialect/SMEPilot/IR/SMEPilotEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "smepilot/Dialect/SMEPilot/IR/SMEPilotAttrs.cpp.inc"

void SMEPilotDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "smepilot/Dialect/SMEPilot/IR/SMEPilotAttrs.cpp.inc"
      >();
}

//===----------------------------------------------------------------------===//
// PeaksAttr
//===----------------------------------------------------------------------===//

LogicalResult PeaksAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                F64 f32, F64 f16, F64 bf16, F64 i8) {
  for (auto [name, v] : {std::pair<const char *, double>{"f32", f32},
                         {"f16", f16},
                         {"bf16", bf16},
                         {"i8", i8}})
    if (!(v >= 0) || !std::isfinite(v))
      return emitError() << "peaks: '" << name
                         << "' must be a finite FLOP/cycle >= 0, got "
                         << formatF64(v);
  return success();
}

double PeaksAttr::forType(Type elementType) const {
  if (elementType.isF32())
    return getF32();
  if (elementType.isF16())
    return getF16();
  if (elementType.isBF16())
    return getBf16();
  if (elementType.isInteger())
    return getI8();
  return 0;
}

//===----------------------------------------------------------------------===//
// TargetAttr
//===----------------------------------------------------------------------===//

LogicalResult
TargetAttr::verify(function_ref<InFlightDiagnostic()> emitError, StringRef name,
                   StringRef arch, StringRef features, uint32_t vectorCores,
                   uint32_t vectorBits, F64 vectorGhz, PeaksAttr vectorFlops,
                   F64 vectorBw, uint32_t matrixUnits, F64 matrixGhz,
                   PeaksAttr matrixFlops, F64 matrixBw, uint32_t svlBits,
                   F64 memBw, uint64_t llcBytes, F64 syncOverheadUs) {
  (void)features;
  (void)llcBytes;
  if (name.empty())
    return emitError() << "target: 'name' must not be empty";
  if (arch != "aarch64" && arch != "x86_64")
    return emitError() << "target '" << name
                       << "': 'arch' must be aarch64 or x86_64, got '" << arch
                       << "'";
  if (vectorCores == 0)
    return emitError() << "target '" << name
                       << "': 'vector_cores' must be at least 1";
  if (vectorBits < 64 || vectorBits > 2048 || vectorBits % 64 != 0)
    return emitError() << "target '" << name
                       << "': 'vector_bits' must be a multiple of 64 in "
                          "[64, 2048], got "
                       << vectorBits;
  auto positive = [&](StringRef field, double v) -> LogicalResult {
    if (v > 0 && std::isfinite(v))
      return success();
    return emitError() << "target '" << name << "': '" << field
                       << "' must be > 0, got " << formatF64(v);
  };
  if (failed(positive("vector_ghz", vectorGhz)) ||
      failed(positive("vector_bw_gbps", vectorBw)) ||
      failed(positive("mem_bw_gbps", memBw)))
    return failure();
  if (vectorFlops.getF32() <= 0)
    return emitError() << "target '" << name
                       << "': 'vector_flops' must give an f32 peak > 0";
  if (vectorBw > memBw)
    return emitError() << "target '" << name << "': 'vector_bw_gbps' ("
                       << formatF64(vectorBw) << ") exceeds 'mem_bw_gbps' ("
                       << formatF64(memBw) << ")";
  if (!(syncOverheadUs >= 0))
    return emitError() << "target '" << name
                       << "': 'sync_overhead_us' must be >= 0";
  if (matrixUnits == 0)
    return success();
  if (failed(positive("matrix_ghz", matrixGhz)) ||
      failed(positive("matrix_bw_gbps", matrixBw)))
    return failure();
  if (matrixBw > memBw)
    return emitError() << "target '" << name << "': 'matrix_bw_gbps' ("
                       << formatF64(matrixBw) << ") exceeds 'mem_bw_gbps' ("
                       << formatF64(memBw) << ")";
  // SME requires a power-of-two streaming vector length.
  if (svlBits < 128 || svlBits > 2048 || !llvm::isPowerOf2_32(svlBits))
    return emitError() << "target '" << name
                       << "': 'svl_bits' must be a power of two in "
                          "[128, 2048], got "
                       << svlBits;
  if (matrixFlops.getF32() <= 0 && matrixFlops.getBf16() <= 0 &&
      matrixFlops.getF16() <= 0 && matrixFlops.getI8() <= 0)
    return emitError() << "target '" << name
                       << "': 'matrix_flops' must give a peak for at least one "
                          "element type when 'matrix_units' > 0";
  return success();
}

TargetAttr TargetAttr::lookup(Operation *op) {
  ModuleOp module =
      isa<ModuleOp>(op) ? cast<ModuleOp>(op) : op->getParentOfType<ModuleOp>();
  if (!module)
    return {};
  return module->getAttrOfType<TargetAttr>(kAttrName);
}

//===----------------------------------------------------------------------===//
// DecisionAttr
//===----------------------------------------------------------------------===//

LogicalResult DecisionAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                   StringRef kind, StringRef shapeClass,
                                   Type elem, ExecMode mode, uint64_t flops,
                                   uint64_t weightBytes, uint64_t actBytes,
                                   F64 intensity, F64 cpuUs, F64 smeUs,
                                   F64 collabUs, F64 smeFraction,
                                   StringRef bound, StringRef vectorization,
                                   StringRef reason, StringRef assumed) {
  (void)flops;
  (void)weightBytes;
  (void)actBytes;
  (void)assumed;
  if (kind.empty())
    return emitError() << "decision: 'kind' must not be empty";
  if (!llvm::is_contained({"gemm", "gemv", "elementwise", "reduction", "fill",
                           "softmax", "gather", "other"},
                          shapeClass))
    return emitError() << "decision: unknown 'shape_class' '" << shapeClass
                       << "' (expected gemm, gemv, elementwise, reduction, "
                          "fill, softmax, gather or other)";
  if (!elem || !(elem.isIntOrFloat()))
    return emitError() << "decision: 'elem' must be an integer or float type";
  if (!(intensity >= 0))
    return emitError() << "decision: 'intensity' must be >= 0";
  if (!(cpuUs >= 0))
    return emitError() << "decision: 'cpu_us' must be >= 0 (the vector cores "
                          "can always run an op)";
  if (!(smeFraction >= 0 && smeFraction <= 1))
    return emitError() << "decision: 'sme_fraction' must be in [0, 1], got "
                       << formatF64(smeFraction);
  switch (mode) {
  case ExecMode::cpu:
    if (smeFraction != 0)
      return emitError() << "decision: mode cpu needs 'sme_fraction' = 0";
    break;
  case ExecMode::sme:
    if (smeFraction != 1)
      return emitError() << "decision: mode sme needs 'sme_fraction' = 1";
    if (smeUs < 0 && reason != "forced")
      return emitError() << "decision: mode sme chosen but 'sme_us' says the "
                            "matrix unit cannot run this op";
    break;
  case ExecMode::collab:
    if (smeFraction <= 0 || smeFraction >= 1)
      return emitError()
             << "decision: mode collab needs 0 < 'sme_fraction' < 1, got "
             << formatF64(smeFraction);
    if (collabUs < 0 && reason != "forced")
      return emitError() << "decision: mode collab chosen but 'collab_us' says "
                            "the op cannot be split";
    break;
  }
  if (bound != "compute" && bound != "memory")
    return emitError() << "decision: 'bound' must be compute or memory, got '"
                       << bound << "'";
  if (!llvm::is_contained({"full", "reduction", "gather", "scalar"},
                          vectorization))
    return emitError() << "decision: 'vectorization' must be full, reduction, "
                          "gather or scalar, got '"
                       << vectorization << "'";
  if (reason != "roofline" && reason != "forced" && reason != "near-boundary")
    return emitError() << "decision: 'reason' must be roofline, forced or "
                          "near-boundary, got '"
                       << reason << "'";
  return success();
}

//===----------------------------------------------------------------------===//
// LayoutAttr
//===----------------------------------------------------------------------===//

LogicalResult LayoutAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                 ArrayRef<int64_t> innerDimsPos,
                                 ArrayRef<int64_t> innerTiles,
                                 ArrayRef<bool> scalableTiles,
                                 ArrayRef<int64_t> outerDimsPerm) {
  if (innerDimsPos.size() != innerTiles.size() ||
      scalableTiles.size() != innerTiles.size())
    return emitError() << "layout: 'inner_dims_pos' has " << innerDimsPos.size()
                       << " entries but 'inner_tiles' has "
                       << innerTiles.size();
  llvm::SmallBitVector seen(64);
  for (int64_t d : innerDimsPos) {
    if (d < 0 || d >= 64)
      return emitError() << "layout: 'inner_dims_pos' entry " << d
                         << " is not a dimension index";
    if (seen.test(d))
      return emitError() << "layout: dimension " << d
                         << " is tiled twice in 'inner_dims_pos'";
    seen.set(d);
  }
  for (int64_t t : innerTiles)
    if (t <= 0)
      return emitError() << "layout: tile sizes must be positive, got " << t;
  if (!outerDimsPerm.empty()) {
    llvm::SmallBitVector perm(outerDimsPerm.size());
    for (int64_t d : outerDimsPerm) {
      if (d < 0 || d >= static_cast<int64_t>(outerDimsPerm.size()) ||
          perm.test(d))
        return emitError() << "layout: 'outer_dims_perm' must be a "
                              "permutation of 0.."
                           << outerDimsPerm.size() - 1;
      perm.set(d);
    }
    for (int64_t d : innerDimsPos)
      if (d >= static_cast<int64_t>(outerDimsPerm.size()))
        return emitError()
               << "layout: tiled dimension " << d
               << " is outside the rank given by 'outer_dims_perm' ("
               << outerDimsPerm.size() << ")";
  }
  return success();
}

/// Parses `[1, 2]` into `values`.
static ParseResult parseIntList(AsmParser &parser,
                                SmallVectorImpl<int64_t> &values) {
  return parser.parseCommaSeparatedList(AsmParser::Delimiter::Square, [&]() {
    int64_t v;
    if (parser.parseInteger(v))
      return failure();
    values.push_back(v);
    return success();
  });
}

/// Parses `[[4], 1]`: a bracketed size is scalable.
static ParseResult parseTileList(AsmParser &parser,
                                 SmallVectorImpl<int64_t> &tiles,
                                 SmallVectorImpl<bool> &scalable) {
  return parser.parseCommaSeparatedList(AsmParser::Delimiter::Square, [&]() {
    int64_t v;
    bool isScalable = succeeded(parser.parseOptionalLSquare());
    if (parser.parseInteger(v) || (isScalable && parser.parseRSquare()))
      return failure();
    tiles.push_back(v);
    scalable.push_back(isScalable);
    return success();
  });
}

Attribute LayoutAttr::parse(AsmParser &parser, Type) {
  SmallVector<int64_t> innerDims, tiles, perm;
  SmallVector<bool> scalable;
  bool haveDims = false, haveTiles = false, havePerm = false;
  if (parser.parseLess())
    return {};
  if (failed(parser.parseOptionalGreater())) {
    do {
      StringRef key;
      llvm::SMLoc loc = parser.getCurrentLocation();
      if (parser.parseKeyword(&key) || parser.parseEqual())
        return {};
      bool *have = nullptr;
      ParseResult r = failure();
      if (key == "inner_dims_pos") {
        have = &haveDims;
        r = parseIntList(parser, innerDims);
      } else if (key == "inner_tiles") {
        have = &haveTiles;
        r = parseTileList(parser, tiles, scalable);
      } else if (key == "outer_dims_perm") {
        have = &havePerm;
        r = parseIntList(parser, perm);
      } else {
        parser.emitError(loc) << "layout: unknown field '" << key
                              << "' (expected inner_dims_pos, inner_tiles or "
                                 "outer_dims_perm)";
        return {};
      }
      if (*have) {
        parser.emitError(loc) << "layout: field '" << key << "' given twice";
        return {};
      }
      *have = true;
      if (failed(r))
        return {};
    } while (succeeded(parser.parseOptionalComma()));
    if (parser.parseGreater())
      return {};
  }
  return parser.getChecked<LayoutAttr>(parser.getContext(), innerDims, tiles,
                                       scalable, perm);
}

void LayoutAttr::print(AsmPrinter &printer) const {
  printer << "<";
  bool first = true;
  auto sep = [&]() {
    if (!first)
      printer << ", ";
    first = false;
  };
  if (!getInnerDimsPos().empty()) {
    sep();
    printer << "inner_dims_pos = [";
    llvm::interleaveComma(getInnerDimsPos(), printer);
    printer << "], inner_tiles = [";
    llvm::interleaveComma(llvm::seq<size_t>(0, getInnerTiles().size()), printer,
                          [&](size_t i) {
                            if (getScalableTiles()[i])
                              printer << "[" << getInnerTiles()[i] << "]";
                            else
                              printer << getInnerTiles()[i];
                          });
    printer << "]";
  }
  if (!getOuterDimsPerm().empty()) {
    sep();
    printer << "outer_dims_perm = [";
    llvm::interleaveComma(getOuterDimsPerm(), printer);
    printer << "]";
  }
  printer << ">";
}

//===----------------------------------------------------------------------===//
// Dispatch-table attributes
//===----------------------------------------------------------------------===//

LogicalResult ExtentAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                 int64_t base, int64_t scale,
                                 int64_t constant) {
  if (constant < -1)
    return emitError() << "extent: constant index " << constant
                       << " must be -1 (fixed) or a constant's index";
  if (constant == -1 && scale != 0)
    return emitError() << "extent: a fixed extent (constant -1) has scale 0, "
                          "got "
                       << scale;
  if (base < 0 && scale <= 0)
    return emitError() << "extent: " << base << " + " << scale
                       << " * c is negative for every constant";
  return success();
}

// `<base>` for a fixed extent, `<base + scale * cN>` for one linear in
// constant N.
Attribute ExtentAttr::parse(AsmParser &parser, Type) {
  int64_t base = 0, scale = 0, constant = -1;
  if (parser.parseLess() || parser.parseInteger(base))
    return {};
  if (succeeded(parser.parseOptionalPlus())) {
    StringRef keyword;
    SMLoc loc = parser.getCurrentLocation();
    if (parser.parseInteger(scale) || parser.parseStar() ||
        parser.parseKeyword(&keyword))
      return {};
    if (!keyword.consume_front("c") || keyword.getAsInteger(10, constant) ||
        constant < 0) {
      parser.emitError(loc, "extent: expected `scale * cN` (N: a constant's "
                            "index)");
      return {};
    }
  }
  if (parser.parseGreater())
    return {};
  return getChecked([&] { return parser.emitError(parser.getNameLoc()); },
                    parser.getContext(), base, scale, constant);
}

void ExtentAttr::print(AsmPrinter &printer) const {
  printer << "<" << getBase();
  if (!isFixed())
    printer << " + " << getScale() << " * c" << getConstant();
  printer << ">";
}

LogicalResult BufferAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                 StringRef name, ExtentAttr size,
                                 int64_t alignment, bool weight,
                                 int64_t ggmlType) {
  if (!size)
    return emitError() << "buffer '" << name << "': no size";
  if (ggmlType < 0 || ggmlType > 0xFFFF)
    return emitError() << "buffer '" << name << "': ggml_type " << ggmlType
                       << " is not a GGML type id";
  if (ggmlType != 0 && !weight)
    return emitError() << "buffer '" << name << "': ggml_type " << ggmlType
                       << " on a buffer that is not a weight";
  if (alignment < 0 || (alignment != 0 && !llvm::isPowerOf2_64(alignment)))
    return emitError() << "buffer '" << name << "': alignment " << alignment
                       << " is not 0 or a power of two";
  return success();
}

LogicalResult BindingAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                  int64_t buffer, Access access,
                                  int64_t offset) {
  if (buffer < 0)
    return emitError() << "binding: buffer index " << buffer << " is negative";
  if (access == Access::none)
    return emitError() << "binding of buffer " << buffer
                       << ": access must be read, write or read|write";
  if (offset < 0)
    return emitError() << "binding of buffer " << buffer << ": offset "
                       << offset << " is negative";
  return success();
}

LogicalResult DispatchAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                   StringRef name, int64_t kernel,
                                   int64_t smeKernel, ExecMode mode,
                                   int64_t smeShare, int64_t tileGranule,
                                   ExtentAttr tiles,
                                   ArrayRef<BindingAttr> bindings,
                                   ArrayRef<int64_t> deps, bool readsState) {
  auto error = [&] { return emitError() << "dispatch '" << name << "': "; };
  if (kernel < 0)
    return error() << "kernel index " << kernel << " is negative";
  if (smeKernel < -1)
    return error() << "sme_kernel " << smeKernel
                   << " must be -1 (none) or a kernel index";
  if (mode != ExecMode::cpu && smeKernel < 0)
    return error() << "mode " << stringifyExecMode(mode)
                   << " needs an sme_kernel";
  if (smeShare < 0 || smeShare > 65536)
    return error() << "sme_share " << smeShare
                   << " is not in [0, 65536] (parts per 65536)";
  if (tileGranule < 1)
    return error() << "tile_granule " << tileGranule << " must be >= 1";
  if (!tiles)
    return error() << "no tile count";
  for (BindingAttr binding : bindings)
    if (!binding)
      return error() << "a binding is null";
  for (auto [i, dep] : llvm::enumerate(deps))
    if (dep < 0 || (i > 0 && dep <= deps[i - 1]))
      return error() << "deps must be increasing dispatch indices";
  return success();
}
