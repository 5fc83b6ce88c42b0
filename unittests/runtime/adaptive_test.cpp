// Run-time adaptation (adaptive.h): the planner driven with exact timings,
// and the executor's plans and kernel timing with an injected clock, so
// every expectation below is deterministic.
#include "smepilot_rt/adaptive.h"
#include "smepilot_rt/dispatch.h"

#include "table_builder.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace smepilot::rt {
namespace {

using namespace test_tables;

void noop_kernel(void *const *, const int64_t *, int64_t, int64_t) {}

/// One dispatch of `tiles` tiles: mode/share as given, with an SME variant
/// unless `cpu_only`, which is its CPU variant too with `one_kernel`.
struct one_dispatch {
  table_builder b;
  explicit one_dispatch(uint32_t mode, uint32_t share = 0, int64_t tiles = 64,
                        bool cpu_only = false, int64_t granule = 1, bool one_kernel = false) {
    uint32_t cpu = b.kernel(noop_kernel);
    uint32_t sme = cpu_only ? SMEPILOT_RT_NO_KERNEL : one_kernel ? cpu : b.kernel(noop_kernel);
    uint32_t out = b.argument("out");
    b.dispatch("proj", cpu, fixed(tiles), {wr(out)}, {}, mode, sme, share, granule);
    b.table();
  }
};

/// What a run of `plan` over `tiles` tiles measures when each SME tile takes
/// `sme_ns` and each CPU tile `cpu_ns`.
dispatch_timing measured(const dispatch_plan &plan, int64_t tiles, int64_t sme_ns, int64_t cpu_ns,
                         int64_t granule = 1) {
  int64_t split = plan.mode == SMEPILOT_RT_MODE_SME ? tiles
                  : plan.mode == SMEPILOT_RT_MODE_COLLAB
                      ? collab_split(tiles, plan.sme_share, granule)
                      : 0;
  dispatch_timing t;
  t.sme_tiles = split;
  t.cpu_tiles = tiles - split;
  t.sme_ns = split * sme_ns;
  t.cpu_ns = (tiles - split) * cpu_ns;
  return t;
}

constexpr uint32_t kHalf = SMEPILOT_RT_SHARE_ONE / 2;

/// The default options without the warm-up runs (exact timings need none).
adaptive_options exact() {
  adaptive_options o;
  o.warmup = 0;
  return o;
}

/// Drives `planner` for `runs` runs of one dispatch under `plan` (updated by
/// the re-plans it returns); returns every re-plan.
std::vector<replan> drive(adaptive_planner &planner, dispatch_plan &plan, int runs, int64_t tiles,
                          int64_t sme_ns, int64_t cpu_ns, worker_split workers = {1, 1},
                          bool in_order = false) {
  std::vector<replan> all;
  const int64_t counts[] = {tiles};
  for (int i = 0; i < runs; ++i) {
    const dispatch_timing t[] = {measured(plan, tiles, sme_ns, cpu_ns)};
    const dispatch_plan plans[] = {plan};
    for (const replan &r : planner.observe(t, plans, counts, workers, in_order)) {
      EXPECT_EQ(r.dispatch, 0u);
      plan = r.to;
      all.push_back(r);
    }
  }
  return all;
}

TEST(AdaptivePlanner, ShrinksACollabShareWhenTheMatrixUnitIsSlowerThanPredicted) {
  // The compiler split 50/50; SME tiles take 4 us, CPU tiles 1 us, one worker
  // each: the balanced share is 1 / (1 + 4) = 20%, and 50% takes 2.5x as
  // long (128 us against 51.2 us per run).
  one_dispatch t(SMEPILOT_RT_MODE_COLLAB, kHalf);
  adaptive_planner planner(t.b.t, exact());
  dispatch_plan plan{SMEPILOT_RT_MODE_COLLAB, kHalf};
  // Nothing before a whole window (4 runs) is measured.
  EXPECT_TRUE(drive(planner, plan, 3, 64, 4000, 1000).empty());
  std::vector<replan> r = drive(planner, plan, 1, 64, 4000, 1000);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_FALSE(r[0].probe);
  EXPECT_EQ(r[0].from.mode, uint32_t(SMEPILOT_RT_MODE_COLLAB));
  EXPECT_EQ(r[0].to.mode, uint32_t(SMEPILOT_RT_MODE_COLLAB));
  EXPECT_EQ(r[0].to.sme_share, 13107u); // round(0.2 * 65536)
  EXPECT_DOUBLE_EQ(r[0].sme_ns_per_tile, 4000);
  EXPECT_DOUBLE_EQ(r[0].cpu_ns_per_tile, 1000);
  EXPECT_NEAR(r[0].from_us, 128.0, 1e-9);
  EXPECT_NEAR(r[0].to_us, 51.2, 1e-3);
  EXPECT_EQ(planner.replans(), 1);
  EXPECT_EQ(describe_replan(t.b.t, r[0]),
            "d0 'proj': collab 50.0% -> collab 20.0% (measured per tile: sme 4.00 us, cpu 1.00 "
            "us; 128.0 us per run -> 51.2 us)");
  // The new plan is balanced by the same rates: nothing more to do.
  EXPECT_TRUE(drive(planner, plan, 12, 64, 4000, 1000).empty());
}

TEST(AdaptivePlanner, ReportsTheModelsPredictionForTheCompiledPlan) {
  // The model predicted 20 us for the 50/50 split; the measured rates say
  // 128 us. The prediction goes with the re-plan that leaves the compiled
  // plan, not with later ones.
  one_dispatch t(SMEPILOT_RT_MODE_COLLAB, kHalf);
  const double predicted[] = {20.0};
  adaptive_planner planner(t.b.t, exact(), predicted);
  dispatch_plan plan{SMEPILOT_RT_MODE_COLLAB, kHalf};
  std::vector<replan> r = drive(planner, plan, 4, 64, 4000, 1000);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_DOUBLE_EQ(r[0].predicted_us, 20.0);
  EXPECT_EQ(describe_replan(t.b.t, r[0]),
            "d0 'proj': collab 50.0% -> collab 20.0% (measured per tile: sme 4.00 us, cpu 1.00 "
            "us; 128.0 us per run -> 51.2 us; the model predicted 20.0 us for the compiled plan, "
            "measured 6.40x that)");
  // The CPU gets slower: a second re-plan, from a plan the model never saw.
  r = drive(planner, plan, 4, 64, 4000, 16000);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_LT(r[0].predicted_us, 0);
  EXPECT_EQ(r[0].to.mode, uint32_t(SMEPILOT_RT_MODE_COLLAB));
  EXPECT_EQ(r[0].to.sme_share, 52429u); // 16 / (4 + 16) = 80%
}

TEST(AdaptivePlanner, IgnoresTheWarmUpRuns) {
  // The first two runs (cold caches, first-touch faults) say SME is 100x
  // slow; the next four say the compiler's 50/50 split is right.
  one_dispatch t(SMEPILOT_RT_MODE_COLLAB, kHalf);
  adaptive_planner planner(t.b.t);
  dispatch_plan plan{SMEPILOT_RT_MODE_COLLAB, kHalf};
  EXPECT_TRUE(drive(planner, plan, 2, 64, 100000, 1000).empty());
  EXPECT_TRUE(drive(planner, plan, 4, 64, 1000, 1000).empty());
  EXPECT_EQ(plan.sme_share, kHalf);
}

TEST(AdaptivePlanner, KeepsAPlanWithinTheThreshold) {
  // 1.2 us against 1 us per tile: the best share (45%) is 1.1x faster than
  // 50%, below the 1.5x threshold.
  one_dispatch t(SMEPILOT_RT_MODE_COLLAB, kHalf);
  adaptive_planner planner(t.b.t, exact());
  dispatch_plan plan{SMEPILOT_RT_MODE_COLLAB, kHalf};
  EXPECT_TRUE(drive(planner, plan, 40, 64, 1200, 1000).empty());
  EXPECT_EQ(planner.replans(), 0);
}

TEST(AdaptivePlanner, ProbesTheVectorCoresOfAnSmeDispatchThenMovesItToThem) {
  // All tiles on SME: the CPU's rate is unknown, so one window runs collab
  // with 12.5% of the tiles on the CPU; then SME at 10 us a tile against
  // 0.1 us on the CPU gives SME under 1%: cpu.
  one_dispatch t(SMEPILOT_RT_MODE_SME);
  adaptive_planner planner(t.b.t, exact());
  dispatch_plan plan{SMEPILOT_RT_MODE_SME, 0};
  std::vector<replan> r = drive(planner, plan, 8, 64, 10000, 100);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_TRUE(r[0].probe);
  EXPECT_EQ(r[0].to.mode, uint32_t(SMEPILOT_RT_MODE_COLLAB));
  EXPECT_EQ(r[0].to.sme_share, 57344u); // 87.5%
  EXPECT_EQ(describe_replan(t.b.t, r[0]),
            "d0 'proj': sme -> collab 87.5% (probing the vector cores: it computed no tile yet)");
  EXPECT_FALSE(r[1].probe);
  EXPECT_EQ(r[1].from.mode, uint32_t(SMEPILOT_RT_MODE_COLLAB));
  EXPECT_EQ(r[1].to.mode, uint32_t(SMEPILOT_RT_MODE_CPU));
  // Compared with the plan before the probe: all on SME, 640 us a run.
  EXPECT_NEAR(r[1].from_us, 640.0, 1e-9);
  EXPECT_NEAR(r[1].to_us, 6.4, 1e-9);
  EXPECT_EQ(plan.mode, uint32_t(SMEPILOT_RT_MODE_CPU));
  EXPECT_EQ(planner.replans(), 1);
}

TEST(AdaptivePlanner, AProbeThatFindsThePredictionRightRestoresThePlan) {
  // SME at 0.2 us a tile, CPU at 1 us: all on SME (640 -> 12.8 us) is within
  // 1.5x of the balanced 83% split: back to sme after the probe.
  one_dispatch t(SMEPILOT_RT_MODE_SME);
  adaptive_planner planner(t.b.t, exact());
  dispatch_plan plan{SMEPILOT_RT_MODE_SME, 0};
  std::vector<replan> r = drive(planner, plan, 8, 64, 200, 1000);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_TRUE(r[0].probe);
  EXPECT_TRUE(r[1].probe);
  EXPECT_EQ(r[1].to.mode, uint32_t(SMEPILOT_RT_MODE_SME));
  EXPECT_EQ(planner.replans(), 0);
  // Probed once: no more probes, and nothing changes later.
  EXPECT_TRUE(drive(planner, plan, 16, 64, 200, 1000).empty());
}

TEST(AdaptivePlanner, NeverTouchesADispatchWithoutAnSmeVariant) {
  // Its mode, that is (its placement is the next tests').
  one_dispatch t(SMEPILOT_RT_MODE_CPU, 0, 64, /*cpu_only=*/true);
  adaptive_options o = exact();
  o.placement = false;
  adaptive_planner planner(t.b.t, o);
  dispatch_plan plan{SMEPILOT_RT_MODE_CPU, 0};
  EXPECT_TRUE(planner.finished());
  EXPECT_TRUE(drive(planner, plan, 20, 64, 1, 1000000).empty());
}

TEST(AdaptivePlanner, NeverTouchesAnSmeDispatchWhoseKernelIsBothVariants) {
  // The compiler's sme mode: one streaming kernel is both variants, so the
  // "CPU" would run the same SME code on another thread.
  one_dispatch t(SMEPILOT_RT_MODE_SME, 0, 64, false, 1, /*one_kernel=*/true);
  adaptive_planner planner(t.b.t, exact());
  dispatch_plan plan{SMEPILOT_RT_MODE_SME, 0};
  EXPECT_TRUE(drive(planner, plan, 20, 64, 1000000, 1).empty());
}

TEST(AdaptivePlanner, InOrderRunsGiveEveryTileToTheFasterUnit) {
  // One thread runs the SME part, then the CPU part: no overlap to balance.
  one_dispatch t(SMEPILOT_RT_MODE_COLLAB, kHalf);
  adaptive_planner planner(t.b.t, exact());
  dispatch_plan plan{SMEPILOT_RT_MODE_COLLAB, kHalf};
  std::vector<replan> r = drive(planner, plan, 4, 64, 3000, 1000, {1, 1}, /*in_order=*/true);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].to.mode, uint32_t(SMEPILOT_RT_MODE_CPU));
  EXPECT_NEAR(r[0].from_us, 128.0, 1e-9); // 32 * 3 + 32 * 1
  EXPECT_NEAR(r[0].to_us, 64.0, 1e-9);
}

