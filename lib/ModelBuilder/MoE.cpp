//===- MoE.cpp - mixture-of-experts feed-forward (qwen3moe) ---------------===//
//
// The MoE feed-forward of a layer, with the reference executor's semantics
// (runtime/src/reference_executor.cpp, ffn_moe) for the ffn-normed rows
// h [C, D]:
//
//   logits [C, E] = h Wr^T                                   (linalg.matmul)
//   p = softmax(logits) per row (max subtracted, sum in f64, times
//       f32(1 / sum)), or sigmoid(logits)                    (linalg.generic)
//   per token: k passes of argmax over the experts not taken yet (strictly
//       greater wins: ties go to the lower id) -> (id, p[id]) per slot;
//       renormalized as w / sum(w) in f64 when expert_weights_norm
//                                                 (scf.for, tensor.extract)
//   out[c] = sum over slots s in order of w[c, s] * expert_{id[c, s]}(h[c])
//       with expert_e(x) = Wd_e (silu(Wg_e x) * (Wu_e x))
//
// Which experts a token uses is data: the top-k is a loop nest over tensors
// (linalg has no top-k), and the chosen expert's weights are a
// tensor.extract_slice of the stacked [E, ...] weights at the dynamic id, so
// each (token, slot) runs k small GEMVs. Everything stays in scf, tensor,
// arith and linalg, which the host pipeline lowers; there is no runtime
// callback.
//
// Decode (C = 1) runs the k experts of its token as GEMVs on the slices.
// Prefill chunks group the work by expert, as the reference does: per expert
// the list of (token, slot) rows routed to it is built at run time in an
// scf loop, its rows of h are gathered into a dynamically sized [M_e, D],
// the expert's three projections are GEMMs over them, and the outputs are
// scattered back and summed per token in slot order.
//
//===----------------------------------------------------------------------===//

#include "GraphEmitter.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <limits>

using namespace mlir;
using namespace mlir::smepilot;
using namespace mlir::smepilot::detail;

namespace {

using LoopBody =
    llvm::function_ref<SmallVector<Value>(Value iv, ValueRange iters)>;

/// scf.for %iv = lb to ub step 1 iter_args(inits), its body emitted through
/// g's builder (so GraphEmitter helpers work inside); returns the results.
SmallVector<Value> emitFor(GraphEmitter &g, Value lb, Value ub,
                           ValueRange inits, LoopBody body) {
  OpBuilder &b = g.builder();
  auto loop = scf::ForOp::create(
      b, g.location(), lb, ub, g.indexConst(1), inits,
      [&](OpBuilder &nb, Location l, Value iv, ValueRange iters) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
        SmallVector<Value> results = body(iv, iters);
        scf::YieldOp::create(b, l, results);
      });
  return SmallVector<Value>(loop.getResults());
}

Value emptyOf(GraphEmitter &g, ArrayRef<int64_t> shape, Type elementType) {
  return tensor::EmptyOp::create(g.builder(), g.location(), shape, elementType);
}

