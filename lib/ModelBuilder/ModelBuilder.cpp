//===- ModelBuilder.cpp - model config -> linalg graph --------------------===//
//
// Builds the compiled model of docs/compiled-model.md: per chunk size C a
// public `smepilot_forward_c<C>` that gathers the token embeddings, computes
// the RoPE cos/sin table of positions [pos, pos + C) once, calls the layer
// function (Layer.cpp) for every layer with that layer's weights and the
// whole K/V caches, and ends with the output norm and the logits of every
// position. Descriptions the builder cannot express are rejected up front
// with a message, before any IR is created. The MoE feed-forward of qwen3moe
// is in MoE.cpp.
//
//===----------------------------------------------------------------------===//

#include "smepilot/ModelBuilder/ModelBuilder.h"

#include "GraphEmitter.h"

#include "smepilot/Dialect/SMEPilot/IR/SMEPilot.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/StringSwitch.h"

#include <cmath>

using namespace mlir;
using namespace mlir::smepilot;
using namespace mlir::smepilot::detail;

std::string mlir::smepilot::getForwardFunctionName(int64_t chunk,
                                                   bool lastRowOnly) {
  return "smepilot_forward_c" + std::to_string(chunk) +
         (lastRowOnly ? "_last" : "");
}

std::string mlir::smepilot::getPhaseName(int64_t chunk, bool lastRowOnly) {
  return "forward_c" + std::to_string(chunk) + (lastRowOnly ? "_last" : "");
}

llvm::SmallVector<std::string>
mlir::smepilot::getWeightNames(const ModelDescription &desc) {
  llvm::SmallVector<std::string> names = {
      "token_embd.weight", "output_norm.weight",
      desc.tiedEmbeddings ? "token_embd.weight" : "output.weight"};
  if (desc.hasRopeFreqs)
    names.push_back("rope_freqs.weight");
  for (int64_t l = 0; l < desc.nLayer; ++l) {
    std::string blk = "blk." + std::to_string(l) + ".";
    for (const char *n :
         {"attn_norm", "attn_q", "attn_k", "attn_v", "attn_output"})
      names.push_back(blk + n + ".weight");
    if (desc.hasQkNorm) {
      names.push_back(blk + "attn_q_norm.weight");
      names.push_back(blk + "attn_k_norm.weight");
    }
    names.push_back(blk + "ffn_norm.weight");
    if (desc.isMoe()) {
      for (const char *n :
           {"ffn_gate_inp", "ffn_gate_exps", "ffn_up_exps", "ffn_down_exps"})
        names.push_back(blk + n + ".weight");
    } else {
      for (const char *n : {"ffn_gate", "ffn_up", "ffn_down"})
        names.push_back(blk + n + ".weight");
    }
  }
  return names;
}

llvm::StringRef mlir::smepilot::getWeightFormatName(WeightFormat format) {
  switch (format) {
  case WeightFormat::F32:
    return "f32";
  case WeightFormat::F16:
    return "f16";
  case WeightFormat::BF16:
    return "bf16";
  case WeightFormat::Q8_0:
    return "q8_0";
  case WeightFormat::Q4_0:
    return "q4_0";
  }
  return "?";
}

llvm::SmallVector<WeightFormat>
mlir::smepilot::getWeightFormats(const ModelDescription &desc,
                                 const ModelBuildOptions &options) {
  llvm::SmallVector<std::string> names = getWeightNames(desc);
  llvm::SmallVector<WeightFormat> formats(names.size(), WeightFormat::F32);
  auto requested = [&](StringRef name) {
    auto it = options.weightFormats.find(name);
    return it == options.weightFormats.end() ? WeightFormat::F32 : it->second;
  };
  // A block format needs whole blocks along the reduction (K).
  auto usable = [](WeightFormat f, int64_t k) {
    return (f != WeightFormat::Q8_0 && f != WeightFormat::Q4_0) ||
           k % detail::kQuantBlock == 0;
  };
  for (unsigned i : {0u, 2u})
    if (usable(requested(names[i]), desc.nEmbd))
      formats[i] = requested(names[i]);
  // Per-layer roles: one layer function serves every layer, so a role takes
  // one format for all of them.
  const unsigned first = desc.hasRopeFreqs ? 4 : 3;
  const int64_t perLayer = detail::getNumLayerWeights(desc);
  for (int64_t i = 0; i < perLayer; ++i) {
    StringRef name = names[first + i];
    StringRef role = name.drop_front(name.find('.', 4) + 1); // after "blk.0."
    int64_t k;
    if (role == "attn_output.weight")
      k = desc.qDim();
    else if (role == "ffn_down.weight")
      k = desc.nFf;
    else if (role == "ffn_down_exps.weight")
      k = desc.nFfExpert;
    else if (role == "ffn_gate_exps.weight" || role == "ffn_up_exps.weight")
      k = desc.nEmbd;
    else if (llvm::is_contained({"attn_q.weight", "attn_k.weight",
                                 "attn_v.weight", "ffn_gate.weight",
                                 "ffn_up.weight"},
                                role))
      k = desc.nEmbd;
    else
      continue; // norms, router, experts: F32
    WeightFormat f = requested(name);
    for (int64_t l = 1; l < desc.nLayer; ++l)
      if (requested(names[first + l * perLayer + i]) != f)
        f = WeightFormat::F32;
    if (!usable(f, k))
      f = WeightFormat::F32;
    for (int64_t l = 0; l < desc.nLayer; ++l)
      formats[first + l * perLayer + i] = f;
  }
  return formats;
}