TEST(AdaptivePlanner, MoreVectorWorkersTakeMoreTiles) {
  // Equal rates per tile, 1 matrix-unit and 3 vector-core workers: SME
  // takes a quarter.
  one_dispatch t(SMEPILOT_RT_MODE_SME);
  adaptive_planner planner(t.b.t, exact());
  dispatch_plan plan{SMEPILOT_RT_MODE_SME, 0};
  std::vector<replan> r = drive(planner, plan, 8, 64, 1000, 1000, {1, 3});
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[1].to.mode, uint32_t(SMEPILOT_RT_MODE_COLLAB));
  EXPECT_EQ(r[1].to.sme_share, SMEPILOT_RT_SHARE_ONE / 4);
}

TEST(AdaptivePlanner, ReplansEachDispatchAtMostTwice) {
  // Rates that swap every window would flip the plan forever.
  one_dispatch t(SMEPILOT_RT_MODE_COLLAB, kHalf);
  adaptive_planner planner(t.b.t, exact());
  dispatch_plan plan{SMEPILOT_RT_MODE_COLLAB, kHalf};
  EXPECT_FALSE(planner.finished());
  int changes = 0;
  for (int window = 0; window < 10; ++window) {
    const bool sme_slow = window % 2 == 0;
    changes +=
        int(drive(planner, plan, 4, 64, sme_slow ? 20000 : 100, sme_slow ? 100 : 20000).size());
  }
  EXPECT_EQ(changes, 2);
  EXPECT_EQ(planner.replans(), 2);
  // Nothing left to decide: the engine stops timing.
  EXPECT_TRUE(planner.finished());
}

