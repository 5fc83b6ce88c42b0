//===- TileCPU.cpp - Tile and vectorize linalg ops for the vector cores
//-----===//
//
// The host (and the CPU side of collab) schedule: every linalg op on tensors
// is tiled with scf.for and each tile is vectorized by linalg's vectorizer
// with the tile sizes as vector sizes, so partial and dynamic tiles become
// masked transfers (AVX-512 masked loads/stores after lowering).
//
// Tile sizes come from the op's shape, not from its name:
//  - a contraction (linalg::inferContractionDims: matmul with any operand
//    transposition, batch matmul, matvec, generic contractions) gets
//    `contraction-tile-sizes` on its innermost m, n and k dimension and 1 on
//    the others (batch, outer m/n/k);
//  - any other op gets `vector-width` lanes on its innermost loop and 1 on the
//    other loops (elementwise ops, reductions, RoPE-like generics, gathers).
// A static dimension no larger than its tile is left untiled.
//
// Masked min/max reductions (a row max over a dynamic number of keys) get
// their identity, -inf or +inf, selected into the masked-off lanes and are
// reduced unmasked: LLVM 22's lowering of the masked form is wrong
// (MaskedMinMaxReduction below).
//
// A tile the vectorizer rejects stays a scalar linalg op; it is lowered to
// loops after bufferization. The pass never fails on such an op: the slow
// path is correct, and `report` says which ops took it.
//
// Dot-product schedule. A contraction whose single reduction dimension k is
// the contiguous (last) dimension of both inputs -- C[m, n] += A[m, k] *
// W[n, k], the projections with GGUF [out, in] weights, and Q K^T -- is not
// handed to the vectorizer: k-steps of one would read W 16 strided elements
// at a time. The body may be `acc + f(lhs inputs) * g(rhs inputs)` with
// elementwise producers fused in (the final RMSNorm fused into the LM head):
// f and g are evaluated lane-wise on k vectors, inputs not indexed by k are
// read once and broadcast. Instead the parallel dims are tiled into a register
// block of Mr x Nr outputs (n loop outside m loop, so each block of W rows is
// streamed from memory once and A is reread from cache), k is left whole, and
// each block is written directly as vector code:
//   scf.for k step VL iter_args(Mr*Nr vector<VLxf32> accumulators):
//     Mr A-row loads + Nr W-row loads along k, Mr*Nr vector.fma
//   one masked k step for the k % VL tail,
//   one reassociating vector.reduction per accumulator, added to C with a
//   masked Mr x Nr transfer.
// Rows past a partial m/n block re-read the last valid row (no out-of-bounds
// access) and their sums are masked off at the write. For M = 1 (decode) the
// block is 1 x 1: a GEMV reading one W row after the other, so each thread
// reads W as one contiguous stream. A block of 8 rows read them as 8
// interleaved streams of a few KB (a Q8_0 row of 2048 is 2176 bytes), and the
// hardware prefetcher, which follows long streams, then gave half the read
// bandwidth (bench/RESULTS.md: Q8_0 decode 17 -> 26 t/s on 1B). To keep
// several FMAs in flight with a single output, the reduction's iterations go
// round-robin to 4 groups of accumulators (unrolledLevel), added together at
// the end. Summation order: each of the VL lanes (of each group) sums every
// VL-th product, then a tree reduction; this differs from the sequential k
// order by a few ulps of the partial sums.
//
// Weights in their GGUF type (docs/compiled-model.md) use the same schedule:
// a factor may contain integer elementwise ops (sign extension, shifts and
// masks of quants, the two bytes of an f16 scale bitcast to f16), inputs may
// be indexed by constants (the scale bytes of a block), and reduction loops
// other than k may be read by inputs that do not read k (a Q8_0 block's
// scale, a Q4_0 half's nibble shift): those are read once per iteration of
// their scalar loop and splat. k is the innermost reduction loop that is the
// last, contiguous dimension of every input reading it. So a Q8_0
// projection, loops (m, n, block, j), reads 16 int8 quants per k step and
// dequantizes them in registers; nothing is converted in memory.
//
//===----------------------------------------------------------------------===//

#include "smepilot/Dialect/SMEPilot/Transforms/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/UB/IR/UBOps.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/Dialect/X86Vector/X86VectorDialect.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SetVector.h"

namespace mlir::smepilot {
#define GEN_PASS_DEF_TILECPU
#include "smepilot/Dialect/SMEPilot/Transforms/Passes.h.inc"
} // namespace mlir::smepilot

using namespace mlir;
using namespace mlir::smepilot;

