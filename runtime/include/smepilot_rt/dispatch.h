// SMEPilot runtime: the dispatch executor, which validates a dispatch table
// (abi.h) once and then runs it on the thread pool, step after step.
//
// Validation (dispatch_program::create) checks everything a kernel would
// otherwise trust blindly, so a bad table is an error message, never a crash:
// the ABI version; array pointers present for non-zero lengths; kernels
// non-null; every kernel, buffer, constant, binding and dependency index in
// range; modes known; the SME variant present for modes sme and collab;
// sme_share <= 65536; tile_granule >= 1; temporary alignments powers of two;
// extents that are fixed are non-negative; dependencies pointing strictly
// backwards (so the dependency graph is acyclic); every read/write hazard on
// a buffer between two dispatches ordered by a chain of dependencies; and no
// temporary bound read-only before some earlier dispatch writes it.
// Messages name the table's phase, the dispatch or buffer index and its name.
//
// Execution (dispatch_program::run) schedules by the deps, not the table
// order. Each dispatch keeps a count of its unfinished deps; one whose count
// is zero is ready, and its tiles are cut into ranges (below) that go to two
// queues: SME ranges and CPU ranges. The pool's workers run one scheduling
// loop each for the whole run (one pool job per run, not one per dispatch):
// take a range, call its kernel, and when the last range of a dispatch
// finishes, count down its dependents and queue the ones that became ready.
// So dispatches with no dependency path between them overlap (SME QK^T of
// head h+1 beside the CPU softmax of head h; the K and V projections), the
// two halves of a collab dispatch run at the same time, and a dependent
// never starts before every range of its deps has finished. The queues live
// under one mutex (a handful of workers; a critical section is a few
// loads and stores). A pool of one worker needs none of this: it calls the
// ranges in table order, which respects every dep.
//
// Worker kinds. Of the pool's n workers, `sme_workers` (0..n-1) are
// matrix-unit workers and the others vector-core workers:
//   - matrix-unit workers take SME ranges first; when none is queued they
//     take CPU ranges (work-conserving: on the host an idle matrix-unit
//     worker is an idle core, and SME kernels are self-contained, abi.h, so a
//     worker may alternate SME and CPU ranges). The cost: an SME range that
//     becomes ready while its worker runs a CPU range waits for that range.
//   - vector-core workers take CPU ranges only, so with sme_workers > 0 an
//     SME range never runs on a vector-core worker.
//   - with sme_workers == 0 there are no matrix-unit workers: SME ranges are
//     ordinary ranges any worker takes (the SME variants are host stand-ins,
//     or the one-thread case).
// The compiled engine picks sme_workers (compiled_engine.h): one when some
// phase has an sme or collab dispatch and the CPU has a matrix unit (SME),
// else zero; engine_options.sme_workers overrides. A bare program defaults
// to zero.
//
// Ranges. Tiles of one dispatch are split into contiguous ranges, one kernel
// call per range. With S = max(1, sme_workers) and n workers:
//   cpu     [0, n_tiles) in n ranges;
//   sme     [0, n_tiles) in S ranges (cut at multiples of tile_granule);
//   collab  [0, split) as sme, and [split, n_tiles) in max(1, n - S) ranges
//           (all n when split == 0).
// No range is empty (fewer tiles than ranges: fewer ranges). Every tile is
// computed by exactly one call and kernels never reduce across tiles (abi.h),
// so results are independent of the thread count, of sme_workers and of
// which worker runs which range.
//
// Idle workers spin for a short, time-bounded while (at most 20 us,
// spin_wait.h: the next dispatch is usually ready almost at once) and then block on a
// condition variable; whoever queues ranges wakes them only when someone is
// blocked. A busy machine therefore loses a core to a waiting worker for at
// most the spin, and a worker the OS has descheduled delays the run only if
// it holds a range: ranges are claimed, never assigned.
//
// Trace. With a dispatch_trace attached (set_trace), every kernel call is
// recorded: dispatch, unit (sme/cpu), worker, tile range, start and end
// (steady_clock ns); dispatch_trace.h writes Chrome trace-event JSON. Off
// (the default), the cost is one null-pointer test per kernel call.
//
// Temporaries live in one arena owned by the program, kept across runs and
// reallocated only when the constants of a run need more bytes than it has.
// A program therefore must not run concurrently with itself. Two temporaries
// may share bytes only when every access of one happens-before the first
// write of the other through a chain of deps (in either direction): then no
// dep-respecting schedule can have both live at once. (Each temporary's first
// access is a write, the validator's rule, and every other access is ordered
// after that write, since they conflict.) Each run places them, largest
// first, at the lowest offset that no placed temporary it may not share with
// occupies (or, when alignment gaps would make that larger, each in bytes of
// its own); the contents need not survive a temporary's last access (abi.h:
// temporaries start uninitialised). check_temporary_placement() checks a
// placement against the rule; the schedule tests run it after their runs.
// The exception: a run on one worker goes through the table in order, and
// then two temporaries share bytes when their lives, from the first to the
// last dispatch binding each, do not intersect in table order (exact for
// that order, and tighter: compiled decode steps of stories260K need 2.5 KiB
// of temporaries so, 15.8 KiB by the deps, 21.6 KiB unshared).
#pragma once

