//===- JITEngine.cpp - a GGUF model compiled for the runtime --------------===//
//
// See JITEngine.h. One path for both ends: compile_module builds the graph of
// the file's model and takes it through a list of pipeline stages (dumping
// each if asked); the JIT engine hands the host pipeline's result to
// HostJIT and the runtime's compiled engine, emit_aot_object hands the SME
// pipeline's result to the object emitter.
//
//===----------------------------------------------------------------------===//

#include "smepilot/Engine/JITEngine.h"

#include "smepilot/Engine/Explain.h"

#include "smepilot/Codegen/AOTCompile.h"
#include "smepilot/Codegen/HostJIT.h"
#include "smepilot/Codegen/ObjectCache.h"
#include "smepilot/Dialect/SMEPilot/IR/SMEPilot.h"
#include "smepilot/ModelBuilder/ModelBuilder.h"
#include "smepilot/Pipelines/Pipelines.h"
#include "smepilot/Support/OutputFile.h"

#include "smepilot_rt/abi.h"
#include "smepilot_rt/adaptive.h"
#include "smepilot_rt/compiled_engine.h"
#include "smepilot_rt/cpu_features.h"
#include "smepilot_rt/model.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>

namespace smepilot::engine {
namespace {

using namespace mlir;
namespace rt = ::smepilot::rt;
/// The compiler (lib/): graph builder, pipelines, codegen.
namespace cc = ::mlir::smepilot;

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
      .count();
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
  d.ropeStyle = cfg.rope_type == rt::rope_style::neox
                    ? cc::RopeStyle::Neox
                    : cc::RopeStyle::Interleaved;
  d.ropeDim = cfg.rope_dim;
  d.rmsEps = cfg.rms_eps;
  d.hasRopeFreqs = cfg.has_rope_freqs;
  d.hasQkNorm = cfg.has_qk_norm;
  d.tiedEmbeddings = cfg.tied_embeddings;
  d.nExpert = cfg.n_expert;
  d.nExpertUsed = cfg.n_expert_used;
  d.nFfExpert = cfg.n_ff_expert;
  d.expertGating = cfg.gating == rt::expert_gating::sigmoid
                       ? cc::ExpertGating::Sigmoid
                       : cc::ExpertGating::Softmax;
  d.expertWeightsNorm = cfg.expert_weights_norm;
  return d;
}

/// Writes `module` to DIR/NN-name.mlir (an OutputFile: never onto the model
/// file, never half a file).
rt::status dump_module(const std::string &dir, int index,
                       const std::string &name, ModuleOp module,
                       const std::string &model_path) {
  char file[256];
  std::snprintf(file, sizeof file, "%02d-%s.mlir", index, name.c_str());
  llvm::SmallString<256> path(dir);
  llvm::sys::path::append(path, file);
  if (llvm::Error err = cc::writeOutputFile(
          path, {model_path}, [&](llvm::raw_ostream &os) { module.print(os); }))
    return rt::status::error("--dump-mlir: cannot write " +
                             llvm::toString(std::move(err)));
  return rt::status::ok();
}

/// What the compiled engine's tables live in: the JIT and its context. The
/// module lives here too, declared after the context so that it always dies
/// first, whichever way the engine's construction ends.
struct jit_state {
  MLIRContext context;
  OwningOpRef<ModuleOp> module;
  std::unique_ptr<cc::HostJIT> jit;
};

/// The model's module for `file`, built and taken through `stages` (each
/// dumped to `dump_dir` if set). Diagnostics go to `diags`; `who` names the
/// caller in errors ("the JIT engine"). `n_ctx_out` gets the context the
/// module was built for. `on_stage` (if set) hears of the builder and each
/// stage as it starts, numbered out of `n_stages` (the caller's later
/// stages counted in). `typed_weights`: the weight matrices the builder can
/// take in their own GGUF type (F16, BF16, Q8_0, Q4_0) are passed so, read in
/// place by the kernels; otherwise (and for every other type) as F32 copies.
/// `key_cache_kmajor`: the K cache K-major (the SME path's layout, bound as
/// "k_cache_kmajor", abi.h v4).
using stage_callback =
    std::function<void(const std::string &stage, int index, int count)>;
rt::result<OwningOpRef<ModuleOp>>
compile_module(const char *who, const rt::gguf_file &file,
               const rt::engine_options &options, MLIRContext &ctx,
               ArrayRef<cc::PipelineStage> stages, const std::string &dump_dir,
               diagnostic_collector &diags, double times[2], int64_t *n_ctx_out,
               const stage_callback &on_stage = {}, int n_stages = 0,
               bool typed_weights = false, bool key_cache_kmajor = false) {
  rt::result<rt::model_config> cfg = rt::read_model_config(file);
  if (!cfg)
    return cfg.take_error();
  // The same checks as the reference engine, before anything is compiled:
  // the graph is built from the metadata, so every tensor it will bind must
  // exist with the shape and type the metadata implies.
  if (rt::result<rt::model_weights> weights =
          rt::bind_model_weights(file, *cfg);
      !weights)
    return weights.take_error();
  if (options.n_batch < 1)
    return rt::status::error("invalid batch size " +
                             std::to_string(options.n_batch) +
                             " (expected at least 1)");
  const cc::ModelDescription desc = describe(*cfg);
  // -c, or the model's context_length: the caches are compiled for it and
  // the engine reserves them, touching only the positions a run writes.
  rt::result<int32_t> resolved =
      rt::resolve_context_size(file, *cfg, options.n_ctx);
  if (!resolved)
    return resolved.take_error();
  const int64_t n_ctx = *resolved;
  *n_ctx_out = n_ctx;
  // The prompt function's chunk: -b, at most 64 (compile time grows with
  // it) and at most the context.
  const int64_t big_chunk =
      std::min<int64_t>({int64_t(options.n_batch), 64, n_ctx});

  if (on_stage)
    on_stage("graph", 1, n_stages);
  auto t0 = std::chrono::steady_clock::now();
  cc::ModelBuildOptions build;
  build.nCtx = n_ctx;
  if (typed_weights)
    for (const std::string &name : cc::getWeightNames(desc)) {
      const rt::gguf_tensor_info *t = file.find_tensor(name);
      switch (t ? t->type : rt::ggml_type::f32) {
      case rt::ggml_type::f16:
        build.weightFormats[name] = cc::WeightFormat::F16;
        break;
      case rt::ggml_type::bf16:
        build.weightFormats[name] = cc::WeightFormat::BF16;
        break;
      case rt::ggml_type::q8_0:
        build.weightFormats[name] = cc::WeightFormat::Q8_0;
        break;
      case rt::ggml_type::q4_0:
        build.weightFormats[name] = cc::WeightFormat::Q4_0;
        break;
      default:
        break; // F32, or converted to F32 at load
      }
    }
  build.quantizedActivations = typed_weights && !options.f32_activations;
  build.keyCacheKMajor = key_cache_kmajor;
  build.chunkSizes = {1};
  build.lastRowLogits = true;
  if (big_chunk > 1)
    build.chunkSizes.push_back(big_chunk);
  FailureOr<OwningOpRef<ModuleOp>> module =
      cc::buildModelModule(&ctx, desc, build);
  if (failed(module))
    return rt::status::error(file.path() + ": " + who +
                             " cannot compile this model: " +
                             diags.take("the graph builder failed"));
  times[0] = seconds_since(t0);

  if (!dump_dir.empty()) {
    if (std::error_code ec = llvm::sys::fs::create_directories(dump_dir))
      return rt::status::error("--dump-mlir: cannot create '" + dump_dir +
                               "': " + ec.message());
    SMEPILOT_RT_RETURN_IF_ERROR(
        dump_module(dump_dir, 0, "builder", **module, file.path()));
  }
  t0 = std::chrono::steady_clock::now();
  int index = 1, started = 1;
  for (const cc::PipelineStage &stage : stages) {
    if (on_stage)
      on_stage(stage.name, ++started, n_stages);
    PassManager pm(&ctx);
    stage.addPasses(pm);
    if (failed(pm.run(**module)))
      return rt::status::error(file.path() + ": pipeline stage '" + stage.name +
                               "' failed: " + diags.take("no diagnostic"));
    if (!dump_dir.empty())
      SMEPILOT_RT_RETURN_IF_ERROR(
          dump_module(dump_dir, index++, stage.name, **module, file.path()));
  }
  times[1] = seconds_since(t0);
  return std::move(*module);
}

void load_dialects(MLIRContext &ctx) {
  DialectRegistry registry;
  cc::registerHostPipelineDialects(registry);
  ctx.appendDialectRegistry(registry);
  ctx.loadAllAvailableDialects();
}

/// Bump when the list of what the object cache key covers changes.
constexpr int64_t kCacheKeyFormat = 1;

/// The object cache key of the JIT engine's compilation (JITEngine.h,
/// jit_cache_key), computed before anything is built, and the context size
/// the module is built for. Everything the compiled code depends on is
/// either hashed here or is the compiler's own code (the build ID): a new
/// engine or pipeline option that changes the code must be added here.
rt::result<std::pair<cc::CacheKey, int64_t>>
compute_cache_key(const rt::gguf_file &file, const rt::engine_options &options,
                  const cc::HostPipelineOptions &pipeline,
                  const cc::HostJITOptions &codegen,
                  const jit_cache_environment &env, bool f32_weights) {
  // The checks compile_module makes first, so that a model it would refuse
  // is refused with the same error instead of being looked up.
  rt::result<rt::model_config> cfg = rt::read_model_config(file);
  if (!cfg)
    return cfg.take_error();
  if (rt::result<rt::model_weights> weights =
          rt::bind_model_weights(file, *cfg);
      !weights)
    return weights.take_error();
  rt::result<int32_t> n_ctx =
      rt::resolve_context_size(file, *cfg, options.n_ctx);
  if (!n_ctx)
    return n_ctx.take_error();

  cc::CacheKeyBuilder key;
  key.add("key-format", kCacheKeyFormat);
  key.add("abi", int64_t(SMEPILOT_RT_ABI_VERSION));
  // The model: its metadata (the graph builder's config is computed from
  // it) but the tokenizer's, and the tensor table without the data.
  for (const rt::gguf_kv &kv : file.metadata()) {
    llvm::StringRef name(kv.key.data(), kv.key.size());
    if (name.starts_with("tokenizer."))
      continue;
    auto add_value = [&](const std::string &prefix, const rt::gguf_value &v) {
      key.add(prefix + ".type", int64_t(v.type));
      key.add(prefix + ".u", int64_t(v.u));
      key.add(prefix + ".i", v.i);
      key.add(prefix + ".f", v.f);
      key.add(prefix + ".b", int64_t(v.b));
      key.add(prefix + ".str", llvm::StringRef(v.str.data(), v.str.size()));
    };
    std::string prefix = ("kv:" + name).str();
    add_value(prefix, kv.value);
    if (kv.value.type == rt::gguf_type::array) {
      key.add(prefix + ".array_type", int64_t(kv.value.array_type));
      key.add(prefix + ".array_count", int64_t(kv.value.array_count));
      for (const rt::gguf_value &element : file.array_elements(kv.value))
        add_value(prefix + "[]", element);
    }
  }
  key.add("tensors", int64_t(file.tensors().size()));
  for (const rt::gguf_tensor_info &t : file.tensors()) {
    key.add("tensor", llvm::StringRef(t.name.data(), t.name.size()));
    key.add("tensor.type", int64_t(t.type));
    key.add("tensor.dims", llvm::ArrayRef<int64_t>(t.dims));
  }
  // The engine options the module is built for (as given and resolved).
  key.add("n_ctx", int64_t(options.n_ctx));
  key.add("n_ctx.resolved", int64_t(*n_ctx));
  key.add("n_batch", int64_t(options.n_batch));
  key.add("kv_type", int64_t(options.kv_type));
  key.add("f32_weights", int64_t(f32_weights));
  key.add("f32_activations", int64_t(options.f32_activations));
  // The pipeline, its profile (a built-in one is part of the build; a file
  // is hashed by content) and the code generator.
  std::string pipeline_text;
  llvm::raw_string_ostream pipeline_os(pipeline_text);
  pipeline.print(pipeline_os);
  key.add("pipeline", pipeline_text);
  key.add("profile", pipeline.profile.getValue());
  if (llvm::sys::fs::is_regular_file(pipeline.profile.getValue())) {
    llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> profile =
        llvm::MemoryBuffer::getFile(pipeline.profile.getValue());
    if (!profile)
      return rt::status::error("cannot read the profile '" +
                               pipeline.profile.getValue() +
                               "': " + profile.getError().message());
    key.add("profile.contents", (*profile)->getBuffer());
  }
  key.add("target.pipeline", env.target.pipeline);
  key.add("target.sme", env.target.sme_target);
  key.add("opt-level", int64_t(codegen.optLevel));
  key.add("cpu", env.cpu_name);
  key.add("cpu.features", env.cpu_features);
  key.add("cpu.runtime", env.runtime_cpu);
  key.add("llvm", env.llvm_version);
  key.add("build", env.build_id);
  return std::make_pair(key.final(), int64_t(*n_ctx));
}

/// --sme-type auto: what llama.cpp computes a projection in for the model's
/// weights (the type of blk.0.attn_q.weight): bf16 for BF16, f16 for F16,
/// else f32 (quantized weights are dequantized to F32 at load).
std::string resolve_sme_type(const rt::gguf_file &file,
                             const std::string &requested) {
  if (requested != "auto")
    return requested;
  const rt::gguf_tensor_info *t = file.find_tensor("blk.0.attn_q.weight");
  if (t && t->type == rt::ggml_type::bf16)
    return "bf16";
  if (t && t->type == rt::ggml_type::f16)
    return "f16";
  return "f32";
}

/// The SME path's stages for `target` (sme-sve, sme2-nosve): which ops run
/// on SME is the profile's Roofline decisions (its annotate stage), or every
/// contraction with `sme_all`; then the SME pipeline, which emits both
/// kernels for contractions decided by a margin below the run-time planner's
/// threshold. Errors name the smepilot-run flag at fault.
rt::status add_sme_stages(llvm::SmallVectorImpl<cc::PipelineStage> &stages,
                          const rt::gguf_file &file, const std::string &profile,
                          const std::string &target,
                          const std::string &sme_type, bool sme_all = false,
                          int64_t force_share = -1,
                          bool pipeline_attention = false) {
  std::optional<cc::SMETarget> sme_target = cc::symbolizeSMETarget(target);
  if (!sme_target)
    return rt::status::error("unknown --target '" + target + "'");
  cc::HostPipelineOptions host;
  host.profile = profile;
  if (!sme_all)
    for (const cc::PipelineStage &s : cc::getHostPipelineStages(host))
      if (s.name == "annotate")
        stages.push_back(s);
  cc::SMEPipelineOptions sme;
  sme.target = *sme_target;
  sme.allContractions = sme_all;
  std::string weight_type = resolve_sme_type(file, sme_type);
  std::optional<cc::SMEWeightType> weight =
      cc::symbolizeSMEWeightType(weight_type);
  if (!weight)
    return rt::status::error("unknown --sme-type '" + weight_type +
                             "' (auto, f32, bf16 or f16)");
  sme.weightType = *weight;
  if (force_share < -1 || force_share > 65536)
    return rt::status::error("--force-share " + std::to_string(force_share) +
                             " is out of range (0..65536)");
  sme.forceShare = force_share;
  // Ops the model decides by less than the run-time planner's re-plan
  // threshold get both kernels, so that measured times can move their tiles
  // (adaptive.h); with --adaptive off they run as decided.
  if (!sme_all && force_share < 0)
    sme.adaptiveMargin = rt::adaptive_options{}.threshold;
  sme.pipelineAttention = pipeline_attention;
  for (const cc::PipelineStage &s : cc::getSMEPipelineStages(sme))
    stages.push_back(s);
  return rt::status::ok();
}

#if defined(__aarch64__) && defined(__linux__)
// The runtime's SME ABI routines (runtime/src/sme_abi_aarch64.S).
extern "C" {
void __arm_sme_state();
void __arm_tpidr2_save();
void __arm_tpidr2_restore();
void __arm_za_disable();
void __arm_get_current_vg();
}
#endif

/// Routines of the runtime that compiled code calls by name and that a
/// statically linked smepilot-run does not export: on aarch64 Linux the SME
/// ABI's (every SME kernel calls __arm_tpidr2_save on entry), given to the
/// JIT by address. None elsewhere.
std::vector<std::pair<std::string, void *>> runtime_symbols() {
  std::vector<std::pair<std::string, void *>> symbols;
#if defined(__aarch64__) && defined(__linux__)
  for (auto [name, address] :
       {std::pair{"__arm_sme_state", &__arm_sme_state},
        std::pair{"__arm_tpidr2_save", &__arm_tpidr2_save},
        std::pair{"__arm_tpidr2_restore", &__arm_tpidr2_restore},
        std::pair{"__arm_za_disable", &__arm_za_disable},
        std::pair{"__arm_get_current_vg", &__arm_get_current_vg}})
    symbols.emplace_back(name, reinterpret_cast<void *>(address));
#endif
  return symbols;
}

/// The JIT's host pipeline for `target`: its profile and vector width; int8
/// dot products where the CPU has AVX512-VNNI and AVX512VL (the 128/256-bit
/// forms), unless `int8_dot` is off (jit_engine_options); bf16 pair dot
/// products where it has AVX512-BF16.
void configure_pipeline(cc::HostPipelineOptions &pipeline, bool int8_dot,
                        const host_target &target) {
  const rt::cpu_features &cpu = target.cpu;
  pipeline.profile = target.profile;
  pipeline.vectorWidth = target.vector_lanes;
  pipeline.int8Dot = int8_dot && cpu.avx512vnni && cpu.avx512vl;
  pipeline.bf16Dot = cpu.avx512bf16;
}

rt::result<std::unique_ptr<rt::engine>> load(const rt::gguf_file &file,
                                             const rt::engine_options &options,
                                             const jit_engine_options &jit) {
  // Before compiling: the compiled graph's caches are F32 only.
  if (options.kv_type != rt::kv_cache_type::f32)
    return rt::status::error(
        std::string("--kv-type ") + rt::kv_cache_type_name(options.kv_type) +
        " is not supported by the jit engine (its compiled graph keeps the "
        "KV cache in f32); use --kv-type f32 or --engine reference");
  // What to compile for: this machine (or the injected one).
  rt::result<host_target> target = select_host_target(
      jit.host ? *jit.host
               : detect_host_target_inputs(jit.profile, jit.calibration_dir));
  if (!target)
    return target.take_error();
  if (jit.verbose)
    std::fputs(target->describe().c_str(), stderr);
#if !defined(__aarch64__)
  if (target->pipeline == "sme")
    return rt::status::error(
        "the jit engine cannot compile for " + target->kind +
        " here: its code runs only in an aarch64 process (this one is not)");
#endif
  auto state = std::make_shared<jit_state>();
  MLIRContext &ctx = state->context;
  diagnostic_collector diags(ctx);
  double times[2] = {0, 0};
  int64_t n_ctx = 0;
  // The registered host pipeline, stage by stage so each can be dumped.
  cc::HostPipelineOptions pipeline;
  configure_pipeline(pipeline, jit.int8_dot, *target);
  // The code generator's CPU: the one the cache key records.
  const jit_cache_environment env = jit_cache_environment::for_target(*target);
  cc::HostJITOptions codegen;
  codegen.cpu = {env.cpu_name, env.cpu_features};
  codegen.extraSymbols = runtime_symbols();
  // LLVM on as many threads as the run may use.
  codegen.compileThreads = unsigned(std::max(options.n_threads, 1));

  // The object cache: looked up before anything is built; a hit skips the
  // graph builder, the pipeline and LLVM. --dump-mlir wants the stages run.
  const bool read_cache = jit.use_cache && jit.dump_mlir_dir.empty();
  std::optional<cc::ObjectCache> cache;
  std::optional<cc::CacheKey> key;
  if (jit.use_cache) {
    std::string dir =
        jit.cache_dir.empty() ? cc::getDefaultObjectCacheDir() : jit.cache_dir;
    if (dir.empty() && jit.verbose)
      std::fprintf(stderr, "smepilot-run: jit: object cache off (neither "
                           "XDG_CACHE_HOME nor HOME is set)\n");
    if (!dir.empty()) {
      auto computed = compute_cache_key(file, options, pipeline, codegen, env,
                                        jit.f32_weights);
      if (!computed)
        return computed.take_error();
      key = computed->first;
      n_ctx = computed->second;
      cache.emplace(dir);
    }
  }
  auto t0 = std::chrono::steady_clock::now();
  if (cache && read_cache) {
    std::string path = cache->getEntryPath(*key);
    cc::CacheLookup found = cache->lookup(*key);
    if (found.kind == cc::CacheLookup::Hit) {
      llvm::Expected<std::unique_ptr<cc::HostJIT>> loaded =
          cc::HostJIT::load(found.objects, codegen);
      if (loaded) {
        state->jit = std::move(*loaded);
      } else {
        found.kind = cc::CacheLookup::Invalid;
        found.reason = "cannot load it: " + llvm::toString(loaded.takeError());
      }
    }
    if (jit.verbose) {
      const char *what = state->jit ? "hit"
                         : found.kind == cc::CacheLookup::Invalid
                             ? "invalid entry, recompiling"
                             : "miss";
      std::fprintf(stderr,
                   "smepilot-run: jit: object cache %s, key %.16s, %s%s%s\n",
                   what, key->hex().c_str(), path.c_str(),
                   found.reason.empty() ? "" : ": ", found.reason.c_str());
    }
  }
  double jit_s = 0;
  if (!state->jit) {
    load_dialects(ctx);
    // The SME pipeline takes F32 weights (dequantized at load) and
    // activations, as the ahead-of-time objects do.
    const bool sme = target->pipeline == "sme";
    llvm::SmallVector<cc::PipelineStage> stages;
    if (sme) {
      if (rt::status s = add_sme_stages(stages, file, target->profile,
                                        target->sme_target, "auto");
          !s.is_ok())
        return s;
    } else {
      stages.append(cc::getHostPipelineStages(pipeline));
    }
    // The builder, the pipeline's stages, then LLVM.
    const int n_stages = int(stages.size()) + 2;
    rt::result<OwningOpRef<ModuleOp>> module = compile_module(
        "the JIT engine", file, options, ctx, stages, jit.dump_mlir_dir, diags,
        times, &n_ctx, jit.on_stage, n_stages, !jit.f32_weights && !sme,
        /*key_cache_kmajor=*/sme);
    if (!module)
      return module.take_error();
    state->module = std::move(*module);

    if (jit.on_stage)
      jit.on_stage("LLVM", n_stages, n_stages);
    t0 = std::chrono::steady_clock::now();
    FailureOr<std::unique_ptr<cc::HostJIT>> compiled =
        cc::HostJIT::compile(*state->module, codegen);
    if (failed(compiled))
      return rt::status::error(file.path() + ": JIT compilation failed: " +
                               diags.take("no diagnostic"));
    state->jit = std::move(*compiled);
    jit_s = seconds_since(t0);
    if (cache) {
      // A cache that cannot be written costs the next run a compile, not
      // this one its result.
      llvm::Error stored = cache->store(*key, state->jit->getObjects());
      if (stored && jit.verbose)
        std::fprintf(stderr,
                     "smepilot-run: jit: object cache not written: %s\n",
                     llvm::toString(std::move(stored)).c_str());
      else if (stored)
        llvm::consumeError(std::move(stored));
      else if (jit.verbose)
        std::fprintf(
            stderr,
            "smepilot-run: jit: object cache stored %zu bytes, key %.16s, %s\n",
            state->jit->getObjectBytes(), key->hex().c_str(),
            cache->getEntryPath(*key).c_str());
    }
  } else {
    jit_s = seconds_since(t0);
  }

  std::string error;
  FailureOr<void *> model = state->jit->lookupCompiledModel(&error);
  if (failed(model))
    return rt::status::error(file.path() + ": jit: " + error);
  const auto *compiled_model =
      static_cast<const smepilot_rt_compiled_model *>(*model);
  if (jit.explain) {
    const char *explain = state->jit->lookupExplain();
    *jit.explain = explain ? explain : "";
  }
  if (jit.verbose) {
    // LLVM's share split: what a faster cold compile would have to cut.
    // With several parts, optimize and codegen are thread times, the wall
    // time of both is what follows them.
    char llvm_split[224] = "";
    if (state->module) {
      const cc::HostJIT::Times &t = state->jit->getTimes();
      char parallel[96] = "";
      if (t.parts > 1)
        std::snprintf(parallel, sizeof parallel,
                      ", split %.0f, %u parts on as many threads: %.0f wall",
                      t.split, t.parts, t.backend);
      std::snprintf(llvm_split, sizeof llvm_split,
                    " (translate %.0f, optimize %.0f, codegen %.0f%s, link "
                    "%.0f; %zu bytes of objects)",
                    t.translate, t.optimize, t.codegen, parallel, t.link,
                    state->jit->getObjectBytes());
    }
    std::fprintf(stderr,
                 "smepilot-run: jit: graph %.1f ms, pipeline %.1f ms, %s "
                 "%.1f ms%s; %s\n",
                 times[0] * 1e3, times[1] * 1e3,
                 state->module ? "LLVM" : "cached object", jit_s * 1e3,
                 llvm_split,
                 rt::describe_compiled_model(*compiled_model).c_str());
  }
  rt::engine_options run_options = options;
  run_options.n_ctx = int32_t(n_ctx);
  // Run-time adaptation reports the model's predictions beside what it
  // measures (adaptive.h: mode and share, and placement, which every phase
  // run on two threads may change). A model without an explanation has none.
  if (options.adaptive)
    if (const char *explain = state->jit->lookupExplain())
      if (auto predicted = predicted_dispatch_us(explain))
        run_options.predicted_us = std::move(*predicted);
  // A copy of `state`, not the last reference: when the engine fails to
  // load it drops its copy, and the context must outlive `diags` (declared
  // after `state`, so destroyed first) whichever way this returns.
  return rt::load_compiled_engine(file, run_options, compiled_model, "jit",
                                  state);
}

} // namespace

