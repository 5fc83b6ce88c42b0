//===- ModelBuilderTest.cpp - lib/ModelBuilder graph builder --------------===//
//
// Builds the tiny configurations through the C++ API, verifies the modules
// and counts what the contract (docs/compiled-model.md) fixes: functions,
// calls per layer, weight arguments, projections, cache updates.
//
//===----------------------------------------------------------------------===//

#include "smepilot/ModelBuilder/ModelBuilder.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"

#include <gtest/gtest.h>

#include <string>

using namespace mlir;
using namespace mlir::smepilot;

namespace {

template <typename OpT> int64_t countOps(Operation *root) {
  int64_t n = 0;
  root->walk([&](OpT) { ++n; });
  return n;
}

/// Builds `desc`, collecting error messages instead of printing them.
struct Built {
  FailureOr<OwningOpRef<ModuleOp>> module = failure();
  std::string errors;
};

Built build(MLIRContext &ctx, const ModelDescription &desc,
            const ModelBuildOptions &options) {
  Built out;
  ScopedDiagnosticHandler handler(&ctx, [&](Diagnostic &d) {
    out.errors += d.str();
    return success();
  });
  out.module = buildModelModule(&ctx, desc, options);
  return out;
}

ModelDescription preset(StringRef name) {
  FailureOr<ModelDescription> d = getModelPreset(name);
  EXPECT_TRUE(succeeded(d)) << name.str();
  return succeeded(d) ? *d : ModelDescription();
}

TEST(ModelBuilder, Stories260KDecodeAndPrefill) {
  MLIRContext ctx;
  ModelDescription desc = preset("stories260k");
  ModelBuildOptions options;
  options.chunkSizes = {1, 32};
  options.nCtx = 512;
  Built b = build(ctx, desc, options);
  ASSERT_TRUE(succeeded(b.module)) << b.errors;
  ModuleOp module = **b.module;
  ASSERT_TRUE(succeeded(verify(module)));

  for (int64_t c : {1, 32}) {
    auto fwd = module.lookupSymbol<func::FuncOp>(getForwardFunctionName(c));
    ASSERT_TRUE(fwd) << c;
    EXPECT_TRUE(fwd.isPublic());
    EXPECT_TRUE(fwd->hasAttr("llvm.emit_c_interface"));
    // tokens, pos, 3 globals, 9 per layer x 5, 2 caches.
    EXPECT_EQ(fwd.getNumArguments(), 2u + 3u + 9u * 5u + 2u);
    EXPECT_EQ(fwd.getNumResults(), 3u);
    auto logits = cast<RankedTensorType>(fwd.getResultTypes()[0]);
    EXPECT_EQ(logits.getShape(), ArrayRef<int64_t>({c, 512}));
    auto cache = cast<RankedTensorType>(fwd.getResultTypes()[1]);
    EXPECT_EQ(cache.getShape(), ArrayRef<int64_t>({5, 4, 512, 8}));
    int64_t weights = 0;
    for (unsigned i = 0; i < fwd.getNumArguments(); ++i)
      weights += fwd.getArgAttr(i, "smepilot.weight") != nullptr;
    EXPECT_EQ(weights, int64_t(getWeightNames(desc).size()));
    // One call per layer, nothing else called.
    EXPECT_EQ(countOps<func::CallOp>(fwd), 5);
    // The logits projection is the forward function's only matmul.
    EXPECT_EQ(countOps<linalg::MatmulOp>(fwd), 1);

    auto layer = module.lookupSymbol<func::FuncOp>("smepilot_layer_c" +
                                                   std::to_string(c));
    ASSERT_TRUE(layer);
    EXPECT_TRUE(layer.isPrivate());
    // q, k, v, o, gate, up, down.
    EXPECT_EQ(countOps<linalg::MatmulOp>(layer), 7);
    EXPECT_EQ(countOps<linalg::BatchMatmulOp>(layer), 2);
    EXPECT_EQ(countOps<tensor::InsertSliceOp>(layer), 2);
    EXPECT_EQ(countOps<tensor::ExtractSliceOp>(layer), 2);
  }
  // Two chunk sizes: two forward and two layer functions.
  EXPECT_EQ(countOps<func::FuncOp>(module), 4);
}

TEST(ModelBuilder, Qwen3TinyHasQkNormAndWideHeads) {
  MLIRContext ctx;
  ModelDescription desc = preset("qwen3-tiny");
  ModelBuildOptions options;
  options.chunkSizes = {1, 4};
  options.nCtx = 64;
  Built b = build(ctx, desc, options);
  ASSERT_TRUE(succeeded(b.module)) << b.errors;
  ModuleOp module = **b.module;
  ASSERT_TRUE(succeeded(verify(module)));

  auto fwd = module.lookupSymbol<func::FuncOp>("smepilot_forward_c4");
  ASSERT_TRUE(fwd);
  EXPECT_EQ(fwd.getNumArguments(), 2u + 3u + 11u * 2u + 2u);
  EXPECT_EQ(countOps<func::CallOp>(fwd), 2);
  auto layer = module.lookupSymbol<func::FuncOp>("smepilot_layer_c4");
  ASSERT_TRUE(layer);
  // wq is [n_head * head_dim, n_embd] = [128, 64].
  auto wq = cast<RankedTensorType>(layer.getArgumentTypes()[6]);
  EXPECT_EQ(wq.getShape(), ArrayRef<int64_t>({128, 64}));
  auto qNorm = cast<RankedTensorType>(layer.getArgumentTypes()[10]);
  EXPECT_EQ(qNorm.getShape(), ArrayRef<int64_t>({32}));
  EXPECT_EQ(countOps<linalg::MatmulOp>(layer), 7);
}

TEST(ModelBuilder, RopeFreqsArgumentFollowsOutput) {
  MLIRContext ctx;
  ModelDescription desc = preset("llama3-tiny");
  desc.nVocab = 256;
  Built b = build(ctx, desc, ModelBuildOptions());
  ASSERT_TRUE(succeeded(b.module)) << b.errors;
  auto fwd = (*b.module)->lookupSymbol<func::FuncOp>("smepilot_forward_c1");
  ASSERT_TRUE(fwd);
  auto freqs = cast<RankedTensorType>(fwd.getArgumentTypes()[5]);
  EXPECT_EQ(freqs.getShape(), ArrayRef<int64_t>({8}));
  llvm::SmallVector<std::string> names = getWeightNames(desc);
  ASSERT_GE(names.size(), 5u);
  EXPECT_EQ(names[2], "token_embd.weight"); // tied
  EXPECT_EQ(names[3], "rope_freqs.weight");
  EXPECT_EQ(names[4], "blk.0.attn_norm.weight");
  EXPECT_EQ(names.back(), "blk.1.ffn_down.weight");
}

/// qwen3moe: the dense FFN weights give way to the router and the stacked
/// experts, bound by their GGUF names; the expert matrices are sliced at a
/// dynamic expert id: per expert over its listed rows for a prefill chunk
/// (an unused expert skipped by an scf.if), per slot for decode.
TEST(ModelBuilder, Qwen3MoeTinyRoutesToStackedExperts) {
  MLIRContext ctx;
  ModelDescription desc = preset("qwen3moe-tiny");
  desc.nVocab = 256;
  ModelBuildOptions options;
  options.chunkSizes = {1, 4};
  options.nCtx = 64;
  Built b = build(ctx, desc, options);
  ASSERT_TRUE(succeeded(b.module)) << b.errors;
  ModuleOp module = **b.module;
  ASSERT_TRUE(succeeded(verify(module)));

  llvm::SmallVector<std::string> names = getWeightNames(desc);
  ASSERT_EQ(names.size(), 3u + 12u * 2u);
  EXPECT_EQ(names[3 + 7], "blk.0.ffn_norm.weight");
  EXPECT_EQ(names[3 + 8], "blk.0.ffn_gate_inp.weight");
  EXPECT_EQ(names[3 + 9], "blk.0.ffn_gate_exps.weight");
  EXPECT_EQ(names[3 + 10], "blk.0.ffn_up_exps.weight");
  EXPECT_EQ(names[3 + 11], "blk.0.ffn_down_exps.weight");
  EXPECT_EQ(names.back(), "blk.1.ffn_down_exps.weight");

  auto fwd = module.lookupSymbol<func::FuncOp>("smepilot_forward_c4");
  ASSERT_TRUE(fwd);
  EXPECT_EQ(fwd.getNumArguments(), 2u + names.size() + 2u);
  auto layer = module.lookupSymbol<func::FuncOp>("smepilot_layer_c4");
  ASSERT_TRUE(layer);
  ArrayRef<Type> types = layer.getArgumentTypes();
  EXPECT_EQ(cast<RankedTensorType>(types[13]).getShape(),
            ArrayRef<int64_t>({8, 64}));
  EXPECT_EQ(cast<RankedTensorType>(types[14]).getShape(),
            ArrayRef<int64_t>({8, 32, 64}));
  EXPECT_EQ(cast<RankedTensorType>(types[15]).getShape(),
            ArrayRef<int64_t>({8, 32, 64}));
  EXPECT_EQ(cast<RankedTensorType>(types[16]).getShape(),
            ArrayRef<int64_t>({8, 64, 32}));
  // Attention's 4 projections, the router, and the expert's gate, up and
  // down.
  EXPECT_EQ(countOps<linalg::MatmulOp>(layer), 4 + 1 + 3);
  int64_t expertSlices = 0;
  layer.walk([&](tensor::ExtractSliceOp op) {
    if (op.getSourceType().getRank() == 3 && !op.getOffsets().empty())
      ++expertSlices;
  });
  EXPECT_EQ(expertSlices, 3);
  EXPECT_GT(countOps<scf::ForOp>(layer), 0);
  EXPECT_EQ(countOps<scf::IfOp>(layer), 1);
  auto decode = module.lookupSymbol<func::FuncOp>("smepilot_layer_c1");
  ASSERT_TRUE(decode);
  EXPECT_EQ(countOps<linalg::MatmulOp>(decode), 4 + 1 + 3);
  EXPECT_EQ(countOps<scf::IfOp>(decode), 0);
}

TEST(ModelBuilder, RejectsWhatItCannotExpress) {
  MLIRContext ctx;
  struct Case {
    const char *what;
    ModelDescription desc;
    ModelBuildOptions options;
    const char *message;
  };
  std::vector<Case> cases;
  ModelDescription d = preset("stories260k");
  d.ropeDim = 4;
  cases.push_back({"partial rope",
                   d,
                   {},
                   "partial rotary embeddings are not supported by the graph "
                   "builder yet"});
  d = preset("qwen3moe-tiny");
  d.nExpertUsed = 9;
  cases.push_back(
      {"top-k > experts", d, {}, "n_expert_used = 9 > n_expert = 8"});
  d = preset("qwen3moe-tiny");
  d.nFfExpert = 0;
  cases.push_back(
      {"no expert width", d, {}, "n_ff_expert = 0: must be positive"});
  d = preset("qwen3-tiny");
  d.nExpert = 4;
  cases.push_back({"dense with experts", d, {}, "only qwen3moe has experts"});
  d = preset("stories260k");
  d.arch = "mamba";
  cases.push_back({"arch", d, {}, "unknown architecture 'mamba'"});
  d = preset("stories260k");
  d.nHeadKv = 3;
  cases.push_back({"gqa", d, {}, "is not a multiple of n_head_kv = 3"});
  d = preset("stories260k");
  d.ropeDim = 5;
  cases.push_back({"odd rope", d, {}, "the size must be even"});
  d = preset("stories260k");
  ModelBuildOptions o;
  o.chunkSizes = {};
  cases.push_back({"no chunks", d, o, "no chunk sizes to build"});
  for (Case &c : cases) {
    Built b = build(ctx, c.desc, c.options);
    EXPECT_TRUE(failed(b.module)) << c.what;
    EXPECT_NE(b.errors.find(c.message), std::string::npos)
        << c.what << ": " << b.errors;
  }
}

TEST(ModelBuilder, Presets) {
  for (StringRef name : getModelPresetNames())
    EXPECT_TRUE(succeeded(getModelPreset(name))) << name.str();
  EXPECT_TRUE(failed(getModelPreset("gpt2")));
}

} // namespace

