//===- GraphEmitter.cpp - linalg building blocks of the model -------------===//
//
// The ops every part of the model uses. Projections are linalg.matmul with a
// transposed-B indexing map because GGUF stores weights [out, in]; norms are a
// reduction generic followed by an elementwise generic, with the reference
// executor's order of operations (mean, + eps, sqrt, reciprocal, x * scale,
// then * weight).
//
//===----------------------------------------------------------------------===//

#include "GraphEmitter.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <limits>

using namespace mlir;
using namespace mlir::smepilot;
using namespace mlir::smepilot::detail;

RankedTensorType GraphEmitter::f32Tensor(ArrayRef<int64_t> shape) {
  return RankedTensorType::get(shape, b.getF32Type());
}

Value GraphEmitter::indexConst(int64_t v) {
  return arith::ConstantIndexOp::create(b, loc, v);
}

Value GraphEmitter::f32Const(double v) {
  return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(float(v)));
}

Value GraphEmitter::empty(ArrayRef<int64_t> shape, ValueRange dynSizes) {
  return tensor::EmptyOp::create(b, loc, shape, b.getF32Type(), dynSizes);
}

Value GraphEmitter::filled(ArrayRef<int64_t> shape, double value,
                           ValueRange dynSizes) {
  Value init = empty(shape, dynSizes);
  Value v = f32Const(value);
  return linalg::FillOp::create(b, loc, ValueRange{v}, ValueRange{init})
      .getResult(0);
}

SmallVector<Value> GraphEmitter::dynamicDims(Value x) {
  auto type = cast<RankedTensorType>(x.getType());
  SmallVector<Value> dims;
  for (int64_t i = 0, e = type.getRank(); i < e; ++i)
    if (type.isDynamicDim(i))
      dims.push_back(tensor::DimOp::create(b, loc, x, i));
  return dims;
}

RankedTensorType mlir::smepilot::detail::weightTensorType(MLIRContext *ctx,
                                                          WeightFormat format,
                                                          int64_t n,
                                                          int64_t k) {
  Builder b(ctx);
  switch (format) {
  case WeightFormat::F32:
    return RankedTensorType::get({n, k}, b.getF32Type());
  case WeightFormat::F16:
    return RankedTensorType::get({n, k}, b.getF16Type());
  case WeightFormat::BF16:
    return RankedTensorType::get({n, k}, b.getBF16Type());
  case WeightFormat::Q8_0:
    return RankedTensorType::get({n, k / kQuantBlock, kQ8_0BlockBytes},
                                 b.getI8Type());
  case WeightFormat::Q4_0:
    return RankedTensorType::get({n, k / kQuantBlock, kQ4_0BlockBytes},
                                 b.getI8Type());
  }
  llvm_unreachable("unknown weight format");
}

RankedTensorType mlir::smepilot::detail::stackedWeightTensorType(
    MLIRContext *ctx, WeightFormat format, int64_t experts, int64_t n,
    int64_t k) {
  RankedTensorType one = weightTensorType(ctx, format, n, k);
  SmallVector<int64_t> shape = {experts};
  llvm::append_range(shape, one.getShape());
  return RankedTensorType::get(shape, one.getElementType());
}

WeightFormat mlir::smepilot::detail::weightFormatOf(Type type) {
  auto t = cast<RankedTensorType>(type);
  Type e = t.getElementType();
  if (e.isF16())
    return WeightFormat::F16;
  if (e.isBF16())
    return WeightFormat::BF16;
  if (e.isInteger(8) && t.getRank() == 3)
    return t.getDimSize(2) == kQ8_0BlockBytes ? WeightFormat::Q8_0
                                              : WeightFormat::Q4_0;
  return WeightFormat::F32;
}

