//===- Roofline.cpp - the Roofline cost model
//--------------------------------===//
//
// Characterizes linalg operators (FLOPs, compulsory bytes, vectorizability,
// matrix-unit eligibility) and predicts their time on the vector cores, the
// matrix unit and both together. The assumptions are listed in Roofline.h.
//
//===----------------------------------------------------------------------===//

#include "smepilot/Analysis/Roofline.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/MathExtras.h"

#include <algorithm>
#include <cmath>

using namespace mlir;
using namespace mlir::smepilot;

uint64_t mlir::smepilot::saturatingMul(uint64_t a, uint64_t b) {
  bool overflow = false;
  uint64_t r = llvm::SaturatingMultiply(a, b, &overflow);
  return std::min(r, kSaturatedCount);
}

uint64_t mlir::smepilot::saturatingAdd(uint64_t a, uint64_t b) {
  bool overflow = false;
  uint64_t r = llvm::SaturatingAdd(a, b, &overflow);
  return std::min(r, kSaturatedCount);
}

namespace {

/// FLOP-equivalents of one payload op, or std::nullopt if it cannot be costed.
struct PayloadCost {
  uint64_t flops = 0;
  bool transcendental = false;
  bool gather = false;
};

std::optional<PayloadCost> costPayloadOp(Operation *op) {
  PayloadCost c;
  if (isa<linalg::YieldOp, linalg::IndexOp, arith::ConstantOp, arith::ExtFOp,
          arith::TruncFOp, arith::ExtSIOp, arith::ExtUIOp, arith::TruncIOp,
          arith::SIToFPOp, arith::UIToFPOp, arith::FPToSIOp, arith::FPToUIOp,
          arith::BitcastOp, arith::IndexCastOp, arith::IndexCastUIOp>(op))
    return c;
  if (isa<tensor::ExtractOp>(op)) {
    c.gather = true;
    return c;
  }
  if (isa<math::FmaOp>(op)) {
    c.flops = 2;
    return c;
  }
  if (isa<arith::DivFOp, arith::DivSIOp, arith::DivUIOp, arith::RemFOp,
          arith::RemSIOp, arith::RemUIOp, arith::CeilDivSIOp,
          arith::FloorDivSIOp>(op)) {
    c.flops = 4;
    return c;
  }
  if (isa<math::MathDialect>(op->getDialect())) {
    // Cheap math ops are one instruction; the rest are polynomial
    // approximations in-kernel.
    if (isa<math::AbsFOp, math::AbsIOp, math::CopySignOp, math::FloorOp,
            math::CeilOp, math::RoundOp, math::TruncOp>(op)) {
      c.flops = 1;
      return c;
    }
    c.flops = 10;
    c.transcendental = true;
    return c;
  }
  if (isa<arith::ArithDialect>(op->getDialect())) {
    c.flops = 1; // add, sub, mul, max, min, neg, cmp, select, and/or/xor...
    return c;
  }
  return std::nullopt;
}

unsigned bitWidthOf(Type t) {
  if (t.isIndex())
    return 64;
  if (t.isIntOrFloat())
    return t.getIntOrFloatBitWidth();
  return 0;
}

/// Number of elements of a shaped type, with dynamic sizes assumed.
std::optional<uint64_t> numElements(ShapedType type, int64_t dynamicSize) {
  if (!type.hasRank())
    return std::nullopt;
  uint64_t n = 1;
  for (int64_t d : type.getShape()) {
    if (ShapedType::isDynamic(d)) {
      if (dynamicSize <= 0)
        return std::nullopt;
      d = dynamicSize;
    }
    n = saturatingMul(n, static_cast<uint64_t>(d));
  }
  return n;
}

uint64_t bytesOf(uint64_t elements, unsigned bits) {
  uint64_t bitCount = saturatingMul(elements, bits);
  if (bitCount == kSaturatedCount)
    return kSaturatedCount;
  return (bitCount + 7) / 8;
}

/// Adds the compulsory traffic of one shaped value.
LogicalResult addTraffic(Operation *op, Value v, uint64_t multiplier,
                         const CharacterizeOptions &options,
                         OpCharacterization &out) {
  auto shaped = dyn_cast<ShapedType>(v.getType());
  if (!shaped)
    return success(); // scalars travel in registers
  unsigned bits = bitWidthOf(shaped.getElementType());
  if (!bits)
    return op->emitOpError("cannot be costed: element type ")
           << shaped.getElementType()
           << " has no size the Roofline model knows (integer, index or "
              "float expected)";
  std::optional<uint64_t> n = numElements(shaped, options.dynamicSize);
  if (!n)
    return op->emitOpError("cannot be costed: operand of type ")
           << v.getType()
           << (shaped.hasRank()
                   ? " has dynamic sizes and no size may be assumed "
                     "(dynamic-size=0)"
                   : " is unranked");
  uint64_t bytes = saturatingMul(bytesOf(*n, bits), multiplier);
  uint64_t &total = isWeight(v) ? out.weightBytes : out.actBytes;
  total = saturatingAdd(total, bytes);
  return success();
}

/// The product of the (non-negative) `ranges` of `dims`, clamped.
int64_t productOf(ArrayRef<unsigned> dims, ArrayRef<int64_t> ranges) {
  uint64_t p = 1;
  for (unsigned d : dims)
    p = saturatingMul(p,
                      static_cast<uint64_t>(std::max<int64_t>(ranges[d], 0)));
  return static_cast<int64_t>(p);
}

FailureOr<OpCharacterization>
characterizeLinalg(linalg::LinalgOp linalgOp,
                   const CharacterizeOptions &options) {
  Operation *op = linalgOp.getOperation();
  OpCharacterization out;
  out.kind = op->getName().stripDialect().str();

  // Loop ranges, with dynamic ones assumed.
  SmallVector<int64_t> ranges = linalgOp.getStaticLoopRanges();
  for (auto [i, r] : llvm::enumerate(ranges)) {
    if (!ShapedType::isDynamic(r))
      continue;
    if (options.dynamicSize <= 0)
      return op->emitOpError("cannot be costed: loop dimension d")
             << i << " is dynamic and no size may be assumed (dynamic-size=0)";
    r = options.dynamicSize;
    out.assumptions.push_back("d" + std::to_string(i) + "=" +
                              std::to_string(options.dynamicSize));
  }
  uint64_t iterations = 1;
  for (int64_t r : ranges)
    iterations = saturatingMul(iterations,
                               static_cast<uint64_t>(std::max<int64_t>(r, 0)));

  // Payload.
  uint64_t flopsPerIteration = 0;
  bool gather = false;
  for (Operation &bodyOp : linalgOp.getBlock()->without_terminator()) {
    std::optional<PayloadCost> c = costPayloadOp(&bodyOp);
    if (!c)
      return op->emitOpError("cannot be costed: payload op '")
             << bodyOp.getName() << "' has no known cost";
    flopsPerIteration = saturatingAdd(flopsPerIteration, c->flops);
    out.hasTranscendental |= c->transcendental;
    gather |= c->gather;
  }
  out.flops = saturatingMul(iterations, flopsPerIteration);

  // Element type: the first shaped input's, else the first init's.
  for (OpOperand *in : linalgOp.getDpsInputOperands())
    if (auto shaped = dyn_cast<ShapedType>(in->get().getType())) {
      out.elementType = shaped.getElementType();
      break;
    }
  if (!out.elementType)
    out.elementType =
        cast<ShapedType>(linalgOp.getDpsInitOperand(0)->get().getType())
            .getElementType();

  // Traffic: inputs read once, inits written once (and read when the payload
  // accumulates into them).
  for (OpOperand *in : linalgOp.getDpsInputOperands())
    if (failed(addTraffic(op, in->get(), 1, options, out)))
      return failure();
  for (OpOperand &init : linalgOp.getDpsInitsMutable())
    if (failed(addTraffic(op, init.get(),
                          linalgOp.payloadUsesValueFromOperand(&init) ? 2 : 1,
                          options, out)))
      return failure();

  // Shape class and vectorization.
  bool hasReduction = linalgOp.getNumReductionLoops() > 0;
  out.vectorization = gather ? "gather" : hasReduction ? "reduction" : "full";
  if (isa<linalg::FillOp>(op)) {
    out.shapeClass = "fill";
  } else if (linalg::isaContractionOpInterface(linalgOp)) {
    FailureOr<linalg::ContractionDimensions> dims =
        linalg::inferContractionDims(linalgOp);
    if (succeeded(dims)) {
      out.batch = productOf(dims->batch, ranges);
      out.m = productOf(dims->m, ranges);
      out.n = productOf(dims->n, ranges);
      out.k = productOf(dims->k, ranges);
    }
    out.shapeClass = (out.m == 1 || out.n == 1) ? "gemv" : "gemm";
    out.matrixEligible =
        out.elementType.isIntOrFloat() && bitWidthOf(out.elementType) <= 32;
  } else if (gather) {
    out.shapeClass = "gather";
  } else if (hasReduction) {
    out.shapeClass = "reduction";
  } else {
    out.shapeClass = "elementwise";
  }
  return out;
}

} // namespace

