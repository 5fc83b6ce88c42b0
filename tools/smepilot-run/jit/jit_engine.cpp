// smepilot-run: the JIT engine. See jit_engine.h.
#include "jit_engine.h"

#include "smepilot/JIT/HostJIT.h"
#include "smepilot/Model/ModelBuilder.h"
#include "smepilot/Pipelines/Pipelines.h"

#include "smepilot_rt/dispatch.h"
#include "smepilot_rt/ggml_types.h"
#include "smepilot_rt/model.h"
#include "smepilot_rt/thread_pool.h"

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
#include <cstring>
#include <map>
#include <vector>

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

class jit_engine final : public rt::engine {
public:
  std::string_view name() const override { return "jit"; }
  int32_t n_vocab() const override { return int32_t(desc_.nVocab); }
  int32_t n_ctx() const override { return int32_t(n_ctx_); }
  int32_t n_past() const override { return n_past_; }
  void reset() override { n_past_ = 0; }

  rt::status eval(std::span<const int32_t> tokens, int32_t pos, rt::logits_mode mode,
                  float *logits) override;

  static rt::result<std::unique_ptr<rt::engine>> load(const rt::gguf_file &file,
                                                      const rt::engine_options &options,
                                                      const jit_engine_options &jit);

private:
  rt::status load_weights(const rt::gguf_file &file);
  /// Runs the chunk function; `last_only`: the variant writing only the last
  /// position's logits (one row).
  rt::status run_chunk(int64_t chunk, bool last_only, const int32_t *tokens, int64_t pos,
                       float *logits);

  cc::ModelDescription desc_;
  int64_t n_ctx_ = 0;
  int64_t big_chunk_ = 1;
  int32_t n_past_ = 0;
  MLIRContext context_;
  std::unique_ptr<cc::HostJIT> jit_;
  /// Workers for the dispatches (and the weight conversion at load).
  std::unique_ptr<rt::thread_pool> pool_;
  /// The validated dispatch table of each phase, by phase name.
  std::map<std::string, rt::dispatch_program> programs_;
  /// One base pointer per weight, in the forward functions' order.
  std::vector<void *> weight_ptrs_;
  /// Argument pointers of a run (tokens, weights, caches, logits).
  std::vector<void *> run_args_;
  /// Dequantized (or copied) weights backing weight_ptrs_.
  std::vector<std::vector<float>> weight_storage_;
  std::vector<float> k_cache_, v_cache_;
  std::vector<float> chunk_logits_;
};

rt::status jit_engine::load_weights(const rt::gguf_file &file) {
  llvm::SmallVector<std::string> names = cc::getWeightNames(desc_);
  std::vector<const rt::gguf_tensor_info *> tensors;
  weight_storage_.reserve(names.size());
  for (const std::string &name : names) {
    const rt::gguf_tensor_info *t = file.find_tensor(name);
    if (!t)
      return rt::status::error(file.path() + ": tensor '" + name +
                               "' needed by the compiled model is missing");
    tensors.push_back(t);
    // GGUF lists the contiguous dimension first; MLIR shapes list it last.
    llvm::SmallVector<int64_t, 4> sizes(t->dims.rbegin(), t->dims.rend());
    std::vector<float> &buf = weight_storage_.emplace_back(t->n_elements);
    weight_ptrs_.push_back(buf.data());
  }
  // Dequantize every row on the thread pool (rows are independent; this is
  // most of the load time of a large model).
  struct row_range {
    size_t tensor;
    uint64_t row;
  };
  std::vector<row_range> work;
  for (size_t i = 0; i < tensors.size(); ++i) {
    uint64_t rows = tensors[i]->n_elements / uint64_t(tensors[i]->dims[0]);
    for (uint64_t r = 0; r < rows; r += 64)
      work.push_back({i, r});
  }
  std::vector<rt::status> errors(size_t(pool_->n_threads()));
  pool_->parallel_for(int64_t(work.size()), [&](int64_t begin, int64_t end, int worker) {
    for (int64_t w = begin; w < end && errors[worker].is_ok(); ++w) {
      const rt::gguf_tensor_info *t = tensors[work[w].tensor];
      const uint64_t row = uint64_t(t->dims[0]);
      const uint64_t rows = t->n_elements / row;
      const uint64_t row_bytes = rt::ggml_row_bytes(t->type, row);
      float *dst = weight_storage_[work[w].tensor].data();
      for (uint64_t r = work[w].row; r < std::min(rows, work[w].row + 64); ++r) {
        rt::status st = rt::dequantize_row(t->type, t->data + r * row_bytes, dst + r * row, row);
        if (!st.is_ok()) {
          errors[worker] = st;
          break;
        }
      }
    }
  });
  for (rt::status &st : errors)
    SMEPILOT_RT_RETURN_IF_ERROR(st);
  return rt::status::ok();
}