namespace {

/// The f32 value of a block's f16 scale from its two bytes (little-endian).
Value blockScale(OpBuilder &nb, Location l, Value lo, Value hi) {
  Type i16 = nb.getI16Type();
  Value lo16 = arith::ExtUIOp::create(nb, l, i16, lo);
  Value hi16 = arith::ExtUIOp::create(nb, l, i16, hi);
  Value eight = arith::ConstantOp::create(nb, l, nb.getI16IntegerAttr(8));
  Value bits = arith::OrIOp::create(
      nb, l, arith::ShLIOp::create(nb, l, hi16, eight), lo16);
  Value half = arith::BitcastOp::create(nb, l, nb.getF16Type(), bits);
  return arith::ExtFOp::create(nb, l, nb.getF32Type(), half);
}

/// A Q4_0 weight from its byte and the nibble's shift (0: low, 4: high) and
/// scale: (((byte >> shift) & 15) - 8) * scale.
Value q4Weight(OpBuilder &nb, Location l, Value byte, Value shift,
               Value scale) {
  Type i8 = nb.getI8Type();
  Value nibble = arith::AndIOp::create(
      nb, l, arith::ShRUIOp::create(nb, l, byte, shift),
      arith::ConstantOp::create(nb, l, nb.getIntegerAttr(i8, 15)));
  Value centered = arith::SubIOp::create(
      nb, l, nibble,
      arith::ConstantOp::create(nb, l, nb.getIntegerAttr(i8, 8)));
  Value w = arith::SIToFPOp::create(nb, l, nb.getF32Type(), centered);
  return arith::MulFOp::create(nb, l, w, scale);
}

} // namespace

Value GraphEmitter::projection(Value x, Value w) {
  auto xType = cast<RankedTensorType>(x.getType());
  auto wType = cast<RankedTensorType>(w.getType());
  SmallVector<int64_t> shape = {xType.getDimSize(0), wType.getDimSize(0)};
  WeightFormat format = weightFormatOf(wType);
  if (format == WeightFormat::Q8_0 || format == WeightFormat::Q4_0)
    return projectionQuantized(x, w, format);
  Value init = filled(shape, 0.0, dynamicDims(x));
  if (format == WeightFormat::F32)
    return linalg::MatmulTransposeBOp::create(
               b, loc, TypeRange{f32Tensor(shape)}, ValueRange{x, w},
               ValueRange{init})
        .getResult(0);
  // F16 / BF16: y += x * extf(w), the weight widened in the body; for BF16
  // with rounded activations y += extf(bf16(x)) * extf(w), as llama.cpp's
  // BF16 product (a bf16 pair dot product where the target has one).
  const bool bf16Activations =
      quantizedActivations && format == WeightFormat::BF16;
  if (bf16Activations)
    x = activationsBF16(x);
  MLIRContext *ctx = b.getContext();
  AffineExpr m = b.getAffineDimExpr(0), n = b.getAffineDimExpr(1),
             k = b.getAffineDimExpr(2);
  SmallVector<AffineMap> maps = {AffineMap::get(3, 0, {m, k}, ctx),
                                 AffineMap::get(3, 0, {n, k}, ctx),
                                 AffineMap::get(3, 0, {m, n}, ctx)};
  SmallVector<utils::IteratorType> iters = {utils::IteratorType::parallel,
                                            utils::IteratorType::parallel,
                                            utils::IteratorType::reduction};
  return linalg::GenericOp::create(
             b, loc, TypeRange{f32Tensor(shape)}, ValueRange{x, w},
             ValueRange{init}, maps, iters,
             [&](OpBuilder &nb, Location l, ValueRange args) {
               Value wf =
                   arith::ExtFOp::create(nb, l, nb.getF32Type(), args[1]);
               Value xf =
                   bf16Activations
                       ? arith::ExtFOp::create(nb, l, nb.getF32Type(), args[0])
                             .getResult()
                       : args[0];
               Value p = arith::MulFOp::create(nb, l, xf, wf);
               linalg::YieldOp::create(
                   nb, l, arith::AddFOp::create(nb, l, args[2], p).getResult());
             })
      .getResult(0);
}

