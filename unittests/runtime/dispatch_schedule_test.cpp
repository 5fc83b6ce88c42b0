// The dispatch executor's schedule (dispatch.h): dispatches run by their
// deps, the two halves of a collab dispatch and independent dispatches run at
// the same time, a dependent never starts before its deps have finished,
// results are the same bytes for any thread count and worker split, and
// temporaries share bytes only when the deps order them. Kernels are host
// functions; "SME" variants are host stand-ins.
#include "smepilot_rt/dispatch.h"
#include "smepilot_rt/dispatch_trace.h"

#include "stall_thread.h"
#include "table_builder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#pragma clang fp contract(off)

using smepilot::rt::check_temporary_placement;
using smepilot::rt::dispatch_program;
using smepilot::rt::dispatch_trace;
using smepilot::rt::thread_pool;
using smepilot::rt::trace_event;
using ::testing::HasSubstr;

namespace {

using namespace smepilot::rt::test_tables;

/// Waits, spinning and yielding, until `flag` is set or 10 seconds have
/// passed; returns whether it was set. A serialising executor makes the
/// waits below time out (and the test fail) instead of hanging.
bool wait_for(const std::atomic<bool> &flag) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!flag.load(std::memory_order_acquire)) {
    if (std::chrono::steady_clock::now() > deadline)
      return false;
    std::this_thread::yield();
  }
  return true;
}

// ---------------------------------------------------------------------------
// 1. Overlap. Each kernel announces that it started, then waits for the
// other unit's kernel to have started.

std::atomic<bool> g_sme_started, g_cpu_started;
std::atomic<int> g_sme_saw_cpu, g_cpu_saw_sme, g_sme_calls, g_cpu_calls;
std::mutex g_threads_mutex;
std::vector<std::thread::id> g_sme_threads, g_cpu_threads;

void reset_overlap() {
  g_sme_started = g_cpu_started = false;
  g_sme_saw_cpu = g_cpu_saw_sme = g_sme_calls = g_cpu_calls = 0;
  g_sme_threads.clear();
  g_cpu_threads.clear();
}

void sme_waits_for_cpu(void *const *, const int64_t *, int64_t, int64_t) {
  ++g_sme_calls;
  {
    std::lock_guard<std::mutex> lock(g_threads_mutex);
    g_sme_threads.push_back(std::this_thread::get_id());
  }
  g_sme_started.store(true, std::memory_order_release);
  g_sme_saw_cpu += wait_for(g_cpu_started) ? 1 : 0;
}

void cpu_waits_for_sme(void *const *, const int64_t *, int64_t, int64_t) {
  ++g_cpu_calls;
  {
    std::lock_guard<std::mutex> lock(g_threads_mutex);
    g_cpu_threads.push_back(std::this_thread::get_id());
  }
  g_cpu_started.store(true, std::memory_order_release);
  g_cpu_saw_sme += wait_for(g_sme_started) ? 1 : 0;
}

/// The overlap proof of issue 13: the SME range and the CPU ranges of one
/// collab dispatch run at the same time, on a matrix-unit worker and on
/// vector-core workers. An executor that ran one half after the other would
/// see each wait time out after 10 s.
TEST(DispatchSchedule, CollabHalvesRunAtTheSameTime) {
  table_builder tb;
  tb.phase = "overlap";
  const uint32_t out = tb.argument("out");
  tb.dispatch("collab", tb.kernel(cpu_waits_for_sme), fixed(16), {wr(out)}, {},
              SMEPILOT_RT_MODE_COLLAB, tb.kernel(sme_waits_for_cpu), SMEPILOT_RT_SHARE_ONE / 2, 4);
  auto program = dispatch_program::create(tb.table());
  ASSERT_TRUE(program) << program.error().message();
  program->set_sme_workers(1);
  program->set_inline_bytes(0); // a pool job, whatever the size
  char byte = 0;
  void *args[] = {&byte};
  for (int n_threads : {2, 3}) {
    SCOPED_TRACE(testing::Message() << n_threads << " threads");
    thread_pool pool(n_threads);
    reset_overlap();
    ASSERT_TRUE(program->run(pool, args, {}));
    EXPECT_EQ(g_sme_calls, 1) << "one matrix-unit worker: one SME range";
    EXPECT_EQ(g_cpu_calls, std::min(8, int(smepilot::rt::kRangesPerWorker) * (n_threads - 1)))
        << "kRangesPerWorker CPU ranges per vector-core worker, of 8 tiles";
    EXPECT_EQ(g_sme_saw_cpu, g_sme_calls) << "the SME range never saw a CPU range start";
    EXPECT_EQ(g_cpu_saw_sme, g_cpu_calls) << "a CPU range never saw the SME range start";
  }
}