rt::result<std::unique_ptr<rt::engine>> jit_engine::load(const rt::gguf_file &file,
                                                          const rt::engine_options &options,
                                                          const jit_engine_options &jit) {
  rt::result<rt::model_config> cfg = rt::read_model_config(file);
  if (!cfg)
    return cfg.take_error();
  if (options.n_batch < 1)
    return rt::status::error("invalid batch size " + std::to_string(options.n_batch) +
                             " (expected at least 1)");
  auto engine = std::unique_ptr<jit_engine>(new jit_engine());
  engine->desc_ = describe(*cfg);
  engine->n_ctx_ = options.n_ctx > 0 ? options.n_ctx : int64_t(cfg->n_ctx_train);
  if (engine->n_ctx_ < 1)
    return rt::status::error("invalid context size " + std::to_string(engine->n_ctx_));
  // The prompt function's chunk: -b, at most 64 (compile time grows with
  // it) and at most the context.
  engine->big_chunk_ = std::min<int64_t>({int64_t(options.n_batch), 64, engine->n_ctx_});

  MLIRContext &ctx = engine->context_;
  DialectRegistry registry;
  cc::registerHostPipelineDialects(registry);
  ctx.appendDialectRegistry(registry);
  ctx.loadAllAvailableDialects();
  diagnostic_collector diags(ctx);

  auto t0 = std::chrono::steady_clock::now();
  cc::ModelBuildOptions build;
  build.nCtx = engine->n_ctx_;
  build.chunkSizes = {1};
  build.lastRowLogits = true;
  if (engine->big_chunk_ > 1)
    build.chunkSizes.push_back(engine->big_chunk_);
  FailureOr<OwningOpRef<ModuleOp>> module =
      cc::buildModelModule(&ctx, engine->desc_, build);
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
  FailureOr<std::unique_ptr<cc::HostJIT>> compiled =
      cc::HostJIT::compile(**module);
  if (failed(compiled))
    return rt::status::error(file.path() + ": JIT compilation failed: " +
                             diags.take("no diagnostic"));
  engine->jit_ = std::move(*compiled);
  double jit_s = seconds_since(t0);

  // One validated dispatch table per phase: the chunk functions and their
  // last-row variants.
  size_t n_dispatches = 0, n_kernels = 0;
  for (int64_t chunk : build.chunkSizes)
    for (bool last : {false, true}) {
      if (last && (chunk == 1 || !build.lastRowLogits))
        continue;
      std::string phase = cc::getPhaseName(chunk, last), error;
      FailureOr<void *> table = engine->jit_->lookupDispatchTable(phase, &error);
      if (failed(table))
        return rt::status::error(file.path() + ": jit: " + error);
      rt::result<rt::dispatch_program> program = rt::dispatch_program::create(
          static_cast<const smepilot_rt_dispatch_table *>(*table));
      if (!program)
        return rt::status::error(file.path() + ": jit: the compiler's dispatch table is invalid: " +
                                 program.error().message());
      n_dispatches += program->table().n_dispatches;
      n_kernels += program->table().n_kernels;
      engine->programs_.emplace(phase, std::move(*program));
    }
  engine->pool_ = std::make_unique<rt::thread_pool>(options.n_threads);
  if (jit.verbose)
    std::fprintf(stderr,
                 "smepilot-run: jit: graph %.1f ms, pipeline %.1f ms, LLVM %.1f ms "
                 "(chunks 1%s; %zu phases, %zu dispatches over %zu kernels, %d threads)\n",
                 build_s * 1e3, lower_s * 1e3, jit_s * 1e3,
                 engine->big_chunk_ > 1 ? (", " + std::to_string(engine->big_chunk_)).c_str()
                                        : "",
                 engine->programs_.size(), n_dispatches, n_kernels, engine->pool_->n_threads());

  SMEPILOT_RT_RETURN_IF_ERROR(engine->load_weights(file));
  const cc::ModelDescription &d = engine->desc_;
  size_t cache = size_t(d.nLayer) * d.nHeadKv * engine->n_ctx_ * d.headDim;
  engine->k_cache_.assign(cache, 0.0f);
  engine->v_cache_.assign(cache, 0.0f);
  engine->chunk_logits_.resize(size_t(engine->big_chunk_) * d.nVocab);
  return std::unique_ptr<rt::engine>(std::move(engine));
}

