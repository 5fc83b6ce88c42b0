// SMEPilot runtime: run-time adaptation of the compiler's mode and collab
// share decisions from measured kernel times.
//
// The compiler decides, per dispatch, whether the vector cores (cpu), the
// matrix unit (sme) or both (collab, with an SME share of the tiles) run it,
// from the Roofline model and a hardware profile: predictions. A dispatch
// that has an SME variant also has its CPU variant (abi.h), and every kernel
// is split-invariant (a tile is computed the same whichever unit and call
// computes it), so its mode and share can change between runs of its phase
// without recompiling and without changing a single result.
//
// adaptive_planner watches the kernel time each unit spent on each such
// dispatch (dispatch_program::set_timing: the sum of its kernel calls'
// durations per unit, and the tiles they computed) over a window of runs,
// (after `warmup` runs), and from the measured time per tile of each unit
// computes the plan that
// finishes soonest:
//   - a run in table order on one thread (dispatch_program::
//     last_run_in_order) runs the SME part, then the CPU part: the best plan
//     gives every tile to the unit with the lower time per tile;
//   - otherwise the SME part runs on the matrix-unit workers (one range per
//     worker) beside the CPU part spread over the V vector-core workers:
//     the SME fraction f balancing f * n * t_sme / M = (1 - f) * n * t_cpu / V.
// A fraction below 5% becomes cpu, above 95% sme (a split that leaves one
// unit almost nothing is not worth its synchronisation, the compiler's rule
// too); collab shares are parts per 65536, and the executor rounds the split
// to the dispatch's tile granule as always.
//
// A re-plan happens when, by the measured rates, the plan in force takes
// `threshold` (1.5x) times as long as the best one, for a whole window of
// runs: the model's prediction was off by that much for that dispatch. A
// unit that computed no tile in the window (an sme dispatch has no CPU
// time) is probed first: for one window the dispatch runs collab with
// `probe_fraction` of its tiles on the unit not measured, then the planner
// decides. Each dispatch is re-planned at most `max_replans` times, so a
// noisy measurement cannot make plans oscillate forever. Dispatches without
// an SME variant, or whose SME kernel is also their CPU variant (the
// compiler's sme mode: one streaming kernel for all the tiles), are never
// touched: only collab dispatches have two variants to share tiles between.
//
// The model's prediction for the compiled plan, when the compiled model
// carries one (smepilot_explain), is reported beside the measured time
// (describe_replan); the decision itself rests on the measured rates: a plan
// changes only when the measurements say another one pays.
//
// Placement. Whatever the mode, the executor decides per dispatch whether
// it runs whole on the thread that made it ready or spread in ranges over
// the workers (dispatch.h), by a bytes proxy of its work against a threshold:
// a model of the time it takes against the cost of handing ranges to other
// threads. The proxy can be off (a layer's share of the KV cache counts in
// full for an attention step that reads a few rows of it at the first
// positions) and the hand-off cost depends on how busy the machine is: a
// range claimed by a worker that the OS then deschedules holds up the whole
// dispatch. So, with two workers or more, the planner also measures each
// one-variant dispatch of at least two tiles: its span (first kernel call's
// start to last call's end) over a window of runs as it is placed, then over
// a window placed the other way (a probe), and keeps the other placement
// when the one it had took `threshold` times as long and `min_spread_us`
// longer, else restores it (each window's median span: a run preempted or
// faulting is an outlier). A dispatch that runs whole in under
// `min_spread_us` is not probed spread, and one that runs spread in over
// `max_whole_probe_us` is not probed whole. A dispatch whose work proxy stays
// the same from run to run then runs untimed for `reprobe_runs` runs and is
// probed again (the machine's load may have changed); one whose work changes
// (attention over a growing context) is watched, and probed again when its
// span moves `rework` (2x) and `min_spread_us` from the one it was decided
// at. Each dispatch is probed at most `max_placement_probes` times. On a
// host with no matrix unit this is the one decision that adapts
// (docs/generation.md, "Run-time adaptation").
//
// The timings are an input (observe()): tests give exact numbers and get
// deterministic plans; the compiled engine gives the executor's measurements
// of each run (engine_options.adaptive; smepilot-run --adaptive on|off).
#pragma once

#include "smepilot_rt/abi.h"
#include "smepilot_rt/dispatch.h"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace smepilot::rt {