// Placement: whole on one thread or spread over the workers, for dispatches
// with one variant, from measured spans.

/// A planner for one dispatch with one variant (64 tiles), and its plan.
struct one_variant {
  one_dispatch t{SMEPILOT_RT_MODE_CPU, 0, 64, /*cpu_only=*/true};
  adaptive_planner planner;
  dispatch_plan plan;
  explicit one_variant(adaptive_options o = exact(), std::span<const double> predicted = {})
      : planner(t.b.t, o, predicted) {}
};

/// Drives `planner` for `runs` runs of one dispatch placed by `plan` (by
/// size: as `by_size_whole` says), spanning `whole_ns` when it runs whole and
/// `spread_ns` when spread; `work` is its work proxy in each run (none: the
/// same every run). Returns every re-plan.
std::vector<replan> drive_placement(adaptive_planner &planner, dispatch_plan &plan, int runs,
                                    int64_t whole_ns, int64_t spread_ns, bool by_size_whole = false,
                                    worker_split workers = {0, 2},
                                    const std::vector<double> &work = {}) {
  std::vector<replan> all;
  const int64_t counts[] = {64};
  for (int i = 0; i < runs; ++i) {
    const bool whole =
        plan.where == placement::whole || (plan.where == placement::by_size && by_size_whole);
    dispatch_timing t[1];
    t[0].cpu_tiles = 64;
    t[0].span_ns = t[0].cpu_ns = whole ? whole_ns : spread_ns;
    t[0].whole = whole;
    const dispatch_plan plans[] = {plan};
    const double bytes[] = {work.empty() ? 1.0 : work[size_t(i) % work.size()]};
    for (const replan &r : planner.observe(t, plans, counts, workers, false, bytes)) {
      EXPECT_EQ(r.dispatch, 0u);
      EXPECT_TRUE(r.placement);
      plan = r.to;
      all.push_back(r);
    }
  }
  return all;
}

