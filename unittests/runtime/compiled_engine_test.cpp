// The engine that runs a compiled model (compiled_engine.h), driven by
// compiled models built by hand: dispatch tables of plain C++ kernels, bound
// to the real stories260K.gguf by the buffer names of abi.h ("tokens", GGUF
// tensor names, "k_cache", "v_cache", "logits").
//
// What is tested and why. The JIT and AOT engines are nothing but a compiled
// model handed to load_compiled_engine, so everything this engine does on its
// own, apart from the compiled kernels, is checked here where a failure
// points at the engine and not at the compiler:
//  - Binding: kernels see the file's F32 weights through the bound pointer,
//    one shared copy for every phase; the caches persist across phases and
//    runs; arguments are bound by name, not by position.
//  - Evaluation: a request is split into whole prompt chunks and decode
//    steps, each phase gets the position of its first token as its only
//    constant, the last-row-only phase is used exactly when only the last
//    logits (or none) are wanted, logits_mode all / last / none write what
//    they promise, n_batch caps the chunk, n_ctx() comes from the compiled
//    cache size (or -c), reset() empties the cache, and the position, context
//    and token-id checks fail before any kernel runs.
//  - Threads: a tiled dispatch gives the same bytes at 1 and 2 threads, and
//    is really split into several kernel calls at 2.
//  - Load errors: every malformed model is an error with a message naming the
//    problem, never a crash or a wrong read.
//  - The load table (abi.h): it runs exactly once per engine, before any
//    phase, on the file's F32 weights; the packed buffers it writes are
//    allocated by the engine (exact size, aligned, zero-filled), shared by
//    every phase that names them, and read-only to the phases; a weight a
//    phase binds is kept even when the load table reads it too; and every
//    malformed load table is an error at load naming the problem.
//
// The toy forward pass: for the token t at position p,
//   k_cache[layer 0, head 0, p, 0] = t, v_cache[layer 0, head 0, p, 0] = E[t][0]
//   logits[j] = E[t][j % n_embd] + 1000 t + p + sum_{q <= p} k[q] + sum_{q <= p} v[q]
// where E is token_embd.weight, so every logit depends on the token, the
// position, the weights and the cache rows written at earlier positions (by
// earlier runs and by other phases). The test computes the same values
// straight from the token history, in the same order, so they compare exactly.
// With a load table, the load table writes -E into the packed buffer
// "pack0(token_embd.weight)" and the phases read E from there instead of from
// token_embd.weight, so the logits are those of the model with -E.
#include "smepilot_rt/compiled_engine.h"
#include "smepilot_rt/dispatch.h"

#include "smepilot_rt/model.h"

#include "table_builder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <unistd.h>

// The straight computation below must round exactly like the kernels.
#pragma clang fp contract(off)

namespace rt = smepilot::rt;
using ::testing::HasSubstr;

namespace {

using namespace smepilot::rt::test_tables;

/// The compiled context of the toy models (positions).
constexpr int64_t compiled_ctx = 16;

std::string model_path() { return std::string(SMEPILOT_MODELS_DIR) + "/stories260K.gguf"; }

/// Shapes the kernels and the expected values need, read from the file.
struct toy_dims {
  int64_t n_vocab = 0, n_embd = 0, n_layer = 0, n_head_kv = 0, head_dim = 0;
  int64_t embd_bytes = 0;     ///< token_embd.weight as F32
  int64_t cache_row = 0;      ///< bytes of one position of a cache, all layers and heads
  int64_t vocab_block = 0;    ///< logits per tile
  int64_t blocks_per_row = 0; ///< tiles per logits row
};
toy_dims g_dims;

// ---------------------------------------------------------------------------
// What the kernels saw.

struct trace_entry {
  int phase;
  int64_t pos;
  const float *embd;
};
std::mutex g_trace_mutex;
std::vector<trace_entry> g_trace;
std::atomic<int64_t> g_logits_calls{0};

/// A logit the toy kernels replace (a model whose arithmetic overflows):
/// column `col` at absolute position `pos` becomes `value`; pos -1: none.
struct non_finite_logit {
  int64_t pos = -1;
  int64_t col = 0;
  float value = 0.0f;
};
non_finite_logit g_non_finite;

void clear_trace() {
  std::lock_guard<std::mutex> lock(g_trace_mutex);
  g_trace.clear();
  g_logits_calls = 0;
  g_non_finite = {};
}

std::vector<trace_entry> trace_entries() {
  std::lock_guard<std::mutex> lock(g_trace_mutex);
  return g_trace;
}

std::vector<std::pair<int, int64_t>> trace_runs() {
  std::lock_guard<std::mutex> lock(g_trace_mutex);
  std::vector<std::pair<int, int64_t>> out;
  for (const trace_entry &e : g_trace)
    out.emplace_back(e.phase, e.pos);
  return out;
}

// ---------------------------------------------------------------------------
// Kernels. Every dispatch binds, in this order, a subset of
// {tokens, token_embd.weight, k_cache, v_cache, logits}; constants = {pos}.

/// One tile: records which phase ran, at which position, with which weights.
template <int Id> void trace_kernel(void *const *b, const int64_t *c, int64_t, int64_t) {
  std::lock_guard<std::mutex> lock(g_trace_mutex);
  g_trace.push_back({Id, c[0], static_cast<const float *>(b[1])});
}

/// Tile r writes the cache rows of token r of the chunk.
void cache_kernel(void *const *b, const int64_t *c, int64_t begin, int64_t end) {
  const int32_t *tokens = static_cast<const int32_t *>(b[0]);
  const float *embd = static_cast<const float *>(b[1]);
  float *k = static_cast<float *>(b[2]), *v = static_cast<float *>(b[3]);
  for (int64_t r = begin; r < end; ++r) {
    const int64_t q = c[0] + r;
    k[q * g_dims.head_dim] = float(tokens[r]);
    v[q * g_dims.head_dim] = embd[tokens[r] * g_dims.n_embd];
  }
}

float toy_logit(float e, int32_t t, int64_t p, float ksum, float vsum) {
  float x = e;
  x += float(t) * 1000.0f;
  x += float(p);
  x += ksum;
  x += vsum;
  return x;
}

/// Logits of chunk row `row` (absolute position pos + row), vocabulary block
/// `block`, into output row `out_row`.
void logits_block(void *const *b, int64_t pos, int64_t row, int64_t out_row, int64_t block) {
  const int32_t *tokens = static_cast<const int32_t *>(b[0]);
  const float *embd = static_cast<const float *>(b[1]);
  const float *k = static_cast<const float *>(b[2]), *v = static_cast<const float *>(b[3]);
  float *logits = static_cast<float *>(b[4]);
  const int64_t p = pos + row;
  float ksum = 0.0f, vsum = 0.0f;
  for (int64_t q = 0; q <= p; ++q) {
    ksum += k[q * g_dims.head_dim];
    vsum += v[q * g_dims.head_dim];
  }
  const int32_t t = tokens[row];
  for (int64_t j = block * g_dims.vocab_block; j < (block + 1) * g_dims.vocab_block; ++j)
    logits[out_row * g_dims.n_vocab + j] =
        p == g_non_finite.pos && j == g_non_finite.col
            ? g_non_finite.value
            : toy_logit(embd[t * g_dims.n_embd + j % g_dims.n_embd], t, p, ksum, vsum);
}

/// Every row: tile = row * blocks_per_row + block.
void logits_all_kernel(void *const *b, const int64_t *c, int64_t begin, int64_t end) {
  ++g_logits_calls;
  for (int64_t tile = begin; tile < end; ++tile)
    logits_block(b, c[0], tile / g_dims.blocks_per_row, tile / g_dims.blocks_per_row,
                 tile % g_dims.blocks_per_row);
}

/// The last row of a chunk of Chunk tokens only: tile = block.
template <int64_t Chunk>
void logits_last_kernel(void *const *b, const int64_t *c, int64_t begin, int64_t end) {
  ++g_logits_calls;
  for (int64_t tile = begin; tile < end; ++tile)
    logits_block(b, c[0], Chunk - 1, 0, tile);
}

/// What a probe dispatch saw: the phase and the pointer of its one binding.
struct probe_entry {
  int phase;
  const void *ptr;
};
std::vector<probe_entry> g_probes; // guarded by g_trace_mutex

template <int Id> void probe_kernel(void *const *b, const int64_t *, int64_t, int64_t) {
  std::lock_guard<std::mutex> lock(g_trace_mutex);
  g_probes.push_back({Id, b[0]});
}

std::vector<probe_entry> probes() {
  std::lock_guard<std::mutex> lock(g_trace_mutex);
  return g_probes;
}

// Load-table kernels. The pack dispatch binds {token_embd.weight, packed};
// tile r negates row r of the embedding into the packed buffer.
constexpr const char *packed_name = "pack0(token_embd.weight)";
constexpr const char *scratch_name = "pack1(scratch)";
/// Bytes of the scratch packed buffer: small, so that it comes from the heap
/// (not from fresh, zeroed pages) and a missing zero-fill shows.
constexpr int64_t scratch_bytes = 4096;
constexpr unsigned char scratch_byte = 0xA5;

std::atomic<int64_t> g_pack_calls{0}, g_pack_tiles{0};
std::atomic<const void *> g_pack_dst{nullptr};
/// How many leading bytes of the scratch buffer the scratch kernel writes.
std::atomic<int64_t> g_scratch_written{0};

void clear_load_counters() {
  g_pack_calls = 0;
  g_pack_tiles = 0;
  g_pack_dst = nullptr;
  g_scratch_written = 0;
  std::lock_guard<std::mutex> lock(g_trace_mutex);
  g_probes.clear();
}

void pack_kernel(void *const *b, const int64_t *, int64_t begin, int64_t end) {
  ++g_pack_calls;
  g_pack_tiles += end - begin;
  const float *embd = static_cast<const float *>(b[0]);
  float *packed = static_cast<float *>(b[1]);
  g_pack_dst = packed;
  for (int64_t r = begin; r < end; ++r)
    for (int64_t j = 0; j < g_dims.n_embd; ++j)
      packed[r * g_dims.n_embd + j] = -embd[r * g_dims.n_embd + j];
}

/// One tile: writes the first g_scratch_written bytes of the scratch buffer.
void scratch_kernel(void *const *b, const int64_t *, int64_t, int64_t) {
  std::memset(b[0], scratch_byte, size_t(g_scratch_written.load()));
}

// ---------------------------------------------------------------------------
// Hand-built tables and models (table_builder.h).

enum class phase_kind { decode, chunk4, chunk4_last };

struct phase_options {
  /// Argument order; binding is by name, so phases use different orders.
  bool reversed_arguments = false;
  /// "logits" becomes a temporary instead of an argument.
  bool logits_as_temporary = false;
  /// The name the embedding argument is bound by: token_embd.weight, or a
  /// packed buffer the load table writes.
  const char *embd = "token_embd.weight";
  /// When set, an extra first argument of this name and probe_bytes bytes,
  /// bound by a fourth dispatch (a probe, recorded in g_probes) with
  /// probe_access.
  const char *probe = nullptr;
  int64_t probe_bytes = 0;
  uint32_t probe_access = SMEPILOT_RT_ACCESS_READ;
};

/// A phase of the toy forward pass (see the top of the file). Ids in the
/// trace: decode 1, chunk4 4, chunk4_last 5.
std::unique_ptr<table_builder> make_phase(phase_kind kind, phase_options opt = {}) {
  auto tb = std::make_unique<table_builder>();
  tb->n_constants = 1;
  const int64_t chunk = kind == phase_kind::decode ? 1 : 4;
  const bool last = kind == phase_kind::chunk4_last;
  tb->phase = kind == phase_kind::decode   ? "decode"
              : kind == phase_kind::chunk4 ? "prefill_c4"
                                           : "prefill_c4_last";
  const int64_t cache = compiled_ctx * g_dims.cache_row;
  const int64_t logits_bytes = (last ? 1 : chunk) * g_dims.n_vocab * 4;
  uint32_t tok = 0, embd = 0, k = 0, v = 0, lg = 0, probe = 0;
  const uint32_t first = opt.probe ? 1 : 0;
  if (opt.probe)
    probe = tb->buffer(opt.probe, opt.probe_bytes);
  if (opt.logits_as_temporary) {
    tok = tb->buffer("tokens", chunk * 4);
    embd = tb->buffer(opt.embd, g_dims.embd_bytes);
    k = tb->buffer("k_cache", cache);
    v = tb->buffer("v_cache", cache);
    tb->n_arguments = first + 4;
    lg = tb->buffer("logits", logits_bytes);
  } else if (opt.reversed_arguments) {
    lg = tb->buffer("logits", logits_bytes);
    v = tb->buffer("v_cache", cache);
    k = tb->buffer("k_cache", cache);
    embd = tb->buffer(opt.embd, g_dims.embd_bytes);
    tok = tb->buffer("tokens", chunk * 4);
    tb->n_arguments = first + 5;
  } else {
    tok = tb->buffer("tokens", chunk * 4);
    embd = tb->buffer(opt.embd, g_dims.embd_bytes);
    k = tb->buffer("k_cache", cache);
    v = tb->buffer("v_cache", cache);
    lg = tb->buffer("logits", logits_bytes);
    tb->n_arguments = first + 5;
  }
  const smepilot_rt_kernel_fn trace = kind == phase_kind::decode   ? &trace_kernel<1>
                                      : kind == phase_kind::chunk4 ? &trace_kernel<4>
                                                                   : &trace_kernel<5>;
  tb->dispatch("trace", tb->kernel(trace), fixed(1), {rd(tok), rd(embd)});
  tb->dispatch("cache", tb->kernel(&cache_kernel), fixed(chunk), {rd(tok), rd(embd), rw(k), rw(v)});
  const int64_t rows = last ? 1 : chunk;
  tb->dispatch("logits", tb->kernel(last ? &logits_last_kernel<4> : &logits_all_kernel),
               fixed(rows * g_dims.blocks_per_row), {rd(tok), rd(embd), rd(k), rd(v), wr(lg)}, {1});
  if (opt.probe) {
    const smepilot_rt_kernel_fn fn = kind == phase_kind::decode   ? &probe_kernel<1>
                                     : kind == phase_kind::chunk4 ? &probe_kernel<4>
                                                                  : &probe_kernel<5>;
    tb->dispatch("probe", tb->kernel(fn), fixed(1), {{probe, opt.probe_access, 0}});
  }
  return tb;
}

struct load_options {
  /// The alignment field of the packed buffer (0: the ABI's minimum).
  uint32_t alignment = 0;
  /// A second packed buffer, scratch_name, of scratch_bytes, of which a
  /// second dispatch writes the first g_scratch_written bytes.
  bool scratch = false;
};

/// A load table: token_embd.weight (read), pack0(token_embd.weight)
/// (written, -E), and with opt.scratch pack1(scratch). The pack dispatch
/// has one tile per vocabulary row.
std::unique_ptr<table_builder> make_load_table(load_options opt = {}) {
  auto tb = std::make_unique<table_builder>();
  tb->phase = "load";
  tb->n_constants = 0;
  const uint32_t embd = tb->buffer("token_embd.weight", g_dims.embd_bytes);
  const uint32_t packed = tb->buffer(packed_name, g_dims.embd_bytes);
  tb->buffers[packed].alignment = opt.alignment;
  uint32_t scratch = 0;
  if (opt.scratch)
    scratch = tb->buffer(scratch_name, scratch_bytes);
  tb->n_arguments = uint32_t(tb->buffers.size());
  tb->dispatch("pack", tb->kernel(&pack_kernel), fixed(g_dims.n_vocab), {rd(embd), wr(packed)});
  if (opt.scratch)
    tb->dispatch("scratch", tb->kernel(&scratch_kernel), fixed(1), {wr(scratch)});
  return tb;
}

/// A compiled model of some phases; model() points into it.
struct toy_model {
  std::vector<std::unique_ptr<table_builder>> tables;
  std::vector<smepilot_rt_phase> phases;
  std::unique_ptr<table_builder> load; ///< the load table, or none
  smepilot_rt_compiled_model m{};