/// Two dispatches with no dep path between them, an SME one (QK^T of head
/// h+1) and a CPU one (the softmax of head h), run at the same time. The
/// executor that ran dispatches in table order with a barrier after each
/// fails this (each wait times out).
TEST(DispatchSchedule, IndependentDispatchesRunAtTheSameTime) {
  for (int sme_workers : {0, 1}) {
    table_builder tb;
    tb.phase = "independent";
    const uint32_t a = tb.argument("a"), b = tb.argument("b");
    tb.dispatch("qk", tb.kernel(cpu_waits_for_sme), fixed(1), {wr(a)}, {}, SMEPILOT_RT_MODE_SME,
                tb.kernel(sme_waits_for_cpu));
    tb.dispatch("softmax", tb.kernel(cpu_waits_for_sme), fixed(1), {wr(b)});
    auto program = dispatch_program::create(tb.table());
    ASSERT_TRUE(program) << program.error().message();
    program->set_sme_workers(sme_workers);
    program->set_inline_bytes(0);
    char x = 0, y = 0;
    void *args[] = {&x, &y};
    thread_pool pool(2);
    reset_overlap();
    ASSERT_TRUE(program->run(pool, args, {}));
    EXPECT_EQ(g_sme_calls, 1);
    EXPECT_EQ(g_cpu_calls, 1);
    EXPECT_EQ(g_sme_saw_cpu, 1) << "sme_workers " << sme_workers;
    EXPECT_EQ(g_cpu_saw_sme, 1) << "sme_workers " << sme_workers;
  }
}

// ---------------------------------------------------------------------------
// 2. An attention-like table: per head, QK^T on the matrix unit (mode sme),
// a softmax stand-in on the vector cores (cpu), PV split between both
// (collab), the heads independent of each other; then a CPU dispatch that
// reads every head. Each kernel computes an elementwise function per tile,
// so the output is the same bytes however the tiles are split; the trace
// (dispatch_trace.h) says when each range ran and where.

constexpr int kHeads = 4;
constexpr int64_t kLen = 37; // tiles per dispatch (odd: remainders)

template <int Op> void elementwise(void *const *b, const int64_t *, int64_t begin, int64_t end) {
  const float *in = static_cast<const float *>(b[0]);
  float *out = static_cast<float *>(b[1]);
  for (int64_t i = begin; i < end; ++i) {
    const float x = in[i];
    out[i] = Op == 0 ? x * 1.25f + 0.5f : Op == 1 ? std::exp(x * 0.125f) : x * x - 0.75f;
  }
}

/// out[i] = the sum over heads of o_h[i], in head order.
void gather(void *const *b, const int64_t *, int64_t begin, int64_t end) {
  float *out = static_cast<float *>(b[kHeads]);
  for (int64_t i = begin; i < end; ++i) {
    float acc = 0.0f;
    for (int h = 0; h < kHeads; ++h)
      acc += static_cast<const float *>(b[h])[i];
    out[i] = acc;
  }
}

