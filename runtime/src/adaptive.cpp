// SMEPilot runtime: run-time adaptation of mode and collab share
// (adaptive.h).
#include "smepilot_rt/adaptive.h"

#include "strformat.h"

#include <algorithm>
#include <cmath>

namespace smepilot::rt {
namespace {

constexpr double kMinFraction = 0.05, kMaxFraction = 0.95;

/// The fraction of the tiles a plan gives the SME variant.
double sme_fraction(const dispatch_plan &p) {
  switch (p.mode) {
  case SMEPILOT_RT_MODE_SME:
    return 1.0;
  case SMEPILOT_RT_MODE_COLLAB:
    return double(p.sme_share) / double(SMEPILOT_RT_SHARE_ONE);
  default:
    return 0.0;
  }
}

/// The plan for an SME fraction: cpu below 5%, sme above 95%, else collab.
dispatch_plan plan_for(double f) {
  if (f < kMinFraction)
    return {SMEPILOT_RT_MODE_CPU, 0};
  if (f > kMaxFraction)
    return {SMEPILOT_RT_MODE_SME, 0};
  const double share = std::round(f * double(SMEPILOT_RT_SHARE_ONE));
  return {SMEPILOT_RT_MODE_COLLAB,
          uint32_t(std::clamp(share, 1.0, double(SMEPILOT_RT_SHARE_ONE - 1)))};
}

bool same_plan(const dispatch_plan &a, const dispatch_plan &b) {
  return a.mode == b.mode && (a.mode != SMEPILOT_RT_MODE_COLLAB || a.sme_share == b.sme_share);
}

const char *placement_name(bool whole) { return whole ? "whole" : "spread"; }

std::string plan_name(const dispatch_plan &p) {
  switch (p.mode) {
  case SMEPILOT_RT_MODE_SME:
    return "sme";
  case SMEPILOT_RT_MODE_COLLAB:
    return strformat("collab %.1f%%", 100.0 * sme_fraction(p));
  default:
    return "cpu";
  }
}

} // namespace

std::string describe_replan(const smepilot_rt_dispatch_table &table, const replan &r) {
  const char *name = r.dispatch < table.n_dispatches ? table.dispatches[r.dispatch].name : nullptr;
  const bool to_whole = r.to.where == placement::whole;
  const std::string from = r.placement ? placement_name(!to_whole) : plan_name(r.from);
  const std::string to = r.placement ? placement_name(to_whole) : plan_name(r.to);
  std::string out = strformat("d%u%s%s%s: %s -> %s", r.dispatch, name ? " '" : "", name ? name : "",
                              name ? "'" : "", from.c_str(), to.c_str());
  if (r.placement) {
    if (r.whole_us < 0 || r.spread_us < 0) // a probe starts
      return out + strformat(" (probing: %.1f us per run %s)",
                             r.whole_us < 0 ? r.spread_us : r.whole_us, from.c_str());
    out += strformat(" (measured per run: whole %.1f us, spread %.1f us", r.whole_us, r.spread_us);
    if (r.probe)
      out += "; kept";
    if (r.predicted_us > 0)
      out += strformat("; the model predicted %.1f us", r.predicted_us);
    return out + ")";
  }
  if (r.probe && r.from_us < 0) // a probe starts
    return out + strformat(" (probing the %s: it computed no tile yet)",
                           r.sme_ns_per_tile < 0 ? "matrix unit" : "vector cores");
  out += " (measured per tile:";
  out += r.sme_ns_per_tile >= 0 ? strformat(" sme %.2f us", r.sme_ns_per_tile / 1e3) : " sme -";
  out += r.cpu_ns_per_tile >= 0 ? strformat(", cpu %.2f us", r.cpu_ns_per_tile / 1e3) : ", cpu -";
  if (r.from_us >= 0 && r.to_us >= 0)
    out += strformat("; %.1f us per run -> %.1f us", r.from_us, r.to_us);
  if (r.predicted_us > 0 && r.measured_compiled_us >= 0)
    out += strformat("; the model predicted %.1f us for the compiled plan, measured %.2fx that",
                     r.predicted_us, r.measured_compiled_us / r.predicted_us);
  return out + ")";
}

adaptive_planner::adaptive_planner(const smepilot_rt_dispatch_table &table,
                                   adaptive_options options, std::span<const double> predicted_us)
    : table_(&table), options_(options), states_(table.n_dispatches),
      predicted_us_(predicted_us.begin(), predicted_us.end()) {
  predicted_us_.resize(table.n_dispatches, -1.0);
  options_.window = std::max(1, options_.window);
  options_.warmup = std::max(0, options_.warmup);
  options_.threshold = std::max(1.0, options_.threshold);
  options_.probe_fraction = std::clamp(options_.probe_fraction, kMinFraction, 0.5);
  options_.rework = std::max(1.0, options_.rework);
  options_.reprobe_runs = std::max(1, options_.reprobe_runs);
  placed_.resize(table.n_dispatches);
  for (uint32_t d = 0; d < table.n_dispatches; ++d) {
    // Two variants to choose between: an sme dispatch whose kernel is its
    // own CPU variant (one streaming kernel for all its tiles, the
    // compiler's sme mode) has nothing to move.
    states_[d].adaptable = has_two_variants(table.dispatches[d]);
    // A dispatch whose mode adapts keeps the executor's placement: its
    // per-unit rates would move with it.
    placed_[d].active = options_.placement && !states_[d].adaptable;
  }
  update_timed();
}

void adaptive_planner::update_timed() {
  timed_.resize(states_.size());
  for (size_t d = 0; d < states_.size(); ++d) {
    const state &s = states_[d];
    timed_[d] =
        (s.adaptable && (s.replans < options_.max_replans || s.probing)) || placed_[d].active ? 1
                                                                                              : 0;
  }
}

std::span<const uint8_t> adaptive_planner::timed() const { return timed_; }

bool adaptive_planner::finished() const {
  return std::none_of(timed_.begin(), timed_.end(), [](uint8_t t) { return t != 0; }) &&
         std::none_of(placed_.begin(), placed_.end(), [](const placed &p) { return p.dormant; });
}

bool adaptive_planner::observe_placement(uint32_t d, placed &p, double span_us,
                                         const dispatch_plan &plan, replan &r) {
  r.dispatch = d;
  r.from = plan;
  r.to = plan;
  r.placement = true;
  if (p.at == placed::stage::settled) {
    // Still where it was decided, or moved by less than a hand-off costs:
    // nothing to do.
    if ((span_us <= options_.rework * p.settled_us && span_us * options_.rework >= p.settled_us) ||
        std::abs(span_us - p.settled_us) < options_.min_spread_us)
      return false;
    p.at = placed::stage::measure; // its work moved: decide again
  }
  if (p.at == placed::stage::measure) {
    if (p.probes >= options_.max_placement_probes) {
      p.active = false;
      return false;
    }
    // Too short to gain from other threads: handing them ranges costs
    // about this much. Watched while its work grows.
    if (p.window_whole && span_us < options_.min_spread_us) {
      if (!p.work_changes)
        p.active = false;
      return false;
    }
    // Long enough to keep every worker busy: one thread cannot win, and
    // probing would slow a window of runs by up to the worker count.
    if (!p.window_whole && span_us > options_.max_whole_probe_us) {
      if (!p.work_changes)
        p.active = false;
      return false;
    }
    ++p.probes;
    p.first_whole = p.window_whole;
    p.first_us = span_us;
    p.at = placed::stage::probe;
    r.from.where = p.first_whole ? placement::whole : placement::spread;
    r.to.where = p.first_whole ? placement::spread : placement::whole;
    r.probe = true;
    (p.first_whole ? r.whole_us : r.spread_us) = span_us;
    return true;
  }
  // The probe's window ran the other way: keep the faster by the threshold.
  if (p.window_whole == p.first_whole) { // it did not run the other way
    p.active = false;
    return false;
  }
  // By the threshold, and by more than a hand-off costs (microsecond spans
  // are noisy).
  const bool change =
      p.first_us >= options_.threshold * span_us && p.first_us - span_us >= options_.min_spread_us;
  const bool whole = change ? !p.first_whole : p.first_whole;
  p.settled_us = change ? span_us : p.first_us;
  p.at = placed::stage::settled;
  r.from.where = p.first_whole ? placement::spread : placement::whole; // the probe's
  r.to.where = whole ? placement::whole : placement::spread;
  r.probe = !change;
  r.whole_us = p.first_whole ? p.first_us : span_us;
  r.spread_us = p.first_whole ? span_us : p.first_us;
  if (d < predicted_us_.size() && predicted_us_[d] > 0)
    r.predicted_us = predicted_us_[d];
  if (change)
    ++replans_;
  if (!p.work_changes) { // the same work every run: decided for a while
    p.active = false;
    p.dormant = p.probes < options_.max_placement_probes;
    p.dormant_runs = 0;
  }
  return true;
}

std::vector<replan> adaptive_planner::observe(std::span<const dispatch_timing> timing,
                                              std::span<const dispatch_plan> plans,
                                              std::span<const int64_t> tile_counts,
                                              worker_split workers, bool in_order,
                                              std::span<const double> work_bytes) {
  std::vector<replan> out;
  const size_t n_dispatches =
      std::min({states_.size(), timing.size(), plans.size(), tile_counts.size()});
  // Parallel runs: SME ranges on the matrix-unit workers (at least one
  // range), CPU ranges over the vector-core workers.
  const double m_workers = in_order ? 1.0 : double(std::max(1, workers.matrix));
  const double v_workers = in_order ? 1.0 : double(std::max(1, workers.vector));
  for (size_t d = 0; d < n_dispatches; ++d) {
    state &s = states_[d];
    if (!s.adaptable || (s.replans >= options_.max_replans && !s.probing))
      continue;
    if (s.seen < options_.warmup) {
      ++s.seen;
      continue;
    }
    s.sum.sme_ns += timing[d].sme_ns;
    s.sum.cpu_ns += timing[d].cpu_ns;
    s.sum.sme_tiles += timing[d].sme_tiles;
    s.sum.cpu_tiles += timing[d].cpu_tiles;
    if (++s.runs < options_.window)
      continue;
    const dispatch_timing w = s.sum;
    s.sum = {};
    s.runs = 0;
    const bool was_probing = s.probing;
    s.probing = false;
    if (w.sme_tiles > 0)
      s.sme_ns_per_tile = double(w.sme_ns) / double(w.sme_tiles);
    if (w.cpu_tiles > 0)
      s.cpu_ns_per_tile = double(w.cpu_ns) / double(w.cpu_tiles);
    const dispatch_plan current = plans[d];
    const int64_t n = tile_counts[d];
    if (n <= 0)
      continue;
    if (s.sme_ns_per_tile < 0 || s.cpu_ns_per_tile < 0) {
      // One unit never computed a tile of it: probe it once, with enough
      // tiles for one granule of SME.
      if (s.probed) {
        s.adaptable = false;
        continue;
      }
      const double granule = double(table_->dispatches[d].tile_granule) / double(n);
      double f = s.sme_ns_per_tile < 0 ? std::max(options_.probe_fraction, granule)
                                       : 1.0 - options_.probe_fraction;
      if (f > kMaxFraction) { // one granule is nearly all of it: nothing to split
        s.adaptable = false;
        continue;
      }
      replan r;
      r.dispatch = uint32_t(d);
      r.from = current;
      r.to = {SMEPILOT_RT_MODE_COLLAB, uint32_t(std::round(f * double(SMEPILOT_RT_SHARE_ONE)))};
      r.probe = true;
      r.sme_ns_per_tile = s.sme_ns_per_tile;
      r.cpu_ns_per_tile = s.cpu_ns_per_tile;
      s.probing = s.probed = true;
      s.before_probe = current;
      out.push_back(r);
      continue;
    }
    // Both rates known: the run time of a plan giving fraction f to SME.
    const double ts = s.sme_ns_per_tile, tc = s.cpu_ns_per_tile;
    auto run_us = [&](double f) {
      const double sme = f * double(n) * ts / m_workers;
      const double cpu = (1.0 - f) * double(n) * tc / v_workers;
      return (in_order ? sme + cpu : std::max(sme, cpu)) / 1e3;
    };
    double best_f =
        in_order ? (ts < tc ? 1.0 : 0.0) : (tc / v_workers) / (ts / m_workers + tc / v_workers);
    const dispatch_plan best = plan_for(best_f);
    // After a probe the plan to keep or change is the one before it.
    const dispatch_plan reference = was_probing ? s.before_probe : current;
    const double reference_us = run_us(sme_fraction(reference));
    const double best_us = run_us(sme_fraction(best));
    const bool change = !same_plan(reference, best) && reference_us >= options_.threshold * best_us;
    const dispatch_plan next = change ? best : reference;
    if (same_plan(next, current))
      continue;
    replan r;
    r.dispatch = uint32_t(d);
    r.from = current;
    r.to = next;
    r.probe = !change; // the end of a probe that changed nothing
    r.sme_ns_per_tile = ts;
    r.cpu_ns_per_tile = tc;
    r.from_us = run_us(sme_fraction(change ? reference : current));
    r.to_us = run_us(sme_fraction(next));
    const smepilot_rt_dispatch &dp = table_->dispatches[d];
    const dispatch_plan compiled{dp.mode, dp.sme_share};
    if (change && same_plan(reference, compiled) && predicted_us_[d] > 0) {
      r.predicted_us = predicted_us_[d];
      r.measured_compiled_us = r.from_us;
    }
    if (change) {
      ++s.replans;
      ++replans_;
    }
    out.push_back(r);
  }

  // Placement (file comment): one-variant dispatches of two tiles or more.
  const bool many_workers = workers.matrix + workers.vector >= 2;
  for (size_t d = 0; d < std::min(n_dispatches, placed_.size()); ++d) {
    placed &p = placed_[d];
    // A decided placement is looked at again after a while: the machine's
    // load may have changed since.
    if (!p.active && p.dormant && ++p.dormant_runs >= options_.reprobe_runs) {
      p.active = true;
      p.dormant = false;
      p.at = placed::stage::measure;
      p.runs = 0;
    }
    if (!p.active)
      continue;
    if (!many_workers) { // one thread: nothing to spread over
      p.active = false;
      continue;
    }
    const dispatch_timing &t = timing[d];
    if (tile_counts[d] < 2 || t.span_ns <= 0)
      continue;
    if (p.seen < options_.warmup) {
      ++p.seen;
      continue;
    }
    if (p.runs > 0 && t.whole != p.window_whole) // placed anew by its size
      p.runs = 0;
    if (p.runs == 0)
      p.window_whole = t.whole;
    if (d < work_bytes.size()) {
      if (p.work >= 0 && work_bytes[d] != p.work)
        p.work_changes = true;
      p.work = work_bytes[d];
    }
    p.spans.resize(size_t(options_.window));
    p.spans[size_t(p.runs)] = t.span_ns;
    if (++p.runs < options_.window)
      continue;
    // The window's median: a run preempted or faulting is an outlier.
    std::sort(p.spans.begin(), p.spans.end());
    const size_t mid = p.spans.size() / 2;
    const double median_ns =
        p.spans.size() % 2 ? double(p.spans[mid]) : 0.5 * double(p.spans[mid - 1] + p.spans[mid]);
    p.runs = 0;
    replan r;
    if (observe_placement(uint32_t(d), p, median_ns / 1e3, plans[d], r))
      out.push_back(r);
  }
  update_timed();
  return out;
}

} // namespace smepilot::rt