  table_builder &add(phase_kind kind, phase_options opt = {}) {
    tables.push_back(make_phase(kind, opt));
    return *tables.back();
  }
  table_builder &add_load(load_options opt = {}) {
    load = make_load_table(opt);
    return *load;
  }
  smepilot_rt_phase &phase(size_t i) {
    model();
    return phases[i];
  }
  const smepilot_rt_compiled_model *model() {
    if (phases.size() != tables.size()) {
      phases.clear();
      for (auto &tb : tables) {
        smepilot_rt_phase p{};
        p.name = tb->phase.c_str();
        p.chunk = tb->dispatches[1].tile_count.base; // the cache dispatch: one tile per token
        p.last_row_only = tb->phase == "prefill_c4_last" ? 1 : 0;
        p.table = tb->table();
        phases.push_back(p);
      }
    } else {
      for (size_t i = 0; i < tables.size(); ++i)
        phases[i].table = tables[i]->table();
    }
    m.abi_version = SMEPILOT_RT_ABI_VERSION;
    m.n_phases = uint32_t(phases.size());
    m.phases = phases.data();
    m.target = "test-host";
    m.load = load ? load->table() : nullptr;
    return &m;
  }
};

/// The three phases of case 1; the decode phase lists its arguments
/// backwards.
toy_model full_model() {
  toy_model tm;
  tm.add(phase_kind::decode, {.reversed_arguments = true});
  tm.add(phase_kind::chunk4);
  tm.add(phase_kind::chunk4_last);
  return tm;
}

/// The three phases of full_model(), each reading the embedding from the
/// packed buffer the load table writes (-E) instead of token_embd.weight.
toy_model packed_model(load_options load = {}) {
  toy_model tm;
  tm.add(phase_kind::decode, {.reversed_arguments = true, .embd = packed_name});
  tm.add(phase_kind::chunk4, {.embd = packed_name});
  tm.add(phase_kind::chunk4_last, {.embd = packed_name});
  tm.add_load(load);
  return tm;
}

// ---------------------------------------------------------------------------
// Expected values.

/// The logits row of position p given the tokens at positions 0..p.
std::vector<float> expected_row(const std::vector<int32_t> &history, int64_t p, const float *embd) {
  float ksum = 0.0f, vsum = 0.0f;
  for (int64_t q = 0; q <= p; ++q) {
    ksum += float(history[size_t(q)]);
    vsum += embd[history[size_t(q)] * g_dims.n_embd];
  }
  const int32_t t = history[size_t(p)];
  std::vector<float> row(size_t(g_dims.n_vocab));
  for (int64_t j = 0; j < g_dims.n_vocab; ++j)
    row[size_t(j)] = toy_logit(embd[t * g_dims.n_embd + j % g_dims.n_embd], t, p, ksum, vsum);
  return row;
}

/// Rows [from, history.size()) concatenated.
std::vector<float> expected_rows(const std::vector<int32_t> &history, int64_t from,
                                 const float *embd) {
  std::vector<float> out;
  for (int64_t p = from; p < int64_t(history.size()); ++p) {
    std::vector<float> row = expected_row(history, p, embd);
    out.insert(out.end(), row.begin(), row.end());
  }
  return out;
}

/// "" when equal, else where they first differ.
std::string compare(const std::vector<float> &got, const std::vector<float> &want) {
  if (got.size() != want.size())
    return "size " + std::to_string(got.size()) + " vs " + std::to_string(want.size());
  for (size_t i = 0; i < got.size(); ++i)
    if (std::memcmp(&got[i], &want[i], sizeof(float)) != 0)
      return "row " + std::to_string(i / size_t(g_dims.n_vocab)) + " col " +
             std::to_string(i % size_t(g_dims.n_vocab)) + ": " + std::to_string(got[i]) + " vs " +
             std::to_string(want[i]);
  return "";
}

class CompiledEngine : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    auto f = rt::gguf_file::open(model_path());
    ASSERT_TRUE(f) << f.error().message();
    file_ = f->release();
    auto cfg = rt::read_model_config(*file_);
    ASSERT_TRUE(cfg) << cfg.error().message();
    const rt::gguf_tensor_info *embd = file_->find_tensor("token_embd.weight");
    ASSERT_NE(embd, nullptr);
    ASSERT_EQ(embd->type, rt::ggml_type::f32);
    ASSERT_EQ(embd->dims.size(), 2u);
    ASSERT_EQ(uint64_t(embd->dims[1]), cfg->n_vocab);
    g_dims.n_vocab = cfg->n_vocab;
    g_dims.n_embd = embd->dims[0];
    g_dims.n_layer = cfg->n_layer;
    g_dims.n_head_kv = cfg->n_head_kv;
    g_dims.head_dim = cfg->head_dim;
    g_dims.embd_bytes = int64_t(embd->n_elements) * 4;
    g_dims.cache_row = g_dims.n_layer * g_dims.n_head_kv * g_dims.head_dim * 4;
    g_dims.vocab_block = 32;
    ASSERT_EQ(g_dims.n_vocab % g_dims.vocab_block, 0);
    g_dims.blocks_per_row = g_dims.n_vocab / g_dims.vocab_block;
    file_embd_ = reinterpret_cast<const float *>(embd->data);
    negated_embd_.resize(size_t(embd->n_elements));
    for (size_t i = 0; i < negated_embd_.size(); ++i)
      negated_embd_[i] = -file_embd_[i];
  }
  static void TearDownTestSuite() {
    delete file_;
    file_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(file_, nullptr) << "cannot open " << model_path();
    clear_trace();
    clear_load_counters();
  }

  static std::unique_ptr<rt::engine> load(toy_model &tm, rt::engine_options options = {}) {
    auto e = rt::load_compiled_engine(*file_, options, tm.model(), "test");
    EXPECT_TRUE(e) << e.error().message();
    if (!e)
      return nullptr;
    return std::move(*e);
  }
  /// The load error's message ("" when it loaded).
  static std::string load_error(const smepilot_rt_compiled_model *m,
                                rt::engine_options options = {}) {
    auto e = rt::load_compiled_engine(*file_, options, m, "test");
    return e ? std::string() : e.error().message();
  }

  static rt::gguf_file *file_;
  static const float *file_embd_;
  /// -E: what the load table packs.
  static std::vector<float> negated_embd_;
};
rt::gguf_file *CompiledEngine::file_ = nullptr;
const float *CompiledEngine::file_embd_ = nullptr;
std::vector<float> CompiledEngine::negated_embd_;

