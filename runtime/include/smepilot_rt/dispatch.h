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
// is zero is ready, and its tiles are cut into ranges (below), one kernel
// call each. A run is one job of the thread pool (thread_pool.h) whose items
// are ranges: whichever worker is running claims the next queued range (the
// calling thread takes part as worker 0), calls its kernel, and when the
// last range of a dispatch finishes, counts down its dependents and queues
// the ranges of the ones that became ready. The run is over when every
// dispatch has finished, not when every worker has checked in: a worker the
// OS has descheduled (another process busy on its core) delays the run only
// while it holds a range it claimed, and one that wakes late finds nothing.
// So dispatches with no dependency path between them overlap (SME QK^T of
// head h+1 beside the CPU softmax of head h; the K and V projections), the
// two halves of a collab dispatch run at the same time, and a dependent
// never starts before every range of its deps has finished. The deps'
// counts live under one mutex (a critical section is a few loads and
// stores); claiming a range takes no lock.
//
// Small dispatches run inline. A dispatch whose work proxy is below
// inline_bytes() (default kInlineBytes, 256 KiB) is not queued: the thread
// that made it ready (the caller, for one without deps) calls its kernel
// once over all its tiles, at once, without waking anyone. The proxy is the
// bytes of the buffers it binds (sizes for this run's constants), each
// buffer's size divided by the number of bindings of it in the table: a
// weight bound once counts in full, the KV cache bound by every layer's
// attention counts a layer's share, an activation written by one dispatch
// and read by the next half each. Touching 256 KiB takes ~10-25 us on one
// core, against ~1 us to hand a range to a spinning worker, tens of us to
// wake a blocked one, and a scheduler time slice (milliseconds) when the
// worker that claimed it is descheduled. When every dispatch of a run is
// small, or the pool has one worker, or run() is called from inside a pool
// task, the run calls the dispatches in table order on the calling thread
// (which respects every dep) and starts no job at all; last_run_in_order()
// says so. A stories260K decode step (160 dispatches of at most ~130 KiB)
// runs this way; the projections of a 1B model do not.
//
// Worker kinds. Of the pool's n workers, `sme_workers` (0..n-1) are
// matrix-unit workers: workers [0, sme_workers), so the calling thread is
// one whenever there are any, and SME ranges never wait for a thread that
// is not running. The others are vector-core workers:
//   - matrix-unit workers take SME ranges first; when none is queued they
//     take CPU ranges (work-conserving: on the host an idle matrix-unit
//     worker is an idle core, and SME kernels are self-contained, abi.h, so a
//     worker may alternate SME and CPU ranges). The cost: an SME range that
//     becomes ready while its worker runs a CPU range waits for that range.
//   - vector-core workers take CPU ranges only, so with sme_workers > 0 an
//     SME range never runs on a vector-core worker (a small SME dispatch
//     made ready by one is queued for the matrix-unit workers).
//   - with sme_workers == 0 there are no matrix-unit workers: SME ranges are
//     ordinary ranges any worker takes (the SME variants are host stand-ins,
//     or the one-thread case).
// The compiled engine picks sme_workers (compiled_engine.h): one when some
// phase has an sme or collab dispatch and the CPU has a matrix unit (SME),
// else zero; engine_options.sme_workers overrides. A bare program defaults
// to zero.
//
// Ranges. Tiles of one dispatch are split into contiguous ranges, one kernel
// call per range. With S = max(1, sme_workers), n workers and
// R = kRangesPerWorker (4: a descheduled or slow worker leaves its share
// to the others a quarter at a time):
//   cpu     [0, n_tiles) in R * n ranges;
//   sme     [0, n_tiles) in S ranges (cut at multiples of tile_granule);
//   collab  [0, split) as sme, and [split, n_tiles) in R * max(1, n - S)
//           ranges (R * n when split == 0).
// A dispatch that runs inline, or any dispatch of an in-order run, is one
// SME range [0, split) and one CPU range [split, n_tiles).
// No range is empty (fewer tiles than ranges: fewer ranges). Every tile is
// computed by exactly one call and kernels never reduce across tiles (abi.h),
// so results are independent of the thread count, of sme_workers, of the
// inline threshold and of which worker runs which range.
//
// Plans. The mode and SME share a dispatch runs with are the table's until
// set_plan() changes them (run-time adaptation, adaptive.h): any mode whose
// variants the dispatch has (sme and collab need the SME variant), any share.
// A plan also says where the dispatch runs: by the inline threshold above
// (placement::by_size, the table's), or always whole on the thread that
// made it ready (placement::whole), or always queued in ranges
// (placement::spread). Every kernel is split-invariant, so a plan changes
// when and where tiles run, never a result. Plans change between runs only.
//
// Timing. With set_timing(true), each kernel call of a timed dispatch (by
// default those with two variants, has_two_variants; or the ones the caller
// names) has its duration added to its dispatch's per-unit time and tile
// count (dispatch_timing) of the run, and the dispatch's span (first call's
// start to last call's end) recorded; last_run_timing() reads them after
// it. The clock is steady_clock, or one the caller injects (tests). Off by
// default: then it costs one test per call.
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
// The exception: an in-order run goes through the table in order, and
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