Value GraphEmitter::activationsBF16(Value x) {
  auto it = bf16Cache.find(x);
  if (it != bf16Cache.end() &&
      it->second.getParentBlock() == b.getInsertionBlock())
    return it->second;
  auto xType = cast<RankedTensorType>(x.getType());
  auto type = RankedTensorType::get(xType.getShape(), b.getBF16Type());
  SmallVector<Value> dyn = dynamicDims(x);
  AffineMap id = AffineMap::getMultiDimIdentityMap(2, b.getContext());
  auto par = utils::IteratorType::parallel;
  Value rounded =
      linalg::GenericOp::create(
          b, loc, TypeRange{type}, ValueRange{x},
          ValueRange{tensor::EmptyOp::create(b, loc, type.getShape(),
                                             b.getBF16Type(), dyn)},
          ArrayRef<AffineMap>{id, id}, ArrayRef<utils::IteratorType>{par, par},
          [&](OpBuilder &nb, Location l, ValueRange args) {
            linalg::YieldOp::create(
                nb, l,
                arith::TruncFOp::create(nb, l, nb.getBF16Type(), args[0])
                    .getResult());
          })
          .getResult(0);
  bf16Cache[x] = rounded;
  return rounded;
}

std::pair<Value, Value> GraphEmitter::quantizeActivations(Value x,
                                                          bool rounded) {
  auto &cache = rounded ? roundedCache : quantizedCache;
  auto it = cache.find(x);
  if (it != cache.end() &&
      it->second.first.getParentBlock() == b.getInsertionBlock())
    return it->second;
  MLIRContext *ctx = b.getContext();
  auto xType = cast<RankedTensorType>(x.getType());
  const int64_t m = xType.getDimSize(0),
                blocks = xType.getDimSize(1) / kQuantBlock;
  SmallVector<Value> dyn = dynamicDims(x);
  Value xb = tensor::ExpandShapeOp::create(
      b, loc, f32Tensor({m, blocks, kQuantBlock}), x,
      ArrayRef<ReassociationIndices>{{0}, {1, 2}});
  AffineExpr d0 = b.getAffineDimExpr(0), d1 = b.getAffineDimExpr(1),
             d2 = b.getAffineDimExpr(2);
  AffineMap rows3 = AffineMap::get(3, 0, {d0, d1, d2}, ctx);
  AffineMap rows2 = AffineMap::get(3, 0, {d0, d1}, ctx);
  AffineMap id2 = AffineMap::getMultiDimIdentityMap(2, ctx);
  auto par = utils::IteratorType::parallel;
  auto red = utils::IteratorType::reduction;

  // amax[m, b] = max_j |x[m, b, j]|.
  Value amax =
      linalg::GenericOp::create(
          b, loc, TypeRange{f32Tensor({m, blocks})}, ValueRange{xb},
          ValueRange{filled({m, blocks}, 0.0, dyn)},
          ArrayRef<AffineMap>{rows3, rows2},
          ArrayRef<utils::IteratorType>{par, par, red},
          [&](OpBuilder &nb, Location l, ValueRange args) {
            Value a = math::AbsFOp::create(nb, l, args[0]);
            linalg::YieldOp::create(
                nb, l,
                arith::MaximumFOp::create(nb, l, args[1], a).getResult());
          })
          .getResult(0);
  // d = f16(amax / 127), widened back: the scale the dot products use.
  Value scale =
      linalg::GenericOp::create(
          b, loc, TypeRange{f32Tensor({m, blocks})}, ValueRange{amax},
          ValueRange{empty({m, blocks}, dyn)}, ArrayRef<AffineMap>{id2, id2},
          ArrayRef<utils::IteratorType>{par, par},
          [&](OpBuilder &nb, Location l, ValueRange args) {
            Value c127 =
                arith::ConstantOp::create(nb, l, nb.getF32FloatAttr(127));
            Value d = arith::DivFOp::create(nb, l, args[0], c127);
            Value h = arith::TruncFOp::create(nb, l, nb.getF16Type(), d);
            linalg::YieldOp::create(
                nb, l,
                arith::ExtFOp::create(nb, l, nb.getF32Type(), h).getResult());
          })
          .getResult(0);
  // q = roundeven(x * (amax != 0 ? 127 / amax : 0)), |q| <= 127, as i8;
  // or, `rounded`, the f32 value d * q.
  Type elt = rounded ? Type(b.getF32Type()) : Type(b.getI8Type());
  Value qInit = tensor::EmptyOp::create(
      b, loc, ArrayRef<int64_t>{m, blocks, kQuantBlock}, elt, dyn);
  Value quants =
      linalg::GenericOp::create(
          b, loc, TypeRange{qInit.getType()}, ValueRange{xb, amax, scale},
          ValueRange{qInit}, ArrayRef<AffineMap>{rows3, rows2, rows2, rows3},
          ArrayRef<utils::IteratorType>{par, par, par},
          [&](OpBuilder &nb, Location l, ValueRange args) {
            Value zero =
                arith::ConstantOp::create(nb, l, nb.getF32FloatAttr(0));
            Value c127 =
                arith::ConstantOp::create(nb, l, nb.getF32FloatAttr(127));
            Value nonzero = arith::CmpFOp::create(
                nb, l, arith::CmpFPredicate::ONE, args[1], zero);
            Value inv = arith::SelectOp::create(
                nb, l, nonzero, arith::DivFOp::create(nb, l, c127, args[1]),
                zero);
            Value r = math::RoundEvenOp::create(
                nb, l, arith::MulFOp::create(nb, l, args[0], inv));
            Value q = rounded
                          ? arith::MulFOp::create(nb, l, r, args[2]).getResult()
                          : arith::FPToSIOp::create(nb, l, elt, r).getResult();
            linalg::YieldOp::create(nb, l, q);
          })
          .getResult(0);
  if (rounded)
    quants = tensor::CollapseShapeOp::create(
        b, loc, quants, ArrayRef<ReassociationIndices>{{0}, {1, 2}});
  return cache[x] = {quants, scale};
}