namespace {

/// True if the op was assigned to another unit by the Roofline decision.
bool isForOtherUnit(Operation *op) {
  auto decision = op->getAttrOfType<DecisionAttr>(DecisionAttr::kAttrName);
  return getSingleUnit(decision) != ExecMode::cpu;
}

/// The desired tile (= vector) size per loop of `op`, before clamping.
SmallVector<int64_t> desiredTileSizes(linalg::LinalgOp op,
                                      ArrayRef<int64_t> contractionTiles,
                                      int64_t vectorWidth) {
  unsigned numLoops = op.getNumLoops();
  SmallVector<int64_t> tiles(numLoops, 1);
  FailureOr<linalg::ContractionDimensions> dims =
      linalg::inferContractionDims(op);
  if (succeeded(dims) && !dims->m.empty() && !dims->n.empty() &&
      !dims->k.empty()) {
    // The innermost dimension of each group is the last one in loop order,
    // skipping dimensions of static size 1 (P V in decode: one query under
    // the heads of a group; tiling the query would leave the heads at 1 and
    // the vector.contract at one row).
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    auto innermost = [&](ArrayRef<unsigned> group) {
      for (unsigned d : llvm::reverse(group))
        if (ranges[d] != 1)
          return d;
      return *llvm::max_element(group);
    };
    unsigned m = innermost(dims->m), n = innermost(dims->n);
    tiles[m] = contractionTiles[0];
    tiles[n] = contractionTiles[1];
    tiles[innermost(dims->k)] = contractionTiles[2];
    // Fewer rows than the m tile (the 4 query heads of a KV group in P V):
    // up to 4 times the n tile, within the m x n tile's outputs, so the
    // rows' loads of each k step serve more outputs.
    if (!ShapedType::isDynamic(ranges[m]) && ranges[m] > 0 &&
        ranges[m] < contractionTiles[0])
      tiles[n] *= std::clamp<int64_t>(contractionTiles[0] / ranges[m], 1, 4);
    return tiles;
  }
  if (numLoops > 0)
    tiles.back() = vectorWidth;
  return tiles;
}

/// One factor of the product in a dot contraction's body: the value, the
/// body ops computing it (in block order) and the inputs they read.
struct DotFactor {
  Value root;
  SmallVector<Operation *> ops;
  SmallVector<unsigned> inputs; ///< block argument (= input) numbers
};

/// A contraction that suits the dot-product schedule: the body is
/// `acc + lhs * rhs` where `lhs` reads only inputs not indexed by n and `rhs`
/// only inputs not indexed by m (elementwise producers fused into the
/// contraction, such as the final RMSNorm into the LM head, are part of a
/// factor), and one reduction loop `k` is the last (contiguous) dimension of
/// every input that reads a reduction loop. Other reduction loops (the
/// attention output projection reads [heads, head_dim] as two) become
/// scalar loops around the k loop, inside the accumulators' live range.
struct DotContraction {
  unsigned m, n, k; ///< innermost m, innermost n, the contiguous reduction
  SmallVector<unsigned> outerK; ///< other reduction loops (reshaped heads)
  DotFactor lhs, rhs;
};

/// Collects the body ops and inputs `root` depends on. Fails on anything but
/// single-result, region-free elementwise ops, and on the accumulator.
LogicalResult collectFactor(linalg::LinalgOp op, Value root,
                            DotFactor &factor) {
  factor.root = root;
  Block *body = op.getBlock();
  llvm::SetVector<Operation *> ops;
  llvm::SetVector<unsigned> inputs;
  SmallVector<Value> work{root};
  while (!work.empty()) {
    Value v = work.pop_back_val();
    if (auto arg = dyn_cast<BlockArgument>(v)) {
      if (arg.getOwner() != body)
        continue; // defined above: broadcast when used
      if (arg.getArgNumber() >= op.getNumDpsInputs())
        return failure(); // the accumulator
      inputs.insert(arg.getArgNumber());
      continue;
    }
    Operation *def = v.getDefiningOp();
    if (def->getBlock() != body)
      continue;
    // A scalar constant in the body: splat where used (evalFactor).
    if (isa<arith::ConstantOp>(def) &&
        def->getResult(0).getType().isIntOrFloat())
      continue;
    // Integer ops too: a quantized weight is unpacked (shifts, masks,
    // sign extension) before it becomes a float.
    if (def->getNumResults() != 1 || def->getNumRegions() != 0 ||
        !def->hasTrait<OpTrait::Elementwise>() ||
        !def->getResult(0).getType().isIntOrFloat())
      return failure();
    if (ops.insert(def))
      llvm::append_range(work, def->getOperands());
  }
  factor.ops = ops.takeVector();
  llvm::sort(factor.ops,
             [](Operation *a, Operation *b) { return a->isBeforeInBlock(b); });
  factor.inputs = inputs.takeVector();
  return success();
}

std::optional<DotContraction> matchDotContraction(linalg::LinalgOp op) {
  if (op.getNumDpsInputs() < 2 || op.getNumDpsInits() != 1 ||
      !op.hasPureTensorSemantics() ||
      !getElementTypeOrSelf(op.getDpsInitOperand(0)->get().getType()).isF32())
    return std::nullopt;
  SmallVector<unsigned> reductions;
  op.getReductionDims(reductions);
  if (reductions.empty())
    return std::nullopt;

  Block *body = op.getBlock();
  Value accArg = body->getArgument(op.getNumDpsInputs());
  auto add =
      body->getTerminator()->getOperand(0).getDefiningOp<arith::AddFOp>();
  if (!add || add->getBlock() != body)
    return std::nullopt;
  Value acc = add.getLhs(), prod = add.getRhs();
  if (acc != accArg)
    std::swap(acc, prod);
  auto mul = prod.getDefiningOp<arith::MulFOp>();
  if (acc != accArg || !mul || mul->getBlock() != body || !mul->hasOneUse())
    return std::nullopt;

  DotContraction dot;
  if (failed(collectFactor(op, mul.getLhs(), dot.lhs)) ||
      failed(collectFactor(op, mul.getRhs(), dot.rhs)))
    return std::nullopt;
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  // Inputs index with loops or constants (the scale bytes of a quantized
  // block); the output is a projected permutation.
  if (!maps.back().isProjectedPermutation())
    return std::nullopt;
  for (AffineMap map : ArrayRef(maps).drop_back())
    for (AffineExpr e : map.getResults())
      if (!isa<AffineDimExpr, AffineConstantExpr>(e))
        return std::nullopt;
  auto lastDim = [](AffineMap map) -> std::optional<unsigned> {
    if (map.getNumResults() == 0)
      return std::nullopt;
    if (auto d = dyn_cast<AffineDimExpr>(map.getResults().back()))
      return d.getPosition();
    return std::nullopt;
  };
  // k: a reduction loop that is the last dimension of every input reading
  // it, and is read by some input; of those, the innermost loop. The other
  // reduction loops (a quantized block's index, a reshaped head) become
  // scalar loops; inputs reading only those are read once per iteration
  // and broadcast (a block's scale).
  std::optional<unsigned> k;
  for (unsigned r : reductions) {
    bool read = false, contiguous = true;
    for (AffineMap map : ArrayRef(maps).drop_back()) {
      if (!map.isFunctionOfDim(r))
        continue;
      read = true;
      contiguous = contiguous && lastDim(map) == r &&
                   llvm::count_if(map.getResults(), [&](AffineExpr e) {
                     return e.isFunctionOfDim(r);
                   }) == 1;
    }
    if (read && contiguous && (!k || r > *k))
      k = r;
  }
  if (!k)
    return std::nullopt;
  dot.k = *k;
  for (unsigned r : reductions)
    if (r != dot.k)
      dot.outerK.push_back(r);
  AffineMap outMap = maps.back();
  if (llvm::any_of(reductions,
                   [&](unsigned r) { return outMap.isFunctionOfDim(r); }))
    return std::nullopt;

  // m: loops only the lhs factor reads, n: only the rhs; the innermost of
  // each is blocked. Every input read along k must be contiguous in k.
  auto reads = [&](const DotFactor &f, unsigned dim) {
    return llvm::any_of(
        f.inputs, [&](unsigned i) { return maps[i].isFunctionOfDim(dim); });
  };
  std::optional<unsigned> m, n;
  for (unsigned d = 0, e = op.getNumLoops(); d < e; ++d) {
    if (d == dot.k || !outMap.isFunctionOfDim(d))
      continue;
    bool l = reads(dot.lhs, d), r = reads(dot.rhs, d);
    if (l && !r)
      m = d;
    if (r && !l)
      n = d;
  }
  if (!m || !n || !reads(dot.lhs, dot.k) || !reads(dot.rhs, dot.k))
    return std::nullopt;
  dot.m = *m;
  dot.n = *n;
  return dot;
}

/// A factor `scale * sitofp(quant)` of an int8 dot: `quant` an i8 value read
/// along k, `scale` constant along k.
struct Int8Factor {
  DotFactor quant, scale;
};

/// A dot contraction both of whose factors are int8 factors (a Q8_0/Q4_0
/// weight by activations rounded to Q8_0 blocks). The reduction loops the
/// scales read (a block's index) are `scaleLoops`; the products are summed
/// exactly in integers over the other reduction loops (`intLoops`, static and
/// unrolled: a Q4_0 block's two nibble halves) and k (whole, `lanes` i8
/// lanes), then scaled once per iteration of the scale loops. The k vectors
/// of the integer iterations are concatenated (the order of the terms of a
/// sum does not matter, as long as both sides agree): `bytes` = lanes times
/// the iterations, 16, 32 or 64 (the 128-, 256- and 512-bit vpdpbusd).
struct Int8Dot {
  Int8Factor lhs, rhs;
  SmallVector<unsigned> scaleLoops, intLoops;
  SmallVector<int64_t> intExtents;
  int64_t lanes = 0, iterations = 1, bytes = 0;
  /// When the rhs quant is `x - c` with x known to be in [0, 127] (a Q4_0
  /// nibble: `(byte >> s) & 15` minus 8), `x` itself, the unsigned operand
  /// of vpdpbusd as it is, and c: the sums are sum(x * a) - c * sum(a), no
  /// offset of 128 needed.
  std::optional<DotFactor> rhsUnsigned;
  int64_t rhsOffset = 128;
};

/// If `quant` is `x - c` with x = `y & mask`, 0 <= mask <= 127 and
/// 0 < c <= 128 (constants), returns x and c.
std::optional<std::pair<Value, int64_t>> matchUnsignedMinusOffset(Value quant) {
  auto sub = quant.getDefiningOp<arith::SubIOp>();
  if (!sub)
    return std::nullopt;
  std::optional<int64_t> c = getConstantIntValue(sub.getRhs());
  auto masked = sub.getLhs().getDefiningOp<arith::AndIOp>();
  if (!c || *c <= 0 || *c > 128 || !masked)
    return std::nullopt;
  std::optional<int64_t> mask = getConstantIntValue(masked.getRhs());
  if (!mask)
    mask = getConstantIntValue(masked.getLhs());
  if (!mask || *mask < 0 || *mask > 127)
    return std::nullopt;
  return std::pair(sub.getLhs(), *c);
}

std::optional<Int8Factor> matchInt8Factor(linalg::LinalgOp op, Value root) {
  auto mul = root.getDefiningOp<arith::MulFOp>();
  if (!mul || mul->getBlock() != op.getBlock())
    return std::nullopt;
  for (auto [q, s] : {std::pair(mul.getLhs(), mul.getRhs()),
                      std::pair(mul.getRhs(), mul.getLhs())}) {
    auto conv = q.getDefiningOp<arith::SIToFPOp>();
    if (!conv || conv->getBlock() != op.getBlock() ||
        !conv.getIn().getType().isInteger(8))
      continue;
    Int8Factor f;
    if (failed(collectFactor(op, conv.getIn(), f.quant)) ||
        failed(collectFactor(op, s, f.scale)))
      return std::nullopt;
    return f;
  }
  return std::nullopt;
}

/// The int8 form of `dot` (see Int8Dot), if it has one.
std::optional<Int8Dot> matchInt8Dot(linalg::LinalgOp op,
                                    const DotContraction &dot) {
  std::optional<Int8Factor> lhs = matchInt8Factor(op, dot.lhs.root);
  std::optional<Int8Factor> rhs = matchInt8Factor(op, dot.rhs.root);
  if (!lhs || !rhs)
    return std::nullopt;
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  auto reads = [&](const DotFactor &f, unsigned dim) {
    return llvm::any_of(
        f.inputs, [&](unsigned i) { return maps[i].isFunctionOfDim(dim); });
  };
  // Scales are constant along k; the quants are read along it, whole.
  if (reads(lhs->scale, dot.k) || reads(rhs->scale, dot.k) ||
      !reads(lhs->quant, dot.k) || !reads(rhs->quant, dot.k))
    return std::nullopt;
  Int8Dot r;
  r.lhs = *lhs;
  r.rhs = *rhs;
  r.lanes = ranges[dot.k];
  if (!llvm::is_contained({16, 32, 64}, r.lanes))
    return std::nullopt;
  // The scale loops come first in the nest (outerK is in loop order), so
  // the integer sums are restarted per iteration of the innermost one.
  for (unsigned d : dot.outerK) {
    if (reads(lhs->scale, d) || reads(rhs->scale, d)) {
      if (!r.intLoops.empty())
        return std::nullopt;
      r.scaleLoops.push_back(d);
      continue;
    }
    if (ShapedType::isDynamic(ranges[d]))
      return std::nullopt;
    r.intLoops.push_back(d);
    r.intExtents.push_back(ranges[d]);
  }
  // Unrolled and concatenated into one vector of at most 64 bytes.
  for (int64_t e : r.intExtents)
    r.iterations *= e;
  r.bytes = r.lanes * r.iterations;
  if (!llvm::is_contained({16, 32, 64}, r.bytes))
    return std::nullopt;
  if (std::optional<std::pair<Value, int64_t>> unsignedQuant =
          matchUnsignedMinusOffset(rhs->quant.root)) {
    DotFactor x;
    if (succeeded(collectFactor(op, unsignedQuant->first, x))) {
      r.rhsUnsigned = std::move(x);
      r.rhsOffset = unsignedQuant->second;
    }
  }
  return r;
}

/// A dot contraction both of whose factors are `extf` of bf16 values (a
/// BF16 weight by activations rounded to bf16, as llama.cpp's BF16 path
/// does): per k step of 2 * vl lanes, one AVX512-BF16 `vdpbf16ps`
/// (x86vector.avx512.dot) sums the products of bf16 pairs into vl f32 lanes,
/// twice the products of an FMA, with no widening of either operand.
struct Bf16Dot {
  DotFactor lhs, rhs; ///< the bf16 values, before their extf
};

std::optional<Bf16Dot> matchBf16Dot(linalg::LinalgOp op,
                                    const DotContraction &dot) {
  auto inner = [&](const DotFactor &f) -> std::optional<DotFactor> {
    auto ext = f.root.getDefiningOp<arith::ExtFOp>();
    if (!ext || !ext.getIn().getType().isBF16())
      return std::nullopt;
    DotFactor g;
    if (failed(collectFactor(op, ext.getIn(), g)))
      return std::nullopt;
    return g;
  };
  std::optional<DotFactor> lhs = inner(dot.lhs), rhs = inner(dot.rhs);
  if (!lhs || !rhs)
    return std::nullopt;
  return Bf16Dot{std::move(*lhs), std::move(*rhs)};
}

/// Row r of a block of `count` rows, for r < count: min(r, size - 1), so
/// rows past a partial block re-read the last valid row.
SmallVector<Value> clampedBlockRows(OpBuilder &b, Location loc,
                                    OpFoldResult size, int64_t count) {
  AffineExpr d0 = b.getAffineDimExpr(0);
  SmallVector<Value> rows;
  for (int64_t r = 0; r < count; ++r) {
    AffineMap clamp = AffineMap::get(1, 0, {b.getAffineConstantExpr(r), d0 - 1},
                                     b.getContext());
    rows.push_back(getValueOrCreateConstantIndexOp(
        b, loc, affine::makeComposedFoldedAffineMin(b, loc, clamp, {size})));
  }
  return rows;
}

/// Writes one register-block tile of a dot contraction as vector code (see
/// the top of the file). The pieces, in the order they are emitted:
/// the clamped block rows, the k loop (full vectors, then a masked tail)
/// inside loops over the other reduction dimensions, and the update of the
/// output block with the horizontal sums.
class DotKernelBuilder {
public:
  DotKernelBuilder(RewriterBase &b, linalg::LinalgOp op,
                   const DotContraction &dot, const Int8Dot *int8,
                   const Bf16Dot *bf16, int64_t mr, int64_t nr, int64_t vl,
                   int64_t groups)
      : b(b), op(op), dot(dot), int8(int8), bf16(bf16), mr(mr), nr(nr),
        vl(int8 ? int8->bytes / 4 : vl), kl(bf16 ? 2 * vl : this->vl),
        groups(groups), loc(op.getLoc()), maps(op.getIndexingMapsArray()),
        vecType(VectorType::get({this->vl}, b.getF32Type())) {}