bool mlir::smepilot::isCostableOp(Operation *op) {
  return isa<linalg::LinalgOp, linalg::SoftmaxOp, linalg::PackOp,
             linalg::UnPackOp>(op);
}

bool mlir::smepilot::isWeight(Value value) {
  // Walk back through views, reshapes and relayouts.
  while (Operation *def = value.getDefiningOp()) {
    if (matchPattern(value, m_Constant()))
      return true;
    if (isa<tensor::CastOp, tensor::ExpandShapeOp, tensor::CollapseShapeOp,
            tensor::ExtractSliceOp, linalg::PackOp, linalg::TransposeOp>(def)) {
      value = def->getOperand(0);
      continue;
    }
    return false;
  }
  auto arg = dyn_cast<BlockArgument>(value);
  if (!arg)
    return false;
  auto func = dyn_cast<FunctionOpInterface>(arg.getOwner()->getParentOp());
  if (!func || arg.getOwner() != &func.getFunctionBody().front())
    return false;
  return func.getArgAttr(arg.getArgNumber(), kWeightArgAttrName) != nullptr;
}

FailureOr<OpCharacterization>
mlir::smepilot::characterizeOp(Operation *op,
                               const CharacterizeOptions &options) {
  if (auto linalgOp = dyn_cast<linalg::LinalgOp>(op))
    return characterizeLinalg(linalgOp, options);

  if (auto softmax = dyn_cast<linalg::SoftmaxOp>(op)) {
    // Not a structured op in MLIR 22: per element a max, a subtraction, an
    // exp, a sum and a division.
    OpCharacterization out;
    out.kind = "softmax";
    out.shapeClass = "softmax";
    out.vectorization = "reduction";
    out.hasTranscendental = true;
    auto type = cast<ShapedType>(softmax.getInput().getType());
    out.elementType = type.getElementType();
    std::optional<uint64_t> n = numElements(type, options.dynamicSize);
    if (!n)
      return op->emitOpError("cannot be costed: dynamic sizes and no size may "
                             "be assumed (dynamic-size=0)");
    if (!type.hasStaticShape())
      out.assumptions.push_back("dyn=" + std::to_string(options.dynamicSize));
    out.flops = saturatingMul(*n, 1 + 1 + 10 + 1 + 4);
    if (failed(addTraffic(op, softmax.getInput(), 1, options, out)) ||
        failed(addTraffic(op, softmax.getOutput(), 1, options, out)))
      return failure();
    return out;
  }

  if (isa<linalg::PackOp, linalg::UnPackOp>(op)) {
    OpCharacterization out;
    out.kind = op->getName().stripDialect().str();
    out.shapeClass = "other";
    out.vectorization = "full";
    Value src = op->getOperand(0), dest = op->getOperand(1);
    out.elementType = cast<ShapedType>(src.getType()).getElementType();
    if (!cast<ShapedType>(src.getType()).hasStaticShape() ||
        !cast<ShapedType>(dest.getType()).hasStaticShape())
      out.assumptions.push_back("dyn=" + std::to_string(options.dynamicSize));
    if (failed(addTraffic(op, src, 1, options, out)) ||
        failed(addTraffic(op, dest, 1, options, out)))
      return failure();
    return out;
  }
  return failure();
}