const std::vector<int32_t> nine_tokens = {1, 37, 400, 5, 511, 0, 77, 256, 3};
using runs = std::vector<std::pair<int, int64_t>>;

// ---------------------------------------------------------------------------
// 1. A working toy model.

TEST_F(CompiledEngine, AllLogitsRunTwoChunksAndOneDecodeStep) {
  toy_model tm = full_model();
  auto keep = std::make_shared<int>(42);
  auto loaded = rt::load_compiled_engine(*file_, {}, tm.model(), "test", keep);
  ASSERT_TRUE(loaded) << loaded.error().message();
  std::unique_ptr<rt::engine> e = std::move(*loaded);
  EXPECT_EQ(keep.use_count(), 2) << "the engine holds keep_alive";
  EXPECT_EQ(e->name(), "test");
  EXPECT_EQ(e->n_vocab(), g_dims.n_vocab);
  EXPECT_EQ(e->n_ctx(), compiled_ctx) << "from the k_cache size";
  EXPECT_EQ(e->n_past(), 0);

  std::vector<float> logits(nine_tokens.size() * size_t(g_dims.n_vocab), -1.0f);
  ASSERT_TRUE(e->eval(nine_tokens, 0, rt::logits_mode::all, logits.data()));
  EXPECT_EQ(trace_runs(), (runs{{4, 0}, {4, 4}, {1, 8}}));
  EXPECT_EQ(compare(logits, expected_rows(nine_tokens, 0, file_embd_)), "");
  EXPECT_EQ(e->n_past(), 9);
  e.reset();
  EXPECT_EQ(keep.use_count(), 1) << "released with the engine";
}

// engine::profile(), what --explain reads: per phase the runs and, from the
// trace, the time of each dispatch; nothing without the trace.
TEST_F(CompiledEngine, ProfileCountsRunsPerPhase) {
  toy_model tm = full_model();
  rt::engine_options traced;
  traced.trace = true;
  auto loaded = rt::load_compiled_engine(*file_, traced, tm.model(), "test");
  ASSERT_TRUE(loaded) << loaded.error().message();
  std::vector<float> logits(nine_tokens.size() * size_t(g_dims.n_vocab));
  ASSERT_TRUE((*loaded)->eval(nine_tokens, 0, rt::logits_mode::all, logits.data()));
  std::map<std::string, int64_t> runs;
  for (const rt::engine::phase_profile &p : (*loaded)->profile()) {
    runs[p.phase] = p.runs;
    for (const rt::dispatch_time &d : p.dispatches) {
      EXPECT_EQ(d.phase, p.phase);
      EXPECT_GE(d.calls, p.runs > 0 ? 1 : 0);
      EXPECT_GE(d.busy_ns, d.wall_ns) << "the calls overlap, or not";
    }
  }
  EXPECT_EQ(runs, (std::map<std::string, int64_t>{
                      {"prefill_c4", 2}, {"prefill_c4_last", 0}, {"decode", 1}}));

  auto untraced = rt::load_compiled_engine(*file_, {}, tm.model(), "test");
  ASSERT_TRUE(untraced) << untraced.error().message();
  EXPECT_TRUE((*untraced)->profile().empty());
}

TEST_F(CompiledEngine, KernelsSeeTheFilesWeightsSharedByEveryPhase) {
  toy_model tm = full_model();
  auto e = load(tm);
  ASSERT_TRUE(e);
  std::vector<float> logits(nine_tokens.size() * size_t(g_dims.n_vocab));
  ASSERT_TRUE(e->eval(nine_tokens, 0, rt::logits_mode::all, logits.data()));
  ASSERT_TRUE(e->eval(nine_tokens, 0, rt::logits_mode::last, logits.data()));
  std::vector<trace_entry> trace = trace_entries();
  ASSERT_EQ(trace.size(), 6u); // c4, c4, decode, c4_last, c4_last, decode
  for (const trace_entry &t : trace) {
    EXPECT_EQ(t.embd, trace[0].embd) << "phase " << t.phase << " has its own copy";
    ASSERT_NE(t.embd, nullptr);
  }
  EXPECT_EQ(std::memcmp(trace[0].embd, file_embd_, size_t(g_dims.embd_bytes)), 0);
  // An F32 tensor of the file is bound in place (abi.h v3): no copy.
  EXPECT_EQ(static_cast<const void *>(trace[0].embd), static_cast<const void *>(file_embd_));
  EXPECT_THAT(e->memory_report(), HasSubstr("weights 0.0 KiB F32 copies"));
}

TEST_F(CompiledEngine, WeightTypeNotTheFilesType) {
  // A weight compiled for its own GGUF type (abi.h v3) must be that type in
  // the file: stories260K's token_embd is F32, not Q8_0.
  toy_model tm = full_model();
  tm.tables[1]->arg("token_embd.weight").type = SMEPILOT_RT_TYPE_Q8_0;
  const std::string msg = load_error(tm.model());
  EXPECT_THAT(msg, HasSubstr("phase 'prefill_c4' argument"));
  EXPECT_THAT(msg, HasSubstr("'token_embd.weight' is compiled for q8_0 weights"));
  EXPECT_THAT(msg, HasSubstr("stories260K.gguf has it in f32"));
}

TEST_F(CompiledEngine, TypedWeightIsTheTensorsOwnSize) {
  // In its own type a weight is the tensor's bytes; F32 (the file's type
  // here) is bound in place with the same bytes, so the sizes agree, and
  // any other size is refused.
  toy_model tm = full_model();
  tm.tables[1]->arg("token_embd.weight").type = SMEPILOT_RT_TYPE_F32;
  EXPECT_EQ(load_error(tm.model()), "");
  toy_model bad = full_model();
  smepilot_rt_buffer &embd = bad.tables[1]->arg("token_embd.weight");
  embd.size.base = g_dims.embd_bytes + 4;
  EXPECT_THAT(load_error(bad.model()), HasSubstr("needs " + std::to_string(g_dims.embd_bytes)));
}

TEST_F(CompiledEngine, TemporaryWithATypeIsRejected) {
  // Only arguments (weights) carry a type; a temporary's must be 0.
  toy_model tm = full_model();
  table_builder &tb = *tm.tables[1];
  const uint32_t tmp = tb.temporary("typed_tmp", fixed(64));
  tb.buffers[tmp].type = SMEPILOT_RT_TYPE_BF16;
  EXPECT_THAT(load_error(tm.model()), HasSubstr("a temporary has type 30, expected 0"));
}