#include "smepilot_rt/abi.h"
#include "smepilot_rt/status.h"
#include "smepilot_rt/thread_pool.h"

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

namespace smepilot::rt {

class dispatch_trace;

/// How a collab dispatch's tiles are split: tiles [0, split) go to the SME
/// variant. Exact for any tile_count >= 0 (no intermediate overflow).
int64_t collab_split(int64_t tile_count, uint32_t sme_share, int64_t tile_granule);

/// How run() divides `n_threads` workers: matrix-unit workers take SME
/// ranges (and CPU ranges when idle), vector-core workers CPU ranges only.
struct worker_split {
  int matrix = 0;
  int vector = 1;
};
/// `sme_workers` clamped to [0, n_threads - 1] (n_threads < 1 counts as 1).
worker_split split_workers(int n_threads, int sme_workers);

/// Dispatches of `table` by mode, and how many of them are stages of a
/// pipelined computation (named "...@<stage>", abi.h: the compiler's
/// attention pipeline names them "@attn.qk.h0", "@attn.softmax.h0", ...).
struct mode_counts {
  uint32_t cpu = 0, sme = 0, collab = 0, pipelined = 0;
};
mode_counts count_modes(const smepilot_rt_dispatch_table &table);

/// Checks a placement of `table`'s temporaries (offsets and sizes in bytes,
/// one per temporary, i.e. per buffer from n_arguments on) against the
/// sharing rule of the file comment: any two temporaries some dispatch binds
/// whose byte ranges intersect must have every access of one ordered, through
/// a chain of deps, before the first write of the other. The error names
/// both temporaries and the two dispatches that could run at the same time.
/// The table must be valid (dispatch_program::create). Costs
/// n_dispatches^2 / 8 bytes and n_temporaries^2 pair checks: for tests and
/// debugging, not per run.
status check_temporary_placement(const smepilot_rt_dispatch_table &table,
                                 std::span<const size_t> offsets, std::span<const size_t> sizes);

/// A validated dispatch table with the state to run it (the temporaries'
/// arena, the scheduler's scratch). The table is not copied: it must outlive
/// the program (tables are static data of the compiled code).
class dispatch_program {
public:
  /// Validates `table`; the error names what is wrong and where.
  static result<dispatch_program> create(const smepilot_rt_dispatch_table *table);

  dispatch_program(dispatch_program &&) noexcept;
  dispatch_program &operator=(dispatch_program &&) noexcept;
  ~dispatch_program();

  /// Runs every dispatch once, on `pool`'s workers. `arguments` holds one
  /// non-null base pointer per argument buffer (table->n_arguments),
  /// `constants` exactly table->n_constants values. Fails, before any kernel
  /// runs, when the counts differ, an argument is null, or a tile count or
  /// temporary size evaluates negative or overflows.
  status run(thread_pool &pool, std::span<void *const> arguments,
             std::span<const int64_t> constants);

  /// Matrix-unit workers for later runs (file comment); clamped per run to
  /// [0, pool.n_threads() - 1]. Default 0.
  void set_sme_workers(int n) { sme_workers_ = n < 0 ? 0 : n; }
  int sme_workers() const { return sme_workers_; }

  /// Records every kernel call of later runs into `trace` (nullptr: off, the
  /// default). The trace must outlive the runs.
  void set_trace(dispatch_trace *trace) { trace_ = trace; }

  const smepilot_rt_dispatch_table &table() const { return *table_; }
  /// The phase name, or "(unnamed)".
  const std::string &phase_name() const { return phase_name_; }