//===----------------------------------------------------------------------===//
// Prediction
//===----------------------------------------------------------------------===//

double mlir::smepilot::vectorPeakGflops(TargetAttr target, Type elementType) {
  double perCycle = target.getVectorFlops().forType(elementType);
  if (perCycle <= 0)
    perCycle = target.getVectorFlops().getF32();
  return target.getVectorCores() * target.getVectorGhz() * perCycle;
}

double mlir::smepilot::vectorEfficiency(StringRef vectorization,
                                        Type elementType, TargetAttr target) {
  if (vectorization == "full" || vectorization == "reduction")
    return 1.0;
  // Gathers and unvectorizable bodies run one lane at a time.
  unsigned bits = std::max(8u, bitWidthOf(elementType));
  return double(bits) / double(target.getVectorBits());
}

double mlir::smepilot::matrixPeakGflops(TargetAttr target, Type elementType) {
  if (!target.hasMatrixUnit())
    return 0;
  return target.getMatrixUnits() * target.getMatrixGhz() *
         target.getMatrixFlops().forType(elementType);
}

double mlir::smepilot::matrixUtilization(TargetAttr target, Type elementType,
                                         int64_t m, int64_t n, int64_t k) {
  if (!target.hasMatrixUnit() || m <= 0 || n <= 0 || k <= 0)
    return 0;
  // Accumulator tiles are SVL/32 x SVL/32 (f32 or i32 accumulation).
  int64_t tile = target.getSvlBits() / 32;
  if (tile < 1)
    return 0;
  unsigned bits = bitWidthOf(elementType);
  int64_t widening = bits >= 32 ? 1 : bits >= 16 ? 2 : 4;
  // In doubles: rounding `size` up to the granule must not overflow.
  auto fill = [](int64_t size, int64_t granule) {
    double padded =
        double(size / granule + (size % granule != 0)) * double(granule);
    return double(size) / padded;
  };
  // An f32 matvec: the streaming-SVE FMLA kernel, one FMLA of SVL/32 lanes
  // per cycle (Roofline.h).
  if (m == 1 && elementType.isF32()) {
    double peak = target.getMatrixFlops().forType(elementType);
    if (peak <= 0)
      return 0;
    return std::min(1.0, 2.0 * double(tile) / peak) * fill(n, tile);
  }
  return fill(m, tile) * fill(n, tile) * fill(k, widening);
}