TEST_F(CompiledEngine, LastLogitsUseTheLastRowPhase) {
  toy_model tm = full_model();
  auto e = load(tm);
  ASSERT_TRUE(e);
  // 9 tokens: two last-row chunks, then the decode step gives the last row.
  std::vector<float> last(size_t(g_dims.n_vocab), -1.0f);
  ASSERT_TRUE(e->eval(nine_tokens, 0, rt::logits_mode::last, last.data()));
  EXPECT_EQ(trace_runs(), (runs{{5, 0}, {5, 4}, {1, 8}}));
  EXPECT_EQ(compare(last, expected_row(nine_tokens, 8, file_embd_)), "");

  // 8 tokens: the last row comes from the last-row phase's single row.
  clear_trace();
  e->reset();
  const std::vector<int32_t> eight(nine_tokens.begin(), nine_tokens.begin() + 8);
  std::fill(last.begin(), last.end(), -1.0f);
  ASSERT_TRUE(e->eval(eight, 0, rt::logits_mode::last, last.data()));
  EXPECT_EQ(trace_runs(), (runs{{5, 0}, {5, 4}}));
  EXPECT_EQ(compare(last, expected_row(eight, 7, file_embd_)), "");
  EXPECT_EQ(e->n_past(), 8);
}

TEST_F(CompiledEngine, LastLogitsWithoutALastRowPhaseAreTheChunksLastRow) {
  toy_model tm;
  tm.add(phase_kind::decode);
  tm.add(phase_kind::chunk4);
  auto e = load(tm);
  ASSERT_TRUE(e);
  const std::vector<int32_t> eight(nine_tokens.begin(), nine_tokens.begin() + 8);
  std::vector<float> last(size_t(g_dims.n_vocab), -1.0f);
  ASSERT_TRUE(e->eval(eight, 0, rt::logits_mode::last, last.data()));
  EXPECT_EQ(trace_runs(), (runs{{4, 0}, {4, 4}}));
  EXPECT_EQ(compare(last, expected_row(eight, 7, file_embd_)), "") << "row 3 of the chunk";
}

TEST_F(CompiledEngine, NoLogitsFillsTheCacheOnly) {
  toy_model tm = full_model();
  auto e = load(tm);
  ASSERT_TRUE(e);
  std::vector<float> untouched(nine_tokens.size() * size_t(g_dims.n_vocab), -7.0f);
  ASSERT_TRUE(e->eval(nine_tokens, 0, rt::logits_mode::none, untouched.data()));
  EXPECT_EQ(trace_runs(), (runs{{5, 0}, {5, 4}, {1, 8}}));
  for (float x : untouched)
    ASSERT_EQ(x, -7.0f) << "logits_mode::none wrote logits";
  EXPECT_EQ(e->n_past(), 9);

  // The cache the none-run filled is what the next step reads.
  std::vector<int32_t> history = nine_tokens;
  history.push_back(123);
  std::vector<float> last(size_t(g_dims.n_vocab));
  clear_trace();
  ASSERT_TRUE(e->eval(std::vector<int32_t>{123}, 9, rt::logits_mode::last, last.data()));
  EXPECT_EQ(trace_runs(), (runs{{1, 9}}));
  EXPECT_EQ(compare(last, expected_row(history, 9, file_embd_)), "");
}

TEST_F(CompiledEngine, IncrementalDecodeAndTruncationReadTheCache) {
  toy_model tm = full_model();
  auto e = load(tm);
  ASSERT_TRUE(e);
  // Prompt of 5 (one chunk + one decode), then 3 decode steps.
  std::vector<int32_t> history(nine_tokens.begin(), nine_tokens.begin() + 5);
  std::vector<float> logits(5 * size_t(g_dims.n_vocab));
  ASSERT_TRUE(e->eval(history, 0, rt::logits_mode::all, logits.data()));
  EXPECT_EQ(compare(logits, expected_rows(history, 0, file_embd_)), "");
  for (int32_t t : {9, 10, 11}) {
    history.push_back(t);
    std::vector<float> row(size_t(g_dims.n_vocab));
    ASSERT_TRUE(e->eval(std::vector<int32_t>{t}, int32_t(history.size() - 1), rt::logits_mode::last,
                        row.data()));
    EXPECT_EQ(compare(row, expected_row(history, int64_t(history.size() - 1), file_embd_)), "")
        << "token " << t;
  }
  EXPECT_EQ(e->n_past(), 8);
  EXPECT_EQ(trace_runs(), (runs{{4, 0}, {1, 4}, {1, 5}, {1, 6}, {1, 7}}));

  // Evaluating at 2 < n_past overwrites from there on.
  history.resize(2);
  const std::vector<int32_t> more = {300, 301, 302, 303, 304};
  history.insert(history.end(), more.begin(), more.end());
  logits.assign(more.size() * size_t(g_dims.n_vocab), 0.0f);
  clear_trace();
  ASSERT_TRUE(e->eval(more, 2, rt::logits_mode::all, logits.data()));
  EXPECT_EQ(trace_runs(), (runs{{4, 2}, {1, 6}}));
  EXPECT_EQ(compare(logits, expected_rows(history, 2, file_embd_)), "");
  EXPECT_EQ(e->n_past(), 7);
}

TEST_F(CompiledEngine, BatchSizeCapsTheChunk) {
  toy_model tm = full_model();
  rt::engine_options o;
  o.n_batch = 3;
  auto e = load(tm, o);
  ASSERT_TRUE(e);
  std::vector<float> logits(nine_tokens.size() * size_t(g_dims.n_vocab));
  ASSERT_TRUE(e->eval(nine_tokens, 0, rt::logits_mode::all, logits.data()));
  runs want;
  for (int64_t p = 0; p < 9; ++p)
    want.push_back({1, p});
  EXPECT_EQ(trace_runs(), want);
  EXPECT_EQ(compare(logits, expected_rows(nine_tokens, 0, file_embd_)), "");
}

TEST_F(CompiledEngine, ChunkWithOnlyALastRowPhaseIsNotUsedForAllLogits) {
  toy_model tm;
  tm.add(phase_kind::decode);
  tm.add(phase_kind::chunk4_last);
  auto e = load(tm);
  ASSERT_TRUE(e);
  std::vector<float> logits(nine_tokens.size() * size_t(g_dims.n_vocab));
  ASSERT_TRUE(e->eval(nine_tokens, 0, rt::logits_mode::all, logits.data()));
  EXPECT_EQ(trace_runs().size(), 9u) << "decode steps only";
  EXPECT_EQ(compare(logits, expected_rows(nine_tokens, 0, file_embd_)), "");
}

TEST_F(CompiledEngine, ContextComesFromTheCacheOrTheOption) {
  toy_model tm = full_model();
  rt::engine_options o;
  o.n_ctx = 10;
  auto e = load(tm, o);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->n_ctx(), 10);
  std::vector<float> logits(11 * size_t(g_dims.n_vocab));
  std::vector<int32_t> eleven(11, 7);
  rt::status st = e->eval(eleven, 0, rt::logits_mode::all, logits.data());
  ASSERT_FALSE(st);
  EXPECT_THAT(st.message(), HasSubstr("exceed the context size 10"));
  eleven.resize(10);
  EXPECT_TRUE(e->eval(eleven, 0, rt::logits_mode::all, logits.data()));
}

TEST_F(CompiledEngine, EvalChecksFailBeforeAnyKernelRuns) {
  toy_model tm = full_model();
  auto e = load(tm);
  ASSERT_TRUE(e);
  std::vector<float> logits(nine_tokens.size() * size_t(g_dims.n_vocab));
  ASSERT_TRUE(e->eval(nine_tokens, 0, rt::logits_mode::none, logits.data()));
  clear_trace();

  rt::status hole = e->eval(std::vector<int32_t>{5}, 10, rt::logits_mode::last, logits.data());
  ASSERT_FALSE(hole);
  EXPECT_THAT(hole.message(), HasSubstr("position 10 leaves a hole"));
  EXPECT_THAT(hole.message(), HasSubstr("holds 9 positions"));
  rt::status negative = e->eval(std::vector<int32_t>{5}, -1, rt::logits_mode::last, logits.data());
  ASSERT_FALSE(negative);
  EXPECT_THAT(negative.message(), HasSubstr("leaves a hole"));

  // 9 + 8 > 16.
  rt::status overflow =
      e->eval(std::vector<int32_t>(8, 1), 9, rt::logits_mode::last, logits.data());
  ASSERT_FALSE(overflow);
  EXPECT_THAT(overflow.message(), HasSubstr("positions 9..17 exceed the context size 16"));

  for (int32_t bad : {int32_t(g_dims.n_vocab), -1}) {
    rt::status st = e->eval(std::vector<int32_t>{3, bad}, 9, rt::logits_mode::last, logits.data());
    ASSERT_FALSE(st) << bad;
    EXPECT_THAT(st.message(), HasSubstr("token id " + std::to_string(bad) + " is out of range"));
    EXPECT_THAT(st.message(), HasSubstr("[0, " + std::to_string(g_dims.n_vocab) + ")"));
  }
  EXPECT_TRUE(trace_runs().empty()) << "a kernel ran for a rejected request";
  EXPECT_EQ(e->n_past(), 9);

  // The cache is as the successful run left it.
  std::vector<int32_t> history = nine_tokens;
  history.push_back(44);
  std::vector<float> last(size_t(g_dims.n_vocab));
  ASSERT_TRUE(e->eval(std::vector<int32_t>{44}, 9, rt::logits_mode::last, last.data()));
  EXPECT_EQ(compare(last, expected_row(history, 9, file_embd_)), "");
  // Filling the context exactly is fine.
  ASSERT_TRUE(e->eval(std::vector<int32_t>(6, 2), 10, rt::logits_mode::none, nullptr));
  EXPECT_EQ(e->n_past(), compiled_ctx);
}