LogicalResult
mlir::smepilot::verifyModelDescription(MLIRContext *ctx,
                                       const ModelDescription &desc,
                                       const ModelBuildOptions &options) {
  Location loc = UnknownLoc::get(ctx);
  if (desc.arch != "llama" && desc.arch != "qwen3" && desc.arch != "qwen3moe")
    return emitError(loc)
           << "unknown architecture '" << desc.arch
           << "' (the graph builder supports llama, qwen3, qwen3moe)";
  const bool moe = desc.arch == "qwen3moe";
  if (!moe && desc.nExpert != 0)
    return emitError(loc) << "n_expert = " << desc.nExpert << " in a '"
                          << desc.arch << "' model: only qwen3moe has experts";
  SmallVector<std::pair<const char *, int64_t>> sizes = {
      {"n_vocab", desc.nVocab},    {"n_embd", desc.nEmbd},
      {"n_layer", desc.nLayer},    {"n_head", desc.nHead},
      {"n_head_kv", desc.nHeadKv}, {"head_dim", desc.headDim},
      {"rope_dim", desc.ropeDim}};
  if (moe)
    sizes.append({{"n_expert", desc.nExpert},
                  {"n_expert_used", desc.nExpertUsed},
                  {"n_ff_expert", desc.nFfExpert}});
  else
    sizes.push_back({"n_ff", desc.nFf});
  for (const auto &[name, value] : sizes)
    if (value <= 0)
      return emitError(loc) << name << " = " << value << ": must be positive";
  if (moe && desc.nExpertUsed > desc.nExpert)
    return emitError(loc) << "n_expert_used = " << desc.nExpertUsed
                          << " > n_expert = " << desc.nExpert;
  if (desc.nHead % desc.nHeadKv != 0)
    return emitError(loc) << "n_head = " << desc.nHead
                          << " is not a multiple of n_head_kv = "
                          << desc.nHeadKv << " (grouped-query attention)";
  if (desc.ropeDim % 2 != 0)
    return emitError(loc) << "rope_dim = " << desc.ropeDim
                          << ": RoPE rotates pairs, the size must be even";
  if (desc.ropeDim != desc.headDim)
    return emitError(loc) << "rope_dim = " << desc.ropeDim
                          << " != head_dim = " << desc.headDim
                          << ": partial rotary embeddings are not supported "
                             "by the graph builder yet";
  if (!(desc.ropeTheta > 0.0) || !std::isfinite(desc.ropeTheta))
    return emitError(loc) << "rope_theta = " << desc.ropeTheta
                          << ": must be positive and finite";
  if (!(desc.rmsEps >= 0.0) || !std::isfinite(desc.rmsEps))
    return emitError(loc) << "rms_eps = " << desc.rmsEps
                          << ": must be non-negative and finite";
  if (options.nCtx <= 0)
    return emitError(loc) << "n_ctx = " << options.nCtx << ": must be positive";
  if (options.chunkSizes.empty())
    return emitError(loc) << "no chunk sizes to build";
  llvm::DenseSet<int64_t> seen;
  for (int64_t c : options.chunkSizes) {
    if (c <= 0 || c > options.nCtx)
      return emitError(loc)
             << "chunk size " << c << " is outside [1, n_ctx = " << options.nCtx
             << "]";
    if (!seen.insert(c).second)
      return emitError(loc) << "chunk size " << c << " is listed twice";
  }
  return success();
}