rt::status jit_engine::run_chunk(int64_t chunk, bool last_only, const int32_t *tokens,
                                 int64_t pos, float *logits) {
  // The phase's table arguments are its memref arguments in order (tokens,
  // weights, caches, logits out-param); its constants the index ones (pos).
  auto it = programs_.find(cc::getPhaseName(chunk, last_only));
  if (it == programs_.end())
    return rt::status::error("jit: no compiled phase for a chunk of " + std::to_string(chunk));
  run_args_.clear();
  run_args_.push_back(const_cast<int32_t *>(tokens));
  run_args_.insert(run_args_.end(), weight_ptrs_.begin(), weight_ptrs_.end());
  run_args_.push_back(k_cache_.data());
  run_args_.push_back(v_cache_.data());
  run_args_.push_back(logits);
  const int64_t constants[] = {pos};
  return it->second.run(*pool_, run_args_, constants);
}

rt::status jit_engine::eval(std::span<const int32_t> tokens, int32_t pos,
                            rt::logits_mode mode, float *logits) {
  if (pos < 0 || pos > n_past_)
    return rt::status::error("eval at position " + std::to_string(pos) +
                             " leaves a hole (the cache holds " + std::to_string(n_past_) +
                             " positions)");
  if (int64_t(pos) + int64_t(tokens.size()) > n_ctx_)
    return rt::status::error("positions " + std::to_string(pos) + ".." +
                             std::to_string(pos + int64_t(tokens.size())) +
                             " exceed the context size " + std::to_string(n_ctx_));
  for (int32_t t : tokens)
    if (t < 0 || t >= desc_.nVocab)
      return rt::status::error("token id " + std::to_string(t) + " is out of range [0, " +
                               std::to_string(desc_.nVocab) + ")");
  const int64_t vocab = desc_.nVocab;
  size_t done = 0;
  while (done < tokens.size()) {
    // Whole big chunks, then single tokens (the decode function). Unless
    // every row is wanted, a big chunk runs the variant that computes only
    // the last position's logits.
    int64_t chunk = tokens.size() - done >= size_t(big_chunk_) ? big_chunk_ : 1;
    bool last_only = chunk > 1 && mode != rt::logits_mode::all;
    SMEPILOT_RT_RETURN_IF_ERROR(run_chunk(chunk, last_only, tokens.data() + done,
                                          pos + int64_t(done), chunk_logits_.data()));
    if (mode == rt::logits_mode::all)
      std::memcpy(logits + done * vocab, chunk_logits_.data(),
                  size_t(chunk) * vocab * sizeof(float));
    done += size_t(chunk);
    if (mode == rt::logits_mode::last && done == tokens.size())
      std::memcpy(logits, chunk_logits_.data() + (last_only ? 0 : chunk - 1) * vocab,
                  size_t(vocab) * sizeof(float));
  }
  n_past_ = pos + int32_t(tokens.size());
  return rt::status::ok();
}

} // namespace

rt::result<std::unique_ptr<rt::engine>> load_jit_engine(const rt::gguf_file &file,
                                                        const rt::engine_options &options,
                                                        const jit_engine_options &jit_options) {
  return jit_engine::load(file, options, jit_options);
}

} // namespace smepilot::run
