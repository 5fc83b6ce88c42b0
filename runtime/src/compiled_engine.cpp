// SMEPilot runtime: the engine that runs a compiled model. See
// compiled_engine.h.
#include "smepilot_rt/compiled_engine.h"

#include "smepilot_rt/adaptive.h"

#include "smepilot_rt/cpu_features.h"
#include "smepilot_rt/dispatch.h"
#include "smepilot_rt/dispatch_trace.h"
#include "smepilot_rt/ggml_types.h"
#include "smepilot_rt/memory.h"
#include "smepilot_rt/model.h"
#include "smepilot_rt/thread_pool.h"

#include "large_buffer.h"
#include "strformat.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <set>
#include <vector>

namespace smepilot::rt {
namespace {

std::string buffer_name(const smepilot_rt_buffer &b) { return b.name ? b.name : ""; }

/// The K cache's names (abi.h): [n_layer, n_head_kv, n_ctx, head_dim] rows or
/// [n_layer, n_head_kv, head_dim, n_ctx] K-major; the engine only sizes it.
bool is_key_cache(const std::string &name) { return name == "k_cache" || name == "k_cache_kmajor"; }

/// The access of every binding of argument `a` in `t`, or-ed together.
uint32_t argument_access(const smepilot_rt_dispatch_table &t, uint32_t a) {
  uint32_t access = 0;
  for (uint32_t b = 0; b < t.n_bindings; ++b)
    if (t.bindings[b].buffer == a)
      access |= t.bindings[b].access;
  return access;
}

/// A packed buffer (abi.h, the load table): written once by the load table,
/// read by the phases.
struct packed_buffer {
  large_buffer data;
  uint64_t bytes = 0;
  size_t alignment = 0;
};

/// A GGUF tensor a table binds as an argument (abi.h): an F32 copy the engine
/// makes, or the tensor's own bytes in the file's memory (its type given).
struct bound_weight {
  large_buffer copy;
  const void *in_place = nullptr;
  uint64_t in_place_bytes = 0;
  void *data() const { return in_place ? const_cast<void *>(in_place) : copy.data(); }
};

/// Weights by GGUF name and the type they are bound in (a name may be bound
/// both as F32 and in its own type by different tables).
using weight_key = std::pair<std::string, uint32_t>;

/// A phase with its validated table and its argument pointers.
struct bound_phase {
  explicit bound_phase(dispatch_program p) : program(std::move(p)) {}
  const smepilot_rt_phase *phase = nullptr;
  dispatch_program program;
  std::vector<void *> args; ///< tokens and logits slots refreshed per run
  int64_t tokens_arg = -1, logits_arg = -1;
  int64_t logits_rows = 0;
  int64_t runs = 0; ///< Runs since loading (engine::profile).
  /// engine_options.adaptive: for a phase with a dispatch that has an SME
  /// variant, or run on two threads or more (placement, adaptive.h).
  std::unique_ptr<adaptive_planner> planner;
};

class compiled_engine final : public engine {
public:
  std::string_view name() const override { return name_; }
  int32_t n_vocab() const override { return int32_t(cfg_.n_vocab); }
  int32_t n_ctx() const override { return n_ctx_; }
  int32_t n_past() const override { return n_past_; }
  void reset() override { n_past_ = 0; }
  std::string memory_report() const override;
  std::vector<std::string> schedule_report() const override { return schedule_lines_; }
  status write_trace(const std::string &path,
                     const std::vector<std::string> &inputs) const override;
  std::vector<phase_profile> profile() const override;
  uint64_t kv_bytes_per_position() const override {
    return n_ctx_ > 0 ? 2 * uint64_t(cache_bytes_) / uint64_t(compiled_ctx_) : 0;
  }
  status eval(std::span<const int32_t> tokens, int32_t pos, logits_mode mode,
              float *logits) override;

  static result<std::unique_ptr<engine>> load(const gguf_file &file, const engine_options &options,
                                              const smepilot_rt_compiled_model *model,
                                              std::string name, std::shared_ptr<void> keep_alive);

private:
  status bind(const gguf_file &file, const smepilot_rt_phase &phase);
  status bind_load(const gguf_file &file, const smepilot_rt_dispatch_table *table);
  /// Checks a GGUF tensor argument and records that it must be loaded.
  status bind_weight(const gguf_file &file, const std::string &where, uint32_t a,
                     const smepilot_rt_buffer &buffer);
  status load_weights(const gguf_file &file);
  /// Picks the worker split (engine_options.sme_workers), attaches the
  /// trace, and writes the -v lines.
  status configure_schedule(const engine_options &options);
  /// Runs the load table once and drops the weights no phase reads.
  status run_load_table();
  /// Releases the file's pages of every tensor no phase reads in place
  /// (gguf_file::release_pages): the sources of F32 copies and of the load
  /// table's packs, and tensors the model does not use. They stay readable.
  void release_unbound_file_pages(const gguf_file &file);
  status run(bound_phase &p, const int32_t *tokens, int64_t pos, float *logits);