// Non-finite logits are an error of the eval that returns them (engine.h,
// check_logits_finite), naming the engine, the position and what was found,
// never a result. Only the rows returned are checked; the positions are in
// the cache either way.
TEST_F(CompiledEngine, NonFiniteLogitsAreAnError) {
  toy_model tm = full_model();
  auto e = load(tm);
  ASSERT_TRUE(e);
  std::vector<float> logits(nine_tokens.size() * size_t(g_dims.n_vocab));

  // A NaN at position 6 (a chunk row), all rows returned.
  g_non_finite = {6, 3, std::nanf("")};
  rt::status st = e->eval(nine_tokens, 0, rt::logits_mode::all, logits.data());
  ASSERT_FALSE(st);
  EXPECT_EQ(st.message(), "the test engine produced non-finite logits at position 6 (NaN in 1 "
                          "of " +
                              std::to_string(g_dims.n_vocab) +
                              " logits); the model's weights may be out of range");
  EXPECT_EQ(e->n_past(), 9);

  // No logits wanted: nothing to check.
  e->reset();
  ASSERT_TRUE(e->eval(nine_tokens, 0, rt::logits_mode::none, nullptr));

  // Only the last row is returned: one in it is an error (position 8, the
  // decode step).
  e->reset();
  g_non_finite = {8, 0, -std::numeric_limits<float>::infinity()};
  st = e->eval(nine_tokens, 0, rt::logits_mode::last, logits.data());
  ASSERT_FALSE(st);
  EXPECT_THAT(st.message(), HasSubstr("non-finite logits at position 8 (infinity in 1 of"));

  // A decode step at position 9 after a clean prompt.
  g_non_finite = {9, int64_t(g_dims.n_vocab) - 1, std::numeric_limits<float>::infinity()};
  st = e->eval(std::vector<int32_t>{12}, 9, rt::logits_mode::last, logits.data());
  ASSERT_FALSE(st);
  EXPECT_THAT(st.message(), HasSubstr("at position 9 (infinity in 1 of"));
  EXPECT_EQ(e->n_past(), 10);

  // Finite again: the same engine goes on.
  g_non_finite = {};
  EXPECT_TRUE(e->eval(std::vector<int32_t>{12}, 10, rt::logits_mode::last, logits.data()));

  // Rows computed but not returned are not looked at: without a last-row
  // phase the chunk at 4 computes position 6 as well, and `last` returns 8.
  toy_model plain;
  plain.add(phase_kind::decode);
  plain.add(phase_kind::chunk4);
  auto p = load(plain);
  ASSERT_TRUE(p);
  clear_trace();
  g_non_finite = {6, 3, std::nanf("")};
  EXPECT_TRUE(p->eval(nine_tokens, 0, rt::logits_mode::last, logits.data()));
  EXPECT_EQ(trace_runs(), (runs{{4, 0}, {4, 4}, {1, 8}}));
}

TEST_F(CompiledEngine, ResetEmptiesTheCache) {
  toy_model tm = full_model();
  auto e = load(tm);
  ASSERT_TRUE(e);
  std::vector<float> logits(nine_tokens.size() * size_t(g_dims.n_vocab));
  ASSERT_TRUE(e->eval(nine_tokens, 0, rt::logits_mode::none, logits.data()));
  ASSERT_EQ(e->n_past(), 9);
  e->reset();
  EXPECT_EQ(e->n_past(), 0);
  rt::status st = e->eval(std::vector<int32_t>{5}, 1, rt::logits_mode::last, logits.data());
  ASSERT_FALSE(st);
  EXPECT_THAT(st.message(), HasSubstr("leaves a hole"));
  // A new sequence from 0 sees none of the old one.
  const std::vector<int32_t> other = {8, 9, 10, 11, 12, 13};
  ASSERT_TRUE(e->eval(other, 0, rt::logits_mode::all, logits.data()));
  logits.resize(other.size() * size_t(g_dims.n_vocab));
  EXPECT_EQ(compare(logits, expected_rows(other, 0, file_embd_)), "");
}

// ---------------------------------------------------------------------------
// 2. Thread count.

/// Programs created in its scope queue every dispatch (dispatch.h: the toy
/// model's dispatches are all below the inline threshold, which would run
/// them in table order on one thread).
struct no_inline_scope {
  no_inline_scope() { rt::dispatch_program::set_default_inline_bytes(0); }
  ~no_inline_scope() { rt::dispatch_program::set_default_inline_bytes(rt::kInlineBytes); }
};

/// Kernel calls of a queued dispatch of `tiles` tiles on `threads` workers
/// (dispatch.h, "Ranges"); one worker runs it whole.
int64_t cpu_ranges(int64_t tiles, int threads) {
  return threads == 1 ? 1 : std::min<int64_t>(tiles, rt::kRangesPerWorker * threads);
}

TEST_F(CompiledEngine, TiledDispatchGivesTheSameBytesAtOneAndTwoThreads) {
  ASSERT_GT(g_dims.blocks_per_row, 1) << "the logits dispatch must have several tiles";
  no_inline_scope no_inline;
  std::vector<std::vector<float>> results;
  for (int threads : {1, 2}) {
    toy_model tm = full_model();
    rt::engine_options o;
    o.n_threads = threads;
    auto e = load(tm, o);
    ASSERT_TRUE(e);
    clear_trace();
    std::vector<float> logits(nine_tokens.size() * size_t(g_dims.n_vocab));
    ASSERT_TRUE(e->eval(nine_tokens, 0, rt::logits_mode::all, logits.data()));
    // Three runs, each logits dispatch split into ranges.
    EXPECT_EQ(g_logits_calls.load(), 3 * cpu_ranges(g_dims.blocks_per_row, threads))
        << threads << " threads";
    EXPECT_EQ(trace_runs(), (runs{{4, 0}, {4, 4}, {1, 8}}));
    results.push_back(logits);
  }
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(compare(results[1], results[0]), "");
  EXPECT_EQ(compare(results[0], expected_rows(nine_tokens, 0, file_embd_)), "");
}

// ---------------------------------------------------------------------------
// 3. Load errors.

TEST_F(CompiledEngine, NullModel) {
  EXPECT_THAT(load_error(nullptr), HasSubstr("no compiled model"));
}

TEST_F(CompiledEngine, WrongAbiVersion) {
  toy_model tm = full_model();
  smepilot_rt_compiled_model m = *tm.model();
  m.abi_version = SMEPILOT_RT_ABI_VERSION + 1;
  EXPECT_THAT(load_error(&m),
              HasSubstr("ABI version " + std::to_string(SMEPILOT_RT_ABI_VERSION + 1) +
                        ", this runtime reads " + std::to_string(SMEPILOT_RT_ABI_VERSION)));
}

TEST_F(CompiledEngine, NoPhases) {
  toy_model tm = full_model();
  smepilot_rt_compiled_model m = *tm.model();
  m.n_phases = 0;
  EXPECT_THAT(load_error(&m), HasSubstr("compiled model: no phases"));
  m = *tm.model();
  m.phases = nullptr;
  EXPECT_THAT(load_error(&m), HasSubstr("compiled model: no phases"));
}

TEST_F(CompiledEngine, NoDecodePhase) {
  toy_model tm;
  tm.add(phase_kind::chunk4);
  tm.add(phase_kind::chunk4_last);
  EXPECT_THAT(load_error(tm.model()), HasSubstr("no one-token (decode) phase"));
}

TEST_F(CompiledEngine, PhaseWithoutTable) {
  toy_model tm = full_model();
  tm.model();
  tm.phases[2].table = nullptr;
  EXPECT_THAT(load_error(&tm.m), HasSubstr("phase 'prefill_c4_last' has chunk 4 and no table"));
}

TEST_F(CompiledEngine, TensorTheFileLacks) {
  toy_model tm = full_model();
  tm.tables[1]->arg("token_embd.weight").name = "blk.9.attn_q.weight";
  const std::string msg = load_error(tm.model());
  EXPECT_THAT(msg, HasSubstr("phase 'prefill_c4' binds tensor 'blk.9.attn_q.weight'"));
  EXPECT_THAT(msg, HasSubstr("stories260K.gguf does not have"));
}

TEST_F(CompiledEngine, WeightSizeNotTheTensorsF32Size) {
  toy_model tm = full_model();
  tm.tables[1]->arg("token_embd.weight").size.base = g_dims.embd_bytes / 2;
  const std::string msg = load_error(tm.model());
  EXPECT_THAT(
      msg, HasSubstr("'token_embd.weight' is " + std::to_string(g_dims.embd_bytes / 2) + " bytes"));
  EXPECT_THAT(msg, HasSubstr("needs " + std::to_string(g_dims.embd_bytes)));
}

TEST_F(CompiledEngine, TokensSizeNotChunkTimesFour) {
  toy_model tm = full_model();
  tm.tables[1]->arg("tokens").size.base = 4;
  const std::string msg = load_error(tm.model());
  EXPECT_THAT(msg, HasSubstr("phase 'prefill_c4' argument 0 'tokens' is 4 bytes"));
  EXPECT_THAT(msg, HasSubstr("needs 16"));
}