struct attention_table {
  table_builder tb;
  uint32_t s[kHeads], p[kHeads], o[kHeads]; ///< Temporaries, per head.
  attention_table() {
    tb.phase = "attention";
    // The SME variants are the same functions: host stand-ins.
    const uint32_t k_qk = tb.kernel(elementwise<0>), k_sm = tb.kernel(elementwise<1>),
                   k_pv = tb.kernel(elementwise<2>), k_gather = tb.kernel(gather);
    static const char *qn[] = {"q0", "q1", "q2", "q3"};
    uint32_t q[kHeads];
    for (int h = 0; h < kHeads; ++h)
      q[h] = tb.argument(qn[h]);
    const uint32_t out = tb.argument("out");
    static const char *sn[] = {"s0", "s1", "s2", "s3"}, *pn[] = {"p0", "p1", "p2", "p3"},
                      *on[] = {"o0", "o1", "o2", "o3"};
    for (int h = 0; h < kHeads; ++h) {
      s[h] = tb.temporary(sn[h], fixed(kLen * 4));
      p[h] = tb.temporary(pn[h], fixed(kLen * 4));
      o[h] = tb.temporary(on[h], fixed(kLen * 4));
    }
    uint32_t pv[kHeads];
    for (int h = 0; h < kHeads; ++h) {
      const uint32_t qk = tb.dispatch("qk", k_qk, fixed(kLen), {rd(q[h]), wr(s[h])}, {},
                                      SMEPILOT_RT_MODE_SME, k_qk, 0, 4);
      const uint32_t sm = tb.dispatch("softmax", k_sm, fixed(kLen), {rd(s[h]), wr(p[h])}, {qk});
      pv[h] = tb.dispatch("pv", k_pv, fixed(kLen), {rd(p[h]), wr(o[h])}, {sm},
                          SMEPILOT_RT_MODE_COLLAB, k_pv, 40000, 4);
    }
    tb.dispatch("gather", k_gather, fixed(kLen), {rd(o[0]), rd(o[1]), rd(o[2]), rd(o[3]), wr(out)},
                {pv[0], pv[1], pv[2], pv[3]});
  }
};

/// Runs the table twice (the second run reuses the arena and the queues)
/// and returns the output of the second; checks the placement after each
/// (with several workers; one runs in table order).
std::vector<float> run_attention(dispatch_program &program, int n_threads, int sme_workers,
                                 dispatch_trace *trace, size_t inline_bytes = 0) {
  std::vector<std::vector<float>> qs(kHeads, std::vector<float>(kLen));
  for (int h = 0; h < kHeads; ++h)
    for (int64_t i = 0; i < kLen; ++i)
      qs[size_t(h)][size_t(i)] = std::sin(float(h * 100 + i) * 0.3f);
  std::vector<float> out(kLen + 1, -1.0f);
  std::vector<void *> args;
  for (auto &qh : qs)
    args.push_back(qh.data());
  args.push_back(out.data());
  program.set_sme_workers(sme_workers);
  program.set_inline_bytes(inline_bytes);
  program.set_trace(trace);
  thread_pool pool(n_threads);
  for (int rep = 0; rep < 2; ++rep) {
    if (trace)
      trace->clear();
    EXPECT_TRUE(program.run(pool, args, {}));
    const smepilot::rt::status placed = check_temporary_placement(
        program.table(), program.last_run_temporary_offsets(), program.last_run_temporary_sizes());
    // An in-order run (one worker, or every dispatch small) places by
    // table-order lives (dispatch.h), under which the heads' temporaries
    // share: s0 (dispatches 0-1) and s1 (3-4), for one.
    EXPECT_EQ(program.last_run_in_order(), n_threads == 1 || inline_bytes > 0);
    if (!program.last_run_in_order())
      EXPECT_TRUE(placed) << placed.message();
    else
      EXPECT_FALSE(placed) << "in order: expected the tighter table-order placement";
  }
  program.set_trace(nullptr);
  EXPECT_EQ(out[kLen], -1.0f);
  out.pop_back();
  return out;
}

TEST(DispatchSchedule, SameBytesForEveryThreadCountAndWorkerSplit) {
  attention_table at;
  auto program = dispatch_program::create(at.tb.table());
  ASSERT_TRUE(program) << program.error().message();
  const std::vector<float> expect = run_attention(*program, 1, 0, nullptr);
  for (size_t inline_bytes : {size_t(0), smepilot::rt::kInlineBytes})
    for (int n_threads : {1, 2, 3, 4})
      for (int sme_workers : {0, 1, 2}) {
        if (sme_workers >= n_threads && sme_workers > 0)
          continue;
        const std::vector<float> got =
            run_attention(*program, n_threads, sme_workers, nullptr, inline_bytes);
        EXPECT_EQ(std::memcmp(got.data(), expect.data(), expect.size() * sizeof(float)), 0)
            << n_threads << " threads, " << sme_workers << " matrix-unit workers, inline below "
            << inline_bytes << " bytes";
      }
}