rt::status emit_aot_object(const rt::gguf_file &file,
                           const rt::engine_options &options,
                           const aot_object_options &aot) {
  if (!cc::isKnownSMETarget(aot.target))
    return rt::status::error(
        "--emit-object: unknown --target '" + aot.target +
        "' (targets: " + llvm::join(cc::getSMETargetNames(), ", ") + ")");
  // The object file is checked and its temporary created before compiling:
  // a bad path (the model itself, a directory, a device such as /dev/null)
  // fails at once, and a failure later leaves the previous object alone.
  const bool emit = !aot.object_path.empty();
  if (!emit && !aot.explain)
    return rt::status::error("--emit-object: no object path");
  std::unique_ptr<cc::OutputFile> output;
  if (emit) {
    llvm::Expected<std::unique_ptr<cc::OutputFile>> created =
        cc::OutputFile::create(aot.object_path, {file.path(), aot.profile});
    if (!created)
      return rt::status::error("--emit-object: cannot write " +
                               llvm::toString(created.takeError()));
    output = std::move(*created);
  }
  MLIRContext ctx;
  load_dialects(ctx);
  diagnostic_collector diags(ctx);
  llvm::SmallVector<cc::PipelineStage> stages;
  if (rt::status s =
          add_sme_stages(stages, file, aot.profile, aot.target, aot.sme_type,
                         aot.sme_all, aot.force_share, aot.pipeline_attention);
      !s.is_ok())
    return rt::status::error("--emit-object: " + s.message());
  double times[2] = {0, 0};
  int64_t n_ctx = 0;
  rt::result<OwningOpRef<ModuleOp>> module =
      compile_module("--emit-object", file, options, ctx, stages,
                     aot.dump_mlir_dir, diags, times, &n_ctx, {}, 0,
                     /*typed_weights=*/false, /*key_cache_kmajor=*/true);
  if (!module)
    return module.take_error();
  if (aot.explain) {
    auto global = (*module)->lookupSymbol<LLVM::GlobalOp>(cc::kExplainSymbol);
    auto text = global ? dyn_cast_or_null<StringAttr>(global.getValueOrNull())
                       : StringAttr();
    *aot.explain = text ? text.getValue().str() : "";
    // The global's bytes end with the C string's NUL.
    if (!aot.explain->empty() && aot.explain->back() == '\0')
      aot.explain->pop_back();
  }
  if (!emit)
    return rt::status::ok();
  auto t0 = std::chrono::steady_clock::now();
  cc::AOTOptions object_options;
  object_options.target = aot.target;
  llvm::Expected<llvm::SmallVector<char, 0>> object =
      cc::emitAArch64Object(**module, object_options);
  if (!object)
    return rt::status::error(
        file.path() + ": --emit-object: " + llvm::toString(object.takeError()));
  output->os().write(object->data(), object->size());
  llvm::Error written = output->commit();
  if (written)
    return rt::status::error("--emit-object: cannot write " +
                             llvm::toString(std::move(written)));
  if (aot.verbose)
    std::fprintf(stderr,
                 "smepilot-run: aot: graph %.1f ms, pipeline %.1f ms, object "
                 "%.1f ms; %zu bytes "
                 "for %s -> %s\n",
                 times[0] * 1e3, times[1] * 1e3, seconds_since(t0) * 1e3,
                 object->size(), aot.target.c_str(), aot.object_path.c_str());
  return rt::status::ok();
}