TEST_F(CompiledEngine, LogitsSizeWrong) {
  // The last-row phase writes one row, not the chunk's four.
  toy_model tm = full_model();
  tm.tables[2]->arg("logits").size.base = 4 * g_dims.n_vocab * 4;
  std::string msg = load_error(tm.model());
  EXPECT_THAT(msg, HasSubstr("phase 'prefill_c4_last' argument 4 'logits' is " +
                             std::to_string(4 * g_dims.n_vocab * 4) + " bytes"));
  EXPECT_THAT(msg, HasSubstr("needs " + std::to_string(g_dims.n_vocab * 4)));
  // And the all-rows phase writes four.
  toy_model tm2 = full_model();
  tm2.tables[1]->arg("logits").size.base = g_dims.n_vocab * 4;
  msg = load_error(tm2.model());
  EXPECT_THAT(msg, HasSubstr("phase 'prefill_c4' argument 4 'logits'"));
  EXPECT_THAT(msg, HasSubstr("needs " + std::to_string(4 * g_dims.n_vocab * 4)));
}

TEST_F(CompiledEngine, CachesOfDifferentSizesInTwoPhases) {
  toy_model tm = full_model();
  tm.tables[1]->arg("k_cache").size.base = (compiled_ctx + 1) * g_dims.cache_row;
  tm.tables[1]->arg("v_cache").size.base = (compiled_ctx + 1) * g_dims.cache_row;
  const std::string msg = load_error(tm.model());
  EXPECT_THAT(msg, HasSubstr("phase 'prefill_c4' argument 'k_cache' is " +
                             std::to_string((compiled_ctx + 1) * g_dims.cache_row) + " bytes"));
  EXPECT_THAT(msg, HasSubstr("differs from another phase's"));
}

TEST_F(CompiledEngine, CacheSizeNotAWholeNumberOfPositions) {
  toy_model tm = full_model();
  tm.tables[0]->arg("v_cache").size.base = compiled_ctx * g_dims.cache_row + 4;
  const std::string msg = load_error(tm.model());
  EXPECT_THAT(msg, HasSubstr("phase 'decode' argument 'v_cache' is " +
                             std::to_string(compiled_ctx * g_dims.cache_row + 4) + " bytes"));
  EXPECT_THAT(msg, HasSubstr("not an F32 cache of this model's " + std::to_string(g_dims.n_layer) +
                             " layers x " + std::to_string(g_dims.n_head_kv) + " KV heads x " +
                             std::to_string(g_dims.head_dim) + " (head_dim) x n_ctx"));
}

TEST_F(CompiledEngine, MissingLogits) {
  toy_model tm;
  tm.add(phase_kind::decode, {.logits_as_temporary = true});
  EXPECT_THAT(load_error(tm.model()),
              HasSubstr("phase 'decode' lacks a 'tokens', 'logits', 'k_cache' (or "
                        "'k_cache_kmajor') or 'v_cache'"));
}

// abi.h v4: the K cache may be bound K-major ("k_cache_kmajor", the SME
// path's layout). The engine only sizes and reserves it, so the same toy
// kernels run unchanged on it.
TEST_F(CompiledEngine, KMajorKeyCacheIsBoundLikeTheRowMajorOne) {
  toy_model tm = full_model();
  for (auto &table : tm.tables)
    table->arg("k_cache").name = "k_cache_kmajor";
  auto loaded = rt::load_compiled_engine(*file_, {}, tm.model(), "test");
  ASSERT_TRUE(loaded) << loaded.error().message();
  std::unique_ptr<rt::engine> e = std::move(*loaded);
  EXPECT_EQ(e->n_ctx(), compiled_ctx) << "from the k_cache_kmajor size";
  std::vector<float> logits(nine_tokens.size() * size_t(g_dims.n_vocab), -1.0f);
  ASSERT_TRUE(e->eval(nine_tokens, 0, rt::logits_mode::all, logits.data()));
  EXPECT_EQ(compare(logits, expected_rows(nine_tokens, 0, file_embd_)), "");
}

// One K cache per model: phases that disagree on its layout are refused.
TEST_F(CompiledEngine, PhasesWithDifferentKeyCacheLayouts) {
  toy_model tm = full_model();
  tm.tables[1]->arg("k_cache").name = "k_cache_kmajor";
  EXPECT_THAT(load_error(tm.model()),
              HasSubstr("phase 'prefill_c4' binds 'k_cache_kmajor' but another phase binds "
                        "'k_cache': one K cache layout per model"));
}

// Each phase must bind both caches itself: one that reads only k_cache
// (renamed away from v_cache) is refused even though another phase has both.
TEST_F(CompiledEngine, PhaseWithoutOneOfTheCaches) {
  toy_model tm = full_model();
  tm.tables[1]->arg("v_cache").name = "k_cache";
  EXPECT_THAT(load_error(tm.model()), HasSubstr("phase 'prefill_c4' has two 'k_cache' arguments"));
  toy_model tm2 = full_model();
  tm2.tables[0]->arg("v_cache").name = "token_embd.weight";
  tm2.tables[0]->arg("token_embd.weight").size.base = g_dims.embd_bytes;
  EXPECT_THAT(load_error(tm2.model()), HasSubstr("phase 'decode' lacks"));
}

// A second "logits" (or "tokens") argument is an error at load, not a null
// pointer at the first eval.
TEST_F(CompiledEngine, DuplicateLogitsOrTokens) {
  toy_model tm = full_model();
  tm.tables[0]->arg("token_embd.weight").name = "logits";
  EXPECT_THAT(load_error(tm.model()), HasSubstr("phase 'decode' has two 'logits' arguments"));
  toy_model tm2 = full_model();
  tm2.tables[0]->arg("token_embd.weight").size.base = 4; // one token's id
  tm2.tables[0]->arg("token_embd.weight").name = "tokens";
  EXPECT_THAT(load_error(tm2.model()), HasSubstr("phase 'decode' has two 'tokens' arguments"));
}

// Sizes are products of the chunk: a chunk too large for them is refused
// before they are computed (2^62 * 4 would wrap to 0 bytes).
TEST_F(CompiledEngine, HugeChunk) {
  toy_model tm = full_model();
  tm.phase(1).chunk = int64_t(1) << 62;
  EXPECT_THAT(load_error(&tm.m), HasSubstr("phase 'prefill_c4' has chunk 4611686018427387904"));
}

TEST_F(CompiledEngine, ContextLargerThanCompiled) {
  toy_model tm = full_model();
  rt::engine_options o;
  o.n_ctx = int32_t(compiled_ctx + 1);
  const std::string msg = load_error(tm.model(), o);
  EXPECT_THAT(msg, HasSubstr("holds a context of " + std::to_string(compiled_ctx) + " positions"));
  EXPECT_THAT(msg, HasSubstr("-c " + std::to_string(compiled_ctx + 1) + " asks for more"));
  o.n_ctx = int32_t(compiled_ctx);
  EXPECT_EQ(load_error(tm.model(), o), "");
}

TEST_F(CompiledEngine, PhaseTableTheValidatorRejects) {
  // The cache dispatch (1) depends on itself: dependencies must point back.
  toy_model tm = full_model();
  table_builder &tb = *tm.tables[1];
  tb.dispatches[1].deps_begin = tb.dispatches[2].deps_begin;
  tb.dispatches[1].deps_count = 1;
  ASSERT_EQ(tb.deps[tb.dispatches[1].deps_begin], 1u);
  const std::string msg = load_error(tm.model());
  EXPECT_THAT(msg, HasSubstr("compiled model: "));
  EXPECT_THAT(msg, HasSubstr("prefill_c4"));
  EXPECT_THAT(msg, HasSubstr("dependencies must point backwards"));
}

TEST_F(CompiledEngine, PhaseTakingOtherConstants) {
  toy_model tm = full_model();
  tm.tables[0]->n_constants = 2;
  EXPECT_THAT(load_error(tm.model()),
              HasSubstr("phase 'decode' takes 2 constants, expected 1 (the position)"));
}

// ---------------------------------------------------------------------------
// 4. describe_compiled_model.

TEST_F(CompiledEngine, DescribeNamesEveryPhaseAndChunk) {
  toy_model tm = full_model();
  const std::string d = rt::describe_compiled_model(*tm.model());
  EXPECT_THAT(d, HasSubstr("compiled model for test-host, 3 phases"));
  EXPECT_THAT(d, HasSubstr("decode (chunk 1: 3 dispatches, 3 kernels, 0 temporaries)"));
  EXPECT_THAT(d, HasSubstr("prefill_c4 (chunk 4: 3 dispatches"));
  EXPECT_THAT(d, HasSubstr("prefill_c4_last (chunk 4, last row: 3 dispatches"));
}

// ---------------------------------------------------------------------------
// 5. The load table.