/// From the trace: every tile of every dispatch ran exactly once, with the
/// variant its mode says; no range of a dispatch started before every range
/// of each of its deps had ended; with matrix-unit workers, SME ranges ran on
/// those only; and the split of the ranges follows dispatch.h.
TEST(DispatchSchedule, DependentsStartAfterTheirDepsAndSmeStaysOnMatrixWorkers) {
  attention_table at;
  auto program = dispatch_program::create(at.tb.table());
  ASSERT_TRUE(program) << program.error().message();
  const smepilot_rt_dispatch_table &t = program->table();
  for (int n_threads : {1, 2, 3})
    for (int sme_workers : {0, 1, 2}) {
      if (sme_workers >= n_threads && sme_workers > 0)
        continue;
      SCOPED_TRACE(testing::Message()
                   << n_threads << " threads, " << sme_workers << " matrix-unit workers");
      dispatch_trace trace;
      run_attention(*program, n_threads, sme_workers, &trace);
      const std::vector<trace_event> events = trace.events();
      std::vector<int64_t> first_start(t.n_dispatches, INT64_MAX), last_end(t.n_dispatches, 0);
      std::vector<std::vector<int>> tiles(t.n_dispatches, std::vector<int>(kLen, 0));
      std::vector<int> sme_ranges(t.n_dispatches, 0), cpu_ranges(t.n_dispatches, 0);
      std::vector<int> sme_workers_seen;
      for (const trace_event &e : events) {
        ASSERT_LT(e.dispatch, t.n_dispatches);
        first_start[e.dispatch] = std::min(first_start[e.dispatch], e.start_ns);
        last_end[e.dispatch] = std::max(last_end[e.dispatch], e.end_ns);
        for (int64_t i = e.tile_begin; i < e.tile_end; ++i)
          ++tiles[e.dispatch][size_t(i)];
        ++(e.sme ? sme_ranges : cpu_ranges)[e.dispatch];
        EXPECT_LT(e.worker, n_threads);
        if (e.sme && std::count(sme_workers_seen.begin(), sme_workers_seen.end(), e.worker) == 0)
          sme_workers_seen.push_back(e.worker);
        const int64_t split = t.dispatches[e.dispatch].mode == SMEPILOT_RT_MODE_SME ? kLen
                              : t.dispatches[e.dispatch].mode == SMEPILOT_RT_MODE_COLLAB
                                  ? smepilot::rt::collab_split(kLen, 40000, 4)
                                  : 0;
        EXPECT_EQ(e.sme, e.tile_begin < split) << "dispatch " << e.dispatch;
        if (e.sme && e.tile_begin % 4 != 0)
          ADD_FAILURE() << "an SME range starts inside a granule: " << e.tile_begin;
      }
      for (uint32_t d = 0; d < t.n_dispatches; ++d) {
        for (int64_t i = 0; i < kLen; ++i)
          EXPECT_EQ(tiles[d][size_t(i)], 1) << "dispatch " << d << " tile " << i;
        const smepilot_rt_dispatch &dp = t.dispatches[d];
        for (uint32_t j = 0; j < dp.deps_count; ++j) {
          const uint32_t dep = t.deps[dp.deps_begin + j];
          EXPECT_GE(first_start[d], last_end[dep]) << "dispatch " << d << " started before its "
                                                   << "dep " << dep << " ended";
        }
        // dispatch.h, "Ranges": S = max(1, sme_workers) SME ranges; the CPU
        // part in R * (n - S) ranges (at least R) beside an SME part, else
        // R * n; fewer when there are fewer tiles. One worker runs in table
        // order: one range per part.
        const int r = n_threads == 1 ? 1 : int(smepilot::rt::kRangesPerWorker);
        const int s_ranges = n_threads == 1 ? 1 : std::max(1, sme_workers);
        const int collab_cpu_tiles = int(kLen - smepilot::rt::collab_split(kLen, 40000, 4));
        if (dp.mode == SMEPILOT_RT_MODE_SME) {
          EXPECT_EQ(sme_ranges[d], s_ranges);
          EXPECT_EQ(cpu_ranges[d], 0);
        } else if (dp.mode == SMEPILOT_RT_MODE_COLLAB) {
          EXPECT_EQ(sme_ranges[d], s_ranges);
          EXPECT_EQ(cpu_ranges[d],
                    std::min(collab_cpu_tiles, r * std::max(1, n_threads - s_ranges)));
        } else {
          EXPECT_EQ(sme_ranges[d], 0);
          EXPECT_EQ(cpu_ranges[d], std::min(int(kLen), r * n_threads));
        }
      }
      if (sme_workers > 0) {
        EXPECT_LE(int(sme_workers_seen.size()), sme_workers)
            << "an SME range ran on a vector-core worker";
      }
    }
}