TEST(AdaptivePlacement, RunsWholeADispatchThatSpreadingSlowsDown) {
  // The bytes proxy spread it; spread it spans 20 us, whole 5 us (handing
  // its ranges to a busy worker costs more than the work).
  const double predicted[] = {12.5};
  one_variant c(exact(), predicted);
  auto &[t, planner, plan] = c;
  EXPECT_FALSE(planner.finished());
  ASSERT_EQ(planner.timed().size(), 1u);
  EXPECT_EQ(planner.timed()[0], 1);
  EXPECT_TRUE(drive_placement(planner, plan, 3, 5000, 20000).empty());
  // A window as placed, then a probe the other way.
  std::vector<replan> r = drive_placement(planner, plan, 1, 5000, 20000);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_TRUE(r[0].probe);
  EXPECT_EQ(r[0].to.where, placement::whole);
  EXPECT_EQ(describe_replan(t.b.t, r[0]),
            "d0 'proj': spread -> whole (probing: 20.0 us per run spread)");
  EXPECT_EQ(planner.replans(), 0);
  r = drive_placement(planner, plan, 4, 5000, 20000);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_FALSE(r[0].probe);
  EXPECT_EQ(r[0].from.where, placement::whole);
  EXPECT_EQ(r[0].to.where, placement::whole);
  EXPECT_EQ(plan.where, placement::whole);
  EXPECT_EQ(planner.replans(), 1);
  EXPECT_EQ(describe_replan(t.b.t, r[0]),
            "d0 'proj': spread -> whole (measured per run: whole 5.0 us, spread 20.0 us; the "
            "model predicted 12.5 us)");
  // Decided: untimed, and nothing changes until the next probe.
  EXPECT_EQ(planner.timed()[0], 0);
  EXPECT_FALSE(planner.finished()); // it will be probed again
  EXPECT_TRUE(drive_placement(planner, plan, 200, 5000, 20000).empty());
}