// The phases read only the packed buffer (no phase binds token_embd.weight):
// every logit is that of -E, over prompt chunks, decode steps and the
// last-row phase, while the load kernel's tiles ran exactly once in all.
TEST_F(CompiledEngine, LoadTableRunsOnceAndThePhasesReadWhatItPacked) {
  toy_model tm = packed_model();
  auto e = load(tm);
  ASSERT_TRUE(e);
  EXPECT_EQ(g_pack_tiles.load(), g_dims.n_vocab) << "every tile of the pack dispatch, once";
  EXPECT_EQ(g_pack_calls.load(), 1) << "one thread: one call";
  EXPECT_TRUE(trace_runs().empty()) << "a phase ran at load";
  const float *neg = negated_embd_.data();

  // Two chunks and a decode step, then two more decode steps.
  std::vector<int32_t> history = nine_tokens;
  std::vector<float> logits(nine_tokens.size() * size_t(g_dims.n_vocab), -1.0f);
  ASSERT_TRUE(e->eval(nine_tokens, 0, rt::logits_mode::all, logits.data()));
  EXPECT_EQ(trace_runs(), (runs{{4, 0}, {4, 4}, {1, 8}}));
  EXPECT_EQ(compare(logits, expected_rows(history, 0, neg)), "");
  for (int32_t t : {42, 43}) {
    history.push_back(t);
    std::vector<float> row(size_t(g_dims.n_vocab), -1.0f);
    ASSERT_TRUE(e->eval(std::vector<int32_t>{t}, int32_t(history.size() - 1), rt::logits_mode::last,
                        row.data()));
    EXPECT_EQ(compare(row, expected_row(history, int64_t(history.size() - 1), neg)), "")
        << "token " << t;
  }
  // A new sequence through the last-row phase.
  e->reset();
  clear_trace();
  const std::vector<int32_t> eight(nine_tokens.begin(), nine_tokens.begin() + 8);
  std::vector<float> last(size_t(g_dims.n_vocab), -1.0f);
  ASSERT_TRUE(e->eval(eight, 0, rt::logits_mode::last, last.data()));
  EXPECT_EQ(trace_runs(), (runs{{5, 0}, {5, 4}}));
  EXPECT_EQ(compare(last, expected_row(eight, 7, neg)), "");

  EXPECT_EQ(g_pack_tiles.load(), g_dims.n_vocab) << "the load table ran again during eval";
  EXPECT_EQ(g_pack_calls.load(), 1);
  // Once per engine: a second engine runs it once more.
  auto e2 = load(tm);
  ASSERT_TRUE(e2);
  EXPECT_EQ(g_pack_tiles.load(), 2 * g_dims.n_vocab);
  EXPECT_EQ(g_pack_calls.load(), 2);
}

// The load table and a phase both bind token_embd.weight: the weight is not
// dropped after the load table ran, and that phase still reads E itself
// (and, through a probe, the packed -E next to it).
TEST_F(CompiledEngine, WeightAPhaseReadsIsKeptWhenTheLoadTableReadsItToo) {
  toy_model tm;
  tm.add(phase_kind::decode,
         {.reversed_arguments = true, .probe = packed_name, .probe_bytes = g_dims.embd_bytes});
  tm.add(phase_kind::chunk4);
  tm.add(phase_kind::chunk4_last);
  tm.add_load();
  auto e = load(tm);
  ASSERT_TRUE(e);
  EXPECT_EQ(g_pack_tiles.load(), g_dims.n_vocab);
  std::vector<float> logits(nine_tokens.size() * size_t(g_dims.n_vocab), -1.0f);
  ASSERT_TRUE(e->eval(nine_tokens, 0, rt::logits_mode::all, logits.data()));
  EXPECT_EQ(trace_runs(), (runs{{4, 0}, {4, 4}, {1, 8}}));
  EXPECT_EQ(compare(logits, expected_rows(nine_tokens, 0, file_embd_)), "");
  std::vector<trace_entry> trace = trace_entries();
  ASSERT_EQ(trace.size(), 3u);
  for (const trace_entry &t : trace) {
    ASSERT_NE(t.embd, nullptr);
    EXPECT_EQ(t.embd, trace[0].embd) << "phase " << t.phase << " has its own copy";
    EXPECT_NE(static_cast<const void *>(t.embd), g_pack_dst.load())
        << "phase " << t.phase << " reads the packed buffer for token_embd.weight";
  }
  EXPECT_EQ(std::memcmp(trace[0].embd, file_embd_, size_t(g_dims.embd_bytes)), 0);
  const std::vector<probe_entry> seen = probes();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].phase, 1);
  EXPECT_EQ(seen[0].ptr, g_pack_dst.load());
  EXPECT_EQ(std::memcmp(seen[0].ptr, negated_embd_.data(), size_t(g_dims.embd_bytes)), 0);
}

// Every phase binds the one packed buffer the load kernel wrote, aligned to
// at least SMEPILOT_RT_MIN_ALIGNMENT, or to the load table's alignment when
// that is larger.
TEST_F(CompiledEngine, PhasesShareOnePackedBuffer) {
  for (uint32_t alignment : {0u, 4096u}) {
    clear_trace();
    clear_load_counters();
    toy_model tm = packed_model({.alignment = alignment});
    auto e = load(tm);
    ASSERT_TRUE(e);
    const void *packed = g_pack_dst.load();
    ASSERT_NE(packed, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(packed) %
                  std::max<uintptr_t>(SMEPILOT_RT_MIN_ALIGNMENT, alignment),
              0u)
        << "alignment " << alignment;
    std::vector<float> logits(nine_tokens.size() * size_t(g_dims.n_vocab));
    ASSERT_TRUE(e->eval(nine_tokens, 0, rt::logits_mode::all, logits.data()));
    ASSERT_TRUE(e->eval(nine_tokens, 0, rt::logits_mode::last, logits.data()));
    std::vector<trace_entry> trace = trace_entries();
    ASSERT_EQ(trace.size(), 6u); // c4, c4, decode, c4_last, c4_last, decode
    for (const trace_entry &t : trace)
      EXPECT_EQ(static_cast<const void *>(t.embd), packed) << "phase " << t.phase;
    EXPECT_EQ(std::memcmp(packed, negated_embd_.data(), size_t(g_dims.embd_bytes)), 0);
  }
}

// The engine zero-fills packed buffers: what the load table does not write
// reads as zeros, even where the heap held other bytes before. (An earlier
// engine's scratch buffer, fully written, is freed first so that the new one
// likely reuses its memory.)
TEST_F(CompiledEngine, PackedBufferStartsZeroFilled) {
  for (int round = 0; round < 3; ++round) {
    {
      g_scratch_written = scratch_bytes;
      toy_model dirty = packed_model({.scratch = true});
      auto e = load(dirty);
      ASSERT_TRUE(e);
    }
    // And more freed blocks of about that size, full of the same bytes.
    for (int64_t bytes : {scratch_bytes, scratch_bytes + 64, scratch_bytes + 128}) {
      void *p = std::malloc(size_t(bytes));
      ASSERT_NE(p, nullptr);
      std::memset(p, scratch_byte, size_t(bytes));
      asm volatile("" : : "r"(p) : "memory"); // keep the stores before free
      std::free(p);
    }
    clear_load_counters();
    g_scratch_written = scratch_bytes / 2;
    toy_model tm;
    tm.add(phase_kind::decode, {.probe = scratch_name, .probe_bytes = scratch_bytes});
    tm.add_load({.scratch = true});
    auto e = load(tm);
    ASSERT_TRUE(e);
    std::vector<float> row(size_t(g_dims.n_vocab));
    ASSERT_TRUE(e->eval(std::vector<int32_t>{3}, 0, rt::logits_mode::last, row.data()));
    const std::vector<probe_entry> seen = probes();
    ASSERT_EQ(seen.size(), 1u);
    const unsigned char *bytes = static_cast<const unsigned char *>(seen[0].ptr);
    ASSERT_EQ(reinterpret_cast<uintptr_t>(bytes) % SMEPILOT_RT_MIN_ALIGNMENT, 0u);
    for (int64_t i = 0; i < scratch_bytes; ++i)
      ASSERT_EQ(bytes[i], i < scratch_bytes / 2 ? scratch_byte : 0) << "byte " << i;
  }
}

TEST_F(CompiledEngine, TiledLoadDispatchGivesTheSamePackedBytesAtOneAndTwoThreads) {
  no_inline_scope no_inline;
  std::vector<std::vector<unsigned char>> results;
  for (int threads : {1, 2}) {
    clear_trace();
    clear_load_counters();
    toy_model tm = packed_model();
    rt::engine_options o;
    o.n_threads = threads;
    auto e = load(tm, o);
    ASSERT_TRUE(e);
    EXPECT_EQ(g_pack_calls.load(), cpu_ranges(g_dims.n_vocab, threads))
        << "the pack dispatch is split at " << threads;
    EXPECT_EQ(g_pack_tiles.load(), g_dims.n_vocab) << threads << " threads";
    std::vector<float> row(size_t(g_dims.n_vocab));
    ASSERT_TRUE(e->eval(std::vector<int32_t>{3}, 0, rt::logits_mode::last, row.data()));
    std::vector<trace_entry> trace = trace_entries();
    ASSERT_EQ(trace.size(), 1u);
    const unsigned char *packed = reinterpret_cast<const unsigned char *>(trace[0].embd);
    results.emplace_back(packed, packed + g_dims.embd_bytes);
    EXPECT_EQ(compare(row, expected_row({3}, 0, negated_embd_.data())), "") << threads;
  }
  ASSERT_EQ(results.size(), 2u);
  EXPECT_TRUE(results[0] == results[1]) << "the packed bytes depend on the thread count";
  EXPECT_EQ(std::memcmp(results[0].data(), negated_embd_.data(), size_t(g_dims.embd_bytes)), 0);
}

TEST_F(CompiledEngine, DescribeCountsTheLoadTable) {
  toy_model tm = packed_model({.scratch = true});
  const std::string d = rt::describe_compiled_model(*tm.model());
  EXPECT_THAT(d, HasSubstr("compiled model for test-host, 3 phases: load (once: 2 dispatches, "
                           "2 kernels, 2 packed buffers) decode (chunk 1"));
  toy_model one = packed_model();
  EXPECT_THAT(rt::describe_compiled_model(*one.model()),
              HasSubstr(" load (once: 1 dispatches, 1 kernels, 1 packed buffers)"));
  toy_model none = full_model();
  EXPECT_THAT(rt::describe_compiled_model(*none.model()), ::testing::Not(HasSubstr("load")));
}