Value GraphEmitter::projectionQuantized(Value x, Value w, WeightFormat format) {
  MLIRContext *ctx = b.getContext();
  auto xType = cast<RankedTensorType>(x.getType());
  auto wType = cast<RankedTensorType>(w.getType());
  const int64_t m = xType.getDimSize(0), n = wType.getDimSize(0),
                blocks = wType.getDimSize(1);
  const bool q8 = format == WeightFormat::Q8_0;
  // Quants per byte row of a block: 32 int8, or 16 bytes of two nibbles.
  const int64_t lanes = q8 ? kQuantBlock : kQuantBlock / 2;
  const int64_t bytes = wType.getDimSize(2);
  auto i8 = [&](ArrayRef<int64_t> shape) {
    return RankedTensorType::get(shape, b.getI8Type());
  };
  auto slice = [&](int64_t begin, int64_t size) {
    return tensor::ExtractSliceOp::create(
        b, loc, i8({n, blocks, size}), w,
        ArrayRef<OpFoldResult>{b.getIndexAttr(0), b.getIndexAttr(0),
                               b.getIndexAttr(begin)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(n), b.getIndexAttr(blocks),
                               b.getIndexAttr(size)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1),
                               b.getIndexAttr(1)});
  };
  Value quants = slice(bytes - lanes, lanes);
  Value scales = slice(0, 2);

  // Loops (m, n, block, [half,] j); x read as [M, blocks, [2,] lanes].
  const unsigned nLoops = q8 ? 4 : 5;
  SmallVector<AffineExpr> d;
  for (unsigned i = 0; i < nLoops; ++i)
    d.push_back(b.getAffineDimExpr(i));
  AffineExpr j = d.back(), blk = d[2];
  SmallVector<int64_t> xShape = {m, blocks};
  SmallVector<AffineExpr> xIdx = {d[0], blk};
  if (!q8) {
    xShape.push_back(2);
    xIdx.push_back(d[3]);
  }
  xShape.push_back(lanes);
  xIdx.push_back(j);
  SmallVector<ReassociationIndices> reassoc = {{0}};
  reassoc.emplace_back();
  for (int64_t i = 1, e = xShape.size(); i < e; ++i)
    reassoc.back().push_back(i);
  auto c = [&](int64_t v) { return b.getAffineConstantExpr(v); };
  SmallVector<Value> ins;
  SmallVector<AffineMap> maps;
  // Quantized activations: inputs q [M, blocks, [2,] lanes] (i8) and their
  // scale [M, blocks]; else x itself.
  // A chunk of rows (prefill) takes x rounded to Q8_0 as f32 (d * q, once
  // per x): per output, the integer form would convert and scale once per
  // block, as many operations as the f32 FMAs it saves. A single row
  // (decode) takes the int8 form.
  const bool int8Form = quantizedActivations && m == 1;
  if (quantizedActivations && !int8Form)
    x = quantizeActivations(x, /*rounded=*/true).first;
  if (int8Form) {
    auto [xq, xd] = quantizeActivations(x);
    if (!q8)
      xq = tensor::ExpandShapeOp::create(
          b, loc, RankedTensorType::get(xShape, b.getI8Type()), xq,
          ArrayRef<ReassociationIndices>{{0}, {1}, {2, 3}});
    ins = {xq, xd};
    maps = {AffineMap::get(nLoops, 0, xIdx, ctx),
            AffineMap::get(nLoops, 0, {d[0], blk}, ctx)};
  } else {
    ins = {
        tensor::ExpandShapeOp::create(b, loc, f32Tensor(xShape), x, reassoc)};
    maps = {AffineMap::get(nLoops, 0, xIdx, ctx)};
  }
  const unsigned wArg = ins.size();
  ins.push_back(quants);
  maps.push_back(AffineMap::get(nLoops, 0, {d[1], blk, j}, ctx));
  if (!q8) {
    // The nibble's shift per half of the block: 0 (low), 4 (high).
    auto shiftType = RankedTensorType::get({2}, b.getI8Type());
    ins.push_back(arith::ConstantOp::create(
        b, loc,
        DenseElementsAttr::get(shiftType,
                               ArrayRef<int8_t>{int8_t(0), int8_t(4)})));
    maps.push_back(AffineMap::get(nLoops, 0, {d[3]}, ctx));
  }
  ins.append({scales, scales});
  maps.push_back(AffineMap::get(nLoops, 0, {d[1], blk, c(0)}, ctx));
  maps.push_back(AffineMap::get(nLoops, 0, {d[1], blk, c(1)}, ctx));
  maps.push_back(AffineMap::get(nLoops, 0, {d[0], d[1]}, ctx));
  SmallVector<utils::IteratorType> iters(nLoops,
                                         utils::IteratorType::reduction);
  iters[0] = iters[1] = utils::IteratorType::parallel;
  SmallVector<int64_t> shape = {m, n};
  Value init = filled(shape, 0.0, dynamicDims(x));
  return linalg::GenericOp::create(
             b, loc, TypeRange{f32Tensor(shape)}, ins, ValueRange{init}, maps,
             iters,
             [&](OpBuilder &nb, Location l, ValueRange args) {
               Value acc = args.back();
               Value scale = blockScale(nb, l, args[args.size() - 3],
                                        args[args.size() - 2]);
               Value wf =
                   q8 ? arith::MulFOp::create(
                            nb, l,
                            arith::SIToFPOp::create(nb, l, nb.getF32Type(),
                                                    args[wArg]),
                            scale)
                            .getResult()
                      : q4Weight(nb, l, args[wArg], args[wArg + 1], scale);
               // sitofp(q) * d, as the weight's factor: tile-cpu can then
               // take both integer parts to an int8 dot product.
               Value xf = int8Form ? arith::MulFOp::create(
                                         nb, l,
                                         arith::SIToFPOp::create(
                                             nb, l, nb.getF32Type(), args[0]),
                                         args[1])
                                         .getResult()
                                   : args[0];
               Value p = arith::MulFOp::create(nb, l, xf, wf);
               linalg::YieldOp::create(
                   nb, l, arith::AddFOp::create(nb, l, acc, p).getResult());
             })
      .getResult(0);
}