TEST(AdaptivePlacement, RestoresThePlacementWithinTheThreshold) {
  // Whole 5 us, spread 4 us: spreading is faster, by less than 1.5x.
  one_variant c;
  auto &[t, planner, plan] = c;
  std::vector<replan> r = drive_placement(planner, plan, 8, 5000, 4000);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_TRUE(r[1].probe);
  EXPECT_EQ(r[1].to.where, placement::spread);
  EXPECT_EQ(describe_replan(t.b.t, r[1]),
            "d0 'proj': whole -> spread (measured per run: whole 5.0 us, spread 4.0 us; kept)");
  EXPECT_EQ(planner.replans(), 0);
}

TEST(AdaptivePlacement, AGainSmallerThanAHandOffChangesNothing) {
  // Whole 2.5 us, spread 1 us: 2.5x, but 1.5 us a run is within what
  // handing ranges to another thread costs (and what microsecond spans
  // vary by).
  one_variant c;
  auto &[t, planner, plan] = c;
  std::vector<replan> r = drive_placement(planner, plan, 8, 2500, 1000, /*by_size_whole=*/true);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_TRUE(r[1].probe);
  EXPECT_EQ(plan.where, placement::whole);
  EXPECT_EQ(planner.replans(), 0);
}

TEST(AdaptivePlacement, SpreadsAWholeDispatchThatTwoThreadsRunFaster) {
  // The proxy kept it whole (60 us); spread it takes 25 us.
  one_variant c;
  auto &[t, planner, plan] = c;
  std::vector<replan> r = drive_placement(planner, plan, 8, 60000, 25000, /*by_size_whole=*/true);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[1].to.where, placement::spread);
  EXPECT_FALSE(r[1].probe);
  EXPECT_EQ(planner.replans(), 1);
}

TEST(AdaptivePlacement, TheMedianIgnoresAPreemptedRun) {
  // One run of the spread window waited 5 ms for a descheduled worker.
  one_variant c;
  auto &[t, planner, plan] = c;
  drive_placement(planner, plan, 3, 30000, 10000);
  drive_placement(planner, plan, 1, 30000, 5000000); // the probe starts
  std::vector<replan> r = drive_placement(planner, plan, 4, 30000, 10000);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_TRUE(r[0].probe); // spread kept: median 10 us, not a mean of 1.26 ms
  EXPECT_EQ(plan.where, placement::spread);
  EXPECT_NEAR(r[0].spread_us, 10.0, 1e-9);
}

