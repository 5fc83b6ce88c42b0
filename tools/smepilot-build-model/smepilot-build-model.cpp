//===- smepilot-build-model.cpp - print the graph builder's module --------===//
//
// Test driver of lib/ModelBuilder: builds the module of a preset (mirroring
// ../shared/models/README.md) or of a description given field by field, and
// prints it, so lit tests can check the builder's output and pipe it into
// smepilot-opt. Links the compiler only; smepilot-run builds from the GGUF.
//
//   smepilot-build-model --preset=stories260k --chunk-sizes=1,4 --n-ctx=16
//   smepilot-build-model --preset=qwen3-tiny --n-vocab=256
//   smepilot-build-model --preset=qwen3moe-tiny --n-vocab=256 --n-expert=4
//
//===----------------------------------------------------------------------===//

#include "smepilot/ModelBuilder/ModelBuilder.h"
#include "smepilot/Support/OutputFile.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/raw_ostream.h"

#include <optional>

using namespace mlir;
using namespace mlir::smepilot;
namespace cl = llvm::cl;

namespace {
cl::OptionCategory category("Model description (overrides the preset)");

cl::opt<std::string> preset("preset", cl::desc("Start from a built-in model"),
                            cl::value_desc("name"), cl::init(""));
cl::opt<std::string> arch("arch", cl::desc("llama | qwen3 | qwen3moe"),
                          cl::cat(category));
cl::opt<int64_t> nVocab("n-vocab", cl::cat(category));
cl::opt<int64_t> nEmbd("n-embd", cl::cat(category));
cl::opt<int64_t> nLayer("n-layer", cl::cat(category));
cl::opt<int64_t> nHead("n-head", cl::cat(category));
cl::opt<int64_t> nHeadKv("n-head-kv", cl::cat(category));
cl::opt<int64_t> headDim("head-dim", cl::cat(category));
cl::opt<int64_t> nFf("n-ff", cl::cat(category));
cl::opt<int64_t> ropeDim("rope-dim", cl::cat(category));
cl::opt<double> ropeTheta("rope-theta", cl::cat(category));
cl::opt<std::string> ropeStyle("rope-style", cl::desc("interleaved | neox"),
                               cl::cat(category));
cl::opt<double> rmsEps("rms-eps", cl::cat(category));
cl::opt<bool> ropeFreqs("rope-freqs", cl::cat(category));
cl::opt<bool> qkNorm("qk-norm", cl::cat(category));
cl::opt<bool> tied("tied-embeddings", cl::cat(category));
cl::opt<int64_t> nExpert("n-expert", cl::desc("Experts per MoE layer"),
                         cl::cat(category));
cl::opt<int64_t> nExpertUsed("n-expert-used",
                             cl::desc("Experts each token uses"),
                             cl::cat(category));
cl::opt<int64_t> nFfExpert("n-ff-expert", cl::desc("FFN width of an expert"),
                           cl::cat(category));
cl::opt<std::string> expertGating("expert-gating",
                                  cl::desc("softmax | sigmoid"),
                                  cl::cat(category));
cl::opt<bool> expertWeightsNorm(
    "expert-weights-norm",
    cl::desc("Renormalize the chosen experts' weights to sum 1"),
    cl::cat(category));

cl::list<int64_t> chunkSizes("chunk-sizes",
                             cl::desc("Chunk sizes to build (default 1)"),
                             cl::CommaSeparated);
cl::opt<int64_t> nCtx("n-ctx", cl::desc("K/V cache capacity"), cl::init(512));
cl::opt<bool> ropeF32("rope-f32",
                      cl::desc("Compute the RoPE table in f32, not f64"));
cl::opt<bool> lastRowLogits(
    "last-row-logits",
    cl::desc("Also build smepilot_forward_c<C>_last (last position's logits "
             "only) for chunk sizes above 1"));
cl::opt<std::string> weightFormat(
    "weight-format",
    cl::desc("Format of every weight matrix the builder can take typed "
             "(token_embd, output, the dense projections): f32 (default), "
             "f16, bf16, q8_0, q4_0"),
    cl::init("f32"));
cl::opt<bool> quantizedActivations(
    "quantized-activations",
    cl::desc("Q8_0/Q4_0 projections take their activations rounded to Q8_0 "
             "blocks (int8 quants and a scale per 32), as llama.cpp does"));
cl::opt<bool> keyCacheKMajor(
    "key-cache-kmajor",
    cl::desc("Keep the K cache K-major, [n_layer, n_head_kv, head_dim, "
             "n_ctx] (\"k_cache_kmajor\"), as the SME path does"));
cl::opt<std::string> outputFile("o", cl::desc("Output file"),
                                cl::value_desc("file"), cl::init("-"));

template <typename T> void override(cl::opt<T> &opt, T &field) {
  if (opt.getNumOccurrences())
    field = opt;
}
} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::ParseCommandLineOptions(argc, argv,
                              "SMEPilot graph builder test driver\n");

  ModelDescription desc;
  if (!preset.empty()) {
    FailureOr<ModelDescription> p = getModelPreset(preset);
    if (failed(p)) {
      llvm::errs() << "error: unknown preset '" << preset
                   << "' (expected one of "
                   << llvm::join(getModelPresetNames(), ", ") << ")\n";
      return 1;
    }
    desc = *p;
  }
  override(arch, desc.arch);
  override(nVocab, desc.nVocab);
  override(nEmbd, desc.nEmbd);
  override(nLayer, desc.nLayer);
  override(nHead, desc.nHead);
  override(nHeadKv, desc.nHeadKv);
  override(headDim, desc.headDim);
  override(nFf, desc.nFf);
  override(ropeDim, desc.ropeDim);
  override(ropeTheta, desc.ropeTheta);
  override(rmsEps, desc.rmsEps);
  override(ropeFreqs, desc.hasRopeFreqs);
  override(qkNorm, desc.hasQkNorm);
  override(tied, desc.tiedEmbeddings);
  override(nExpert, desc.nExpert);
  override(nExpertUsed, desc.nExpertUsed);
  override(nFfExpert, desc.nFfExpert);
  override(expertWeightsNorm, desc.expertWeightsNorm);
  if (expertGating.getNumOccurrences()) {
    if (expertGating == "softmax")
      desc.expertGating = ExpertGating::Softmax;
    else if (expertGating == "sigmoid")
      desc.expertGating = ExpertGating::Sigmoid;
    else {
      llvm::errs() << "error: --expert-gating=" << expertGating
                   << ": expected softmax or sigmoid\n";
      return 1;
    }
  }
  if (ropeStyle.getNumOccurrences()) {
    if (ropeStyle == "interleaved")
      desc.ropeStyle = RopeStyle::Interleaved;
    else if (ropeStyle == "neox")
      desc.ropeStyle = RopeStyle::Neox;
    else {
      llvm::errs() << "error: --rope-style=" << ropeStyle
                   << ": expected interleaved or neox\n";
      return 1;
    }
  }
  // Without a preset, head_dim and rope_dim default as in GGUF.
  if (desc.headDim == 0 && desc.nHead > 0)
    desc.headDim = desc.nEmbd / desc.nHead;
  if (desc.ropeDim == 0)
    desc.ropeDim = desc.headDim;

  ModelBuildOptions options;
  if (!chunkSizes.empty())
    options.chunkSizes.assign(chunkSizes.begin(), chunkSizes.end());
  options.nCtx = nCtx;
  options.ropeInF64 = !ropeF32;
  options.lastRowLogits = lastRowLogits;
  options.quantizedActivations = quantizedActivations;
  options.keyCacheKMajor = keyCacheKMajor;
  {
    std::optional<WeightFormat> format;
    for (WeightFormat f :
         {WeightFormat::F32, WeightFormat::F16, WeightFormat::BF16,
          WeightFormat::Q8_0, WeightFormat::Q4_0})
      if (weightFormat == getWeightFormatName(f))
        format = f;
    if (!format) {
      llvm::errs() << "error: --weight-format=" << weightFormat
                   << ": expected f32, f16, bf16, q8_0 or q4_0\n";
      return 1;
    }
    for (const std::string &name : getWeightNames(desc))
      options.weightFormats[name] = *format;
  }

  MLIRContext ctx;
  FailureOr<OwningOpRef<ModuleOp>> module =
      buildModelModule(&ctx, desc, options);
  if (failed(module))
    return 1;

  // docs/tools.md, "Output files": a temporary renamed into place, never
  // onto a non-regular file; "-" is standard output, checked for errors.
  auto print = [&](llvm::raw_ostream &os) {
    (*module)->print(os);
    os << "\n";
  };
  llvm::Error err = llvm::Error::success();
  if (outputFile == "-") {
    print(llvm::outs());
    err = flushStdout();
  } else {
    err = writeOutputFile(outputFile, {}, print);
  }
  if (err) {
    llvm::errs() << "error: " << llvm::toString(std::move(err)) << "\n";
    return 1;
  }
  return 0;
}
