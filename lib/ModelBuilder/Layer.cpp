//===- Layer.cpp - one transformer layer as linalg on tensors -------------===//
//
// The layer body, built once per chunk size as a private function and called
// for every layer (docs/compiled-model.md). For C new tokens at positions
// [pos, pos + C):
//
//   h = rmsnorm(x, attn_norm); q, k, v = h Wq^T, h Wk^T, h Wv^T
//   q, k: [per-head rmsnorm (qwen3)], RoPE, laid out head-major
//   k_cache[l, :, pos : pos + C, :] = k; same for v       (tensor.insert_slice)
//   per KV head: S = Q_group K[0 : pos + C]^T / sqrt(hd), causal mask, softmax,
//                O = P V[0 : pos + C]
//   x += O Wo^T; x += down(silu(h Wg^T) * (h Wu^T)) with h = rmsnorm(x,
//   ffn_norm), or the MoE feed-forward of h (MoE.cpp)
//
// GQA groups the query heads of a KV head into the rows of one batched
// matmul: Q is [KVH, G * C, HD] with row g * C + c (query head kvh * G + g,
// token c), so QK^T and PV are linalg.batch_matmul over KV heads and no K/V
// is duplicated. The new K/V rows are written into the cache operand and the
// updated cache is returned: with the whole cache passed in and out (not a
// slice, whose strided layout would force a copy at an identity-layout
// function boundary), one-shot bufferization updates it in place.
//
// RoPE is a generic over (head, token, pair, k in {0, 1}) that reads both
// elements of a pair through views of the projection ([.., HD/2, 2] for
// interleaved pairs (2i, 2i+1), [.., 2, HD/2] for NEOX pairs (i, i + HD/2)),
// so no tensor.extract is needed; the per-head QK-norm is fused into it.
//
//===----------------------------------------------------------------------===//

#include "GraphEmitter.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::smepilot;
using namespace mlir::smepilot::detail;

int64_t
mlir::smepilot::detail::getNumLayerWeights(const ModelDescription &desc) {
  return 5 + (desc.hasQkNorm ? 2 : 0) + 1 + (desc.isMoe() ? 4 : 3);
}

namespace {

/// Per-layer weights, in the contract's order.
struct LayerWeights {
  Value attnNorm, wq, wk, wv, wo, qNorm, kNorm, ffnNorm, ffnGate, ffnUp,
      ffnDown;
  MoeWeights moe;
};

class LayerEmitter {
public:
  LayerEmitter(GraphEmitter &g, const ModelDescription &desc, int64_t chunk)
      : g(g), b(g.builder()), loc(g.location()), desc(desc), chunk(chunk) {}

  /// Per-head RMSNorm (optional) and RoPE of a projection [C, nHeads * HD],
  /// nHeads = kvHeads * groups; result [kvHeads, groups * C, HD] (row
  /// g * C + c).
  Value normAndRope(Value proj, int64_t kvHeads, int64_t groups, Value normW,
                    Value cos, Value sin);