namespace {

/// The RoPE table of positions [pos, pos + C): cos and sin [C, R/2] of
/// (pos + c) * theta^(-2i/R) [/ rope_freqs[i]], computed in f64 (as the
/// reference's rope_cache) or f32 and rounded to f32.
std::pair<Value, Value> emitRopeTable(GraphEmitter &g,
                                      const ModelDescription &desc,
                                      const ModelBuildOptions &options,
                                      int64_t chunk, Value pos,
                                      Value ropeFreqs) {
  OpBuilder &b = g.builder();
  Location loc = g.location();
  MLIRContext *ctx = b.getContext();
  const int64_t half = desc.ropeDim / 2;
  FloatType ft =
      options.ropeInF64 ? FloatType(b.getF64Type()) : FloatType(b.getF32Type());

  // The base frequencies are compile-time constants.
  SmallVector<double> freqs;
  for (int64_t i = 0; i < half; ++i)
    freqs.push_back(
        std::pow(desc.ropeTheta, -2.0 * double(i) / double(desc.ropeDim)));
  auto freqType = RankedTensorType::get({half}, ft);
  SmallVector<float> freqs32(freqs.begin(), freqs.end());
  DenseElementsAttr freqAttr =
      options.ropeInF64
          ? DenseElementsAttr::get(freqType, ArrayRef<double>(freqs))
          : DenseElementsAttr::get(freqType, ArrayRef<float>(freqs32));
  Value freqTable = arith::ConstantOp::create(b, loc, freqAttr);

  AffineMap id = AffineMap::getMultiDimIdentityMap(2, ctx);
  AffineMap col = AffineMap::get(2, 0, {b.getAffineDimExpr(1)}, ctx);
  SmallVector<Value> ins = {freqTable};
  SmallVector<AffineMap> maps = {col};
  if (ropeFreqs) {
    ins.push_back(ropeFreqs);
    maps.push_back(col);
  }
  maps.append({id, id});
  Value cosInit = g.empty({chunk, half}), sinInit = g.empty({chunk, half});
  SmallVector<utils::IteratorType> par(2, utils::IteratorType::parallel);
  const bool wide = options.ropeInF64;
  auto table = linalg::GenericOp::create(
      b, loc, TypeRange{cosInit.getType(), sinInit.getType()}, ins,
      ValueRange{cosInit, sinInit}, maps, par,
      [&](OpBuilder &nb, Location l, ValueRange args) {
        Value tok = linalg::IndexOp::create(nb, l, 0);
        Value p = arith::AddIOp::create(nb, l, pos, tok);
        Value p64 = arith::IndexCastOp::create(nb, l, nb.getI64Type(), p);
        Value pf = arith::SIToFPOp::create(nb, l, ft, p64);
        Value freq = args[0];
        if (ropeFreqs) {
          Value factor = args[1];
          if (wide)
            factor = arith::ExtFOp::create(nb, l, ft, factor);
          freq = arith::DivFOp::create(nb, l, freq, factor);
        }
        Value angle = arith::MulFOp::create(nb, l, pf, freq);
        Value cs = math::CosOp::create(nb, l, angle);
        Value sn = math::SinOp::create(nb, l, angle);
        if (wide) {
          cs = arith::TruncFOp::create(nb, l, nb.getF32Type(), cs);
          sn = arith::TruncFOp::create(nb, l, nb.getF32Type(), sn);
        }
        linalg::YieldOp::create(nb, l, ValueRange{cs, sn});
      });
  return {table.getResult(0), table.getResult(1)};
}

/// x[c, :] = token_embd[tokens[c], :] (a gather: tensor.extract in the body,
/// dequantized there when token_embd is not F32).
Value emitEmbedding(GraphEmitter &g, Value tokens, Value tokenEmbd,
                    int64_t chunk, int64_t dim) {
  OpBuilder &b = g.builder();
  MLIRContext *ctx = b.getContext();
  AffineMap id = AffineMap::getMultiDimIdentityMap(2, ctx);
  AffineMap row = AffineMap::get(2, 0, {b.getAffineDimExpr(0)}, ctx);
  Value init = g.empty({chunk, dim});
  SmallVector<utils::IteratorType> par(2, utils::IteratorType::parallel);
  return linalg::GenericOp::create(
             b, g.location(), TypeRange{init.getType()}, ValueRange{tokens},
             ValueRange{init}, ArrayRef<AffineMap>{row, id}, par,
             [&](OpBuilder &nb, Location l, ValueRange args) {
               Value tok = arith::IndexCastOp::create(nb, l, nb.getIndexType(),
                                                      args[0]);
               Value col = linalg::IndexOp::create(nb, l, 1);
               linalg::YieldOp::create(
                   nb, l, g.embeddingElement(nb, l, tokenEmbd, tok, col));
             })
      .getResult(0);
}

void buildForwardFunction(OpBuilder &b, ModuleOp module,
                          const ModelDescription &desc,
                          const ModelBuildOptions &options, int64_t chunk,
                          func::FuncOp layerFunc, bool lastRowOnly) {
  MLIRContext *ctx = b.getContext();
  Location loc = module.getLoc();
  const int64_t c = chunk, d = desc.nEmbd, v = desc.nVocab;
  auto f32 = [&](ArrayRef<int64_t> shape) {
    return RankedTensorType::get(shape, b.getF32Type());
  };
  // The layer function's weight types, in order.
  FunctionType layerType = layerFunc.getFunctionType();
  const unsigned layerFirstWeight = 5;
  const int64_t nLayerWeights = getNumLayerWeights(desc);
  RankedTensorType keyCacheType = cast<RankedTensorType>(
      layerType.getInput(layerFirstWeight + nLayerWeights));
  RankedTensorType cacheType = cast<RankedTensorType>(
      layerType.getInput(layerFirstWeight + nLayerWeights + 1));

  SmallVector<WeightFormat> formats = getWeightFormats(desc, options);
  SmallVector<Type> argTypes = {
      RankedTensorType::get({c}, b.getI32Type()), b.getIndexType(),
      weightTensorType(ctx, formats[0], v, d), f32({d}),
      weightTensorType(ctx, formats[2], v, d)};
  if (desc.hasRopeFreqs)
    argTypes.push_back(f32({desc.ropeDim / 2}));
  const unsigned firstLayerWeight = argTypes.size();
  for (int64_t l = 0; l < desc.nLayer; ++l)
    for (int64_t i = 0; i < nLayerWeights; ++i)
      argTypes.push_back(layerType.getInput(layerFirstWeight + i));
  const unsigned kCacheArg = argTypes.size();
  argTypes.append({keyCacheType, cacheType});
  const int64_t logitRows = lastRowOnly ? 1 : c;
  SmallVector<Type> resultTypes = {f32({logitRows, v}), keyCacheType,
                                   cacheType};

  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToEnd(module.getBody());
  auto func =
      func::FuncOp::create(b, loc, getForwardFunctionName(chunk, lastRowOnly),
                           FunctionType::get(ctx, argTypes, resultTypes));
  func->setAttr("llvm.emit_c_interface", b.getUnitAttr());
  func->setAttr(kPhaseAttr, b.getStringAttr(getPhaseName(chunk, lastRowOnly)));
  func->setAttr(kChunkAttr, b.getI64IntegerAttr(chunk));
  if (lastRowOnly)
    func->setAttr(kLastRowAttr, b.getUnitAttr());
  // What each argument binds (abi.h, compiled models): the dispatch tables'
  // buffer names.
  llvm::SmallVector<std::string> weightNames = getWeightNames(desc);
  func.setArgAttr(0, kNameAttr, b.getStringAttr("tokens"));
  for (unsigned i = 2; i < kCacheArg; ++i) {
    func.setArgAttr(i, kWeightAttr, b.getUnitAttr());
    func.setArgAttr(i, kNameAttr, b.getStringAttr(weightNames[i - 2]));
    if (formats[i - 2] != WeightFormat::F32)
      func.setArgAttr(i, kGGMLTypeAttr,
                      b.getI64IntegerAttr(int64_t(formats[i - 2])));
  }
  func.setArgAttr(
      kCacheArg, kNameAttr,
      b.getStringAttr(options.keyCacheKMajor ? "k_cache_kmajor" : "k_cache"));
  func.setArgAttr(kCacheArg + 1, kNameAttr, b.getStringAttr("v_cache"));
  func.setResultAttr(0, kNameAttr, b.getStringAttr("logits"));
  Block *entry = func.addEntryBlock();
  b.setInsertionPointToStart(entry);
  GraphEmitter g(b, loc);
  g.setQuantizedActivations(options.quantizedActivations);

  Value tokens = entry->getArgument(0), pos = entry->getArgument(1);
  Value tokenEmbd = entry->getArgument(2), outputNorm = entry->getArgument(3),
        output = entry->getArgument(4);
  Value ropeFreqs = desc.hasRopeFreqs ? entry->getArgument(5) : Value();
  Value kCache = entry->getArgument(kCacheArg),
        vCache = entry->getArgument(kCacheArg + 1);

  Value x = emitEmbedding(g, tokens, tokenEmbd, c, d);
  auto [cos, sin] = emitRopeTable(g, desc, options, c, pos, ropeFreqs);
  for (int64_t l = 0; l < desc.nLayer; ++l) {
    SmallVector<Value> operands = {x, pos, g.indexConst(l), cos, sin};
    for (int64_t i = 0; i < nLayerWeights; ++i)
      operands.push_back(
          entry->getArgument(firstLayerWeight + l * nLayerWeights + i));
    operands.append({kCache, vCache});
    auto call = func::CallOp::create(b, loc, layerFunc, operands);
    x = call.getResult(0);
    kCache = call.getResult(1);
    vCache = call.getResult(2);
  }
  if (lastRowOnly)
    x = tensor::ExtractSliceOp::create(
        b, loc, f32({1, d}), x,
        ArrayRef<OpFoldResult>{b.getIndexAttr(c - 1), b.getIndexAttr(0)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(d)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1)});
  Value h = g.rmsNorm(x, outputNorm, desc.rmsEps);
  Value logits = g.projection(h, output);
  func::ReturnOp::create(b, loc, ValueRange{logits, kCache, vCache});
}

} // namespace

