// smepilot-run: the JIT engine. See jit_engine.h.
#include "jit_engine.h"

#include "smepilot/JIT/HostJIT.h"
#include "smepilot/Model/ModelBuilder.h"
#include "smepilot/Pipelines/Pipelines.h"

#include "smepilot_rt/compiled_engine.h"
#include "smepilot_rt/model.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

namespace smepilot::run {
namespace {

using namespace mlir;
namespace rt = ::smepilot::rt;
/// The compiler (lib/): graph builder, host pipeline, JIT.
namespace cc = ::mlir::smepilot;

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

/// Collects the diagnostics emitted while it lives, for one-line errors.
class diagnostic_collector {
public:
  explicit diagnostic_collector(MLIRContext &ctx)
      : handler_(&ctx, [this](Diagnostic &d) {
          if (d.getSeverity() == DiagnosticSeverity::Error) {
            if (!text_.empty())
              text_ += "; ";
            text_ += d.str();
          }
          return success();
        }) {}
  std::string take(const std::string &fallback) {
    return text_.empty() ? fallback : text_;
  }

private:
  std::string text_;
  ScopedDiagnosticHandler handler_;
};

cc::ModelDescription describe(const rt::model_config &cfg) {
  cc::ModelDescription d;
  d.arch = rt::model_arch_name(cfg.arch);
  d.nVocab = cfg.n_vocab;
  d.nEmbd = cfg.n_embd;
  d.nLayer = cfg.n_layer;
  d.nHead = cfg.n_head;
  d.nHeadKv = cfg.n_head_kv;
  d.headDim = cfg.head_dim;
  d.nFf = cfg.n_ff;
  d.ropeTheta = cfg.rope_theta;
  d.ropeStyle = cfg.rope_type == rt::rope_style::neox ? cc::RopeStyle::Neox
                                                      : cc::RopeStyle::Interleaved;
  d.ropeDim = cfg.rope_dim;
  d.rmsEps = cfg.rms_eps;
  d.hasRopeFreqs = cfg.has_rope_freqs;
  d.hasQkNorm = cfg.has_qk_norm;
  d.tiedEmbeddings = cfg.tied_embeddings;
  d.nExpert = cfg.n_expert;
  d.nExpertUsed = cfg.n_expert_used;
  d.nFfExpert = cfg.n_ff_expert;
  d.expertGating = cfg.gating == rt::expert_gating::sigmoid ? cc::ExpertGating::Sigmoid
                                                            : cc::ExpertGating::Softmax;
  d.expertWeightsNorm = cfg.expert_weights_norm;
  return d;
}

/// Writes `module` to DIR/NN-name.mlir.
rt::status dump_module(const std::string &dir, int index, const std::string &name,
                       ModuleOp module) {
  char file[256];
  std::snprintf(file, sizeof file, "%02d-%s.mlir", index, name.c_str());
  llvm::SmallString<256> path(dir);
  llvm::sys::path::append(path, file);
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  if (ec)
    return rt::status::error("--dump-mlir: cannot write '" + std::string(path) +
                             "': " + ec.message());
  module.print(os);
  return rt::status::ok();
}

/// What the compiled engine's tables live in: the JIT and its context.
struct jit_state {
  MLIRContext context;
  std::unique_ptr<cc::HostJIT> jit;
};

rt::result<std::unique_ptr<rt::engine>> load(const rt::gguf_file &file,
                                             const rt::engine_options &options,
                                             const jit_engine_options &jit) {
  rt::result<rt::model_config> cfg = rt::read_model_config(file);
  if (!cfg)
    return cfg.take_error();
  if (options.n_batch < 1)
    return rt::status::error("invalid batch size " + std::to_string(options.n_batch) +
                             " (expected at least 1)");
  const cc::ModelDescription desc = describe(*cfg);
  const int64_t n_ctx = options.n_ctx > 0 ? options.n_ctx : int64_t(cfg->n_ctx_train);
  if (n_ctx < 1)
    return rt::status::error("invalid context size " + std::to_string(n_ctx));
  // The prompt function's chunk: -b, at most 64 (compile time grows with
  // it) and at most the context.
  const int64_t big_chunk = std::min<int64_t>({int64_t(options.n_batch), 64, n_ctx});

  auto state = std::make_shared<jit_state>();
  MLIRContext &ctx = state->context;
  DialectRegistry registry;
  cc::registerHostPipelineDialects(registry);
  ctx.appendDialectRegistry(registry);
  ctx.loadAllAvailableDialects();
  diagnostic_collector diags(ctx);

  auto t0 = std::chrono::steady_clock::now();
  cc::ModelBuildOptions build;
  build.nCtx = n_ctx;
  build.chunkSizes = {1};
  build.lastRowLogits = true;
  if (big_chunk > 1)
    build.chunkSizes.push_back(big_chunk);
  FailureOr<OwningOpRef<ModuleOp>> module = cc::buildModelModule(&ctx, desc, build);
  if (failed(module))
    return rt::status::error(file.path() + ": the JIT engine cannot compile this model: " +
                             diags.take("the graph builder failed"));
  double build_s = seconds_since(t0);

  // The registered host pipeline, stage by stage so each can be dumped.
  cc::HostPipelineOptions pipeline;
  const std::string &dir = jit.dump_mlir_dir;
  if (!dir.empty()) {
    if (std::error_code ec = llvm::sys::fs::create_directories(dir))
      return rt::status::error("--dump-mlir: cannot create '" + dir + "': " + ec.message());
    SMEPILOT_RT_RETURN_IF_ERROR(dump_module(dir, 0, "builder", **module));
  }
  t0 = std::chrono::steady_clock::now();
  int index = 1;
  for (const cc::PipelineStage &stage : cc::getHostPipelineStages(pipeline)) {
    PassManager pm(&ctx);
    stage.addPasses(pm);
    if (failed(pm.run(**module)))
      return rt::status::error(file.path() + ": pipeline stage '" + stage.name +
                               "' failed: " + diags.take("no diagnostic"));
    if (!dir.empty())
      SMEPILOT_RT_RETURN_IF_ERROR(dump_module(dir, index++, stage.name, **module));
  }
  double lower_s = seconds_since(t0);

  t0 = std::chrono::steady_clock::now();
  FailureOr<std::unique_ptr<cc::HostJIT>> compiled = cc::HostJIT::compile(**module);
  if (failed(compiled))
    return rt::status::error(file.path() + ": JIT compilation failed: " +
                             diags.take("no diagnostic"));
  state->jit = std::move(*compiled);
  double jit_s = seconds_since(t0);

  std::string error;
  FailureOr<void *> model = state->jit->lookupCompiledModel(&error);
  if (failed(model))
    return rt::status::error(file.path() + ": jit: " + error);
  const auto *compiled_model = static_cast<const smepilot_rt_compiled_model *>(*model);
  if (jit.verbose)
    std::fprintf(stderr,
                 "smepilot-run: jit: graph %.1f ms, pipeline %.1f ms, LLVM %.1f ms; %s\n",
                 build_s * 1e3, lower_s * 1e3, jit_s * 1e3,
                 rt::describe_compiled_model(*compiled_model).c_str());
  rt::engine_options run_options = options;
  run_options.n_ctx = int32_t(n_ctx);
  return rt::load_compiled_engine(file, run_options, compiled_model, "jit", std::move(state));
}

} // namespace

rt::result<std::unique_ptr<rt::engine>> load_jit_engine(const rt::gguf_file &file,
                                                        const rt::engine_options &options,
                                                        const jit_engine_options &jit_options) {
  return load(file, options, jit_options);
}

} // namespace smepilot::run