  /// Scale, causal mask and softmax of scores [KVH, G * C, T]; T dynamic.
  Value maskedSoftmax(Value scores, Value pos, Value keyLen);

private:
  GraphEmitter &g;
  OpBuilder &b;
  Location loc;
  const ModelDescription &desc;
  int64_t chunk;
};

Value LayerEmitter::normAndRope(Value proj, int64_t kvHeads, int64_t groups,
                                Value normW, Value cos, Value sin) {
  MLIRContext *ctx = b.getContext();
  const int64_t hd = desc.headDim, half = hd / 2, c = chunk;
  const bool interleaved = desc.ropeStyle == RopeStyle::Interleaved;

  // [C, H*HD] -> [C, KVH, G, HD] -> pairs [C, KVH, G, HD/2, 2] or [.., 2,
  // HD/2].
  Value heads = g.expand(proj, {c, kvHeads, groups, hd}, {{0}, {1, 2, 3}});
  SmallVector<int64_t> pairShape = interleaved ? SmallVector<int64_t>{half, 2}
                                               : SmallVector<int64_t>{2, half};
  Value pairs =
      g.expand(heads, {c, kvHeads, groups, pairShape[0], pairShape[1]},
               {{0}, {1}, {2}, {3, 4}});

  // Loops (kvh, g, c, p, k); p indexes pairs, k the element of a pair.
  AffineExpr kvh = b.getAffineDimExpr(0), gr = b.getAffineDimExpr(1),
             tok = b.getAffineDimExpr(2), p = b.getAffineDimExpr(3),
             k = b.getAffineDimExpr(4);
  AffineExpr c0 = b.getAffineConstantExpr(0), c1 = b.getAffineConstantExpr(1);
  auto map = [&](ArrayRef<AffineExpr> exprs) {
    return AffineMap::get(5, 0, exprs, ctx);
  };
  auto pairMap = [&](ArrayRef<AffineExpr> prefix, AffineExpr elem) {
    SmallVector<AffineExpr> e(prefix.begin(), prefix.end());
    if (interleaved) {
      e.push_back(p);
      e.push_back(elem);
    } else {
      e.push_back(elem);
      e.push_back(p);
    }
    return map(e);
  };

  SmallVector<Value> ins = {pairs, pairs};
  SmallVector<AffineMap> maps = {pairMap({tok, kvh, gr}, c0),
                                 pairMap({tok, kvh, gr}, c1)};
  const bool norm = static_cast<bool>(normW);
  if (norm) {
    Value ss = g.sumOfSquares(heads); // [C, KVH, G]
    Value w = g.expand(normW, pairShape, {{0, 1}});
    ins.append({ss, w, w});
    maps.append({map({tok, kvh, gr}), pairMap({}, c0), pairMap({}, c1)});
  }
  ins.append({cos, sin});
  maps.append({map({tok, p}), map({tok, p})});

  SmallVector<int64_t> outShape = {kvHeads, groups, c, pairShape[0],
                                   pairShape[1]};
  Value init = g.empty(outShape);
  maps.push_back(pairMap({kvh, gr, tok}, k));
  SmallVector<utils::IteratorType> iters(5, utils::IteratorType::parallel);
  const double eps = desc.rmsEps;
  Value rotated =
      linalg::GenericOp::create(
          b, loc, TypeRange{init.getType()}, ins, ValueRange{init}, maps, iters,
          [&](OpBuilder &nb, Location l, ValueRange args) {
            Value x0 = args[0], x1 = args[1];
            unsigned next = 2;
            if (norm) {
              Value scale = emitRmsScale(nb, l, args[2], hd, eps);
              x0 = arith::MulFOp::create(
                  nb, l, arith::MulFOp::create(nb, l, x0, scale), args[3]);
              x1 = arith::MulFOp::create(
                  nb, l, arith::MulFOp::create(nb, l, x1, scale), args[4]);
              next = 5;
            }
            Value cs = args[next], sn = args[next + 1];
            // y0 = x0 cos - x1 sin; y1 = x0 sin + x1 cos.
            Value y0 = arith::SubFOp::create(
                nb, l, arith::MulFOp::create(nb, l, x0, cs),
                arith::MulFOp::create(nb, l, x1, sn));
            Value y1 = arith::AddFOp::create(
                nb, l, arith::MulFOp::create(nb, l, x0, sn),
                arith::MulFOp::create(nb, l, x1, cs));
            Value kIdx = linalg::IndexOp::create(nb, l, 4);
            Value zero = arith::ConstantIndexOp::create(nb, l, 0);
            Value first = arith::CmpIOp::create(nb, l, arith::CmpIPredicate::eq,
                                                kIdx, zero);
            Value y = arith::SelectOp::create(nb, l, first, y0, y1);
            linalg::YieldOp::create(nb, l, y);
          })
          .getResult(0);
  // [KVH, G, C, a, b] -> [KVH, G * C, HD].
  return g.collapse(rotated, {{0}, {1, 2}, {3, 4}});
}

Value LayerEmitter::maskedSoftmax(Value scores, Value pos, Value keyLen) {
  MLIRContext *ctx = b.getContext();
  auto type = cast<RankedTensorType>(scores.getType());
  SmallVector<int64_t> shape(type.getShape());
  SmallVector<int64_t> rowShape = {shape[0], shape[1]};
  AffineMap id = AffineMap::getMultiDimIdentityMap(3, ctx);
  AffineMap rows = id.getMajorSubMap(2);
  SmallVector<utils::IteratorType> par(3, utils::IteratorType::parallel);
  SmallVector<utils::IteratorType> red = {utils::IteratorType::parallel,
                                          utils::IteratorType::parallel,
                                          utils::IteratorType::reduction};
  const float negInf = -std::numeric_limits<float>::infinity();
  // As the reference: 1.0f / sqrtf(head_dim), in float.
  const float scale = 1.0f / std::sqrt(float(desc.headDim));
  const int64_t c = chunk;

  // s * scale where key t <= pos + (row mod C), -inf elsewhere.
  Value maskedInit = g.empty(shape, ValueRange{keyLen});
  Value masked =
      linalg::GenericOp::create(
          b, loc, TypeRange{type}, ValueRange{scores}, ValueRange{maskedInit},
          ArrayRef<AffineMap>{id, id}, par,
          [&](OpBuilder &nb, Location l, ValueRange args) {
            Value row = linalg::IndexOp::create(nb, l, 1);
            Value key = linalg::IndexOp::create(nb, l, 2);
            Value cV = arith::ConstantIndexOp::create(nb, l, c);
            Value tokIdx = arith::RemUIOp::create(nb, l, row, cV);
            Value qPos = arith::AddIOp::create(nb, l, pos, tokIdx);
            Value visible = arith::CmpIOp::create(
                nb, l, arith::CmpIPredicate::ule, key, qPos);
            Value scaleV =
                arith::ConstantOp::create(nb, l, nb.getF32FloatAttr(scale));
            Value ninf =
                arith::ConstantOp::create(nb, l, nb.getF32FloatAttr(negInf));
            Value s = arith::MulFOp::create(nb, l, args[0], scaleV);
            Value y = arith::SelectOp::create(nb, l, visible, s, ninf);
            linalg::YieldOp::create(nb, l, y);
          })
          .getResult(0);

  // Row max, sum of exp(s - max), then exp(s - max) * (1 / sum), as the
  // reference's softmax.
  Value rowMax = g.rowMax(masked);
  Value sumInit = g.filled(rowShape, 0.0);
  Value rowSum =
      linalg::GenericOp::create(
          b, loc, TypeRange{sumInit.getType()}, ValueRange{masked, rowMax},
          ValueRange{sumInit}, ArrayRef<AffineMap>{id, rows, rows}, red,
          [](OpBuilder &nb, Location l, ValueRange args) {
            Value e = math::ExpOp::create(
                nb, l, arith::SubFOp::create(nb, l, args[0], args[1]));
            Value sum = arith::AddFOp::create(nb, l, args[2], e);
            linalg::YieldOp::create(nb, l, sum);
          })
          .getResult(0);
  Value probsInit = g.empty(shape, ValueRange{keyLen});
  return linalg::GenericOp::create(
             b, loc, TypeRange{type}, ValueRange{masked, rowMax, rowSum},
             ValueRange{probsInit}, ArrayRef<AffineMap>{id, rows, rows, id},
             par,
             [](OpBuilder &nb, Location l, ValueRange args) {
               Value e = math::ExpOp::create(
                   nb, l, arith::SubFOp::create(nb, l, args[0], args[1]));
               Value one =
                   arith::ConstantOp::create(nb, l, nb.getF32FloatAttr(1.0f));
               Value inv = arith::DivFOp::create(nb, l, one, args[2]);
               Value p = arith::MulFOp::create(nb, l, e, inv);
               linalg::YieldOp::create(nb, l, p);
             })
      .getResult(0);
}

} // namespace