namespace {

/// Roofline pieces of one unit: time per FLOP and per byte (microseconds).
struct Unit {
  double usPerFlop = 0;
  double usPerByte = 0;
};

double cpuEfficiency(const OpCharacterization &op, TargetAttr target) {
  return vectorEfficiency(op.vectorization, op.elementType, target);
}

double round4(double v) {
  // Four significant digits: enough to explain a choice, and stable in tests.
  if (v <= 0 || !std::isfinite(v))
    return v;
  double scale = std::pow(10.0, 3 - std::floor(std::log10(v)));
  return std::round(v * scale) / scale;
}

struct CollabSplit {
  double fraction = 0;
  double us = -1;
  bool memoryBound = false;
};

CollabSplit bestSplit(const OpCharacterization &op, TargetAttr target, Unit cpu,
                      Unit sme) {
  double f = double(op.flops), bw = double(op.weightBytes),
         ba = double(op.actBytes);
  auto smeTime = [&](double s) {
    return std::max(s * f * sme.usPerFlop, (s * bw + ba) * sme.usPerByte);
  };
  auto cpuTime = [&](double s) {
    return std::max((1 - s) * f * cpu.usPerFlop,
                    ((1 - s) * bw + ba) * cpu.usPerByte);
  };
  // smeTime grows with s and cpuTime shrinks: bisect for the crossing.
  double lo = 0, hi = 1;
  for (int i = 0; i < 60; ++i) {
    double mid = 0.5 * (lo + hi);
    if (smeTime(mid) < cpuTime(mid))
      lo = mid;
    else
      hi = mid;
  }
  CollabSplit split;
  split.fraction = 0.5 * (lo + hi);
  double shared = (bw + ba) / (target.getMemBwGbps() * 1e3);
  double units = std::max(smeTime(split.fraction), cpuTime(split.fraction));
  split.us = std::max(units, shared) + target.getSyncOverheadUs();
  double computeUs = std::max(split.fraction * f * sme.usPerFlop,
                              (1 - split.fraction) * f * cpu.usPerFlop);
  split.memoryBound = std::max(units, shared) > computeUs;
  return split;
}

} // namespace

