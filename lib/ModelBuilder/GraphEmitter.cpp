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

Value GraphEmitter::projection(Value x, Value w) {
  auto xType = cast<RankedTensorType>(x.getType());
  auto wType = cast<RankedTensorType>(w.getType());
  SmallVector<int64_t> shape = {xType.getDimSize(0), wType.getDimSize(0)};
  Value init = filled(shape, 0.0, dynamicDims(x));
  return linalg::MatmulTransposeBOp::create(b, loc, TypeRange{f32Tensor(shape)},
                                            ValueRange{x, w}, ValueRange{init})
      .getResult(0);
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