// ---------------------------------------------------------------------------
// 2b. Small dispatches run inline; a stalled idle worker delays no run.

std::mutex g_callers_mutex;
std::vector<std::thread::id> g_callers;

void record_caller(void *const *, const int64_t *, int64_t, int64_t) {
  std::lock_guard<std::mutex> lock(g_callers_mutex);
  g_callers.push_back(std::this_thread::get_id());
}

/// A chain of dispatches over buffers of `bytes` each (arguments: the
/// executor never touches their memory, so any size may be declared).
struct chain_table {
  table_builder tb;
  chain_table(int n, int64_t bytes, int64_t tiles) {
    tb.phase = "chain";
    const uint32_t k = tb.kernel(record_caller);
    std::vector<uint32_t> bufs;
    static const char *names[] = {"b0", "b1", "b2", "b3", "b4", "b5", "b6", "b7", "b8"};
    for (int i = 0; i <= n; ++i)
      bufs.push_back(tb.buffer(names[i], bytes));
    tb.n_arguments = uint32_t(n + 1);
    for (int i = 0; i < n; ++i)
      tb.dispatch("step", k, fixed(tiles), {rd(bufs[size_t(i)]), wr(bufs[size_t(i + 1)])},
                  i == 0 ? std::initializer_list<uint32_t>{}
                         : std::initializer_list<uint32_t>{uint32_t(i - 1)});
  }
};

/// Dispatches whose work proxy is below the threshold run on the calling
/// thread, in table order, without a pool job; at or above it, the run is a
/// pool job and the ranges spread. The proxy divides a buffer among its
/// bindings: 8 dispatches over 9 buffers of B bytes bind 16 times, 7 buffers
/// twice, so each dispatch counts B (B/2 + B/2), or 1.5 B at the ends.
TEST(DispatchSchedule, SmallDispatchesRunInlineOnTheCallingThread) {
  const int64_t kb = 1024;
  const size_t r = size_t(2 * smepilot::rt::kRangesPerWorker); // ranges of a queued dispatch
  struct scenario {
    int64_t bytes;
    bool in_order;
    size_t calls;
  };
  // 170 KiB: the ends count 255 KiB, below 256 KiB; 180 KiB: the two ends
  // are queued, the six in the middle (180 KiB) run inline.
  for (const scenario &sc :
       {scenario{16 * kb, true, 8}, scenario{170 * kb, true, 8},
        scenario{180 * kb, false, 2 * r + 6}, scenario{4096 * kb, false, 8 * r}}) {
    SCOPED_TRACE(testing::Message() << sc.bytes << " bytes per buffer");
    chain_table ct(8, sc.bytes, 64);
    auto program = dispatch_program::create(ct.tb.table());
    ASSERT_TRUE(program) << program.error().message();
    std::vector<char> dummy(9);
    std::vector<void *> args;
    for (char &c : dummy)
      args.push_back(&c);
    thread_pool pool(2);
    for (int rep = 0; rep < 20; ++rep) {
      g_callers.clear();
      ASSERT_TRUE(program->run(pool, args, {}));
      EXPECT_EQ(program->last_run_in_order(), sc.in_order);
      ASSERT_EQ(g_callers.size(), sc.calls);
      if (sc.in_order)
        for (const std::thread::id &id : g_callers)
          ASSERT_EQ(id, std::this_thread::get_id()) << "a small dispatch ran on a worker";
    }
  }
  // In a mixed run the small dispatches still run as one call each.
  table_builder tb;
  tb.phase = "mixed";
  const uint32_t k = tb.kernel(record_caller);
  const uint32_t w = tb.buffer("w", 8 << 20), x = tb.buffer("x", 64), y = tb.buffer("y", 64),
                 z = tb.buffer("z", 64);
  tb.n_arguments = 4;
  const uint32_t big = tb.dispatch("matvec", k, fixed(64), {rd(w), rd(x), wr(y)});
  tb.dispatch("norm", k, fixed(64), {rd(y), wr(z)}, {big});
  auto program = dispatch_program::create(tb.table());
  ASSERT_TRUE(program) << program.error().message();
  char c[4];
  void *args[] = {&c[0], &c[1], &c[2], &c[3]};
  thread_pool pool(2);
  g_callers.clear();
  ASSERT_TRUE(program->run(pool, args, {}));
  EXPECT_FALSE(program->last_run_in_order());
  EXPECT_EQ(g_callers.size(), r + 1);
}