RooflinePrediction mlir::smepilot::predict(const OpCharacterization &op,
                                           TargetAttr target) {
  RooflinePrediction p;
  Unit cpu;
  double cpuPeak =
      vectorPeakGflops(target, op.elementType) * cpuEfficiency(op, target);
  cpu.usPerFlop = 1.0 / (cpuPeak * 1e3);
  cpu.usPerByte = 1.0 / (target.getVectorBwGbps() * 1e3);
  p.cpuComputeUs = op.flops * cpu.usPerFlop;
  p.cpuMemoryUs = op.totalBytes() * cpu.usPerByte;
  p.cpuUs = std::max(p.cpuComputeUs, p.cpuMemoryUs);

  double smePeak =
      op.matrixEligible ? matrixPeakGflops(target, op.elementType) : 0.0;
  if (smePeak > 0) {
    p.smeUtilization =
        matrixUtilization(target, op.elementType, op.m, op.n, op.k);
    Unit sme;
    // Utilization 0: an empty iteration space (0 FLOPs); any finite time per
    // FLOP gives it a compute time of 0 rather than 0 * inf = NaN.
    double utilization = p.smeUtilization > 0 ? p.smeUtilization : 1.0;
    sme.usPerFlop = 1.0 / (smePeak * utilization * 1e3);
    sme.usPerByte = 1.0 / (target.getMatrixBwGbps() * 1e3);
    p.smeComputeUs = op.flops * sme.usPerFlop;
    p.smeMemoryUs = op.totalBytes() * sme.usPerByte;
    p.smeUs = std::max(p.smeComputeUs, p.smeMemoryUs);
    CollabSplit split = bestSplit(op, target, cpu, sme);
    p.collabUs = split.us;
    p.collabSmeFraction = split.fraction;

    p.mode = p.smeUs < p.cpuUs ? ExecMode::sme : ExecMode::cpu;
    double bestSingle = std::min(p.cpuUs, p.smeUs);
    // A split that gives one side almost nothing is not worth its sync.
    if (split.fraction >= 0.05 && split.fraction <= 0.95 &&
        split.us < bestSingle)
      p.mode = ExecMode::collab;
    if (p.mode == ExecMode::collab)
      p.memoryBound = split.memoryBound;
  }
  switch (p.mode) {
  case ExecMode::cpu:
    p.smeFraction = 0;
    p.memoryBound = p.cpuMemoryUs >= p.cpuComputeUs;
    break;
  case ExecMode::sme:
    p.smeFraction = 1;
    p.memoryBound = p.smeMemoryUs >= p.smeComputeUs;
    break;
  case ExecMode::collab:
    p.smeFraction = p.collabSmeFraction;
    break;
  }
  return p;
}

FailureOr<RooflinePrediction>
mlir::smepilot::forceMode(const OpCharacterization &op, TargetAttr target,
                          ExecMode forced, std::string &whyNot) {
  RooflinePrediction p = predict(op, target);
  if (forced == ExecMode::cpu) {
    p.mode = ExecMode::cpu;
    p.smeFraction = 0;
    p.memoryBound = p.cpuMemoryUs >= p.cpuComputeUs;
    return p;
  }
  if (p.smeUs < 0) {
    if (!target.hasMatrixUnit())
      whyNot = "target '" + target.getName().str() + "' has no matrix unit";
    else if (!op.matrixEligible)
      whyNot = "a " + op.kind + " (" + op.shapeClass +
               ") is not a contraction the matrix unit can run";
    else {
      std::string type;
      llvm::raw_string_ostream os(type);
      os << op.elementType;
      whyNot = "the matrix unit of '" + target.getName().str() +
               "' has no peak for " + type;
    }
    return failure();
  }
  p.mode = forced;
  if (forced == ExecMode::sme) {
    p.smeFraction = 1;
    p.memoryBound = p.smeMemoryUs >= p.smeComputeUs;
  } else {
    p.smeFraction = std::clamp(p.collabSmeFraction, 0.05, 0.95);
  }
  return p;
}