func::FuncOp mlir::smepilot::detail::buildLayerFunction(
    OpBuilder &b, ModuleOp module, const ModelDescription &desc,
    const ModelBuildOptions &options, int64_t chunk) {
  MLIRContext *ctx = b.getContext();
  Location loc = module.getLoc();
  const int64_t c = chunk, d = desc.nEmbd, hd = desc.headDim;
  const int64_t nh = desc.nHead, kvh = desc.nHeadKv, grp = nh / kvh;
  const int64_t ff = desc.nFf, half = desc.ropeDim / 2;
  auto f32 = [&](ArrayRef<int64_t> shape) {
    return RankedTensorType::get(shape, b.getF32Type());
  };
  RankedTensorType cacheType = f32({desc.nLayer, kvh, options.nCtx, hd});
  // K-major: [layer, kv head, d, position].
  RankedTensorType keyCacheType =
      options.keyCacheKMajor ? f32({desc.nLayer, kvh, hd, options.nCtx})
                             : cacheType;

  SmallVector<Type> argTypes = {f32({c, d}), b.getIndexType(), b.getIndexType(),
                                f32({c, half}), f32({c, half})};
  const unsigned firstWeight = argTypes.size();
  // The formats of layer 0's weights: every layer's (getWeightFormats).
  SmallVector<WeightFormat> formats = getWeightFormats(desc, options);
  const unsigned layer0 = desc.hasRopeFreqs ? 4 : 3;
  auto weight = [&](unsigned i, int64_t n, int64_t k) -> Type {
    return weightTensorType(ctx, formats[layer0 + i], n, k);
  };
  argTypes.append({f32({d}), weight(1, nh * hd, d), weight(2, kvh * hd, d),
                   weight(3, kvh * hd, d), weight(4, d, nh * hd)});
  if (desc.hasQkNorm)
    argTypes.append({f32({hd}), f32({hd})});
  argTypes.push_back(f32({d}));
  if (desc.isMoe()) {
    const int64_t e = desc.nExpert, ffe = desc.nFfExpert;
    const unsigned exps = desc.hasQkNorm ? 9 : 7; // after ffn_gate_inp
    auto stacked = [&](unsigned i, int64_t n, int64_t k) -> Type {
      return stackedWeightTensorType(ctx, formats[layer0 + i], e, n, k);
    };
    argTypes.append({f32({e, d}), stacked(exps, ffe, d),
                     stacked(exps + 1, ffe, d), stacked(exps + 2, d, ffe)});
  } else {
    const unsigned ffn = desc.hasQkNorm ? 8 : 6; // after ffn_norm
    argTypes.append(
        {weight(ffn, ff, d), weight(ffn + 1, ff, d), weight(ffn + 2, d, ff)});
  }
  const unsigned endWeight = argTypes.size();
  argTypes.append({keyCacheType, cacheType});
  SmallVector<Type> resultTypes = {f32({c, d}), keyCacheType, cacheType};

  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToEnd(module.getBody());
  auto func =
      func::FuncOp::create(b, loc, "smepilot_layer_c" + std::to_string(chunk),
                           FunctionType::get(ctx, argTypes, resultTypes));
  func.setPrivate();
  for (unsigned i = firstWeight; i < endWeight; ++i)
    func.setArgAttr(i, kWeightAttr, b.getUnitAttr());
  Block *entry = func.addEntryBlock();
  b.setInsertionPointToStart(entry);

  GraphEmitter g(b, loc);
  g.setQuantizedActivations(options.quantizedActivations);
  LayerEmitter le(g, desc, chunk);
  Value x = entry->getArgument(0), pos = entry->getArgument(1),
        layer = entry->getArgument(2), cos = entry->getArgument(3),
        sin = entry->getArgument(4);
  LayerWeights w;
  {
    unsigned i = firstWeight;
    auto next = [&] { return entry->getArgument(i++); };
    w.attnNorm = next();
    w.wq = next();
    w.wk = next();
    w.wv = next();
    w.wo = next();
    if (desc.hasQkNorm) {
      w.qNorm = next();
      w.kNorm = next();
    }
    w.ffnNorm = next();
    if (desc.isMoe()) {
      w.moe.router = next();
      w.moe.gateExps = next();
      w.moe.upExps = next();
      w.moe.downExps = next();
    } else {
      w.ffnGate = next();
      w.ffnUp = next();
      w.ffnDown = next();
    }
  }
  Value kCache = entry->getArgument(endWeight),
        vCache = entry->getArgument(endWeight + 1);

  // Attention projections.
  Value h = g.rmsNorm(x, w.attnNorm, desc.rmsEps);
  Value q = g.projection(h, w.wq);
  Value k = g.projection(h, w.wk);
  Value v = g.projection(h, w.wv);
  Value qr = le.normAndRope(q, kvh, grp, w.qNorm, cos, sin); // [KVH, G*C, HD]
  Value kr = le.normAndRope(k, kvh, 1, w.kNorm, cos, sin);   // [KVH, C, HD]
  Value v3 = g.expand(v, {c, kvh, hd}, {{0}, {1, 2}});
  Value vt = linalg::TransposeOp::create(b, loc, v3, g.empty({kvh, c, hd}),
                                         ArrayRef<int64_t>{1, 0, 2})
                 .getResult()[0];

  // The new rows go into the caches at [layer, :, pos : pos + C, :] (the
  // K-major K cache: the new columns at [layer, :, :, pos : pos + C]).
  OpFoldResult zero = b.getIndexAttr(0), one = b.getIndexAttr(1);
  SmallVector<OpFoldResult> rowOffsets = {layer, zero, pos, zero};
  SmallVector<OpFoldResult> rowSizes = {one, b.getIndexAttr(kvh),
                                        b.getIndexAttr(c), b.getIndexAttr(hd)};
  SmallVector<OpFoldResult> colOffsets = {layer, zero, zero, pos};
  SmallVector<OpFoldResult> colSizes = {one, b.getIndexAttr(kvh),
                                        b.getIndexAttr(hd), b.getIndexAttr(c)};
  SmallVector<OpFoldResult> unitStrides(4, one);
  Value kNew = kr;
  if (options.keyCacheKMajor)
    kNew = linalg::TransposeOp::create(b, loc, kr, g.empty({kvh, hd, c}),
                                       ArrayRef<int64_t>{0, 2, 1})
               .getResult()[0];
  Value kCacheNew = tensor::InsertSliceOp::create(
      b, loc, kNew, kCache, options.keyCacheKMajor ? colOffsets : rowOffsets,
      options.keyCacheKMajor ? colSizes : rowSizes, unitStrides);
  Value vCacheNew = tensor::InsertSliceOp::create(
      b, loc, vt, vCache, rowOffsets, rowSizes, unitStrides);

  // Keys and values [0, pos + C) of this layer, read from the updated caches.
  Value keyLen = arith::AddIOp::create(b, loc, pos, g.indexConst(c));
  SmallVector<OpFoldResult> histOffsets = {layer, zero, zero, zero};
  SmallVector<OpFoldResult> histSizes = {one, b.getIndexAttr(kvh), keyLen,
                                         b.getIndexAttr(hd)};
  SmallVector<OpFoldResult> keyHistSizes = {one, b.getIndexAttr(kvh),
                                            b.getIndexAttr(hd), keyLen};
  RankedTensorType histType = f32({kvh, ShapedType::kDynamic, hd});
  RankedTensorType keyHistType =
      options.keyCacheKMajor ? f32({kvh, hd, ShapedType::kDynamic}) : histType;
  Value keys = tensor::ExtractSliceOp::create(
      b, loc, keyHistType, kCacheNew, histOffsets,
      options.keyCacheKMajor ? keyHistSizes : histSizes, unitStrides);
  Value values = tensor::ExtractSliceOp::create(
      b, loc, histType, vCacheNew, histOffsets, histSizes, unitStrides);

  // Scores [KVH, G*C, T] = Q K^T (keys [KVH, HD, T] when K-major), masked
  // softmax, then P V -> [KVH, G*C, HD].
  SmallVector<int64_t> scoreShape = {kvh, grp * c, ShapedType::kDynamic};
  Value scoresInit = g.filled(scoreShape, 0.0, ValueRange{keyLen});
  Value scores = options.keyCacheKMajor
                     ? linalg::BatchMatmulOp::create(
                           b, loc, TypeRange{f32(scoreShape)},
                           ValueRange{qr, keys}, ValueRange{scoresInit})
                           .getResult(0)
                     : linalg::BatchMatmulTransposeBOp::create(
                           b, loc, TypeRange{f32(scoreShape)},
                           ValueRange{qr, keys}, ValueRange{scoresInit})
                           .getResult(0);
  Value probs = le.maskedSoftmax(scores, pos, keyLen);
  Value outInit = g.filled({kvh, grp * c, hd}, 0.0);
  Value attn = linalg::BatchMatmulOp::create(
                   b, loc, TypeRange{f32({kvh, grp * c, hd})},
                   ValueRange{probs, values}, ValueRange{outInit})
                   .getResult(0);

  // Back to token-major [C, H*HD] (head kvh * G + g) for the output
  // projection.
  Value attn4 = g.expand(attn, {kvh, grp, c, hd}, {{0}, {1, 2}, {3}});
  Value attnT =
      linalg::TransposeOp::create(b, loc, attn4, g.empty({c, kvh, grp, hd}),
                                  ArrayRef<int64_t>{2, 0, 1, 3})
          .getResult()[0];
  Value attnFlat = g.collapse(attnT, {{0}, {1, 2, 3}});
  Value x1 = g.add(x, g.projection(attnFlat, w.wo));

  // SwiGLU feed-forward, dense or mixture of experts.
  Value h2 = g.rmsNorm(x1, w.ffnNorm, desc.rmsEps);
  Value ffnOut;
  if (desc.isMoe()) {
    ffnOut = emitMoeFeedForward(g, desc, chunk, h2, w.moe);
  } else {
    Value gate = g.projection(h2, w.ffnGate);
    Value up = g.projection(h2, w.ffnUp);
    ffnOut = g.projection(g.swiglu(gate, up), w.ffnDown);
  }
  Value x2 = g.add(x1, ffnOut);

  func::ReturnOp::create(b, loc, ValueRange{x2, kCacheNew, vCacheNew});
  return func;
}