/// A dispatch whose work proxy (file comment) is below this many bytes runs
/// inline on the thread that made it ready.
constexpr size_t kInlineBytes = size_t(256) << 10;
/// CPU ranges per worker of a dispatch that is queued (file comment).
constexpr int64_t kRangesPerWorker = 4;

/// How a collab dispatch's tiles are split: tiles [0, split) go to the SME
/// variant. Exact for any tile_count >= 0 (no intermediate overflow).
int64_t collab_split(int64_t tile_count, uint32_t sme_share, int64_t tile_granule);

/// Where a dispatch's tiles run (file comment, "Plans").
enum class placement : uint8_t {
  by_size, ///< whole when its work proxy is below inline_bytes(), else spread
  whole,   ///< one call per unit on the thread that made it ready
  spread,  ///< queued in ranges over the workers
};

/// The mode (SMEPILOT_RT_MODE_*), collab share and placement a dispatch runs
/// with.
struct dispatch_plan {
  uint32_t mode = SMEPILOT_RT_MODE_CPU;
  uint32_t sme_share = 0; ///< collab: SME parts per 65536 of the tiles
  placement where = placement::by_size;
};

/// Whether a dispatch has two variants to share its tiles between: an SME
/// kernel that is not also its CPU variant (the compiler's sme mode uses
/// one streaming kernel as both). Only such dispatches are timed
/// (set_timing) and adapt (adaptive.h).
bool has_two_variants(const smepilot_rt_dispatch &dispatch);
/// Whether some dispatch of `table` has (has_two_variants).
bool has_two_variant_dispatch(const smepilot_rt_dispatch_table &table);