TEST(AdaptivePlacement, ShortDispatchesAreNotProbedSpread) {
  // 1 us whole: handing ranges to another thread costs as much.
  one_variant c;
  auto &[t, planner, plan] = c;
  EXPECT_TRUE(drive_placement(planner, plan, 12, 1000, 100, /*by_size_whole=*/true).empty());
  EXPECT_TRUE(planner.finished());
}

TEST(AdaptivePlacement, LongDispatchesAreNotProbedWhole) {
  // 3 ms spread (a prefill projection): a window of runs on one thread
  // would cost up to twice that, and cannot win. Even with a whole run that
  // would have been faster (a made-up 2 ms), nothing is probed.
  one_variant c;
  auto &[t, planner, plan] = c;
  EXPECT_TRUE(drive_placement(planner, plan, 12, 2000000, 3000000).empty());
  EXPECT_EQ(plan.where, placement::by_size);
  EXPECT_TRUE(planner.finished());
  // Just under the limit it is probed.
  one_variant d;
  std::vector<replan> r = drive_placement(d.planner, d.plan, 8, 2000000, 999000);
  ASSERT_FALSE(r.empty());
  EXPECT_TRUE(r[0].probe);
  EXPECT_EQ(r[0].to.where, placement::whole);
}

TEST(AdaptivePlacement, OneWorkerHasNothingToSpreadOver) {
  one_variant c;
  auto &[t, planner, plan] = c;
  EXPECT_TRUE(drive_placement(planner, plan, 12, 5000, 50000, false, {0, 1}).empty());
  EXPECT_TRUE(planner.finished());
}

TEST(AdaptivePlacement, ACollabDispatchKeepsItsPlacement) {
  // Its shares adapt; moving its placement too would move its rates.
  one_dispatch t(SMEPILOT_RT_MODE_COLLAB, kHalf);
  adaptive_planner planner(t.b.t, exact());
  dispatch_plan plan{SMEPILOT_RT_MODE_COLLAB, kHalf};
  for (const replan &r : drive(planner, plan, 12, 64, 1000, 1000))
    EXPECT_FALSE(r.placement);
  EXPECT_EQ(plan.where, placement::by_size);
}

TEST(AdaptivePlacement, ADecidedPlacementIsProbedAgainLater) {
  // The load changes after the decision: spreading now pays.
  adaptive_options o = exact();
  o.reprobe_runs = 16;
  one_variant c(o);
  auto &[t, planner, plan] = c;
  ASSERT_EQ(drive_placement(planner, plan, 8, 5000, 20000).size(), 2u);
  EXPECT_EQ(plan.where, placement::whole);
  // 16 runs untimed, then a window whole and a window spread.
  EXPECT_TRUE(drive_placement(planner, plan, 15, 50000, 20000).empty());
  EXPECT_EQ(planner.timed()[0], 0);
  EXPECT_TRUE(drive_placement(planner, plan, 1, 50000, 20000).empty());
  EXPECT_EQ(planner.timed()[0], 1);
  std::vector<replan> r = drive_placement(planner, plan, 8, 50000, 20000);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(plan.where, placement::spread);
  EXPECT_EQ(planner.replans(), 2);
}

TEST(AdaptivePlacement, GrowingWorkIsProbedAgainWhenItsSpanDoubles) {
  // An attention step: its work proxy changes every run. Whole while short,
  // spread once it takes 4x as long (and spreading halves it).
  one_variant c;
  auto &[t, planner, plan] = c;
  const std::vector<double> growing = {1, 2, 3, 4};
  ASSERT_EQ(drive_placement(planner, plan, 8, 4000, 12000, false, {0, 2}, growing).size(), 2u);
  EXPECT_EQ(plan.where, placement::whole);
  EXPECT_EQ(planner.timed()[0], 1); // watched
  // Within 2x of the 4 us it was decided at: nothing.
  EXPECT_TRUE(drive_placement(planner, plan, 8, 7000, 12000, false, {0, 2}, growing).empty());
  // 16 us: probed again, and spread (8 us) wins.
  std::vector<replan> r = drive_placement(planner, plan, 8, 16000, 8000, false, {0, 2}, growing);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_TRUE(r[0].probe);
  EXPECT_EQ(plan.where, placement::spread);
}