Value GraphEmitter::embeddingElement(OpBuilder &nb, Location l, Value table,
                                     Value row, Value col) {
  WeightFormat format = weightFormatOf(table.getType());
  Type f32 = nb.getF32Type();
  if (format == WeightFormat::F32)
    return tensor::ExtractOp::create(nb, l, table, ValueRange{row, col});
  if (format == WeightFormat::F16 || format == WeightFormat::BF16)
    return arith::ExtFOp::create(
        nb, l, f32,
        tensor::ExtractOp::create(nb, l, table, ValueRange{row, col})
            .getResult());
  auto idx = [&](int64_t v) {
    return arith::ConstantIndexOp::create(nb, l, v).getResult();
  };
  Value block = arith::DivUIOp::create(nb, l, col, idx(kQuantBlock));
  Value j = arith::RemUIOp::create(nb, l, col, idx(kQuantBlock));
  auto byteAt = [&](Value at) {
    return tensor::ExtractOp::create(nb, l, table, ValueRange{row, block, at})
        .getResult();
  };
  Value scale = blockScale(nb, l, byteAt(idx(0)), byteAt(idx(1)));
  if (format == WeightFormat::Q8_0) {
    Value q = byteAt(arith::AddIOp::create(nb, l, j, idx(2)));
    return arith::MulFOp::create(nb, l, arith::SIToFPOp::create(nb, l, f32, q),
                                 scale);
  }
  // Q4_0: byte j % 16 of the quants, its high nibble for j >= 16.
  Value half = arith::DivUIOp::create(nb, l, j, idx(kQuantBlock / 2));
  Value at = arith::AddIOp::create(
      nb, l, arith::RemUIOp::create(nb, l, j, idx(kQuantBlock / 2)), idx(2));
  Value shift = arith::IndexCastOp::create(
      nb, l, nb.getI8Type(), arith::MulIOp::create(nb, l, half, idx(4)));
  return q4Weight(nb, l, byteAt(at), shift, scale);
}