/// Kernel time (ns, the sum of the calls' durations) and tiles of one
/// dispatch in one run, per unit.
struct dispatch_timing {
  int64_t sme_ns = 0, cpu_ns = 0;
  int64_t sme_tiles = 0, cpu_tiles = 0;
  /// Wall time from its first kernel call's start to its last call's end
  /// (0: no call timed).
  int64_t span_ns = 0;
  /// Whether it ran whole (inline, or in an in-order run): one call per unit.
  bool whole = false;
};

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

  /// The inline threshold programs created from now on start with (default
  /// kInlineBytes): for tests and experiments that reach programs only
  /// through an engine.
  static void set_default_inline_bytes(size_t bytes);
  /// The inline threshold of later runs, in bytes of the work proxy (file
  /// comment); 0 queues every dispatch. Default: set_default_inline_bytes.
  void set_inline_bytes(size_t bytes) { inline_bytes_ = bytes; }
  size_t inline_bytes() const { return inline_bytes_; }
  /// Whether the last run called its dispatches in table order on the
  /// calling thread, starting no pool job.
  bool last_run_in_order() const { return last_in_order_; }

  /// Records every kernel call of later runs into `trace` (nullptr: off, the
  /// default). The trace must outlive the runs.
  void set_trace(dispatch_trace *trace) { trace_ = trace; }

  /// The plan dispatch `d` runs with (file comment, "Plans").
  dispatch_plan plan(uint32_t d) const { return plans_[d]; }
  std::span<const dispatch_plan> plans() const { return plans_; }
  /// Changes dispatch `d`'s plan for later runs; an error names a dispatch
  /// out of range, an unknown mode, sme or collab without an SME variant, or
  /// a share above 65536, and changes nothing.
  status set_plan(uint32_t d, dispatch_plan plan);

  /// Kernel timing of later runs (file comment, "Timing"); `clock_ns`
  /// (nullptr: steady_clock) must be callable from any worker. `timed`: one
  /// flag per dispatch, non-zero to time it; empty: the dispatches with two
  /// variants.
  void set_timing(bool on, int64_t (*clock_ns)() = nullptr, std::span<const uint8_t> timed = {});
  /// Per dispatch, the last run's kernel time and tiles per unit; empty when
  /// timing is off.
  std::span<const dispatch_timing> last_run_timing() const;
  /// The last run's tile count of each dispatch, and its workers.
  std::span<const int64_t> last_run_tile_counts() const { return tile_counts_; }
  /// The last run's work proxy of each dispatch (file comment, bytes).
  std::span<const double> last_run_work_bytes() const { return work_bytes_; }
  worker_split last_run_workers() const;

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
    thread_pool *pool = nullptr;
    /// Guards everything below but the queues' entries below the published
    /// counts, which are immutable until the run ends, and `inline_ranges`.
    std::mutex mutex;
    /// The pool's lanes: 1 holds SME ranges when there are matrix-unit
    /// workers, 0 everything else. Sized for the run before it starts, so
    /// entries never move while others read them.
    std::vector<range_item> queue[2];
    uint32_t tail[2] = {0, 0};        ///< Entries written.
    uint32_t unpublished[2] = {0, 0}; ///< Of those, not yet published.
    bool job_running = false;
    /// Per worker: ranges of small dispatches it made ready and will call
    /// itself (touched only by that worker).
    std::vector<std::vector<range_item>> inline_ranges;
    std::vector<uint32_t> pending_deps;  ///< Per dispatch.
    std::vector<uint32_t> ranges_left;   ///< Per dispatch.
    std::vector<uint32_t> ready_scratch; ///< Dispatches that became ready.
    std::vector<char> small;             ///< Per dispatch: runs inline.
    uint32_t finished = 0;               ///< Dispatches done.
    worker_split workers;
    const int64_t *constants = nullptr;
  };
  /// Calls `emit(range_item)` for each range of dispatch `d` (dispatch.h,
  /// "Ranges"), SME ranges first; `whole`: one SME and one CPU range.
  template <typename F>
  void for_each_range(uint32_t d, const worker_split &workers, bool whole, F &&emit) const;
  /// Makes dispatch `d` ready on `worker_id`: its ranges go to that worker's
  /// inline list (small dispatches) or the queues, or it finishes at once
  /// when it has no tiles (and so on for its dependents). Returns the
  /// dispatches finished. Under the mutex.
  uint32_t make_ready(uint32_t d, int worker_id);
  /// A range finished on `worker_id`: counts down its dispatch and, when
  /// that was its last range, the dispatch's dependents. Returns the
  /// dispatches finished. Under the mutex.
  uint32_t finish_range(const range_item &item, int worker_id);
  /// Publishes the queued ranges to the pool (once the job runs). Under the
  /// mutex, so entries are published in the order they were written.
  void publish_queued();
  /// Finishes `item` on `worker_id` and calls the inline ranges that
  /// brings, until none is left; returns the dispatches finished. Touches
  /// nothing of the program after its last unlock when that is zero.
  uint64_t finish_and_run_inline(range_item item, int worker_id);
  static uint64_t run_queued_item(void *self, int lane, uint32_t index, int worker_id);
  static uint64_t start_job(void *self);
  void call_kernel(const range_item &item, int worker_id) const;
  /// Adds a kernel call's duration and tiles to its dispatch's timing.
  void add_timing(const range_item &item, int64_t start_ns, int64_t end_ns) const;
  /// Marks the small dispatches of this run (sched_->small, by the work
  /// proxy of the file comment over buffer_sizes_); true when all are.
  bool classify_dispatches();

  const smepilot_rt_dispatch_table *table_ = nullptr;
  std::string phase_name_;
  std::unique_ptr<std::byte[], arena_deleter> arena_;
  size_t arena_bytes_ = 0;
  int arena_allocations_ = 0;
  int sme_workers_ = 0;
  size_t inline_bytes_;
  bool last_in_order_ = false;
  dispatch_trace *trace_ = nullptr;
  std::vector<dispatch_plan> plans_; ///< One per dispatch.
  /// Per dispatch, the last run's work proxy (bytes).
  std::vector<double> work_bytes_;
  /// Timing (set_timing): per dispatch, sme_ns, cpu_ns, sme_tiles,
  /// cpu_tiles, first start, last end (kTimingCounters), added to by the
  /// workers; a copy for last_run_timing(); which dispatches are timed.
  static constexpr size_t kTimingCounters = 6;
  bool timing_ = false;
  std::vector<uint8_t> timed_;
  int64_t (*clock_ns_)() = nullptr;
  std::unique_ptr<std::atomic<int64_t>[]> timing_counters_;
  mutable std::vector<dispatch_timing> timing_copy_;
  // Per-run scratch, sized at creation.
  std::vector<void *> buffer_ptrs_;   ///< One per buffer.
  std::vector<void *> binding_ptrs_;  ///< One per binding: its buffer's pointer + its offset.
  std::vector<size_t> temp_offsets_;  ///< One per temporary, into the arena.
  std::vector<int64_t> tile_counts_;  ///< One per dispatch.
  std::vector<int64_t> buffer_sizes_; ///< One per buffer, this run; -1: unknown.
  std::vector<uint32_t> binders_;     ///< Per buffer: bindings of it in the table.
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