rt::status check_model_graph(const rt::gguf_file &file,
                             const rt::engine_options &options) {
  MLIRContext ctx;
  load_dialects(ctx);
  diagnostic_collector diags(ctx);
  double times[2] = {0, 0};
  int64_t n_ctx = 0;
  rt::result<OwningOpRef<ModuleOp>> module = compile_module(
      "the graph builder", file, options, ctx, {}, "", diags, times, &n_ctx);
  if (!module)
    return module.take_error();
  return rt::status::ok();
}

jit_cache_environment jit_cache_environment::detect() {
  rt::result<host_target> target =
      select_host_target(detect_host_target_inputs("", ""));
  // An architecture the JIT cannot compile for: the engine will say so.
  return for_target(target ? std::move(*target) : host_target{});
}

jit_cache_environment jit_cache_environment::for_target(host_target target) {
  jit_cache_environment env;
  env.cpu_name = target.llvm_cpu;
  env.cpu_features = target.llvm_features;
  env.runtime_cpu = rt::describe(target.cpu);
  env.target = std::move(target);
  env.llvm_version = LLVM_VERSION_STRING;
  env.build_id = cc::getCompilerBuildId();
  return env;
}

rt::result<std::string> jit_cache_key(const rt::gguf_file &file,
                                      const rt::engine_options &options,
                                      const jit_cache_environment &env,
                                      bool f32_weights) {
  cc::HostPipelineOptions pipeline;
  configure_pipeline(pipeline, /*int8_dot=*/true, env.target);
  auto key = compute_cache_key(file, options, pipeline, {}, env, f32_weights);
  if (!key)
    return key.take_error();
  return key->first.hex();
}

rt::result<std::unique_ptr<rt::engine>>
load_jit_engine(const rt::gguf_file &file, const rt::engine_options &options,
                const jit_engine_options &jit_options) {
  return load(file, options, jit_options);
}

} // namespace smepilot::engine