FailureOr<OwningOpRef<ModuleOp>>
mlir::smepilot::buildModelModule(MLIRContext *ctx, const ModelDescription &desc,
                                 const ModelBuildOptions &options) {
  if (failed(verifyModelDescription(ctx, desc, options)))
    return failure();
  ctx->loadDialect<arith::ArithDialect, func::FuncDialect,
                   linalg::LinalgDialect, math::MathDialect, scf::SCFDialect,
                   tensor::TensorDialect>();

  Location loc = UnknownLoc::get(ctx);
  OpBuilder b(ctx);
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  for (int64_t chunk : options.chunkSizes) {
    func::FuncOp layer = buildLayerFunction(b, *module, desc, options, chunk);
    buildForwardFunction(b, *module, desc, options, chunk, layer,
                         /*lastRowOnly=*/false);
    if (options.lastRowLogits && chunk > 1)
      buildForwardFunction(b, *module, desc, options, chunk, layer,
                           /*lastRowOnly=*/true);
  }
  if (failed(verify(*module)))
    return emitError(loc) << "internal error: the model module built for '"
                          << desc.arch << "' does not verify";
  return module;
}

namespace {
constexpr StringRef kPresetNames[] = {"stories260k", "qwen3-tiny",
                                      "llama3-tiny", "qwen3moe-tiny"};
} // namespace