  /// Emits the kernel before `op`; returns the updated output tensor.
  Value build();
  /// The accumulator groups the kernel uses: `groups` if it has a loop to
  /// spread over them, else 1.
  int64_t groupsUsed() const { return unrolledLevel() ? groups : 1; }

private:
  /// One factor as a k vector of `lanes` lanes at block row `row` (of loop
  /// `rowDim`): inputs indexed by k are read contiguously (masked if
  /// `mask`), the others are read once and broadcast, and the factor's ops
  /// are applied lane-wise.
  Value evalFactor(OpBuilder &nb, Location l, const DotFactor &factor,
                   unsigned rowDim, Value row, Value k, Value mask,
                   int64_t lanes);
  /// The int8 form's step per iteration of the innermost scale loop: the
  /// exact integer sums over the unrolled integer loops and k, then one
  /// FMA by the scales' product per output into `accs`.
  SmallVector<Value> int8Step(OpBuilder &nb, Location l, ValueRange accs);
  /// One k step: Mr + Nr factor vectors, Mr x Nr FMAs into `accs`.
  SmallVector<Value> kStep(OpBuilder &nb, Location l, Value k, ValueRange accs,
                           Value mask);
  /// The k loop over full vectors, then one masked step for the tail.
  SmallVector<Value> kLoop(OpBuilder &nb, Location l, ValueRange accsIn);
  /// Loops over the other reduction dimensions (from `level` on) around the
  /// k loop.
  SmallVector<Value> reductionNest(OpBuilder &nb, Location l, unsigned level,
                                   ValueRange accsIn);
  /// The reduction loop level whose iterations go round-robin to the
  /// accumulator groups: the innermost loop around the int8 steps, else the
  /// innermost loop around the k loop, else the k loop (level
  /// dot.outerK.size()). None if there is no such loop or one group.
  std::optional<unsigned> unrolledLevel() const;
  /// `for iv = lb to ub step step` with `groups` bodies per iteration, the
  /// u-th at iv + u * step on the u-th group of `accsIn` (groups * Mr * Nr
  /// accumulators), then a loop of single steps on group 0 for the
  /// iterations past the last multiple of groups * step.
  using GroupBody = function_ref<SmallVector<Value>(OpBuilder &, Location,
                                                    Value, ValueRange)>;
  SmallVector<Value> unrolledLoop(OpBuilder &nb, Location l, Value ub,
                                  int64_t step, ValueRange accsIn,
                                  GroupBody body);
  /// Horizontal sums into an Mr x Nr block, added to C under the tile mask.
  Value updateOutputBlock(ArrayRef<Value> accs);