// The executor's side: plans in force, validated, and kernel time per unit
// from an injected clock.

std::atomic<int64_t> g_fake_ns{0};
int64_t fake_clock() { return g_fake_ns.load(); }
/// Kernels that "take" 5 us (SME) or 2 us (CPU) per tile on the fake clock,
/// and write their tile indices (split-invariant results).
void sme_kernel(void *const *b, const int64_t *, int64_t begin, int64_t end) {
  for (int64_t i = begin; i < end; ++i)
    static_cast<int32_t *>(b[0])[i] = int32_t(i * 3 + 1);
  g_fake_ns += 5000 * (end - begin);
}
void cpu_kernel(void *const *b, const int64_t *, int64_t begin, int64_t end) {
  for (int64_t i = begin; i < end; ++i)
    static_cast<int32_t *>(b[0])[i] = int32_t(i * 3 + 1);
  g_fake_ns += 2000 * (end - begin);
}

TEST(DispatchPlan, PlansAreValidatedAndTimedPerUnit) {
  table_builder b;
  uint32_t cpu = b.kernel(cpu_kernel), sme = b.kernel(sme_kernel);
  uint32_t out = b.argument("out");
  uint32_t only_cpu = b.argument("other");
  b.dispatch("proj", cpu, fixed(64), {wr(out)}, {}, SMEPILOT_RT_MODE_COLLAB, sme, kHalf, 4);
  b.dispatch("norm", cpu, fixed(8), {wr(only_cpu)}, {});
  b.table();
  result<dispatch_program> program = dispatch_program::create(&b.t);
  ASSERT_TRUE(program) << program.error().message();
  dispatch_program &p = *program;
  EXPECT_EQ(p.plan(0).mode, uint32_t(SMEPILOT_RT_MODE_COLLAB));
  EXPECT_EQ(p.plan(0).sme_share, kHalf);

  // Plans the table could not have had are refused, naming the dispatch.
  status s = p.set_plan(1, {SMEPILOT_RT_MODE_SME, 0});
  ASSERT_FALSE(s.is_ok());
  EXPECT_EQ(s.message(), "dispatch table 'test': dispatch 1 ('norm'): plan sme, but it has no SME "
                         "variant");
  s = p.set_plan(0, {SMEPILOT_RT_MODE_COLLAB, SMEPILOT_RT_SHARE_ONE + 1});
  ASSERT_FALSE(s.is_ok());
  EXPECT_EQ(s.message(),
            "dispatch table 'test': dispatch 0 ('proj'): sme_share 65537 is above 65536");
  EXPECT_FALSE(p.set_plan(0, {7, 0}).is_ok());
  EXPECT_FALSE(p.set_plan(2, {SMEPILOT_RT_MODE_CPU, 0}).is_ok());

  thread_pool pool(1);
  std::vector<int32_t> a(64, -1), c(8, -1);
  void *args[] = {a.data(), c.data()};
  p.set_timing(true, fake_clock);
  ASSERT_TRUE(p.run(pool, args, {}).is_ok());
  std::vector<int32_t> expected(64);
  for (int i = 0; i < 64; ++i)
    expected[i] = i * 3 + 1;
  EXPECT_EQ(a, expected);
  std::span<const dispatch_timing> t = p.last_run_timing();
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0].sme_tiles, 32);
  EXPECT_EQ(t[0].cpu_tiles, 32);
  EXPECT_EQ(t[0].sme_ns, 32 * 5000);
  EXPECT_EQ(t[0].cpu_ns, 32 * 2000);
  // A dispatch with one variant has nothing to adapt: not timed.
  EXPECT_EQ(t[1].cpu_tiles, 0);
  EXPECT_EQ(t[1].cpu_ns, 0);

  // A quarter on SME, rounded down to the granule of 4: 16 tiles. Same result.
  ASSERT_TRUE(p.set_plan(0, {SMEPILOT_RT_MODE_COLLAB, SMEPILOT_RT_SHARE_ONE / 4 + 100}).is_ok());
  std::fill(a.begin(), a.end(), -1);
  ASSERT_TRUE(p.run(pool, args, {}).is_ok());
  EXPECT_EQ(a, expected);
  EXPECT_EQ(p.last_run_timing()[0].sme_tiles, 16);
  EXPECT_EQ(p.last_run_timing()[0].cpu_ns, 48 * 2000);
  // All on the CPU, then all on SME; a program run from 2 threads too.
  thread_pool two(2);
  for (uint32_t mode : {SMEPILOT_RT_MODE_CPU, SMEPILOT_RT_MODE_SME}) {
    ASSERT_TRUE(p.set_plan(0, {mode, 0}).is_ok());
    for (thread_pool *pl : {&pool, &two}) {
      std::fill(a.begin(), a.end(), -1);
      ASSERT_TRUE(p.run(*pl, args, {}).is_ok());
      EXPECT_EQ(a, expected);
      EXPECT_EQ(p.last_run_timing()[0].sme_tiles, mode == SMEPILOT_RT_MODE_SME ? 64 : 0);
    }
  }
  // Timing off: nothing measured.
  p.set_timing(false);
  ASSERT_TRUE(p.run(pool, args, {}).is_ok());
  EXPECT_EQ(p.last_run_timing().size(), 0u);
}