/// A worker stalled while holding nothing (2 s in a signal handler, as if
/// descheduled behind a busy process) delays no run of a table whose
/// dispatches all go to the pool: the caller claims every range. The
/// executor whose run waited for every worker's scheduling loop took the
/// whole stall on its first run.
TEST(DispatchSchedule, StalledIdleWorkerDoesNotDelayRuns) {
  namespace ts = smepilot::rt::test_stall;
  attention_table at;
  auto program = dispatch_program::create(at.tb.table());
  ASSERT_TRUE(program) << program.error().message();
  const std::vector<float> expect = run_attention(*program, 1, 0, nullptr);
  thread_pool pool(2);
  std::atomic<pid_t> tid{0};
  for (int attempt = 0; attempt < 100 && tid.load() == 0; ++attempt)
    pool.parallel_for(16, 1, [&](int64_t, int64_t, int w) {
      if (w == 1)
        tid.store(ts::this_tid());
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    });
  ASSERT_NE(tid.load(), 0) << "worker 1 never ran a task";
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_TRUE(ts::stall_thread(tid.load(), 2000));
  std::vector<std::vector<float>> qs(kHeads, std::vector<float>(kLen));
  for (int h = 0; h < kHeads; ++h)
    for (int64_t i = 0; i < kLen; ++i)
      qs[size_t(h)][size_t(i)] = std::sin(float(h * 100 + i) * 0.3f);
  std::vector<float> out(kLen);
  std::vector<void *> args;
  for (auto &qh : qs)
    args.push_back(qh.data());
  args.push_back(out.data());
  program->set_inline_bytes(0);
  const auto start = std::chrono::steady_clock::now();
  for (int rep = 0; rep < 30; ++rep)
    ASSERT_TRUE(program->run(pool, args, {}));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const bool still_stalled = ts::g_state.load() == 1;
  ts::wait_stall_over();
  EXPECT_FALSE(program->last_run_in_order());
  EXPECT_EQ(std::memcmp(out.data(), expect.data(), expect.size() * sizeof(float)), 0);
  EXPECT_TRUE(still_stalled) << "30 runs took " << seconds
                             << " s: they waited for the stalled worker";
}

// ---------------------------------------------------------------------------
// 3. Temporaries placed by the deps.

template <int Id> void copy_plus(void *const *b, const int64_t *, int64_t begin, int64_t end) {
  const float *in = static_cast<const float *>(b[0]);
  float *out = static_cast<float *>(b[1]);
  for (int64_t i = begin; i < end; ++i)
    out[i] = in[i] + float(Id);
}