  RewriterBase &b;
  linalg::LinalgOp op;
  const DotContraction &dot;
  const Int8Dot *int8; ///< The int8 form, or null: f32 FMAs.
  const Bf16Dot *bf16; ///< The bf16 form (vdpbf16ps), or null.
  /// vl: f32 lanes of an accumulator; kl: k elements per step (2 * vl for
  /// bf16 pairs, else vl).
  int64_t mr, nr, vl, kl;
  /// Independent accumulator sets along the reduction (see unrolledLevel),
  /// added together before the horizontal sums.
  int64_t groups;
  Location loc;
  SmallVector<AffineMap> maps;
  VectorType vecType;
  SmallVector<Range, 4> ranges;
  Value c0, c1, zero, zeroVec, klValue, kMainValue, tailMask;
  SmallVector<Value> lhsRows, rhsRows;
  /// Induction variables of the loops over the other reduction dimensions.
  llvm::DenseMap<unsigned, Value> outerIvs;
};

Value DotKernelBuilder::evalFactor(OpBuilder &nb, Location l,
                                   const DotFactor &factor, unsigned rowDim,
                                   Value row, Value k, Value mask,
                                   int64_t lanes) {
  MLIRContext *ctx = nb.getContext();
  Block *body = op.getBlock();
  auto vectorOf = [&](Type t) { return VectorType::get({lanes}, t); };
  // Values of the body as scalars (the same in every lane: inputs not read
  // along k and what is computed from them only, such as a block's scale)
  // or as k vectors. Scalars are computed once and splat where a vector
  // needs them: lane-wise, a splat byte's widening and shifts would cost a
  // chain of inserts per lane.
  IRMapping scalars, vectors;
  auto scalarOf = [&](Value v) -> Value {
    if (Value s = scalars.lookupOrNull(v))
      return s;
    if (auto arg = dyn_cast<BlockArgument>(v); arg && arg.getOwner() == body)
      return Value();
    Operation *def = v.getDefiningOp();
    if (def && def->getBlock() == body) {
      if (!isa<arith::ConstantOp>(def))
        return Value();
      Value c = nb.clone(*def)->getResult(0);
      scalars.map(v, c);
      return c;
    }
    return v; // defined above the body
  };
  auto vectorValue = [&](Value v) -> Value {
    if (Value vec = vectors.lookupOrNull(v))
      return vec;
    Operation *def = v.getDefiningOp();
    Value splat;
    if (auto cst = dyn_cast_or_null<arith::ConstantOp>(def);
        cst && cst->getBlock() == body)
      splat = arith::ConstantOp::create(
          nb, l,
          DenseElementsAttr::get(vectorOf(v.getType()),
                                 cast<TypedAttr>(cst.getValue())));
    else
      splat = vector::BroadcastOp::create(nb, l, vectorOf(v.getType()),
                                          scalarOf(v));
    vectors.map(v, splat);
    return splat;
  };
  for (unsigned input : factor.inputs) {
    Value src = op.getDpsInputOperand(input)->get();
    AffineMap map = maps[input];
    SmallVector<Value> idx;
    for (AffineExpr e : map.getResults()) {
      if (auto cst = dyn_cast<AffineConstantExpr>(e)) {
        idx.push_back(
            arith::ConstantIndexOp::create(nb, l, cst.getValue()).getResult());
        continue;
      }
      unsigned pos = cast<AffineDimExpr>(e).getPosition();
      Value outer = outerIvs.lookup(pos);
      idx.push_back(pos == rowDim  ? row
                    : pos == dot.k ? k
                    : outer        ? outer
                                   : c0);
    }
    Type elt = getElementTypeOrSelf(src.getType());
    BlockArgument arg = body->getArgument(input);
    if (map.isFunctionOfDim(dot.k)) {
      int64_t rank = map.getNumResults();
      Value pad = arith::ConstantOp::create(nb, l, nb.getZeroAttr(elt));
      vectors.map(arg, vector::TransferReadOp::create(
                           nb, l, vectorOf(elt), src, idx,
                           AffineMapAttr::get(
                               AffineMap::getMinorIdentityMap(rank, 1, ctx)),
                           pad, mask, nb.getBoolArrayAttr({true})));
    } else {
      scalars.map(arg, tensor::ExtractOp::create(nb, l, src, idx));
    }
  }
  for (Operation *bodyOp : factor.ops) {
    bool scalar = llvm::all_of(bodyOp->getOperands(), [&](Value v) {
      return !vectors.contains(v) && scalarOf(v);
    });
    if (scalar) {
      SmallVector<Value> operands;
      for (Value operand : bodyOp->getOperands())
        operands.push_back(scalarOf(operand));
      OperationState state(l, bodyOp->getName());
      state.addOperands(operands);
      state.addAttributes(bodyOp->getAttrs());
      state.addTypes(bodyOp->getResultTypes());
      scalars.map(bodyOp->getResult(0), nb.create(state)->getResult(0));
      continue;
    }
    SmallVector<Value> operands;
    for (Value operand : bodyOp->getOperands())
      operands.push_back(vectorValue(operand));
    OperationState state(l, bodyOp->getName());
    state.addOperands(operands);
    state.addAttributes(bodyOp->getAttrs());
    state.addTypes(vectorOf(bodyOp->getResult(0).getType()));
    vectors.map(bodyOp->getResult(0), nb.create(state)->getResult(0));
  }
  Value result = vectorValue(factor.root);
  // Masked-off lanes read 0, but fused ops may turn that into inf or NaN:
  // zero them so they add nothing.
  if (mask)
    result = arith::SelectOp::create(
        nb, l, mask, result,
        arith::ConstantOp::create(nb, l, nb.getZeroAttr(result.getType())));
  return result;
}

SmallVector<Value> DotKernelBuilder::kStep(OpBuilder &nb, Location l, Value k,
                                           ValueRange accs, Value mask) {
  // The bf16 form reads its factors' bf16 values (2 * vl of them) and sums
  // their pairs' products into each accumulator; else vl f32 lanes, FMAs.
  const DotFactor &lhs = bf16 ? bf16->lhs : dot.lhs;
  const DotFactor &rhs = bf16 ? bf16->rhs : dot.rhs;
  SmallVector<Value> a, w, next;
  for (Value row : lhsRows)
    a.push_back(evalFactor(nb, l, lhs, dot.m, row, k, mask, kl));
  for (Value row : rhsRows)
    w.push_back(evalFactor(nb, l, rhs, dot.n, row, k, mask, kl));
  for (int64_t i = 0; i < mr; ++i)
    for (int64_t j = 0; j < nr; ++j) {
      Value acc = accs[i * nr + j];
      next.push_back(
          bf16 ? x86vector::DotBF16Op::create(nb, l, vecType, acc, a[i], w[j])
                     .getResult()
               : vector::FMAOp::create(nb, l, a[i], w[j], acc).getResult());
    }
  return next;
}

std::optional<unsigned> DotKernelBuilder::unrolledLevel() const {
  if (groups == 1)
    return std::nullopt;
  if (int8) {
    if (int8->scaleLoops.empty())
      return std::nullopt;
    return int8->scaleLoops.size() - 1;
  }
  return dot.outerK.empty() ? 0 : dot.outerK.size() - 1;
}

SmallVector<Value> DotKernelBuilder::unrolledLoop(OpBuilder &nb, Location l,
                                                  Value ub, int64_t step,
                                                  ValueRange accsIn,
                                                  GroupBody body) {
  const int64_t per = mr * nr;
  AffineExpr d0 = nb.getAffineDimExpr(0);
  OpFoldResult mainEndFold = affine::makeComposedFoldedAffineApply(
      nb, l, d0.floorDiv(step * groups) * (step * groups), {OpFoldResult(ub)});
  Value mainEnd = getValueOrCreateConstantIndexOp(nb, l, mainEndFold);
  Value mainStep = arith::ConstantIndexOp::create(nb, l, step * groups);
  auto main = scf::ForOp::create(
      nb, l, c0, mainEnd, mainStep, accsIn,
      [&](OpBuilder &lb, Location ll, Value iv, ValueRange accs) {
        SmallVector<Value> next;
        for (int64_t u = 0; u < groups; ++u) {
          Value at =
              u == 0 ? iv
                     : arith::AddIOp::create(
                           lb, ll, iv,
                           arith::ConstantIndexOp::create(lb, ll, u * step));
          llvm::append_range(next, body(lb, ll, at, accs.slice(u * per, per)));
        }
        scf::YieldOp::create(lb, ll, next);
      });
  SmallVector<Value> accs(main.getResults());
  std::optional<int64_t> staticEnd = getConstantIntValue(mainEndFold);
  if (staticEnd && staticEnd == getConstantIntValue(ub))
    return accs; // no iterations left
  auto rest = scf::ForOp::create(
      nb, l, mainEnd, ub, arith::ConstantIndexOp::create(nb, l, step),
      ValueRange(accs).take_front(per),
      [&](OpBuilder &lb, Location ll, Value iv, ValueRange groupAccs) {
        scf::YieldOp::create(lb, ll, body(lb, ll, iv, groupAccs));
      });
  llvm::copy(rest.getResults(), accs.begin());
  return accs;
}

SmallVector<Value> DotKernelBuilder::kLoop(OpBuilder &nb, Location l,
                                           ValueRange accsIn) {
  SmallVector<Value> accs;
  if (unrolledLevel() == dot.outerK.size()) {
    accs = unrolledLoop(
        nb, l, kMainValue, kl, accsIn,
        [&](OpBuilder &lb, Location ll, Value k, ValueRange groupAccs) {
          return kStep(lb, ll, k, groupAccs, Value());
        });
  } else {
    auto loop = scf::ForOp::create(
        nb, l, c0, kMainValue, klValue, accsIn,
        [&](OpBuilder &lb, Location ll, Value k, ValueRange accs) {
          scf::YieldOp::create(lb, ll, kStep(lb, ll, k, accs, Value()));
        });
    accs = loop.getResults();
  }
  // The tail goes to the first group.
  if (tailMask) {
    SmallVector<Value> tail = kStep(
        nb, l, kMainValue, ValueRange(accs).take_front(mr * nr), tailMask);
    llvm::copy(tail, accs.begin());
  }
  return accs;
}

SmallVector<Value> DotKernelBuilder::reductionNest(OpBuilder &nb, Location l,
                                                   unsigned level,
                                                   ValueRange accsIn) {
  if (int8 && level == int8->scaleLoops.size())
    return int8Step(nb, l, accsIn);
  if (level == dot.outerK.size())
    return kLoop(nb, l, accsIn);
  unsigned dim = dot.outerK[level];
  Value size = getValueOrCreateConstantIndexOp(nb, l, ranges[dim].size);
  if (unrolledLevel() == level)
    return unrolledLoop(
        nb, l, size, 1, accsIn,
        [&](OpBuilder &lb, Location ll, Value iv, ValueRange groupAccs) {
          outerIvs[dim] = iv;
          return reductionNest(lb, ll, level + 1, groupAccs);
        });
  auto loop = scf::ForOp::create(
      nb, l, c0, size, c1, accsIn,
      [&](OpBuilder &lb, Location ll, Value iv, ValueRange accs) {
        outerIvs[dim] = iv;
        scf::YieldOp::create(lb, ll, reductionNest(lb, ll, level + 1, accs));
      });
  return SmallVector<Value>(loop.getResults());
}

SmallVector<Value> DotKernelBuilder::int8Step(OpBuilder &nb, Location l,
                                              ValueRange accs) {
  const int64_t lanes = int8->lanes;
  auto bytes = VectorType::get({int8->bytes}, nb.getI8Type());
  auto sums = VectorType::get({int8->bytes / 4}, nb.getI32Type());
  // acc + per i32 lane the sum of 4 products of unsigned bytes of u by
  // signed bytes of s (vpdpbusd, after smepilot-lower-x86-dot).
  auto dot4 = [&](Value acc, Value u, Value s) -> Value {
    return Dot4U8S8Op::create(nb, l, acc.getType(), acc, u, s);
  };
  // vpdpbusd multiplies unsigned by signed bytes: the weight's quants w
  // become w + 128 (w xor 0x80), and sum (w + 128) * a = sum w * a +
  // 128 * sum a, whose second term, per activation row, is subtracted. For
  // an unsigned quant x = w + c (rhsUnsigned) the term is c * sum a. The
  // byte c is also the xor's operand when c = 128 (0x80).
  Value offset = arith::ConstantOp::create(
      nb, l,
      DenseElementsAttr::get(
          bytes, nb.getIntegerAttr(nb.getI8Type(), int8->rhsOffset)));
  Value izero = arith::ConstantOp::create(nb, l, nb.getZeroAttr(sums));
  // Each row's quants over the integer iterations, concatenated.
  SmallVector<SmallVector<Value>> aParts(mr), wParts(nr);
  for (int64_t it = 0; it < int8->iterations; ++it) {
    for (int64_t i = int8->intLoops.size(), rest = it; i-- > 0;) {
      outerIvs[int8->intLoops[i]] =
          arith::ConstantIndexOp::create(nb, l, rest % int8->intExtents[i]);
      rest /= int8->intExtents[i];
    }
    for (auto [row, parts] : llvm::zip_equal(lhsRows, aParts))
      parts.push_back(
          evalFactor(nb, l, int8->lhs.quant, dot.m, row, c0, Value(), lanes));
    const DotFactor &weightQuant =
        int8->rhsUnsigned ? *int8->rhsUnsigned : int8->rhs.quant;
    for (auto [row, parts] : llvm::zip_equal(rhsRows, wParts))
      parts.push_back(
          evalFactor(nb, l, weightQuant, dot.n, row, c0, Value(), lanes));
  }
  for (unsigned d : int8->intLoops)
    outerIvs.erase(d);
  auto concat = [&](SmallVector<Value> parts) {
    while (parts.size() > 1) {
      SmallVector<Value> next;
      for (size_t p = 0; p < parts.size(); p += 2) {
        int64_t n = cast<VectorType>(parts[p].getType()).getNumElements();
        next.push_back(vector::ShuffleOp::create(
            nb, l, parts[p], parts[p + 1],
            llvm::to_vector(llvm::seq<int64_t>(0, 2 * n))));
      }
      parts = std::move(next);
    }
    return parts.front();
  };
  SmallVector<Value> a, w;
  for (SmallVector<Value> &parts : aParts)
    a.push_back(concat(parts));
  for (SmallVector<Value> &parts : wParts)
    w.push_back(int8->rhsUnsigned
                    ? concat(parts)
                    : arith::XOrIOp::create(nb, l, concat(parts), offset));
  // isum = sum (w + 128) * a - 128 * sum a (or sum x * a - c * sum a): the
  // correction is the initial value, negated.
  SmallVector<Value> isum;
  for (int64_t i = 0; i < mr; ++i) {
    Value corr = arith::SubIOp::create(nb, l, izero, dot4(izero, offset, a[i]));
    for (int64_t j = 0; j < nr; ++j)
      isum.push_back(dot4(corr, w[j], a[i]));
  }
  SmallVector<Value> sa, sw, next;
  for (Value row : lhsRows)
    sa.push_back(
        evalFactor(nb, l, int8->lhs.scale, dot.m, row, c0, Value(), vl));
  for (Value row : rhsRows)
    sw.push_back(
        evalFactor(nb, l, int8->rhs.scale, dot.n, row, c0, Value(), vl));
  for (int64_t i = 0; i < mr; ++i)
    for (int64_t j = 0; j < nr; ++j) {
      Value f = arith::SIToFPOp::create(nb, l, vecType, isum[i * nr + j]);
      Value scale = arith::MulFOp::create(nb, l, sa[i], sw[j]);
      next.push_back(vector::FMAOp::create(nb, l, f, scale, accs[i * nr + j]));
    }
  return next;
}

Value DotKernelBuilder::updateOutputBlock(ArrayRef<Value> accs) {
  Type f32 = b.getF32Type();
  auto blockType = VectorType::get({mr, nr}, f32);
  Value block = arith::ConstantOp::create(b, loc, b.getZeroAttr(blockType));
  for (int64_t i = 0; i < mr; ++i) {
    SmallVector<Value> sums;
    for (int64_t j = 0; j < nr; ++j)
      sums.push_back(vector::ReductionOp::create(
          b, loc, vector::CombiningKind::ADD, accs[i * nr + j],
          arith::FastMathFlags::reassoc));
    Value row = vector::FromElementsOp::create(
        b, loc, VectorType::get({nr}, f32), sums);
    block = vector::InsertOp::create(b, loc, row, block, ArrayRef<int64_t>{i});
  }
  // The block as an (m, n) view of C: a permutation of C's dimensions.
  AffineMap outMap = maps.back();
  SmallVector<AffineExpr> outDims;
  unsigned outRank = outMap.getNumResults();
  for (auto [pos, e] : llvm::enumerate(outMap.getResults()))
    if (cast<AffineDimExpr>(e).getPosition() == dot.m)
      outDims.insert(outDims.begin(), b.getAffineDimExpr(pos));
  for (auto [pos, e] : llvm::enumerate(outMap.getResults()))
    if (cast<AffineDimExpr>(e).getPosition() == dot.n)
      outDims.push_back(b.getAffineDimExpr(pos));
  AffineMap outPerm = AffineMap::get(outRank, 0, outDims, b.getContext());
  SmallVector<Value> outIdx(outRank, c0);
  Value outMask = vector::CreateMaskOp::create(
      b, loc, VectorType::get({mr, nr}, b.getI1Type()),
      ArrayRef<OpFoldResult>{ranges[dot.m].size, ranges[dot.n].size});
  ArrayAttr inBounds = b.getBoolArrayAttr({true, true});
  Value init = op.getDpsInitOperand(0)->get();
  Value old = vector::TransferReadOp::create(b, loc, blockType, init, outIdx,
                                             AffineMapAttr::get(outPerm), zero,
                                             outMask, inBounds);
  Value sum = arith::AddFOp::create(b, loc, old, block);
  return vector::TransferWriteOp::create(b, loc, init.getType(), sum, init,
                                         outIdx, AffineMapAttr::get(outPerm),
                                         outMask, inBounds)
      .getResult();
}

Value DotKernelBuilder::build() {
  b.setInsertionPoint(op);
  ranges = op.createLoopRanges(b, loc);
  Type f32 = b.getF32Type();
  c0 = arith::ConstantIndexOp::create(b, loc, 0);
  zero = arith::ConstantOp::create(b, loc, b.getZeroAttr(f32));
  zeroVec = arith::ConstantOp::create(b, loc, b.getZeroAttr(vecType));
  lhsRows = clampedBlockRows(b, loc, ranges[dot.m].size, mr);
  rhsRows = clampedBlockRows(b, loc, ranges[dot.n].size, nr);

  // k in full steps of kl [0, kMain), then a tail of k - kMain lanes.
  OpFoldResult kSize = ranges[dot.k].size;
  AffineExpr d0 = b.getAffineDimExpr(0);
  OpFoldResult kMain = affine::makeComposedFoldedAffineApply(
      b, loc, d0.floorDiv(kl) * kl, {kSize});
  kMainValue = getValueOrCreateConstantIndexOp(b, loc, kMain);
  klValue = arith::ConstantIndexOp::create(b, loc, kl);
  std::optional<int64_t> staticK = getConstantIntValue(kSize);
  if (!staticK || *staticK % kl != 0) {
    OpFoldResult rest = affine::makeComposedFoldedAffineApply(
        b, loc, d0 - d0.floorDiv(kl) * kl, {kSize});
    tailMask = vector::CreateMaskOp::create(
        b, loc, VectorType::get({kl}, b.getI1Type()),
        ArrayRef<OpFoldResult>{rest});
  }
  c1 = arith::ConstantIndexOp::create(b, loc, 1);

  const int64_t per = mr * nr;
  SmallVector<Value> inits(groupsUsed() * per, zeroVec);
  SmallVector<Value> accs = reductionNest(b, loc, 0, inits);
  for (int64_t u = 1, e = accs.size() / per; u < e; ++u)
    for (int64_t i = 0; i < per; ++i)
      accs[i] = arith::AddFOp::create(b, loc, accs[i], accs[u * per + i]);
  accs.resize(per);
  return updateOutputBlock(accs);
}

/// Replaces one register-block tile `op` (every loop but m, n and k of size
/// one; m <= mr, n <= nr) by the vector code described at the top of the
/// file. Returns the updated output tensor; `groups` becomes the number of
/// accumulator groups used.
Value buildDotKernel(RewriterBase &b, linalg::LinalgOp op,
                     const DotContraction &dot, const Int8Dot *int8,
                     const Bf16Dot *bf16, int64_t mr, int64_t nr, int64_t vl,
                     int64_t &groups) {
  DotKernelBuilder builder(b, op, dot, int8, bf16, mr, nr, vl, groups);
  groups = builder.groupsUsed();
  return builder.build();
}

/// Tiles `op` into register blocks and writes each as vector code; see the
/// top of the file. Returns false (leaving `op` alone) if tiling fails.
FailureOr<bool> tileDotContraction(RewriterBase &rewriter, linalg::LinalgOp op,
                                   const DotContraction &dot, int64_t vl,
                                   bool int8Dot, bool bf16Dot, bool report) {
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  // Decode (M = 1): a GEMV, one W row at a time (one contiguous stream per
  // thread), 4 accumulator groups along the reduction. Otherwise 4 x 4: 16
  // accumulators + 4 A + 4 W vectors fit the 32 zmm registers.
  int64_t mr = 4, nr = 4, groups = 1;
  if (!ShapedType::isDynamic(ranges[dot.m]) && ranges[dot.m] == 1) {
    mr = 1;
    nr = 1;
    groups = 4;
  }
  SmallVector<int64_t> tiles(op.getNumLoops(), 1);
  tiles[dot.k] = 0;
  for (unsigned r : dot.outerK)
    tiles[r] = 0;
  tiles[dot.m] = mr;
  tiles[dot.n] = nr;
  for (auto [tile, range] : llvm::zip_equal(tiles, ranges))
    if (!ShapedType::isDynamic(range) && range <= std::max<int64_t>(tile, 1))
      tile = 0;
  if (!ShapedType::isDynamic(ranges[dot.m]))
    mr = std::min(mr, ranges[dot.m]);
  if (!ShapedType::isDynamic(ranges[dot.n]))
    nr = std::min(nr, ranges[dot.n]);
  if (mr < 1 || nr < 1)
    return false;

  const Location opLoc = op.getLoc();
  SmallVector<Operation *> tiledOps{op};
  if (llvm::any_of(tiles, [](int64_t t) { return t != 0; })) {
    rewriter.setInsertionPoint(op);
    scf::SCFTilingOptions options;
    options.setLoopType(scf::SCFTilingOptions::LoopType::ForOp);
    options.setTileSizes(getAsIndexOpFoldResult(rewriter.getContext(), tiles));
    // n outside m: a block of W rows is loaded from memory once.
    SmallVector<int64_t> order = llvm::to_vector(
        llvm::seq<int64_t>(0, static_cast<int64_t>(op.getNumLoops())));
    if (dot.m < dot.n)
      std::swap(order[dot.m], order[dot.n]);
    options.setInterchange(order);
    FailureOr<scf::SCFTilingResult> tiled = scf::tileUsingSCF(
        rewriter, cast<TilingInterface>(op.getOperation()), options);
    if (failed(tiled))
      return false;
    rewriter.replaceOp(op, tiled->replacements);
    tiledOps = tiled->tiledOps;
  }
  // Where the remark goes, taken now: the ops are replaced below.
  const Location remarkLoc = tiledOps.empty() ? opLoc : tiledOps[0]->getLoc();
  int64_t int8Bytes = 0;  // of the int8 form's vectors, if taken
  bool bf16Pairs = false; // the bf16 form taken
  for (Operation *tiledOp : tiledOps) {
    auto tile = cast<linalg::LinalgOp>(tiledOp);
    // The factors refer to body ops: match the tile's own (cloned) body.
    std::optional<DotContraction> tileDot = matchDotContraction(tile);
    if (!tileDot)
      return static_cast<LogicalResult>(
          tile->emitError("smepilot-tile-cpu: tiled contraction lost its "
                          "dot-product form"));
    std::optional<Int8Dot> int8;
    if (int8Dot)
      int8 = matchInt8Dot(tile, *tileDot);
    int8Bytes = int8 ? int8->bytes : 0;
    // Not for a single row (decode): that GEMV is bound by the weight
    // stream, and measured 5-12% slower with vdpbf16ps than with widening
    // FMAs on the 1B BF16 model (bench/RESULTS.md).
    std::optional<Bf16Dot> bf16;
    if (bf16Dot && !int8 && mr > 1)
      bf16 = matchBf16Dot(tile, *tileDot);
    bf16Pairs = bf16.has_value();
    Value result =
        buildDotKernel(rewriter, tile, *tileDot, int8 ? &*int8 : nullptr,
                       bf16 ? &*bf16 : nullptr, mr, nr, vl, groups);
    rewriter.replaceOp(tile, result);
  }
  if (report) {
    InFlightDiagnostic diag = mlir::emitRemark(remarkLoc);
    diag << "smepilot-tile-cpu: dot-product schedule, register block " << mr
         << "x" << nr;
    if (groups > 1)
      diag << ", " << groups << " accumulator groups";
    if (int8Bytes)
      diag << ", int8 dot products (vpdpbusd) on " << int8Bytes << " bytes";
    else if (bf16Pairs)
      diag << ", bf16 pair dot products (vdpbf16ps) on k vectors of " << 2 * vl;
    else
      diag << ", k vectors of " << vl;
  }
  return true;
}

/// A contraction whose innermost reduction loops split one contiguous
/// dimension into short pieces -- Q K^T over head_dim as [32, 2] pairs,
/// after the reshapes of RoPE's rotated pairs were propagated into it --
/// gets those loops collapsed into one (linalg::collapseOpIterationDims,
/// reshaping the operands), so the dot-product schedule sees a k as long as
/// the dimension: a k loop of 2 lanes under a loop of 32 would mask 14 of
/// every 16 lanes. Collapsed: the trailing run of static reduction loops
/// that every operand reads as one contiguous sequence, when the innermost
/// is shorter than `vl`. Returns the op to schedule (`op` itself if there
/// was nothing to collapse).
linalg::LinalgOp collapseSplitReduction(RewriterBase &rewriter,
                                        linalg::LinalgOp op, int64_t vl) {
  if (!isa<linalg::GenericOp>(op.getOperation()) || op.hasIndexSemantics())
    return op;
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  auto isStaticReduction = [&](int64_t d) {
    return iterators[d] == utils::IteratorType::reduction &&
           !ShapedType::isDynamic(ranges[d]);
  };
  int64_t last = op.getNumLoops() - 1;
  if (last < 1 || !isStaticReduction(last) || ranges[last] >= vl)
    return op;
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  ReassociationIndices run{last};
  for (int64_t d = last - 1; d >= 0 && isStaticReduction(d); --d) {
    ReassociationIndices longer{d};
    llvm::append_range(longer, run);
    if (!linalg::areDimSequencesPreserved(maps, {longer}))
      break;
    run = std::move(longer);
  }
  if (run.size() < 2)
    return op;
  // Every other loop stays as it is.
  SmallVector<ReassociationIndices> folded{run};
  rewriter.setInsertionPoint(op);
  FailureOr<linalg::CollapseResult> collapsed =
      linalg::collapseOpIterationDims(op, folded, rewriter);
  if (failed(collapsed))
    return op;
  rewriter.replaceOp(op, collapsed->results);
  return collapsed->collapsedOp;
}

/// A masked floating-point min/max reduction becomes an unmasked one over
/// the source with the reduction's identity (-inf for max, +inf for min)
/// selected into the masked-off lanes. The LLVM 22 lowering of a masked
/// `maximumf` reduction fills those lanes with -FLT_TRUE_MIN (the negative
/// number closest to zero, not the most negative one; `minimumf` gets
/// FLT_MAX): a dynamic row whose values are all below zero then gets a row
/// max of about 0. Softmax subtracts the same max in its sum and its
/// probabilities, so a slightly large max cancels out, until every score is
/// more than ~88 below it: then every exp underflows, the sum is 0 and the
/// probabilities 0 * inf = NaN (attention with large-magnitude scores).
struct MaskedMinMaxReduction : OpRewritePattern<vector::MaskOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(vector::MaskOp maskOp,
                                PatternRewriter &rewriter) const override {
    if (maskOp.hasPassthru())
      return failure();
    auto reduction =
        dyn_cast_or_null<vector::MultiDimReductionOp>(maskOp.getMaskableOp());
    if (!reduction)
      return failure();
    bool isMax;
    switch (reduction.getKind()) {
    case vector::CombiningKind::MAXIMUMF:
    case vector::CombiningKind::MAXNUMF:
      isMax = true;
      break;
    case vector::CombiningKind::MINIMUMF:
    case vector::CombiningKind::MINNUMF:
      isMax = false;
      break;
    default:
      return failure();
    }
    VectorType sourceType = reduction.getSourceVectorType();
    auto elementType = dyn_cast<FloatType>(sourceType.getElementType());
    if (!elementType ||
        maskOp.getMask().getType() != reduction.getExpectedMaskType())
      return failure();
    Location loc = maskOp.getLoc();
    APFloat identity =
        APFloat::getInf(elementType.getFloatSemantics(), /*Negative=*/isMax);
    Value identities =
        arith::ConstantOp::create(rewriter, loc, sourceType,
                                  DenseElementsAttr::get(sourceType, identity));
    Value source = arith::SelectOp::create(rewriter, loc, maskOp.getMask(),
                                           reduction.getSource(), identities);
    rewriter.replaceOpWithNewOp<vector::MultiDimReductionOp>(
        maskOp, source, reduction.getAcc(), reduction.getReductionMask(),
        reduction.getKind());
    return success();
  }
};