Value GraphEmitter::reduceLastDim(
    Value x, double init,
    function_ref<Value(OpBuilder &, Location, Value, Value)> combine) {
  auto type = cast<RankedTensorType>(x.getType());
  int64_t rank = type.getRank();
  ArrayRef<int64_t> shape = type.getShape();
  Value acc = filled(shape.drop_back(), init);
  MLIRContext *ctx = b.getContext();
  AffineMap id = AffineMap::getMultiDimIdentityMap(rank, ctx);
  AffineMap rows = id.getMajorSubMap(rank - 1);
  SmallVector<utils::IteratorType> iters(rank - 1,
                                         utils::IteratorType::parallel);
  iters.push_back(utils::IteratorType::reduction);
  return linalg::GenericOp::create(
             b, loc, TypeRange{acc.getType()}, ValueRange{x}, ValueRange{acc},
             ArrayRef<AffineMap>{id, rows}, iters,
             [&](OpBuilder &nb, Location l, ValueRange args) {
               linalg::YieldOp::create(nb, l, combine(nb, l, args[0], args[1]));
             })
      .getResult(0);
}

Value GraphEmitter::sumOfSquares(Value x) {
  return reduceLastDim(x, 0.0,
                       [](OpBuilder &nb, Location l, Value elem, Value acc) {
                         Value sq = arith::MulFOp::create(nb, l, elem, elem);
                         return arith::AddFOp::create(nb, l, acc, sq);
                       });
}

Value GraphEmitter::rowMax(Value x) {
  return reduceLastDim(x, -std::numeric_limits<float>::infinity(),
                       [](OpBuilder &nb, Location l, Value elem, Value acc) {
                         return arith::MaximumFOp::create(nb, l, elem, acc);
                       });
}