struct adaptive_options {
  /// Runs of a phase not measured at first: the first calls of a kernel
  /// fault its pages in and find cold caches.
  int warmup = 2;
  /// Runs of a phase measured before a decision.
  int window = 4;
  /// Re-plan when the plan in force is this many times slower than the best
  /// one by the measured rates.
  double threshold = 1.5;
  /// The share of the tiles given to the unmeasured unit while probing.
  double probe_fraction = 0.125;
  /// Re-plans per dispatch, probes not counted.
  int max_replans = 2;
  /// Placement adaptation (file comment) of one-variant dispatches of two
  /// tiles or more, in runs with two workers or more.
  bool placement = true;
  /// A placement decided at a span S is probed again when a window's
  /// median leaves [S / rework, S * rework] (dispatches whose work changes).
  double rework = 2.0;
  /// Placement probes per dispatch.
  int max_placement_probes = 8;
  /// A dispatch running whole in less than this (us per run) is not probed
  /// spread, and a placement changes only when it gains at least this much
  /// per run: handing ranges to other threads costs about as much.
  double min_spread_us = 2.0;
  /// A dispatch running spread in more than this (us per run) is not probed
  /// whole: every worker then has ranges to run (and the pool leaves the
  /// caller the ranges a busy worker does not claim), so one thread cannot
  /// win by the threshold, while the probe's window would run up to the
  /// worker count times slower (a 1B prefill projection: milliseconds; a
  /// benchmark of a few prompts lost a fifth of its speed to such probes).
  double max_whole_probe_us = 1000.0;
  /// Runs after which a decided placement is probed again (the machine's
  /// load may have changed), while probes remain.
  int reprobe_runs = 256;
};

/// One change of a dispatch's plan, for -v.
struct replan {
  uint32_t dispatch = 0;
  dispatch_plan from, to;
  bool probe = false;
  /// Measured kernel time per tile of each unit (ns); < 0: not measured.
  double sme_ns_per_tile = -1, cpu_ns_per_tile = -1;
  /// The plan in force and the new plan, by the measured rates (us per run).
  double from_us = -1, to_us = -1;
  /// When the plan changed is the compiler's: the model's predicted time of
  /// one call, and the measured rates' time of that plan; < 0: unknown.
  double predicted_us = -1, measured_compiled_us = -1;
  /// A change of placement (from.where -> to.where), not of mode or share:
  /// the measured median span per run of each placement (us; < 0: not yet).
  bool placement = false;
  double whole_us = -1, spread_us = -1;
};

/// "d12 'name': collab 50.0% -> cpu (measured per tile: sme 4.10 us, cpu
/// 0.52 us; 12.3 us per run -> 3.1 us)" and the like.
std::string describe_replan(const smepilot_rt_dispatch_table &table, const replan &r);

class adaptive_planner {
public:
  /// `predicted_us`: the Roofline model's time of one call of each dispatch
  /// as compiled (<= 0 or missing: unknown), reported beside the measured
  /// time of the compiled plan (replan::predicted_us).
  adaptive_planner(const smepilot_rt_dispatch_table &table, adaptive_options options = {},
                   std::span<const double> predicted_us = {});

  /// One run's measurements: per dispatch, the kernel time and tiles of each
  /// unit (`timing`), the plans it ran with, its tile counts, its workers and
  /// whether it ran in table order on one thread. Returns the re-plans to
  /// apply before the next run (dispatch_program::set_plan), empty mostly.
  /// `work_bytes`: each dispatch's work proxy in the run
  /// (dispatch_program::last_run_work_bytes; empty: unchanging).
  std::vector<replan> observe(std::span<const dispatch_timing> timing,
                              std::span<const dispatch_plan> plans,
                              std::span<const int64_t> tile_counts, worker_split workers,
                              bool in_order, std::span<const double> work_bytes = {});

  /// Re-plans so far (probes not counted).
  int replans() const { return replans_; }
  /// Whether no dispatch can be re-planned any more (each is not adaptable
  /// or has used its re-plans and probes): the caller may stop timing and
  /// observing.
  bool finished() const;
  /// Per dispatch, whether the planner needs its timing now
  /// (dispatch_program::set_timing's `timed`; none while every placement
  /// waits for its next probe, but observe() must still see every run).
  std::span<const uint8_t> timed() const;

private:
  struct state {
    bool adaptable = false;
    int seen = 0; ///< Runs observed, warm-up included.
    int runs = 0; ///< In the current window.
    int replans = 0;
    bool probing = false, probed = false;
    dispatch_plan before_probe;
    dispatch_timing sum; ///< Over the window.
    /// The last measured time per tile of each unit (ns); < 0: never.
    double sme_ns_per_tile = -1, cpu_ns_per_tile = -1;
  };
  /// Placement adaptation of one dispatch (file comment).
  struct placed {
    bool active = false;
    int seen = 0, runs = 0;
    std::vector<int64_t> spans; ///< The window's, ns.
    bool window_whole = false;  ///< how the window's runs were placed
    double work = -1;
    bool work_changes = false;
    enum class stage : uint8_t { measure, probe, settled } at = stage::measure;
    bool first_whole = false; ///< the placement before the probe
    double first_us = 0;      ///< its median span
    double settled_us = 0;    ///< the span of the placement decided
    int probes = 0;
    /// Decided, untimed, until `reprobe_runs` runs have passed.
    bool dormant = false;
    int dormant_runs = 0;
  };
  /// One window's median span (us) for placement: the re-plan to make, if
  /// any, in `out`.
  bool observe_placement(uint32_t d, placed &p, double span_us, const dispatch_plan &plan,
                         replan &out);
  void update_timed();

  const smepilot_rt_dispatch_table *table_;
  adaptive_options options_;
  std::vector<state> states_;
  std::vector<placed> placed_;
  std::vector<uint8_t> timed_;
  std::vector<double> predicted_us_;
  int replans_ = 0;
};

} // namespace smepilot::rt