  /// Bytes of the temporaries' arena (0 before the first run).
  size_t arena_bytes() const { return arena_bytes_; }
  /// Bytes the last run's temporaries took in the arena, and what they would
  /// take each in bytes of its own (the sum of their aligned sizes).
  size_t last_run_temporary_bytes() const { return last_packed_bytes_; }
  size_t last_run_unshared_bytes() const { return last_unshared_bytes_; }
  /// The last run's placement: per temporary, its offset in the arena and
  /// its size (for check_temporary_placement).
  std::span<const size_t> last_run_temporary_offsets() const { return temp_offsets_; }
  std::span<const size_t> last_run_temporary_sizes() const { return temp_sizes_; }
  /// How many times the arena has been (re)allocated.
  int arena_allocations() const { return arena_allocations_; }

private:
  explicit dispatch_program(const smepilot_rt_dispatch_table *table);
  status ensure_arena(size_t bytes);

  struct arena_deleter {
    void operator()(std::byte *p) const;
  };

  /// One kernel call's worth of tiles of a ready dispatch.
  struct range_item {
    uint32_t dispatch;
    bool sme;
    int64_t begin, end;
  };
  /// The scheduler's state for one run; lives with the program so runs
  /// allocate nothing once the vectors have grown.
  struct scheduler {
    std::mutex mutex;
    std::condition_variable wake;
    /// Bumped (under the mutex) whenever ranges are queued or the run ends;
    /// read without the mutex by spinning workers.
    std::atomic<uint64_t> epoch{0};
    int sleepers = 0; ///< Workers blocked on `wake`.
    std::vector<range_item> sme_queue, cpu_queue;
    size_t sme_head = 0, cpu_head = 0;
    std::vector<uint32_t> pending_deps;  ///< Per dispatch.
    std::vector<uint32_t> ranges_left;   ///< Per dispatch.
    std::vector<uint32_t> ready_scratch; ///< Dispatches that became ready.
    uint32_t finished = 0;               ///< Dispatches done.
    worker_split workers;
    const int64_t *constants = nullptr;
  };
  /// Calls `emit(range_item)` for each range of dispatch `d` (dispatch.h,
  /// "Ranges"), SME ranges first.
  template <typename F>
  void for_each_range(uint32_t d, const worker_split &workers, F &&emit) const;
  /// Queues the ranges of ready dispatch `d`, or finishes it at once when it
  /// has no tiles (and so on for its dependents). Under the mutex.
  void make_ready(uint32_t d);
  /// A range finished: counts down its dispatch and, when that was its last
  /// range, the dispatch's dependents. Under the mutex.
  void finish_range(const range_item &item);
  /// One worker's scheduling loop for the whole run.
  void worker_loop(bool matrix_unit, int worker_id);
  void call_kernel(const range_item &item, int worker_id) const;

  const smepilot_rt_dispatch_table *table_ = nullptr;
  std::string phase_name_;
  std::unique_ptr<std::byte[], arena_deleter> arena_;
  size_t arena_bytes_ = 0;
  int arena_allocations_ = 0;
  int sme_workers_ = 0;
  dispatch_trace *trace_ = nullptr;
  // Per-run scratch, sized at creation.
  std::vector<void *> buffer_ptrs_;  ///< One per buffer.
  std::vector<void *> binding_ptrs_; ///< One per binding: buffer_ptrs_[binding.buffer].
  std::vector<size_t> temp_offsets_; ///< One per temporary, into the arena.
  std::vector<int64_t> tile_counts_; ///< One per dispatch.
  /// The dependents of each dispatch (CSR: dependents_[dependents_begin_[d],
  /// dependents_begin_[d + 1])), one entry per dep entry naming d.
  std::vector<uint32_t> dependents_begin_, dependents_;
  std::unique_ptr<scheduler> sched_;
  /// Per temporary: the temporaries it may not share bytes with (fixed by
  /// the table's deps), and this run's size; placement scratch.
  std::vector<std::vector<uint32_t>> temp_overlaps_;
  /// The same for a run in table order (one worker): the temporaries whose
  /// lives, first to last dispatch binding them, intersect its own.
  std::vector<std::vector<uint32_t>> temp_overlaps_in_order_;
  std::vector<size_t> temp_sizes_;
  std::vector<size_t> temp_seq_offsets_; ///< Each in bytes of its own, in order.
  std::vector<uint32_t> temp_order_;
  std::vector<char> temp_placed_;
  std::vector<char> temp_bound_; ///< Some dispatch binds it.
  std::vector<std::pair<size_t, size_t>> busy_;
  size_t last_packed_bytes_ = 0, last_unshared_bytes_ = 0;
  /// Places the temporaries of temp_sizes_ (temp_offsets_) by the deps, or
  /// by table-order lives for a one-worker run; returns the bytes they span.
  size_t place_temporaries(bool in_table_order);
};

} // namespace smepilot::rt