/// Expert probabilities [C, E] from the router logits [C, E].
Value emitGating(GraphEmitter &g, const ModelDescription &desc, Value logits) {
  OpBuilder &b = g.builder();
  Location loc = g.location();
  MLIRContext *ctx = b.getContext();
  auto type = cast<RankedTensorType>(logits.getType());
  const int64_t c = type.getDimSize(0);
  AffineMap id = AffineMap::getMultiDimIdentityMap(2, ctx);
  AffineMap row = AffineMap::get(2, 0, {b.getAffineDimExpr(0)}, ctx);
  SmallVector<utils::IteratorType> par(2, utils::IteratorType::parallel);
  SmallVector<utils::IteratorType> red = {utils::IteratorType::parallel,
                                          utils::IteratorType::reduction};

  if (desc.expertGating == ExpertGating::Sigmoid)
    return linalg::GenericOp::create(
               b, loc, TypeRange{type}, ValueRange{logits},
               ValueRange{g.empty(type.getShape())},
               ArrayRef<AffineMap>{id, id}, par,
               [](OpBuilder &nb, Location l, ValueRange args) {
                 linalg::YieldOp::create(nb, l, emitSigmoid(nb, l, args[0]));
               })
        .getResult(0);

  // Softmax as ref::softmax: max, sum of exp(x - max) in f64, then
  // exp(x - max) * f32(1 / sum).
  Value rowMax = g.rowMax(logits);
  Type f64 = b.getF64Type();
  Value zero64 = arith::ConstantOp::create(b, loc, b.getF64FloatAttr(0.0));
  Value sumInit = linalg::FillOp::create(b, loc, ValueRange{zero64},
                                         ValueRange{emptyOf(g, {c}, f64)})
                      .getResult(0);
  Value rowSum =
      linalg::GenericOp::create(
          b, loc, TypeRange{sumInit.getType()}, ValueRange{logits, rowMax},
          ValueRange{sumInit}, ArrayRef<AffineMap>{id, row, row}, red,
          [](OpBuilder &nb, Location l, ValueRange args) {
            Value e = math::ExpOp::create(
                nb, l, arith::SubFOp::create(nb, l, args[0], args[1]));
            Value e64 = arith::ExtFOp::create(nb, l, nb.getF64Type(), e);
            Value sum = arith::AddFOp::create(nb, l, args[2], e64);
            linalg::YieldOp::create(nb, l, sum);
          })
          .getResult(0);
  return linalg::GenericOp::create(
             b, loc, TypeRange{type}, ValueRange{logits, rowMax, rowSum},
             ValueRange{g.empty(type.getShape())},
             ArrayRef<AffineMap>{id, row, row, id}, par,
             [](OpBuilder &nb, Location l, ValueRange args) {
               Value e = math::ExpOp::create(
                   nb, l, arith::SubFOp::create(nb, l, args[0], args[1]));
               Value one =
                   arith::ConstantOp::create(nb, l, nb.getF64FloatAttr(1.0));
               Value inv64 = arith::DivFOp::create(nb, l, one, args[2]);
               Value inv =
                   arith::TruncFOp::create(nb, l, nb.getF32Type(), inv64);
               Value p = arith::MulFOp::create(nb, l, e, inv);
               linalg::YieldOp::create(nb, l, p);
             })
      .getResult(0);
}

/// Top-k of the probabilities [C, E]: expert ids [C, K] (i32) and their
/// weights [C, K], slot order = decreasing probability, ties to the lower id.
std::pair<Value, Value> emitTopK(GraphEmitter &g, const ModelDescription &desc,
                                 int64_t chunk, Value probs) {
  OpBuilder &b = g.builder();
  Location loc = g.location();
  const int64_t k = desc.nExpertUsed, e = desc.nExpert;
  Type i32 = b.getI32Type(), f32 = b.getF32Type(), f64 = b.getF64Type();
  Value c0 = g.indexConst(0), c1 = g.indexConst(1);
  Value nTok = g.indexConst(chunk), nSlot = g.indexConst(k),
        nExp = g.indexConst(e);
  Value ninf = g.f32Const(-std::numeric_limits<float>::infinity());
  Value ids0 = emptyOf(g, {chunk, k}, i32), ws0 = emptyOf(g, {chunk, k}, f32);

  // The probabilities tensor is the loop's scratch: a taken expert's entry
  // becomes -inf, below every probability, so a later pass skips it.
  SmallVector<Value> res = emitFor(
      g, c0, nTok, ValueRange{probs, ids0, ws0},
      [&](Value tok, ValueRange it) -> SmallVector<Value> {
        SmallVector<Value> picked = emitFor(
            g, c0, nSlot, it,
            [&](Value slot, ValueRange st) -> SmallVector<Value> {
              Value p = st[0];
              Value first =
                  tensor::ExtractOp::create(b, loc, p, ValueRange{tok, c0});
              SmallVector<Value> best = emitFor(
                  g, c1, nExp, ValueRange{c0, first},
                  [&](Value ex, ValueRange acc) -> SmallVector<Value> {
                    Value v = tensor::ExtractOp::create(b, loc, p,
                                                        ValueRange{tok, ex});
                    Value gt = arith::CmpFOp::create(
                        b, loc, arith::CmpFPredicate::OGT, v, acc[1]);
                    return {arith::SelectOp::create(b, loc, gt, ex, acc[0]),
                            arith::SelectOp::create(b, loc, gt, v, acc[1])};
                  });
              Value id = arith::IndexCastOp::create(b, loc, i32, best[0]);
              Value ids = tensor::InsertOp::create(b, loc, id, st[1],
                                                   ValueRange{tok, slot});
              Value ws = tensor::InsertOp::create(b, loc, best[1], st[2],
                                                  ValueRange{tok, slot});
              Value masked = tensor::InsertOp::create(b, loc, ninf, p,
                                                      ValueRange{tok, best[0]});
              return {masked, ids, ws};
            });
        if (!desc.expertWeightsNorm)
          return picked;
        // w / sum(w), in f64 as the reference.
        Value zero = arith::ConstantOp::create(b, loc, b.getF64FloatAttr(0.0));
        Value sum =
            emitFor(g, c0, nSlot, ValueRange{zero},
                    [&](Value slot, ValueRange acc) -> SmallVector<Value> {
                      Value w = tensor::ExtractOp::create(
                          b, loc, picked[2], ValueRange{tok, slot});
                      Value w64 = arith::ExtFOp::create(b, loc, f64, w);
                      return {arith::AddFOp::create(b, loc, acc[0], w64)};
                    })[0];
        Value ws =
            emitFor(g, c0, nSlot, ValueRange{picked[2]},
                    [&](Value slot, ValueRange acc) -> SmallVector<Value> {
                      Value w = tensor::ExtractOp::create(
                          b, loc, acc[0], ValueRange{tok, slot});
                      Value w64 = arith::ExtFOp::create(b, loc, f64, w);
                      Value n64 = arith::DivFOp::create(b, loc, w64, sum);
                      Value n = arith::TruncFOp::create(b, loc, f32, n64);
                      return {tensor::InsertOp::create(b, loc, n, acc[0],
                                                       ValueRange{tok, slot})};
                    })[0];
        return {picked[0], picked[1], ws};
      });
  return {res[1], res[2]};
}

