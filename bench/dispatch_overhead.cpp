// Micro-benchmark of the dispatch executor's per-dispatch cost (issue 13):
// the time one run of a synthetic table takes, divided by its dispatches,
// for tables shaped like a decode step (a long chain of small dispatches)
// and like independent branches (pairs of dispatches with no dep between
// them). The kernels do almost nothing (a few hundred ns of arithmetic per
// call), so what is measured is scheduling: queues, wake-ups, barriers.
//
// Uses only dispatch_program::create/run and thread_pool, so the same file
// builds against an older runtime (bench/dispatch_overhead.sh builds it
// against two revisions and prints them side by side).
//
//   dispatch_overhead [threads...]     (default: 1 2)
#include "smepilot_rt/abi.h"
#include "smepilot_rt/dispatch.h"
#include "smepilot_rt/thread_pool.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace rt = smepilot::rt;

namespace {

constexpr int kTiles = 8;        // tiles per dispatch
constexpr int kWork = 64;        // multiply-adds per tile
constexpr int kDispatches = 160; // about a stories260K decode step

/// out[tile] = a short recurrence on in[tile]: a kernel that costs little
/// but is not optimised away.
void small_kernel(void *const *b, const int64_t *, int64_t begin, int64_t end) {
  const float *in = static_cast<const float *>(b[0]);
  float *out = static_cast<float *>(b[1]);
  for (int64_t t = begin; t < end; ++t) {
    float x = in[t];
    for (int i = 0; i < kWork; ++i)
      x = x * 0.999f + 0.001f;
    out[t] = x;
  }
}

struct table {
  std::vector<smepilot_rt_kernel_fn> kernels{small_kernel};
  std::vector<smepilot_rt_buffer> buffers;
  std::vector<smepilot_rt_dispatch> dispatches;
  std::vector<smepilot_rt_binding> bindings;
  std::vector<uint32_t> deps;
  smepilot_rt_dispatch_table t{};

  /// chain: d_i reads buffer i and writes buffer i+1, depends on d_(i-1).
  /// pairs: two chains interleaved (d_2k in chain A, d_2k+1 in chain B), so
  /// neighbours in table order have no dep between them.
  explicit table(bool pairs) {
    const uint32_t n_buffers = kDispatches + (pairs ? 2 : 1);
    for (uint32_t b = 0; b < n_buffers; ++b)
      buffers.push_back(
          {nullptr, {kTiles * 4, 0, SMEPILOT_RT_NO_CONSTANT, 0}, 0, 0});
    for (uint32_t d = 0; d < kDispatches; ++d) {
      smepilot_rt_dispatch dp{};
      dp.cpu_kernel = 0;
      dp.sme_kernel = SMEPILOT_RT_NO_KERNEL;
      dp.mode = SMEPILOT_RT_MODE_CPU;
      dp.tile_granule = 1;
      dp.tile_count = {kTiles, 0, SMEPILOT_RT_NO_CONSTANT, 0};
      dp.bindings_begin = uint32_t(bindings.size());
      dp.bindings_count = 2;
      const uint32_t step = pairs ? 2 : 1;
      const uint32_t in = d < step ? d : d - step + (pairs ? 2 : 1);
      bindings.push_back({in, SMEPILOT_RT_ACCESS_READ});
      bindings.push_back({d + (pairs ? 2 : 1), SMEPILOT_RT_ACCESS_WRITE});
      dp.deps_begin = uint32_t(deps.size());
      if (d >= step) {
        deps.push_back(d - step);
        dp.deps_count = 1;
      }
      dispatches.push_back(dp);
    }
    t.abi_version = SMEPILOT_RT_ABI_VERSION;
    t.phase_name = pairs ? "pairs" : "chain";
    t.n_kernels = 1;
    t.kernels = kernels.data();
    t.n_arguments = n_buffers; // every buffer an argument: no arena effects
    t.n_buffers = n_buffers;
    t.buffers = buffers.data();
    t.n_dispatches = kDispatches;
    t.dispatches = dispatches.data();
    t.n_bindings = uint32_t(bindings.size());
    t.bindings = bindings.data();
    t.n_deps = uint32_t(deps.size());
    t.deps = deps.data();
  }
};

/// Median microseconds per run over `reps` runs (after a warm-up).
double time_runs(rt::dispatch_program &program, rt::thread_pool &pool,
                 std::vector<void *> &args, int reps) {
  std::vector<double> us;
  for (int r = 0; r < reps + 20; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    if (!program.run(pool, args, {})) {
      std::fprintf(stderr, "run failed\n");
      std::exit(1);
    }
    const auto t1 = std::chrono::steady_clock::now();
    if (r >= 20)
      us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
  }
  std::sort(us.begin(), us.end());
  return us[us.size() / 2];
}

} // namespace

int main(int argc, char **argv) {
  std::vector<int> threads;
  for (int i = 1; i < argc; ++i)
    threads.push_back(std::atoi(argv[i]));
  if (threads.empty())
    threads = {1, 2};
  std::printf("%-6s %7s %12s %14s\n", "table", "threads", "us/run",
              "ns/dispatch");
  for (bool pairs : {false, true}) {
    table tb(pairs);
    auto program = rt::dispatch_program::create(&tb.t);
    if (!program) {
      std::fprintf(stderr, "%s\n", program.error().message().c_str());
      return 1;
    }
    std::vector<std::vector<float>> storage(tb.buffers.size(),
                                            std::vector<float>(kTiles, 1.0f));
    std::vector<void *> args;
    for (auto &s : storage)
      args.push_back(s.data());
    for (int n : threads) {
      rt::thread_pool pool(n);
      const double us = time_runs(*program, pool, args, 2000);
      std::printf("%-6s %7d %12.1f %14.0f\n", pairs ? "pairs" : "chain", n, us,
                  us * 1e3 / kDispatches);
    }
  }
  return 0;
}