Value GraphEmitter::rmsNorm(Value x, Value weight, double eps) {
  auto type = cast<RankedTensorType>(x.getType());
  int64_t n = type.getDimSize(1);
  Value ss = sumOfSquares(x);
  MLIRContext *ctx = b.getContext();
  AffineMap id = AffineMap::getMultiDimIdentityMap(2, ctx);
  AffineMap row = AffineMap::get(2, 0, {b.getAffineDimExpr(0)}, ctx);
  AffineMap col = AffineMap::get(2, 0, {b.getAffineDimExpr(1)}, ctx);
  Value init = empty(type.getShape());
  SmallVector<utils::IteratorType> iters(2, utils::IteratorType::parallel);
  return linalg::GenericOp::create(
             b, loc, TypeRange{type}, ValueRange{x, ss, weight},
             ValueRange{init}, ArrayRef<AffineMap>{id, row, col, id}, iters,
             [&](OpBuilder &nb, Location l, ValueRange args) {
               Value scale = emitRmsScale(nb, l, args[1], n, eps);
               Value scaled = arith::MulFOp::create(nb, l, args[0], scale);
               Value y = arith::MulFOp::create(nb, l, scaled, args[2]);
               linalg::YieldOp::create(nb, l, y);
             })
      .getResult(0);
}

Value GraphEmitter::add(Value a, Value bv) {
  auto type = cast<RankedTensorType>(a.getType());
  Value init = empty(type.getShape());
  return linalg::AddOp::create(b, loc, TypeRange{type}, ValueRange{a, bv},
                               ValueRange{init})
      .getResult(0);
}

Value GraphEmitter::swiglu(Value gate, Value up) {
  auto type = cast<RankedTensorType>(gate.getType());
  MLIRContext *ctx = b.getContext();
  AffineMap id = AffineMap::getMultiDimIdentityMap(2, ctx);
  SmallVector<utils::IteratorType> par(2, utils::IteratorType::parallel);
  return linalg::GenericOp::create(
             b, loc, TypeRange{type}, ValueRange{gate, up},
             ValueRange{empty(type.getShape(), dynamicDims(gate))},
             ArrayRef<AffineMap>{id, id, id}, par,
             [](OpBuilder &nb, Location l, ValueRange args) {
               Value silu = emitSilu(nb, l, args[0]);
               Value y = arith::MulFOp::create(nb, l, silu, args[1]);
               linalg::YieldOp::create(nb, l, y);
             })
      .getResult(0);
}

Value GraphEmitter::expand(Value x, ArrayRef<int64_t> shape,
                           ArrayRef<ReassociationIndices> reassociation) {
  return tensor::ExpandShapeOp::create(b, loc, f32Tensor(shape), x,
                                       reassociation);
}

Value GraphEmitter::collapse(Value x,
                             ArrayRef<ReassociationIndices> reassociation) {
  return tensor::CollapseShapeOp::create(b, loc, x, reassociation);
}

Value mlir::smepilot::detail::emitRmsScale(OpBuilder &nb, Location l,
                                           Value sumSq, int64_t n, double eps) {
  Type f32 = nb.getF32Type();
  Value nV = arith::ConstantOp::create(nb, l, nb.getFloatAttr(f32, double(n)));
  Value epsV =
      arith::ConstantOp::create(nb, l, nb.getFloatAttr(f32, float(eps)));
  Value one = arith::ConstantOp::create(nb, l, nb.getFloatAttr(f32, 1.0));
  Value mean = arith::DivFOp::create(nb, l, sumSq, nV);
  Value sum = arith::AddFOp::create(nb, l, mean, epsV);
  Value root = math::SqrtOp::create(nb, l, sum);
  return arith::DivFOp::create(nb, l, one, root);
}

/// numerator / (1 + exp(-x)), with the numerator x (silu) or 1 (sigmoid).
static Value emitOverOnePlusExpNeg(OpBuilder &nb, Location l, Value x,
                                   bool xOnTop) {
  Value one = arith::ConstantOp::create(nb, l, nb.getF32FloatAttr(1.0f));
  Value e = math::ExpOp::create(nb, l, arith::NegFOp::create(nb, l, x));
  Value den = arith::AddFOp::create(nb, l, one, e);
  return arith::DivFOp::create(nb, l, xOnTop ? x : one, den);
}

Value mlir::smepilot::detail::emitSigmoid(OpBuilder &nb, Location l, Value x) {
  return emitOverOnePlusExpNeg(nb, l, x, /*xOnTop=*/false);
}

Value mlir::smepilot::detail::emitSilu(OpBuilder &nb, Location l, Value x) {
  return emitOverOnePlusExpNeg(nb, l, x, /*xOnTop=*/true);
}