/// The [Fe, D] or [D, Fe] matrix of expert `expert` (an index value) in a
/// stacked [E, R, K] weight: a rank-reducing slice at a dynamic offset.
Value expertSlice(GraphEmitter &g, Value stacked, Value expert) {
  OpBuilder &b = g.builder();
  // [E, rest...] -> [rest...]: the expert's weight in the stack's format.
  auto type = cast<RankedTensorType>(stacked.getType());
  ArrayRef<int64_t> rest = type.getShape().drop_front();
  OpFoldResult zero = b.getIndexAttr(0), one = b.getIndexAttr(1);
  SmallVector<OpFoldResult> offsets(type.getRank(), zero);
  offsets[0] = expert;
  SmallVector<OpFoldResult> sizes = {one};
  for (int64_t s : rest)
    sizes.push_back(b.getIndexAttr(s));
  SmallVector<OpFoldResult> strides(type.getRank(), one);
  return tensor::ExtractSliceOp::create(
      b, g.location(), RankedTensorType::get(rest, type.getElementType()),
      stacked, offsets, sizes, strides);
}

/// Per token, the weighted sum of its k experts in slot order: k [1, D]
/// GEMMs (GEMVs) per expert matrix on slices at the dynamic id. The decode
/// form.
Value emitPerTokenExperts(GraphEmitter &g, const ModelDescription &desc,
                          int64_t chunk, Value h, const MoeWeights &w,
                          Value ids, Value weights) {
  OpBuilder &b = g.builder();
  Location loc = g.location();
  MLIRContext *ctx = b.getContext();
  const int64_t d = desc.nEmbd;
  Value c0 = g.indexConst(0);
  AffineMap id = AffineMap::getMultiDimIdentityMap(2, ctx);
  SmallVector<utils::IteratorType> par(2, utils::IteratorType::parallel);
  OpFoldResult zero = b.getIndexAttr(0), one = b.getIndexAttr(1);
  SmallVector<OpFoldResult> rowSizes = {one, b.getIndexAttr(d)};
  SmallVector<OpFoldResult> unit(2, one);
  return emitFor(
      g, c0, g.indexConst(chunk), ValueRange{g.empty({chunk, d})},
      [&](Value tok, ValueRange out) -> SmallVector<Value> {
        SmallVector<OpFoldResult> rowOffsets = {tok, zero};
        Value hRow = tensor::ExtractSliceOp::create(
            b, loc, g.f32Tensor({1, d}), h, rowOffsets, rowSizes, unit);
        Value acc = emitFor(
            g, c0, g.indexConst(desc.nExpertUsed),
            ValueRange{g.filled({1, d}, 0.0)},
            [&](Value slot, ValueRange accIn) -> SmallVector<Value> {
              Value eId =
                  tensor::ExtractOp::create(b, loc, ids, ValueRange{tok, slot});
              Value expert =
                  arith::IndexCastOp::create(b, loc, b.getIndexType(), eId);
              Value wgt = tensor::ExtractOp::create(b, loc, weights,
                                                    ValueRange{tok, slot});
              Value gate =
                  g.projection(hRow, expertSlice(g, w.gateExps, expert));
              Value up = g.projection(hRow, expertSlice(g, w.upExps, expert));
              Value down = g.projection(g.swiglu(gate, up),
                                        expertSlice(g, w.downExps, expert));
              // acc += w * down.
              return {
                  linalg::GenericOp::create(
                      b, loc, TypeRange{accIn[0].getType()}, ValueRange{down},
                      ValueRange{accIn[0]}, ArrayRef<AffineMap>{id, id}, par,
                      [&](OpBuilder &nb, Location l, ValueRange args) {
                        Value s = arith::MulFOp::create(nb, l, wgt, args[0]);
                        Value y = arith::AddFOp::create(nb, l, args[1], s);
                        linalg::YieldOp::create(nb, l, y);
                      })
                      .getResult(0)};
            })[0];
        return {tensor::InsertSliceOp::create(b, loc, acc, out[0], rowOffsets,
                                              rowSizes, unit)
                    .getResult()};
      })[0];
}