DecisionAttr mlir::smepilot::buildDecision(MLIRContext *context,
                                           const OpCharacterization &op,
                                           const RooflinePrediction &p,
                                           bool forced) {
  double fraction = std::round(p.smeFraction * 1000.0) / 1000.0;
  if (p.mode == ExecMode::collab)
    fraction = std::clamp(fraction, 0.001, 0.999);
  return DecisionAttr::get(
      context, op.kind, op.shapeClass, op.elementType, p.mode, op.flops,
      op.weightBytes, op.actBytes, round4(op.intensity()), round4(p.cpuUs),
      p.smeUs < 0 ? -1.0 : round4(p.smeUs),
      p.collabUs < 0 ? -1.0 : round4(p.collabUs), fraction,
      p.memoryBound ? "memory" : "compute", op.vectorization,
      forced ? "forced" : "roofline", llvm::join(op.assumptions, ","));
}

//===----------------------------------------------------------------------===//
// Layouts
//===----------------------------------------------------------------------===//

SmallVector<LayoutAttr> mlir::smepilot::operandLayoutsFor(Operation *op,
                                                          ExecMode mode,
                                                          TargetAttr target) {
  MLIRContext *ctx = op->getContext();
  LayoutAttr identity = LayoutAttr::get(ctx, {}, {}, {}, {});
  SmallVector<LayoutAttr> layouts(op->getNumOperands(), identity);
  auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
  if (!linalgOp || !linalg::isaContractionOpInterface(linalgOp) ||
      linalgOp.getNumDpsInputs() != 2)
    return layouts;
  FailureOr<linalg::ContractionDimensions> dims =
      linalg::inferContractionDims(linalgOp);
  if (failed(dims) || dims->m.size() > 1 || dims->n.size() > 1 ||
      dims->k.size() != 1 || !dims->batch.empty())
    return layouts;
  Type elem = cast<ShapedType>(linalgOp.getDpsInputOperand(0)->get().getType())
                  .getElementType();
  unsigned bits = bitWidthOf(elem);
  int64_t widening = bits >= 32 ? 1 : bits >= 16 ? 2 : 4;

  // Position of loop dimension `loopDim` among the operand's dimensions.
  auto operandDim = [&](OpOperand *operand,
                        unsigned loopDim) -> std::optional<int64_t> {
    AffineMap map = linalgOp.getMatchingIndexingMap(operand);
    for (auto [i, expr] : llvm::enumerate(map.getResults()))
      if (auto d = dyn_cast<AffineDimExpr>(expr);
          d && d.getPosition() == loopDim)
        return i;
    return std::nullopt;
  };
  // Panel layout: tile `tiledDim` (outer index first), K inner.
  auto panel = [&](OpOperand *operand, ArrayRef<unsigned> mn, int64_t tile,
                   bool scalable, bool packK) -> LayoutAttr {
    if (mn.size() != 1 ||
        cast<ShapedType>(operand->get().getType()).getRank() != 2)
      return identity;
    std::optional<int64_t> t = operandDim(operand, mn[0]);
    std::optional<int64_t> kd = operandDim(operand, dims->k[0]);
    if (!t || !kd)
      return identity;
    SmallVector<int64_t> innerDims{*t}, tiles{tile};
    SmallVector<bool> scal{scalable};
    if (packK && widening > 1) {
      innerDims.push_back(*kd);
      tiles.push_back(widening);
      scal.push_back(false);
    }
    SmallVector<int64_t> perm{*t, *kd};
    return LayoutAttr::get(ctx, innerDims, tiles, scal, perm);
  };
  OpOperand *lhs = linalgOp.getDpsInputOperand(0);
  OpOperand *rhs = linalgOp.getDpsInputOperand(1);
  if (mode == ExecMode::cpu) {
    // Vector cores broadcast A elements and stream B in register-wide panels.
    int64_t lanes = target.getVectorBits() / 32;
    layouts[rhs->getOperandNumber()] = panel(rhs, dims->n, lanes, false, false);
    return layouts;
  }
  // Matrix unit: one outer product per K step (per widening group) reads an
  // SVL/32-long column of A and row of B: vscale x 4 f32 accumulator rows.
  layouts[lhs->getOperandNumber()] = panel(lhs, dims->m, 4, true, true);
  layouts[rhs->getOperandNumber()] = panel(rhs, dims->n, 4, true, true);
  return layouts;
}
