// SMEPilot runtime: an opt-in trace of the dispatch executor's kernel calls.
//
// Attached to dispatch programs (dispatch_program::set_trace; the compiled
// engine does it for engine_options.trace, smepilot-run --trace FILE), a
// trace records one event per kernel call: the phase, the dispatch index
// and name, the unit (the SME or the CPU variant), the worker that ran it,
// the tile range, and start and end times (std::chrono::steady_clock, ns).
// Each worker appends to its own vector, so recording takes no lock; the
// events are read once the runs are over.
//
// write_chrome_trace() writes the Chrome trace-event format (a JSON object
// with a "traceEvents" array of complete events, "ph": "X", times in
// microseconds from the first event), which chrome://tracing and Perfetto
// load: one row per worker, SME calls in category "sme", CPU calls in "cpu".
// The file is written through output_file (never an input, temporary plus
// rename).
#pragma once

#include "smepilot_rt/status.h"

#include <cstdint>
#include <string>
#include <vector>

namespace smepilot::rt {

struct trace_event {
  const char *phase = nullptr; ///< The table's phase_name (may be null).
  const char *name = nullptr;  ///< The dispatch's name (may be null).
  uint32_t dispatch = 0;
  bool sme = false; ///< The SME variant (else the CPU one).
  int worker = 0;
  int64_t tile_begin = 0, tile_end = 0;
  int64_t start_ns = 0, end_ns = 0; ///< steady_clock.
};

class dispatch_trace {
public:
  /// Makes room for workers 0..n_workers-1. Call before runs that use
  /// more workers than any earlier (dispatch_program::run does), never
  /// while one runs.
  void reserve_workers(int n_workers);
  /// Appends an event of `worker` (< the reserved count); one thread per
  /// worker at a time.
  void record(const trace_event &event) { per_worker_[size_t(event.worker)].push_back(event); }
  /// Every event so far, by start time.
  std::vector<trace_event> events() const;
  void clear();

private:
  std::vector<std::vector<trace_event>> per_worker_;
};

/// What the calls of one dispatch took, over every run recorded.
struct dispatch_time {
  std::string phase;     ///< The table's phase_name ("(unnamed)" if null).
  uint32_t dispatch = 0; ///< Its index in the table.
  int64_t calls = 0;     ///< Kernel calls.
  int64_t busy_ns = 0;   ///< The calls' durations, summed over workers.
  /// The time at least one of its calls was running (the union of the
  /// calls' intervals): the dispatch's wall time, summed over runs.
  int64_t wall_ns = 0;
};

/// The events grouped by phase and dispatch, in that order.
std::vector<dispatch_time> summarize_dispatches(const std::vector<trace_event> &events);

/// Nanoseconds of std::chrono::steady_clock.
int64_t trace_clock_ns();

/// The events as Chrome trace-event JSON (see the file comment).
std::string chrome_trace_json(const std::vector<trace_event> &events);

/// Writes chrome_trace_json(trace.events()) to `path` through output_file,
/// refusing a path that is one of `inputs`.
status write_chrome_trace(const dispatch_trace &trace, const std::string &path,
                          const std::vector<std::string> &inputs = {});

} // namespace smepilot::rt