/// Two branches x -> A -> y and x -> B -> z. In table order A lives at
/// dispatches 0-1 and B at 2-3, which the old table-order placement let share
/// bytes; but no dep orders branch 1 before branch 2, so a scheduler may run
/// dispatch 2 (writing B) while dispatch 1 still reads A: they must not
/// share. With a dep from 2 on 1 they may.
struct branches {
  table_builder tb;
  explicit branches(bool ordered) {
    tb.phase = ordered ? "ordered" : "branches";
    const uint32_t x = tb.argument("x"), y = tb.argument("y"), z = tb.argument("z");
    const uint32_t a = tb.temporary("A", fixed(256)), b = tb.temporary("B", fixed(256));
    const uint32_t d0 = tb.dispatch("a", tb.kernel(copy_plus<1>), fixed(64), {rd(x), wr(a)});
    const uint32_t d1 = tb.dispatch("y", tb.kernel(copy_plus<2>), fixed(64), {rd(a), wr(y)}, {d0});
    const uint32_t d2 = tb.dispatch("b", tb.kernel(copy_plus<3>), fixed(64), {rd(x), wr(b)},
                                    ordered ? std::initializer_list<uint32_t>{d1}
                                            : std::initializer_list<uint32_t>{});
    tb.dispatch("z", tb.kernel(copy_plus<4>), fixed(64), {rd(b), wr(z)}, {d2});
  }
};

TEST(DispatchSchedule, IndependentBranchesGetDisjointTemporaries) {
  for (bool ordered : {false, true}) {
    branches br(ordered);
    auto program = dispatch_program::create(br.tb.table());
    ASSERT_TRUE(program) << program.error().message();
    program->set_inline_bytes(0); // schedule by the deps, not in table order
    std::vector<float> x(64), y(64), z(64);
    for (int i = 0; i < 64; ++i)
      x[size_t(i)] = float(i);
    void *args[] = {x.data(), y.data(), z.data()};
    thread_pool pool(3);
    ASSERT_TRUE(program->run(pool, args, {}));
    for (int i = 0; i < 64; ++i) {
      ASSERT_EQ(y[size_t(i)], float(i) + 3.0f);
      ASSERT_EQ(z[size_t(i)], float(i) + 7.0f);
    }
    const auto offsets = program->last_run_temporary_offsets();
    const auto sizes = program->last_run_temporary_sizes();
    EXPECT_TRUE(check_temporary_placement(program->table(), offsets, sizes));
    if (ordered) {
      EXPECT_EQ(offsets[0], offsets[1]) << "dispatch 2 depends on 1: B may take A's bytes";
      EXPECT_EQ(program->last_run_temporary_bytes(), 256u);
    } else {
      EXPECT_TRUE(offsets[0] + 256 <= offsets[1] || offsets[1] + 256 <= offsets[0]);
      EXPECT_EQ(program->last_run_temporary_bytes(), 512u);
    }
  }
}

/// The checker refuses a placement that shares bytes between temporaries
/// the deps do not order, names both and the unordered dispatches, and
/// accepts the same placement when the deps order them, or when the bytes do
/// not meet.
TEST(DispatchSchedule, PlacementChecker) {
  branches br(false);
  const smepilot_rt_dispatch_table *t = br.tb.table();
  const size_t same[] = {0, 0}, apart[] = {0, 256}, overlapping[] = {0, 128}, sizes[] = {256, 256};
  const smepilot::rt::status st = check_temporary_placement(*t, same, sizes);
  ASSERT_FALSE(st);
  EXPECT_THAT(st.message(),
              HasSubstr("dispatch table 'branches': buffer 3 ('A') [0, 256) and buffer 4 ('B') "
                        "[0, 256) share bytes, but dispatch 0 ('a') (accessing the first) is not "
                        "ordered by deps before dispatch 2 ('b')"));
  EXPECT_FALSE(check_temporary_placement(*t, overlapping, sizes));
  EXPECT_TRUE(check_temporary_placement(*t, apart, sizes));
  const size_t empty[] = {0, 0};
  EXPECT_TRUE(check_temporary_placement(*t, same, empty)) << "no bytes: nothing shared";
  EXPECT_THAT(check_temporary_placement(*t, std::span<const size_t>(same, 1), sizes).message(),
              HasSubstr("a placement of 1 offsets and 2 sizes for 2 temporaries"));
  branches ordered(true);
  EXPECT_TRUE(check_temporary_placement(*ordered.tb.table(), same, sizes));
}