struct TileCPUPass : public smepilot::impl::TileCPUBase<TileCPUPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<int64_t> contractionTiles(contractionTileSizes.begin(),
                                          contractionTileSizes.end());
    if (contractionTiles.empty())
      contractionTiles = {16, 16, 1};
    if (contractionTiles.size() != 3 ||
        llvm::any_of(contractionTiles, [](int64_t t) { return t <= 0; }) ||
        vectorWidth <= 0) {
      getOperation().emitError("smepilot-tile-cpu: contraction-tile-sizes "
                               "needs three positive sizes (m,n,k) and "
                               "vector-width must be positive");
      return signalPassFailure();
    }

    SmallVector<linalg::LinalgOp> ops;
    getOperation().walk([&](linalg::LinalgOp op) {
      if (op.hasPureTensorSemantics() && op.getNumLoops() > 0 &&
          !isForOtherUnit(op))
        ops.push_back(op);
    });

    IRRewriter rewriter(&getContext());
    for (linalg::LinalgOp op : ops) {
      // A static dimension of size 0: the op does nothing, and a vector of
      // 0 lanes does not exist. Its loops (lowered later) run no iteration.
      if (llvm::is_contained(op.getStaticLoopRanges(), 0)) {
        if (report)
          op->emitRemark("smepilot-tile-cpu: empty iteration space, not "
                         "tiled");
        continue;
      }
      std::optional<DotContraction> dot = matchDotContraction(op);
      if (dot) {
        // The factors refer to body ops: match the collapsed op's own.
        linalg::LinalgOp collapsed =
            collapseSplitReduction(rewriter, op, vectorWidth);
        if (collapsed != op) {
          op = collapsed;
          dot = matchDotContraction(op);
        }
      }
      if (dot) {
        FailureOr<bool> done = tileDotContraction(
            rewriter, op, *dot, vectorWidth, int8Dot, bf16Dot, report);
        if (failed(done))
          return signalPassFailure();
        if (*done)
          continue;
      }
      SmallVector<int64_t> ranges = op.getStaticLoopRanges();
      SmallVector<int64_t> tiles =
          desiredTileSizes(op, contractionTiles, vectorWidth);
      // A gather (tensor.extract in the body, as the MoE's rows of the
      // tokens routed to an expert) over a dynamic dimension: tiles of 1
      // along it, so its vectors are static. The LLVM 22 vectorizer masks a
      // gather over a dynamic dimension with a mask of the wrong rank
      // (vector<1x16xi1> for a vector<16xindex> gather): invalid IR.
      bool gathers = false;
      op.getBlock()->walk([&](tensor::ExtractOp) { gathers = true; });
      if (gathers)
        for (auto [tile, range] : llvm::zip_equal(tiles, ranges))
          if (ShapedType::isDynamic(range))
            tile = 1;
      SmallVector<int64_t> vectorSizes(tiles.size());
      for (auto [tile, vecSize, range] :
           llvm::zip_equal(tiles, vectorSizes, ranges)) {
        if (!ShapedType::isDynamic(range) && range <= tile) {
          vecSize = range; // fits in one tile: leave it untiled
          tile = 0;
        } else {
          vecSize = tile;
        }
      }

      SmallVector<Operation *> tiledOps{op};
      if (llvm::any_of(tiles, [](int64_t t) { return t != 0; })) {
        rewriter.setInsertionPoint(op);
        scf::SCFTilingOptions options;
        options.setLoopType(scf::SCFTilingOptions::LoopType::ForOp);
        options.setTileSizes(getAsIndexOpFoldResult(&getContext(), tiles));
        FailureOr<scf::SCFTilingResult> tiled = scf::tileUsingSCF(
            rewriter, cast<TilingInterface>(op.getOperation()), options);
        if (failed(tiled)) {
          if (report)
            op->emitRemark("smepilot-tile-cpu: not tiled, lowered to loops");
          continue;
        }
        rewriter.replaceOp(op, tiled->replacements);
        tiledOps = tiled->tiledOps;
      }
      // Where the remark goes, taken now: the ops are replaced below.
      const Location remarkLoc =
          tiledOps.empty() ? getOperation().getLoc() : tiledOps[0]->getLoc();

      bool vectorized = true;
      SmallVector<bool> scalableDims(vectorSizes.size(), false);
      for (Operation *tiledOp : tiledOps) {
        rewriter.setInsertionPoint(tiledOp);
        // Explicit non-scalable flags: an empty list makes the LLVM 22
        // vectorizer build reduction types of the wrong rank.
        // Contractions become vector.contract (lowered to outer products
        // later), not mulf + multi_reduction over a unit k dimension, which
        // would unroll to scalar multiplies.
        FailureOr<linalg::VectorizationResult> result = linalg::vectorize(
            rewriter, tiledOp, vectorSizes, scalableDims,
            /*vectorizeNDExtract=*/true, /*flatten1DDepthwiseConv=*/false,
            /*assumeDynamicDimsMatchVecSizes=*/false,
            /*createNamedContraction=*/true);
        if (failed(result)) {
          vectorized = false;
          continue;
        }
        rewriter.replaceOp(tiledOp, result->replacements);
      }
      if (report) {
        InFlightDiagnostic diag = mlir::emitRemark(remarkLoc);
        diag << "smepilot-tile-cpu: tiles [";
        llvm::interleaveComma(tiles, diag);
        diag << "] vector sizes [";
        llvm::interleaveComma(vectorSizes, diag);
        diag << "] " << (vectorized ? "vectorized" : "scalar fallback");
      }
    }

    // Generic contractions vectorize to mulf + multi_reduction over k; with
    // k tiles of 1 that would unroll into scalar multiplies. Fold them into
    // vector.contract (lowered to outer products = FMAs of 16-lane rows).
    // Masked min/max reductions (row maxima of dynamic rows) select their
    // identity into the masked-off lanes instead of relying on the lowering.
    RewritePatternSet patterns(&getContext());
    vector::populateVectorReductionToContractPatterns(patterns);
    patterns.add<MaskedMinMaxReduction>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
    foldContractionBroadcasts();
  }

  /// A generic contraction (P V over KV heads, query heads and queries) is
  /// vectorized with each operand read into the whole iteration space
  /// (transfer_reads whose permutation maps broadcast) and identity maps on
  /// the vector.contract, whose lowering then unrolls into scalar multiplies
  /// (prefill P V ran at ~9 GFLOP/s). Reading each operand in its own shape,
  /// folding the broadcasts and transposes into the contraction's maps and
  /// dropping its leading unit dimensions leaves an [m, k] x [k, n]
  /// contraction, which lowers to outer products (an FMA of a broadcast lhs
  /// element and an rhs row per output row). Only these contractions and
  /// their operands' reads are rewritten.
  void foldContractionBroadcasts() {
    SmallVector<Operation *> targets;
    getOperation().walk([&](vector::ContractionOp contract) {
      auto readsBroadcast = [](Value v) {
        auto read = v.getDefiningOp<vector::TransferReadOp>();
        return read && !read.getPermutationMap().isMinorIdentity() &&
               !read.getMask();
      };
      if (!readsBroadcast(contract.getLhs()) &&
          !readsBroadcast(contract.getRhs()))
        return;
      targets.push_back(contract);
      for (Value v : {contract.getLhs(), contract.getRhs()})
        if (readsBroadcast(v))
          targets.push_back(v.getDefiningOp());
    });
    if (targets.empty())
      return;
    RewritePatternSet patterns(&getContext());
    vector::populateVectorTransferPermutationMapLoweringPatterns(patterns);
    vector::populateVectorReductionToContractPatterns(patterns);
    vector::populateCastAwayVectorLeadingOneDimPatterns(patterns);
    GreedyRewriteConfig config;
    config.setStrictness(GreedyRewriteStrictness::ExistingAndNewOps);
    if (failed(applyOpPatternsGreedily(targets, std::move(patterns), config)))
      return signalPassFailure();
  }
};

} // namespace