namespace {

/// The format getWeightFormats gives the weight named `name`.
WeightFormat formatOf(const ModelDescription &desc,
                      const ModelBuildOptions &options, StringRef name) {
  llvm::SmallVector<std::string> names = getWeightNames(desc);
  llvm::SmallVector<WeightFormat> formats = getWeightFormats(desc, options);
  EXPECT_EQ(names.size(), formats.size());
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == name)
      return formats[i];
  ADD_FAILURE() << "no weight " << name.str();
  return WeightFormat::F32;
}

} // namespace

TEST(ModelBuilder, WeightFormatsAreOnePerLayerRole) {
  // qwen3-tiny: 2 layers, K = 64 (q dim 128 for attn_output, ffn 192).
  ModelDescription desc = preset("qwen3-tiny");
  ModelBuildOptions options;
  for (const std::string &name : getWeightNames(desc))
    options.weightFormats[name] = WeightFormat::Q8_0;
  // Layers that disagree (llama-quantize's mixes keep some layers' tensors
  // in another type): one layer function serves them all, so the role is
  // F32 in both layers; the others keep their format.
  options.weightFormats["blk.1.ffn_down.weight"] = WeightFormat::Q4_0;
  EXPECT_EQ(formatOf(desc, options, "blk.0.ffn_down.weight"),
            WeightFormat::F32);
  EXPECT_EQ(formatOf(desc, options, "blk.1.ffn_down.weight"),
            WeightFormat::F32);
  EXPECT_EQ(formatOf(desc, options, "blk.1.ffn_up.weight"), WeightFormat::Q8_0);
  EXPECT_EQ(formatOf(desc, options, "blk.0.attn_output.weight"),
            WeightFormat::Q8_0);
  // Norms never take a format, whatever is asked.
  EXPECT_EQ(formatOf(desc, options, "blk.0.attn_q_norm.weight"),
            WeightFormat::F32);
  EXPECT_EQ(formatOf(desc, options, "output_norm.weight"), WeightFormat::F32);
  // Tied embeddings: token_embd serves as output in the same format.
  EXPECT_EQ(formatOf(desc, options, "token_embd.weight"), WeightFormat::Q8_0);

  // A K that is not a multiple of the block (stories260K's ffn_down, 172)
  // cannot be Q8_0, but can be F16.
  ModelDescription stories = preset("stories260k");
  ModelBuildOptions q8, f16;
  for (const std::string &name : getWeightNames(stories)) {
    q8.weightFormats[name] = WeightFormat::Q8_0;
    f16.weightFormats[name] = WeightFormat::F16;
  }
  EXPECT_EQ(formatOf(stories, q8, "blk.3.ffn_down.weight"), WeightFormat::F32);
  EXPECT_EQ(formatOf(stories, q8, "blk.3.ffn_up.weight"), WeightFormat::Q8_0);
  EXPECT_EQ(formatOf(stories, f16, "blk.3.ffn_down.weight"), WeightFormat::F16);

  // The module takes them in those types and verifies.
  MLIRContext ctx;
  Built built = build(ctx, desc, options);
  ASSERT_TRUE(succeeded(built.module)) << built.errors;
  auto fwd = (*built.module)->lookupSymbol<func::FuncOp>("smepilot_forward_c1");
  ASSERT_TRUE(fwd);
  // token_embd (argument 2): [V, K/32, 34] bytes with its GGML type.
  auto embd = cast<RankedTensorType>(fwd.getArgumentTypes()[2]);
  EXPECT_EQ(embd.getShape(), (ArrayRef<int64_t>{desc.nVocab, 2, 34}));
  EXPECT_TRUE(embd.getElementType().isInteger(8));
  auto type = fwd.getArgAttrOfType<IntegerAttr>(2, "smepilot.ggml_type");
  ASSERT_TRUE(type);
  EXPECT_EQ(type.getInt(), 8);
}