TEST(DispatchPlan, PlacementsRunWholeOrSpreadAndAreTimedAsSpans) {
  table_builder b;
  uint32_t cpu = b.kernel(cpu_kernel);
  uint32_t out = b.argument("out");
  b.dispatch("proj", cpu, fixed(64), {wr(out)}, {});
  b.table();
  result<dispatch_program> program = dispatch_program::create(&b.t);
  ASSERT_TRUE(program) << program.error().message();
  dispatch_program &p = *program;
  EXPECT_EQ(p.plan(0).where, placement::by_size);
  status s = p.set_plan(0, {SMEPILOT_RT_MODE_CPU, 0, placement(7)});
  ASSERT_FALSE(s.is_ok());
  EXPECT_EQ(s.message(), "dispatch table 'test': dispatch 0 ('proj'): placement 7, expected "
                         "by_size (0), whole (1) or spread (2)");

  thread_pool two(2);
  std::vector<int32_t> a(64, -1), expected(64);
  for (int i = 0; i < 64; ++i)
    expected[i] = i * 3 + 1;
  void *args[] = {a.data()};
  // A one-variant dispatch is timed when named.
  const uint8_t timed[] = {1};
  p.set_timing(true, fake_clock, timed);
  ASSERT_TRUE(p.set_plan(0, {SMEPILOT_RT_MODE_CPU, 0, placement::whole}).is_ok());
  ASSERT_TRUE(p.run(two, args, {}).is_ok());
  EXPECT_EQ(a, expected);
  dispatch_timing t = p.last_run_timing()[0];
  EXPECT_TRUE(t.whole);
  EXPECT_TRUE(p.last_run_in_order()); // its only dispatch runs whole
  EXPECT_EQ(t.cpu_tiles, 64);
  EXPECT_EQ(t.span_ns, 64 * 2000); // one call
  // Spread: in ranges over both workers, whatever its size says; the span
  // runs from the first call's start to the last one's end.
  ASSERT_TRUE(p.set_plan(0, {SMEPILOT_RT_MODE_CPU, 0, placement::spread}).is_ok());
  std::fill(a.begin(), a.end(), -1);
  ASSERT_TRUE(p.run(two, args, {}).is_ok());
  EXPECT_EQ(a, expected);
  t = p.last_run_timing()[0];
  EXPECT_FALSE(t.whole);
  EXPECT_FALSE(p.last_run_in_order());
  EXPECT_EQ(t.cpu_tiles, 64);
  EXPECT_EQ(t.cpu_ns, 64 * 2000);
  EXPECT_GT(t.span_ns, 0);
  EXPECT_LE(t.span_ns, 64 * 2000);
  // Not named: not timed.
  const uint8_t untimed[] = {0};
  p.set_timing(true, fake_clock, untimed);
  ASSERT_TRUE(p.run(two, args, {}).is_ok());
  EXPECT_EQ(p.last_run_timing()[0].span_ns, 0);
  EXPECT_EQ(p.last_run_timing()[0].cpu_tiles, 0);
}

} // namespace
} // namespace smepilot::rt