// ---------------------------------------------------------------------------
// 4. The trace's file format.

TEST(DispatchTrace, ChromeTraceEventJson) {
  std::vector<trace_event> events(2);
  events[0] = {"decode", "qk \"0\"", 3, true, 1, 0, 16, 1000, 3500};
  events[1] = {"decode", nullptr, 4, false, 0, 16, 37, 2000, 2600};
  const std::string json = smepilot::rt::chrome_trace_json(events);
  EXPECT_THAT(json, HasSubstr("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n"));
  EXPECT_THAT(json, HasSubstr("{\"name\":\"qk \\\"0\\\"\",\"cat\":\"sme\",\"ph\":\"X\",\"pid\":1,"
                              "\"tid\":1,\"ts\":0.000,\"dur\":2.500,\"args\":{\"phase\":\"decode\","
                              "\"dispatch\":3,\"unit\":\"sme\",\"tiles\":[0,16],\"start_ns\":1000,"
                              "\"end_ns\":3500}},\n"));
  EXPECT_THAT(json, HasSubstr("{\"name\":\"dispatch 4\",\"cat\":\"cpu\",\"ph\":\"X\",\"pid\":1,"
                              "\"tid\":0,\"ts\":1.000,\"dur\":0.600,"));
  EXPECT_THAT(json, HasSubstr("\"end_ns\":2600}}\n]}\n"));
}

// What --explain puts beside the predictions: per phase and dispatch, the
// calls, their summed time, and the wall time (the union of the calls'
// intervals: two overlapping calls on two workers count once).
TEST(DispatchTrace, SummarizesCallsPerDispatch) {
  std::vector<trace_event> events(5);
  events[0] = {"decode", "d0", 0, false, 0, 0, 8, 1000, 1400};
  events[1] = {"decode", "d0", 0, false, 1, 8, 16, 1100, 1500}; // overlaps
  events[2] = {"decode", "d1", 1, true, 1, 0, 4, 1600, 1700};
  events[3] = {"decode", "d0", 0, false, 0, 0, 16, 5000, 5300}; // 2nd run
  events[4] = {"prefill", "d0", 0, false, 0, 0, 1, 900, 950};
  const std::vector<smepilot::rt::dispatch_time> t = smepilot::rt::summarize_dispatches(events);
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[0].phase, "decode");
  EXPECT_EQ(t[0].dispatch, 0u);
  EXPECT_EQ(t[0].calls, 3);
  EXPECT_EQ(t[0].busy_ns, 400 + 400 + 300);
  EXPECT_EQ(t[0].wall_ns, 500 + 300) << "[1000, 1500) and [5000, 5300)";
  EXPECT_EQ(t[1].dispatch, 1u);
  EXPECT_EQ(t[1].wall_ns, 100);
  EXPECT_EQ(t[2].phase, "prefill");
  EXPECT_EQ(t[2].calls, 1);
  EXPECT_EQ(t[2].wall_ns, 50);
  EXPECT_TRUE(smepilot::rt::summarize_dispatches({}).empty());
}

} // namespace

TEST(DispatchSchedule, CountsModesAndPipelinedStages) {
  table_builder tb;
  tb.phase = "counted";
  const uint32_t a = tb.argument("a");
  const uint32_t k = tb.kernel(cpu_waits_for_sme);
  tb.dispatch("p_d0:func.call@attn.qk.h0", k, fixed(1), {wr(a)}, {}, SMEPILOT_RT_MODE_SME, k);
  tb.dispatch("p_d1:linalg.generic@attn.softmax.h0", k, fixed(1), {rw(a)}, {0});
  tb.dispatch("p_d2:collab", k, fixed(4), {rw(a)}, {1}, SMEPILOT_RT_MODE_COLLAB, k, 32768, 2);
  tb.dispatch(nullptr, k, fixed(1), {rw(a)}, {2});
  const smepilot::rt::mode_counts c = smepilot::rt::count_modes(*tb.table());
  EXPECT_EQ(c.cpu, 2u);
  EXPECT_EQ(c.sme, 1u);
  EXPECT_EQ(c.collab, 1u);
  EXPECT_EQ(c.pipelined, 2u);
}