// Load errors of the load table.

TEST_F(CompiledEngine, LoadTableTakingConstants) {
  toy_model tm = packed_model();
  tm.load->n_constants = 1;
  EXPECT_THAT(load_error(tm.model()),
              HasSubstr("compiled model: the load table takes 1 constants, expected none"));
  EXPECT_EQ(g_pack_calls.load(), 0);
}

TEST_F(CompiledEngine, LoadTableWritingANameOfTheAbi) {
  for (const char *name : {"token_embd.weight", "blk.0.attn_q.weight", "output.weight", "logits",
                           "tokens", "k_cache", "k_cache_kmajor", "v_cache"}) {
    toy_model tm = packed_model();
    tm.load->buffers[1].name = name;
    const std::string msg = load_error(tm.model());
    EXPECT_THAT(msg, HasSubstr(std::string("the load table writes argument 1 '") + name +
                               "'; it may write packed buffers only, not a name of abi.h"))
        << name;
  }
  toy_model tm = packed_model();
  tm.load->buffers[1].name = nullptr;
  EXPECT_THAT(load_error(tm.model()),
              HasSubstr("the load table writes argument 1 ''; it may write packed buffers only, "
                        "not an unnamed one"));
  EXPECT_EQ(g_pack_calls.load(), 0);
}

TEST_F(CompiledEngine, TwoPackedBuffersOfOneName) {
  toy_model tm = packed_model({.scratch = true});
  tm.load->buffers[2].name = packed_name;
  EXPECT_THAT(
      load_error(tm.model()),
      HasSubstr(std::string("the load table has two packed buffers '") + packed_name + "'"));
}

TEST_F(CompiledEngine, PackedBufferOfNoBytes) {
  toy_model tm = packed_model({.scratch = true});
  tm.load->buffers[2].size.base = 0;
  EXPECT_THAT(load_error(tm.model()), HasSubstr(std::string("the load table's packed buffer '") +
                                                scratch_name + "' is 0 bytes"));
  // Far too large to allocate: refused before any allocation.
  tm.load->buffers[2].size.base = (int64_t(1) << 40) + 1;
  EXPECT_THAT(load_error(tm.model()),
              HasSubstr(std::string("packed buffer '") + scratch_name + "' is " +
                        std::to_string((int64_t(1) << 40) + 1) + " bytes"));
  // Negative: the validator's.
  tm.load->buffers[2].size.base = -4;
  const std::string msg = load_error(tm.model());
  EXPECT_THAT(msg, HasSubstr("load table"));
  EXPECT_THAT(msg, HasSubstr("is a fixed -4, expected >= 0"));
}

TEST_F(CompiledEngine, PhaseBindsAPackedBufferWithAnotherSize) {
  toy_model tm = packed_model();
  tm.tables[1]->arg(packed_name).size.base = g_dims.embd_bytes / 2;
  const std::string msg = load_error(tm.model());
  EXPECT_THAT(msg, HasSubstr(std::string("phase 'prefill_c4' argument 1 '") + packed_name +
                             "' is " + std::to_string(g_dims.embd_bytes / 2) + " bytes"));
  EXPECT_THAT(msg, HasSubstr("the load table packs " + std::to_string(g_dims.embd_bytes)));
  // Larger is wrong too (a read past the end).
  toy_model tm2 = packed_model();
  tm2.tables[0]->arg(packed_name).size.base = g_dims.embd_bytes + 4;
  EXPECT_THAT(load_error(tm2.model()),
              HasSubstr("the load table packs " + std::to_string(g_dims.embd_bytes)));
}

TEST_F(CompiledEngine, PhaseWritesAPackedBuffer) {
  for (uint32_t access : {SMEPILOT_RT_ACCESS_WRITE, SMEPILOT_RT_ACCESS_READ_WRITE}) {
    toy_model tm = packed_model({.scratch = true});
    tm.tables[0] =
        make_phase(phase_kind::decode,
                   {.probe = scratch_name, .probe_bytes = scratch_bytes, .probe_access = access});
    EXPECT_THAT(load_error(tm.model()),
                HasSubstr(std::string("phase 'decode' writes the packed buffer '") + scratch_name +
                          "' (only the load table may)"))
        << "access " << access;
  }
}

TEST_F(CompiledEngine, PhaseReadsAPackedBufferNoLoadTableWrites) {
  toy_model tm = packed_model();
  tm.load.reset();
  EXPECT_THAT(load_error(tm.model()),
              HasSubstr(std::string("binds tensor '") + packed_name + "', which"));
}

TEST_F(CompiledEngine, LoadTableReadsATensorTheFileLacks) {
  toy_model tm = packed_model();
  tm.load->buffers[0].name = "blk.9.attn_q.weight";
  std::string msg = load_error(tm.model());
  EXPECT_THAT(msg, HasSubstr("the load table binds tensor 'blk.9.attn_q.weight'"));
  EXPECT_THAT(msg, HasSubstr("stories260K.gguf does not have"));
  // And a tensor it has, at the wrong F32 size.
  toy_model tm2 = packed_model();
  tm2.load->buffers[0].size.base = g_dims.embd_bytes / 2;
  msg = load_error(tm2.model());
  EXPECT_THAT(msg, HasSubstr("the load table argument 0 'token_embd.weight' is " +
                             std::to_string(g_dims.embd_bytes / 2) + " bytes"));
  EXPECT_THAT(msg, HasSubstr("needs " + std::to_string(g_dims.embd_bytes)));
  EXPECT_EQ(g_pack_calls.load(), 0);
}

// The load table goes through the same validator as the phases; its errors
// say that they are the load table's.
TEST_F(CompiledEngine, LoadTableTheValidatorRejects) {
  toy_model tm = packed_model();
  tm.load->dispatches[0].cpu_kernel = 5;
  const std::string msg = load_error(tm.model());
  EXPECT_THAT(msg, HasSubstr("compiled model: load table: "));
  EXPECT_THAT(msg, HasSubstr("CPU kernel index 5 is out of range"));
  toy_model tm2 = packed_model();
  // table() sets the version: patch a copy of the table the model points to.
  smepilot_rt_compiled_model m = *tm2.model();
  smepilot_rt_dispatch_table bad = *m.load;
  bad.abi_version = 1;
  m.load = &bad;
  EXPECT_THAT(load_error(&m), HasSubstr("load table"));
  EXPECT_EQ(g_pack_calls.load(), 0);
}

} // namespace

// ---------------------------------------------------------------------------
// The schedule: --sme-workers, the -v lines, the trace.

namespace {

TEST_F(CompiledEngine, ScheduleReportCountsModesAndWorkers) {
  toy_model tm = packed_model();
  rt::engine_options o;
  o.n_threads = 3;
  o.sme_workers = 1;
  auto e = load(tm, o);
  ASSERT_TRUE(e);
  const std::vector<std::string> lines = e->schedule_report();
  ASSERT_EQ(lines.size(), 4u) << "the load table and three phases";
  EXPECT_THAT(lines[0], HasSubstr("schedule load table"));
  EXPECT_THAT(lines[0], HasSubstr(": 1 dispatches: cpu 1, sme 0, collab 0, pipelined 0; workers: 1 "
                                  "matrix-unit, 2 vector-core"));
  EXPECT_THAT(lines[1],
              HasSubstr("schedule phase decode: 3 dispatches: cpu 3, sme 0, collab 0, pipelined 0; "
                        "workers: 1 matrix-unit, 2 vector-core"));
  // The default without SME dispatches: no matrix-unit worker.
  toy_model plain = full_model();
  rt::engine_options d;
  d.n_threads = 2;
  auto e2 = load(plain, d);
  ASSERT_TRUE(e2);
  EXPECT_THAT(e2->schedule_report()[0], HasSubstr("workers: 0 matrix-unit, 2 vector-core"));
}

TEST_F(CompiledEngine, TooManySmeWorkersIsALoadError) {
  toy_model tm = full_model();
  rt::engine_options o;
  o.n_threads = 2;
  o.sme_workers = 2;
  EXPECT_EQ(load_error(tm.model(), o),
            "2 matrix-unit workers (--sme-workers) need at least 3 threads, there are 2 (-t)");
}

TEST_F(CompiledEngine, TraceRecordsEveryKernelCall) {
  toy_model tm = full_model();
  rt::engine_options o;
  o.n_threads = 2;
  o.trace = true;
  auto e = load(tm, o);
  ASSERT_TRUE(e);
  std::vector<float> logits(size_t(g_dims.n_vocab));
  ASSERT_TRUE(e->eval(std::vector<int32_t>{1, 2}, 0, rt::logits_mode::last, logits.data()));
  const std::string path =
      testing::TempDir() + "compiled_engine_trace_" + std::to_string(::getpid()) + ".json";
  ASSERT_TRUE(e->write_trace(path, {}));
  FILE *f = std::fopen(path.c_str(), "rb");
  ASSERT_NE(f, nullptr);
  std::string json(1 << 20, '\0');
  json.resize(std::fread(json.data(), 1, json.size(), f));
  std::fclose(f);
  std::remove(path.c_str());
  EXPECT_THAT(json, HasSubstr("{\"displayTimeUnit\":\"ns\",\"traceEvents\":["));
  EXPECT_THAT(json, HasSubstr("\"args\":{\"phase\":\"decode\",\"dispatch\":0,\"unit\":\"cpu\""));
  // Not asked for: an error naming the path.
  auto plain = load(tm);
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->write_trace("x.json", {}).message(),
            "the test engine was loaded without a trace (for x.json)");
}

} // namespace