  std::string name_;
  std::shared_ptr<void> keep_alive_;
  model_config cfg_;
  int32_t n_ctx_ = 0, n_past_ = 0;
  int64_t compiled_ctx_ = 0; ///< Positions the compiled caches hold.
  std::unique_ptr<thread_pool> pool_;
  std::vector<std::unique_ptr<bound_phase>> phases_;
  bound_phase *decode_ = nullptr, *chunk_all_ = nullptr, *chunk_last_ = nullptr;
  int64_t chunk_ = 1;
  /// The GGUF tensors the phases and the load table bind: F32 copies, or
  /// the file's bytes.
  std::map<weight_key, bound_weight> weights_;
  /// The load table, its argument pointers, and the packed buffers it writes.
  std::unique_ptr<bound_phase> load_;
  std::map<std::string, packed_buffer> packed_;
  /// The weights some phase binds (the others serve the load table only).
  std::map<weight_key, bool> phase_weights_;
  large_buffer k_cache_, v_cache_; ///< Reserved; backed as positions are written.
  std::vector<float> chunk_logits_;
  size_t cache_bytes_ = 0;
  /// The file's bytes no phase reads, released once the weights are bound.
  uint64_t released_bytes_ = 0;
  /// "k_cache" or "k_cache_kmajor" (abi.h): the K layout every phase uses.
  std::string key_cache_name_;
  worker_split workers_;
  std::unique_ptr<dispatch_trace> trace_; ///< engine_options.trace
  std::vector<std::string> schedule_lines_;
  std::function<void(const std::string &)> on_replan_;
};

status compiled_engine::configure_schedule(const engine_options &options) {
  const int n_threads = pool_->n_threads();
  std::vector<dispatch_program *> programs;
  if (load_)
    programs.push_back(&load_->program);
  for (auto &p : phases_)
    programs.push_back(&p->program);
  bool uses_sme = false;
  for (dispatch_program *p : programs) {
    const mode_counts c = count_modes(p->table());
    uses_sme = uses_sme || c.sme + c.collab > 0;
  }
  int sme_workers = options.sme_workers;
  if (sme_workers < 0)
    sme_workers = uses_sme && detect_cpu_features().sme ? 1 : 0;
  else if (sme_workers > n_threads - 1)
    return status::error(strformat("%d matrix-unit workers (--sme-workers) need at least %d "
                                   "threads, there are %d (-t)",
                                   sme_workers, sme_workers + 1, n_threads));
  workers_ = split_workers(n_threads, sme_workers);
  if (options.trace)
    trace_ = std::make_unique<dispatch_trace>();
  // Run-time adaptation: the phases (not the load table, run once) with a
  // dispatch whose mode can change, or whose dispatches can run whole or
  // spread over two threads or more.
  on_replan_ = options.on_replan;
  for (auto &phase : phases_) {
    phase->planner.reset();
    phase->program.set_timing(false);
    const smepilot_rt_dispatch_table &t = phase->program.table();
    if (options.adaptive && (has_two_variant_dispatch(t) || n_threads >= 2)) {
      auto predicted = options.predicted_us.find(phase->program.phase_name());
      phase->planner = std::make_unique<adaptive_planner>(
          t, adaptive_options{},
          predicted == options.predicted_us.end() ? std::span<const double>{}
                                                  : std::span<const double>(predicted->second));
      phase->program.set_timing(true, nullptr, phase->planner->timed());
    }
  }
  schedule_lines_.clear();
  for (dispatch_program *p : programs) {
    p->set_sme_workers(workers_.matrix);
    p->set_trace(trace_.get());
    const mode_counts c = count_modes(p->table());
    schedule_lines_.push_back(strformat(
        "schedule %s%s: %u dispatches: cpu %u, sme %u, collab %u, pipelined %u; workers: %d "
        "matrix-unit, %d vector-core",
        p == (load_ ? &load_->program : nullptr) ? "load table " : "phase ",
        p->phase_name().c_str(), p->table().n_dispatches, c.cpu, c.sme, c.collab, c.pipelined,
        workers_.matrix, workers_.vector));
  }
  return status::ok();
}

status compiled_engine::write_trace(const std::string &path,
                                    const std::vector<std::string> &inputs) const {
  if (!trace_)
    return status::error(strformat("the %s engine was loaded without a trace (for %s)",
                                   name_.c_str(), path.c_str()));
  return write_chrome_trace(*trace_, path, inputs);
}

status compiled_engine::bind(const gguf_file &file, const smepilot_rt_phase &phase) {
  const std::string pname = phase.name ? phase.name : "(unnamed)";
  if (phase.chunk < 1 || !phase.table)
    return status::error(strformat("compiled model: phase '%s' has chunk %lld and %s table",
                                   pname.c_str(), (long long)phase.chunk,
                                   phase.table ? "a" : "no"));
  result<dispatch_program> program = dispatch_program::create(phase.table);
  if (!program)
    return status::error("compiled model: " + program.error().message());
  // Sizes below are products of the chunk: keep them far from overflow (a
  // chunk is a number of tokens, -b is an int32).
  if (phase.chunk > (int64_t(1) << 31))
    return status::error(strformat("compiled model: phase '%s' has chunk %lld", pname.c_str(),
                                   (long long)phase.chunk));
  auto p = std::make_unique<bound_phase>(std::move(*program));
  const smepilot_rt_dispatch_table &t = p->program.table();
  if (t.n_constants != 1)
    return status::error(strformat("compiled model: phase '%s' takes %u constants, expected 1 "
                                   "(the position)",
                                   pname.c_str(), t.n_constants));
  p->phase = &phase;
  p->args.assign(t.n_arguments, nullptr);
  const uint64_t vocab = cfg_.n_vocab;
  bool has_k = false, has_v = false;
  for (uint32_t a = 0; a < t.n_arguments; ++a) {
    const std::string bname = buffer_name(t.buffers[a]);
    const int64_t bytes = t.buffers[a].size.base;
    auto mismatch = [&](uint64_t want) {
      return status::error(strformat("compiled model: phase '%s' argument %u '%s' is %lld bytes, "
                                     "%s needs %llu",
                                     pname.c_str(), a, bname.c_str(), (long long)bytes,
                                     file.path().c_str(), (unsigned long long)want));
    };
    auto duplicate = [&]() {
      return status::error(strformat("compiled model: phase '%s' has two '%s' arguments",
                                     pname.c_str(), bname.c_str()));
    };
    if (bname == "tokens") {
      if (p->tokens_arg >= 0)
        return duplicate();
      if (uint64_t(bytes) != uint64_t(phase.chunk) * 4)
        return mismatch(uint64_t(phase.chunk) * 4);
      p->tokens_arg = a;
    } else if (bname == "logits") {
      if (p->logits_arg >= 0)
        return duplicate();
      const uint64_t rows = phase.last_row_only ? 1 : uint64_t(phase.chunk);
      if (uint64_t(bytes) != rows * vocab * 4)
        return mismatch(rows * vocab * 4);
      p->logits_arg = a;
      p->logits_rows = int64_t(rows);
    } else if (is_key_cache(bname) || bname == "v_cache") {
      bool &seen = is_key_cache(bname) ? has_k : has_v;
      if (seen)
        return duplicate();
      seen = true;
      // One K layout for the whole model: the phases share one cache.
      if (is_key_cache(bname)) {
        if (!key_cache_name_.empty() && key_cache_name_ != bname)
          return status::error(strformat("compiled model: phase '%s' binds '%s' but another "
                                         "phase binds '%s': one K cache layout per model",
                                         pname.c_str(), bname.c_str(), key_cache_name_.c_str()));
        key_cache_name_ = bname;
      }
      const uint64_t row = uint64_t(cfg_.n_layer) * cfg_.n_head_kv * cfg_.head_dim * 4;
      if (bytes <= 0 || uint64_t(bytes) % row != 0 ||
          (cache_bytes_ != 0 && uint64_t(bytes) != cache_bytes_))
        return status::error(strformat(
            "compiled model: phase '%s' argument '%s' is %lld bytes: not an F32 cache of this "
            "model's %u layers x %u KV heads x %u (head_dim) x n_ctx%s",
            pname.c_str(), bname.c_str(), (long long)bytes, cfg_.n_layer, cfg_.n_head_kv,
            cfg_.head_dim, cache_bytes_ ? " or differs from another phase's" : ""));
      cache_bytes_ = size_t(bytes);
    } else if (auto it = packed_.find(bname); it != packed_.end()) {
      if (uint64_t(bytes) != it->second.bytes)
        return status::error(strformat("compiled model: phase '%s' argument %u '%s' is %lld bytes, "
                                       "the load table packs %llu",
                                       pname.c_str(), a, bname.c_str(), (long long)bytes,
                                       (unsigned long long)it->second.bytes));
      if (argument_access(t, a) & SMEPILOT_RT_ACCESS_WRITE)
        return status::error(strformat("compiled model: phase '%s' writes the packed buffer '%s' "
                                       "(only the load table may)",
                                       pname.c_str(), bname.c_str()));
      if (t.buffers[a].alignment > it->second.alignment)
        return status::error(strformat("compiled model: phase '%s' assumes the packed buffer '%s' "
                                       "aligned to %u bytes; the load table's is aligned to %zu",
                                       pname.c_str(), bname.c_str(), t.buffers[a].alignment,
                                       it->second.alignment));
    } else {
      SMEPILOT_RT_RETURN_IF_ERROR(bind_weight(file, "phase '" + pname + "'", a, t.buffers[a]));
      if (t.buffers[a].type != SMEPILOT_RT_TYPE_F32 &&
          (argument_access(t, a) & SMEPILOT_RT_ACCESS_WRITE))
        return status::error(strformat("compiled model: phase '%s' writes the weight '%s' "
                                       "(bound in place, read-only)",
                                       pname.c_str(), bname.c_str()));
      phase_weights_[{bname, t.buffers[a].type}] = true;
    }
  }
  if (p->tokens_arg < 0 || p->logits_arg < 0 || !has_k || !has_v)
    return status::error(strformat("compiled model: phase '%s' lacks a 'tokens', 'logits', "
                                   "'k_cache' (or 'k_cache_kmajor') or 'v_cache' argument",
                                   pname.c_str()));
  phases_.push_back(std::move(p));
  return status::ok();
}

status compiled_engine::bind_weight(const gguf_file &file, const std::string &where, uint32_t a,
                                    const smepilot_rt_buffer &buffer) {
  const std::string bname = buffer_name(buffer);
  const gguf_tensor_info *ti = file.find_tensor(bname);
  if (!ti)
    return status::error(strformat("compiled model: %s binds tensor '%s', which %s does not have",
                                   where.c_str(), bname.c_str(), file.path().c_str()));
  // F32: the engine converts the tensor; any other type: the tensor's own
  // bytes, so the file must hold exactly that type.
  const uint32_t type = buffer.type;
  if (type != SMEPILOT_RT_TYPE_F32 && type != uint32_t(ti->type))
    return status::error(strformat("compiled model: %s argument %u '%s' is compiled for %s "
                                   "weights, %s has it in %s",
                                   where.c_str(), a, bname.c_str(), ggml_type_name(ggml_type(type)),
                                   file.path().c_str(), ggml_type_name(ti->type)));
  const uint64_t want = type == SMEPILOT_RT_TYPE_F32 ? ti->n_elements * 4 : ti->n_bytes;
  if (uint64_t(buffer.size.base) != want)
    return status::error(strformat("compiled model: %s argument %u '%s' is %lld bytes, %s needs "
                                   "%llu",
                                   where.c_str(), a, bname.c_str(), (long long)buffer.size.base,
                                   file.path().c_str(), (unsigned long long)want));
  if (type != SMEPILOT_RT_TYPE_F32 && buffer.alignment > 1 &&
      reinterpret_cast<uintptr_t>(ti->data) % buffer.alignment != 0)
    return status::error(strformat("compiled model: %s assumes '%s' aligned to %u bytes; it is "
                                   "not in %s (its data offset)",
                                   where.c_str(), bname.c_str(), buffer.alignment,
                                   file.path().c_str()));
  weights_.try_emplace(weight_key{bname, type});
  return status::ok();
}

status compiled_engine::bind_load(const gguf_file &file, const smepilot_rt_dispatch_table *table) {
  result<dispatch_program> program = dispatch_program::create(table);
  if (!program)
    return status::error("compiled model: load table: " + program.error().message());
  auto p = std::make_unique<bound_phase>(std::move(*program));
  const smepilot_rt_dispatch_table &t = p->program.table();
  if (t.n_constants != 0)
    return status::error(strformat("compiled model: the load table takes %u constants, expected "
                                   "none",
                                   t.n_constants));
  p->args.assign(t.n_arguments, nullptr);
  for (uint32_t a = 0; a < t.n_arguments; ++a) {
    const std::string bname = buffer_name(t.buffers[a]);
    if (!(argument_access(t, a) & SMEPILOT_RT_ACCESS_WRITE)) {
      SMEPILOT_RT_RETURN_IF_ERROR(bind_weight(file, "the load table", a, t.buffers[a]));
      continue;
    }
    // Written: a packed buffer, which the engine owns.
    const int64_t bytes = t.buffers[a].size.base;
    if (bname.empty() || bname == "tokens" || bname == "logits" || is_key_cache(bname) ||
        bname == "v_cache" || file.find_tensor(bname))
      return status::error(strformat("compiled model: the load table writes argument %u '%s'; "
                                     "it may write packed buffers only, not %s",
                                     a, bname.c_str(),
                                     bname.empty() ? "an unnamed one" : "a name of abi.h"));
    if (packed_.count(bname))
      return status::error(strformat("compiled model: the load table has two packed buffers "
                                     "'%s'",
                                     bname.c_str()));
    // Far below anything that overflows size arithmetic, far above any model.
    if (bytes <= 0 || bytes > (int64_t(1) << 40))
      return status::error(strformat("compiled model: the load table's packed buffer '%s' is "
                                     "%lld bytes",
                                     bname.c_str(), (long long)bytes));
    const size_t align = std::max<size_t>(SMEPILOT_RT_MIN_ALIGNMENT, t.buffers[a].alignment);
    packed_buffer buf;
    result<large_buffer> data =
        large_buffer::allocate(size_t(bytes), ("the packed buffer '" + bname + "'").c_str(), align);
    if (!data)
      return data.take_error();
    buf.data = std::move(*data); // zero-filled
    buf.bytes = uint64_t(bytes);
    buf.alignment = align;
    p->args[a] = buf.data.data();
    packed_.emplace(bname, std::move(buf));
  }
  load_ = std::move(p);
  return status::ok();
}

status compiled_engine::run_load_table() {
  if (!load_)
    return status::ok();
  const smepilot_rt_dispatch_table &t = load_->program.table();
  for (uint32_t a = 0; a < t.n_arguments; ++a)
    if (auto it = weights_.find({buffer_name(t.buffers[a]), t.buffers[a].type});
        it != weights_.end() && !load_->args[a])
      load_->args[a] = it->second.data();
  ++load_->runs;
  SMEPILOT_RT_RETURN_IF_ERROR(load_->program.run(*pool_, load_->args, {}));
  // The program (and its arena) is not needed again; nor are the weights
  // only it read (the phases read their packed forms).
  load_.reset();
  for (auto it = weights_.begin(); it != weights_.end();)
    it = phase_weights_.count(it->first) ? std::next(it) : weights_.erase(it);
  return status::ok();
}

void compiled_engine::release_unbound_file_pages(const gguf_file &file) {
  std::set<const void *> bound;
  for (const auto &[key, w] : weights_)
    if (w.in_place)
      bound.insert(w.in_place);
  for (const gguf_tensor_info &t : file.tensors())
    if (!bound.count(t.data))
      released_bytes_ += file.release_pages(t.data, t.n_bytes);
}

status compiled_engine::load_weights(const gguf_file &file) {
  struct work_item {
    const gguf_tensor_info *tensor;
    float *dst;
    uint64_t row;
  };
  std::vector<work_item> work;
  for (auto &[key, storage] : weights_) {
    const gguf_tensor_info *t = file.find_tensor(key.first);
    // The file's own bytes when they are what the table wants (its type,
    // or F32 stored as F32): no copy.
    if (key.second != SMEPILOT_RT_TYPE_F32 ||
        (t->type == ggml_type::f32 && reinterpret_cast<uintptr_t>(t->data) % 4 == 0)) {
      storage.in_place = t->data; // checked by bind_weight
      storage.in_place_bytes = t->n_bytes;
      continue;
    }
    result<large_buffer> data = large_buffer::allocate(
        size_t(t->n_elements) * sizeof(float), ("the F32 copy of '" + key.first + "'").c_str());
    if (!data)
      return data.take_error();
    storage.copy = std::move(*data);
    const uint64_t rows = t->n_elements / uint64_t(t->dims[0]);
    for (uint64_t r = 0; r < rows; r += 64)
      work.push_back({t, static_cast<float *>(storage.copy.data()), r});
  }
  // Rows are independent: dequantize on the pool (most of the load time of a
  // large model).
  std::vector<status> errors(size_t(pool_->n_threads()));
  pool_->parallel_for(int64_t(work.size()), [&](int64_t begin, int64_t end, int worker) {
    for (int64_t w = begin; w < end && errors[worker].is_ok(); ++w) {
      const gguf_tensor_info *t = work[w].tensor;
      const uint64_t row = uint64_t(t->dims[0]);
      const uint64_t rows = t->n_elements / row;
      const uint64_t row_bytes = ggml_row_bytes(t->type, row);
      for (uint64_t r = work[w].row; r < std::min(rows, work[w].row + 64); ++r) {
        status st = dequantize_row(t->type, t->data + r * row_bytes, work[w].dst + r * row, row);
        if (!st.is_ok()) {
          errors[worker] = st;
          break;
        }
      }
    }
  });
  for (status &st : errors)
    SMEPILOT_RT_RETURN_IF_ERROR(st);
  return status::ok();
}

result<std::unique_ptr<engine>> compiled_engine::load(const gguf_file &file,
                                                      const engine_options &options,
                                                      const smepilot_rt_compiled_model *model,
                                                      std::string name,
                                                      std::shared_ptr<void> keep_alive) {
  if (!model)
    return status::error("no compiled model");
  if (model->abi_version != SMEPILOT_RT_ABI_VERSION)
    return status::error(strformat("compiled model: ABI version %u, this runtime reads %u",
                                   model->abi_version, SMEPILOT_RT_ABI_VERSION));
  if (model->n_phases == 0 || !model->phases)
    return status::error("compiled model: no phases");
  result<model_config> cfg = read_model_config(file);
  if (!cfg)
    return cfg.take_error();
  // The compiled graph keeps K and V in F32 (abi.h: "k_cache"/"v_cache" are
  // F32 caches); an F16 cache is the reference engine's.
  if (options.kv_type != kv_cache_type::f32)
    return status::error(strformat("--kv-type %s is not supported by the %s engine (its compiled "
                                   "graph keeps the KV cache in f32); use --kv-type f32 or "
                                   "--engine reference",
                                   kv_cache_type_name(options.kv_type), name.c_str()));
  auto e = std::unique_ptr<compiled_engine>(new compiled_engine());
  e->name_ = std::move(name);
  e->keep_alive_ = std::move(keep_alive);
  e->cfg_ = *cfg;
  // The load table first: the phases bind the packed buffers it writes.
  if (model->load)
    SMEPILOT_RT_RETURN_IF_ERROR(e->bind_load(file, model->load));
  for (uint32_t i = 0; i < model->n_phases; ++i)
    SMEPILOT_RT_RETURN_IF_ERROR(e->bind(file, model->phases[i]));

  // The one-token phase and the largest prompt chunk within -b.
  for (auto &p : e->phases_) {
    const int64_t c = p->phase->chunk;
    if (c == 1 && !p->phase->last_row_only)
      e->decode_ = p.get();
    else if (c > 1 && c <= std::max<int64_t>(1, options.n_batch) && c >= e->chunk_)
      e->chunk_ = c;
  }
  if (!e->decode_)
    return status::error("compiled model: no one-token (decode) phase");
  for (auto &p : e->phases_)
    if (p->phase->chunk == e->chunk_ && e->chunk_ > 1)
      (p->phase->last_row_only ? e->chunk_last_ : e->chunk_all_) = p.get();
  if (e->chunk_ > 1 && !e->chunk_all_)
    e->chunk_ = 1; // a chunk with only a last-row variant cannot serve every request

  const uint64_t row = uint64_t(cfg->n_layer) * cfg->n_head_kv * cfg->head_dim * 4;
  const int64_t compiled_ctx = int64_t(e->cache_bytes_ / row);
  if (options.n_ctx > compiled_ctx)
    return status::error(strformat("the compiled model holds a context of %lld positions; "
                                   "-c %d asks for more",
                                   (long long)compiled_ctx, options.n_ctx));
  if (compiled_ctx < 1 || compiled_ctx > std::numeric_limits<int32_t>::max())
    return status::error(
        strformat("the compiled model's caches hold %lld positions", (long long)compiled_ctx));
  e->compiled_ctx_ = compiled_ctx;
  e->n_ctx_ = options.n_ctx > 0 ? options.n_ctx : int32_t(compiled_ctx);
  // The caches are sized for the compiled context but, like the reference
  // engine's, only reserved: a position's pages are backed when written.
  const std::string cache_what = "the KV cache of " + std::to_string(compiled_ctx) + " positions";
  SMEPILOT_RT_RETURN_IF_ERROR(check_reservation(probe_memory_budget(),
                                                2 * uint64_t(e->cache_bytes_), cache_what,
                                                "use a smaller context size (-c)"));
  for (large_buffer *cache : {&e->k_cache_, &e->v_cache_}) {
    result<large_buffer> buf = large_buffer::reserve(e->cache_bytes_, cache_what.c_str());
    if (!buf)
      return status::error(buf.error().message() + "; use a smaller context size (-c)");
    *cache = std::move(*buf);
  }
  result<std::unique_ptr<thread_pool>> pool = thread_pool::create(options.n_threads, "; lower -t");
  if (!pool)
    return pool.take_error();
  e->pool_ = std::move(*pool);
  SMEPILOT_RT_RETURN_IF_ERROR(e->configure_schedule(options));
  SMEPILOT_RT_RETURN_IF_ERROR(e->load_weights(file));
  SMEPILOT_RT_RETURN_IF_ERROR(e->run_load_table());
  e->release_unbound_file_pages(file);
  e->chunk_logits_.resize(size_t(e->chunk_) * cfg->n_vocab);

  // Weights and caches are bound once; tokens and logits per run.
  for (auto &p : e->phases_) {
    const smepilot_rt_dispatch_table &t = p->program.table();
    for (uint32_t a = 0; a < t.n_arguments; ++a) {
      const std::string bname = buffer_name(t.buffers[a]);
      if (is_key_cache(bname))
        p->args[a] = e->k_cache_.data();
      else if (bname == "v_cache")
        p->args[a] = e->v_cache_.data();
      else if (auto it = e->weights_.find({bname, t.buffers[a].type}); it != e->weights_.end())
        p->args[a] = it->second.data();
      else if (auto pk = e->packed_.find(bname); pk != e->packed_.end())
        p->args[a] = pk->second.data.data();
    }
  }
  return std::unique_ptr<engine>(std::move(e));
}

std::string compiled_engine::memory_report() const {
  auto size = [](size_t bytes) {
    return bytes < (size_t(1) << 20) ? strformat("%.1f KiB", double(bytes) / 1024.0)
                                     : strformat("%.1f MiB", double(bytes) / (1024.0 * 1024.0));
  };
  size_t weights = 0, in_place = 0, packed = 0, arenas = 0, used = 0, unshared = 0;
  for (const auto &[key, w] : weights_)
    weights += w.copy.size();
  std::map<std::string, bool> counted; // a tensor bound twice is in memory once
  for (const auto &[key, w] : weights_)
    if (w.in_place && !counted[key.first]) {
      counted[key.first] = true;
      in_place += size_t(w.in_place_bytes);
    }
  for (const auto &[name, p] : packed_)
    packed += size_t(p.bytes);
  for (const auto &p : phases_) {
    arenas += p->program.arena_bytes();
    used = std::max(used, p->program.last_run_temporary_bytes());
    unshared = std::max(unshared, p->program.last_run_unshared_bytes());
  }
  return "weights " + size(weights) + " F32 copies, " + size(in_place) +
         " read in place from the file, " + size(packed) + " packed at load (" +
         std::to_string(packed_.size()) + " buffers); KV cache " + size(2 * cache_bytes_) +
         "; temporaries: " + size(arenas) + " of arenas over " + std::to_string(phases_.size()) +
         " phases, the largest last run " + size(used) + " (" + size(unshared) +
         " without sharing)" +
         (released_bytes_
              ? "; " + size(size_t(released_bytes_)) + " of the file released (read by no phase)"
              : std::string());
}

status compiled_engine::run(bound_phase &p, const int32_t *tokens, int64_t pos, float *logits) {
  p.args[size_t(p.tokens_arg)] = const_cast<int32_t *>(tokens);
  p.args[size_t(p.logits_arg)] = logits;
  const int64_t constants[] = {pos};
  ++p.runs;
  SMEPILOT_RT_RETURN_IF_ERROR(p.program.run(*pool_, p.args, constants));
  if (!p.planner)
    return status::ok();
  // Adaptation (adaptive.h): new plans take effect from the next run, at a
  // token boundary; results do not depend on them.
  for (const replan &r :
       p.planner->observe(p.program.last_run_timing(), p.program.plans(),
                          p.program.last_run_tile_counts(), p.program.last_run_workers(),
                          p.program.last_run_in_order(), p.program.last_run_work_bytes())) {
    SMEPILOT_RT_RETURN_IF_ERROR(p.program.set_plan(r.dispatch, r.to));
    // Placement probes come by the hundred (every dispatch of a phase at
    // once): only the changes are reported.
    if (on_replan_ && !(r.placement && r.probe))
      on_replan_(strformat("adapt: phase %s after %lld runs: %s", p.program.phase_name().c_str(),
                           (long long)p.runs, describe_replan(p.program.table(), r).c_str()));
  }
  // Nothing left to decide: the kernels run untimed from now on; else only
  // the dispatches still being decided are timed.
  if (p.planner->finished()) {
    p.program.set_timing(false);
    p.planner.reset();
  } else {
    p.program.set_timing(true, nullptr, p.planner->timed());
  }
  return status::ok();
}

std::vector<engine::phase_profile> compiled_engine::profile() const {
  if (!trace_)
    return {};
  std::vector<phase_profile> out;
  auto add = [&](const bound_phase &p) { out.push_back({p.program.phase_name(), p.runs, {}}); };
  if (load_)
    add(*load_);
  for (const auto &p : phases_)
    add(*p);
  for (dispatch_time &t : summarize_dispatches(trace_->events()))
    for (phase_profile &p : out)
      if (p.phase == t.phase) {
        p.dispatches.push_back(std::move(t));
        break;
      }
  return out;
}

status compiled_engine::eval(std::span<const int32_t> tokens, int32_t pos, logits_mode mode,
                             float *logits) {
  if (pos < 0 || pos > n_past_)
    return status::error("eval at position " + std::to_string(pos) +
                         " leaves a hole (the cache holds " + std::to_string(n_past_) +
                         " positions)");
  if (int64_t(pos) + int64_t(tokens.size()) > n_ctx_)
    return status::error("positions " + std::to_string(pos) + ".." +
                         std::to_string(pos + int64_t(tokens.size())) +
                         " exceed the context size " + std::to_string(n_ctx_));
  for (int32_t t : tokens)
    if (t < 0 || uint32_t(t) >= cfg_.n_vocab)
      return status::error("token id " + std::to_string(t) + " is out of range [0, " +
                           std::to_string(cfg_.n_vocab) + ")");
  const size_t vocab = cfg_.n_vocab;
  size_t done = 0;
  while (done < tokens.size()) {
    // Whole chunks, then single tokens. Unless every row is wanted, a chunk
    // runs the variant that computes only the last position's logits.
    const bool big = tokens.size() - done >= size_t(chunk_) && chunk_ > 1;
    const int64_t chunk = big ? chunk_ : 1;
    bound_phase *p = !big                                        ? decode_
                     : (mode != logits_mode::all && chunk_last_) ? chunk_last_
                                                                 : chunk_all_;
    SMEPILOT_RT_RETURN_IF_ERROR(
        run(*p, tokens.data() + done, pos + int64_t(done), chunk_logits_.data()));
    if (mode == logits_mode::all)
      std::memcpy(logits + done * vocab, chunk_logits_.data(),
                  size_t(chunk) * vocab * sizeof(float));
    done += size_t(chunk);
    if (mode == logits_mode::last && done == tokens.size())
      std::memcpy(logits, chunk_logits_.data() + size_t(p->logits_rows - 1) * vocab,
                  vocab * sizeof(float));
  }
  n_past_ = pos + int32_t(tokens.size());
  if (mode == logits_mode::all)
    return check_logits_finite(name_, logits, int64_t(tokens.size()), cfg_.n_vocab, pos);
  if (mode == logits_mode::last && !tokens.empty())
    return check_logits_finite(name_, logits, 1, cfg_.n_vocab, pos + int64_t(tokens.size()) - 1);
  return status::ok();
}

} // namespace

result<std::unique_ptr<engine>> load_compiled_engine(const gguf_file &file,
                                                     const engine_options &options,
                                                     const smepilot_rt_compiled_model *model,
                                                     std::string name,
                                                     std::shared_ptr<void> keep_alive) {
  return compiled_engine::load(file, options, model, std::move(name), std::move(keep_alive));
}

std::string describe_compiled_model(const smepilot_rt_compiled_model &model) {
  std::string out = strformat("compiled model for %s, %u phases:",
                              model.target ? model.target : "(unknown target)", model.n_phases);
  if (const smepilot_rt_dispatch_table *t = model.load) {
    uint32_t packed = 0;
    for (uint32_t a = 0; a < t->n_arguments && t->buffers && t->bindings; ++a)
      packed += (argument_access(*t, a) & SMEPILOT_RT_ACCESS_WRITE) ? 1 : 0;
    out += strformat(" load (once: %u dispatches, %u kernels, %u packed buffers)", t->n_dispatches,
                     t->n_kernels, packed);
  }
  for (uint32_t i = 0; i < model.n_phases && model.phases; ++i) {
    const smepilot_rt_phase &p = model.phases[i];
    const smepilot_rt_dispatch_table *t = p.table;
    out += strformat(" %s (chunk %lld%s: %u dispatches, %u kernels, %u temporaries)",
                     p.name ? p.name : "?", (long long)p.chunk, p.last_row_only ? ", last row" : "",
                     t ? t->n_dispatches : 0, t ? t->n_kernels : 0,
                     t ? t->n_buffers - t->n_arguments : 0);
  }
  return out;
}

} // namespace smepilot::rt