llvm::ArrayRef<StringRef> mlir::smepilot::getModelPresetNames() {
  return kPresetNames;
}

FailureOr<ModelDescription> mlir::smepilot::getModelPreset(StringRef name) {
  ModelDescription d;
  if (name == "stories260k") {
    // llama2.c's stories260K (../shared/models/stories260K.gguf).
    d.arch = "llama";
    d.nVocab = 512;
    d.nEmbd = 64;
    d.nLayer = 5;
    d.nHead = 8;
    d.nHeadKv = 4;
    d.headDim = 8;
    d.nFf = 172;
    d.ropeTheta = 10000.0;
    d.ropeStyle = RopeStyle::Interleaved;
    d.ropeDim = 8;
    d.rmsEps = 1e-5;
    return d;
  }
  if (name == "qwen3-tiny" || name == "qwen3moe-tiny") {
    d.arch = name == "qwen3-tiny" ? "qwen3" : "qwen3moe";
    d.nVocab = 151936;
    d.nEmbd = 64;
    d.nLayer = 2;
    d.nHead = 4;
    d.nHeadKv = 2;
    d.headDim = 32;
    d.nFf = 192;
    d.ropeTheta = 1e6;
    d.ropeStyle = RopeStyle::Neox;
    d.ropeDim = 32;
    d.rmsEps = 1e-6;
    d.hasQkNorm = true;
    d.tiedEmbeddings = true;
    if (d.arch == "qwen3moe") {
      d.nExpert = 8;
      d.nExpertUsed = 2;
      d.nFfExpert = 32;
      d.expertGating = ExpertGating::Softmax;
      d.expertWeightsNorm = true;
    }
    return d;
  }
  if (name == "llama3-tiny") {
    d.arch = "llama";
    d.nVocab = 128256;
    d.nEmbd = 64;
    d.nLayer = 2;
    d.nHead = 4;
    d.nHeadKv = 2;
    d.headDim = 16;
    d.nFf = 192;
    d.ropeTheta = 500000.0;
    d.ropeStyle = RopeStyle::Interleaved;
    d.ropeDim = 16;
    d.rmsEps = 1e-5;
    d.hasRopeFreqs = true;
    d.tiedEmbeddings = true;
    return d;
  }
  return failure();
}