/// Grouped experts, the prefill form (the reference's order of work): per
/// expert e, the list of rows r = token * K + slot routed to it is built at
/// run time, those tokens' h rows are gathered into [M_e, D] (M_e dynamic),
/// the expert's SwiGLU runs as three GEMMs over them, and the outputs are
/// scattered to expert_out[r]; experts no row uses are skipped. Then
/// out[c] = sum over slots s in order of w[c, s] * expert_out[c * K + s].
Value emitGroupedExperts(GraphEmitter &g, const ModelDescription &desc,
                         int64_t chunk, Value h, const MoeWeights &w, Value ids,
                         Value weights) {
  OpBuilder &b = g.builder();
  Location loc = g.location();
  MLIRContext *ctx = b.getContext();
  const int64_t d = desc.nEmbd, k = desc.nExpertUsed, n = chunk * k;
  const int64_t dyn = ShapedType::kDynamic;
  Type indexType = b.getIndexType();
  Value c0 = g.indexConst(0), c1 = g.indexConst(1), kV = g.indexConst(k);
  Value idsFlat = g.collapse(ids, {{0, 1}}); // [C * K], row r = c * K + s
  OpFoldResult zero = b.getIndexAttr(0), one = b.getIndexAttr(1);
  SmallVector<OpFoldResult> rowSizes = {one, b.getIndexAttr(d)};
  SmallVector<OpFoldResult> unit(2, one);
  AffineMap id2 = AffineMap::getMultiDimIdentityMap(2, ctx);
  SmallVector<utils::IteratorType> par2(2, utils::IteratorType::parallel);

  Value expertOut = emitFor(
      g, c0, g.indexConst(desc.nExpert), ValueRange{g.empty({n, d})},
      [&](Value expert, ValueRange eo) -> SmallVector<Value> {
        // rows[0 : m) = the r with ids[r] == expert, in increasing order.
        // rows[m] is written for every r and kept only on a hit (m <= r).
        Value rows0 = emptyOf(g, {n}, indexType);
        SmallVector<Value> list = emitFor(
            g, c0, g.indexConst(n), ValueRange{rows0, c0},
            [&](Value r, ValueRange it) -> SmallVector<Value> {
              Value eId =
                  tensor::ExtractOp::create(b, loc, idsFlat, ValueRange{r});
              Value e = arith::IndexCastOp::create(b, loc, indexType, eId);
              Value hit = arith::CmpIOp::create(
                  b, loc, arith::CmpIPredicate::eq, e, expert);
              Value rows =
                  tensor::InsertOp::create(b, loc, r, it[0], ValueRange{it[1]});
              Value inc = arith::SelectOp::create(b, loc, hit, c1, c0);
              return {rows, arith::AddIOp::create(b, loc, it[1], inc)};
            });
        Value rows = list[0], m = list[1];
        Value used =
            arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ugt, m, c0);
        auto ifOp = scf::IfOp::create(b, loc, TypeRange{eo[0].getType()}, used,
                                      /*addThenBlock=*/true,
                                      /*addElseBlock=*/true);
        {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(ifOp.elseBlock());
          scf::YieldOp::create(b, loc, eo[0]);
          b.setInsertionPointToStart(ifOp.thenBlock());
          // x[i, :] = h[rows[i] / K, :]
          Value xInit = g.empty({dyn, d}, ValueRange{m});
          Value x = linalg::GenericOp::create(
                        b, loc, TypeRange{xInit.getType()}, ValueRange{},
                        ValueRange{xInit}, ArrayRef<AffineMap>{id2}, par2,
                        [&](OpBuilder &nb, Location l, ValueRange) {
                          Value i = linalg::IndexOp::create(nb, l, 0);
                          Value col = linalg::IndexOp::create(nb, l, 1);
                          Value r = tensor::ExtractOp::create(nb, l, rows,
                                                              ValueRange{i});
                          Value tok = arith::DivUIOp::create(nb, l, r, kV);
                          Value v = tensor::ExtractOp::create(
                              nb, l, h, ValueRange{tok, col});
                          linalg::YieldOp::create(nb, l, v);
                        })
                        .getResult(0);
          Value gate = g.projection(x, expertSlice(g, w.gateExps, expert));
          Value up = g.projection(x, expertSlice(g, w.upExps, expert));
          Value down = g.projection(g.swiglu(gate, up),
                                    expertSlice(g, w.downExps, expert));
          // expert_out[rows[i], :] = down[i, :]
          Value scattered = emitFor(
              g, c0, m, ValueRange{eo[0]},
              [&](Value i, ValueRange acc) -> SmallVector<Value> {
                Value r =
                    tensor::ExtractOp::create(b, loc, rows, ValueRange{i});
                SmallVector<OpFoldResult> from = {i, zero};
                Value row = tensor::ExtractSliceOp::create(
                    b, loc, g.f32Tensor({1, d}), down, from, rowSizes, unit);
                SmallVector<OpFoldResult> to = {r, zero};
                return {tensor::InsertSliceOp::create(b, loc, row, acc[0], to,
                                                      rowSizes, unit)
                            .getResult()};
              })[0];
          scf::YieldOp::create(b, loc, scattered);
        }
        return {ifOp.getResult(0)};
      })[0];

  // out[c, :] = sum_s w[c, s] * expert_out[c * K + s, :], s in order.
  Value eo3 = g.expand(expertOut, {chunk, k, d}, {{0, 1}, {2}});
  AffineExpr c = b.getAffineDimExpr(0), col = b.getAffineDimExpr(1),
             s = b.getAffineDimExpr(2);
  auto map = [&](ArrayRef<AffineExpr> e) {
    return AffineMap::get(3, 0, e, ctx);
  };
  Value outInit = g.filled({chunk, d}, 0.0);
  SmallVector<utils::IteratorType> iters = {utils::IteratorType::parallel,
                                            utils::IteratorType::parallel,
                                            utils::IteratorType::reduction};
  return linalg::GenericOp::create(
             b, loc, TypeRange{outInit.getType()}, ValueRange{eo3, weights},
             ValueRange{outInit},
             ArrayRef<AffineMap>{map({c, s, col}), map({c, s}), map({c, col})},
             iters,
             [](OpBuilder &nb, Location l, ValueRange args) {
               Value p = arith::MulFOp::create(nb, l, args[1], args[0]);
               Value y = arith::AddFOp::create(nb, l, args[2], p);
               linalg::YieldOp::create(nb, l, y);
             })
      .getResult(0);
}

} // namespace

Value mlir::smepilot::detail::emitMoeFeedForward(GraphEmitter &g,
                                                 const ModelDescription &desc,
                                                 int64_t chunk, Value h,
                                                 const MoeWeights &w) {
  Value logits = g.projection(h, w.router); // [C, E]
  Value probs = emitGating(g, desc, logits);
  auto [ids, weights] = emitTopK(g, desc, chunk, probs);
  if (chunk == 1)
    return emitPerTokenExperts(g, desc, chunk, h, w, ids, weights);
  return emitGroupedExperts(g, desc, chunk, h, w, ids, weights);
}
