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
// Execution (dispatch_program::run). The schedule is the simple correct one:
// dispatches run one after another in table order, each one split over all
// workers, and the next starts when every tile of the previous has finished.
// Dependencies only point backwards, so this order satisfies them. The
// opportunity it leaves: dispatches with no dependency path between them (SME
// QK^T of head h+1 and the CPU softmax of head h; the K and V projections)
// could overlap, each worker kind taking the ready dispatches it serves. The
// validated deps are exactly what such a dependency-counting scheduler needs;
// it replaces the loop in run() without changing the table or the kernels.
//
// Tiles of one dispatch are split into contiguous ranges, one kernel call per
// range:
//   cpu     [0, n) over the pool's n_threads workers;
//   sme     [0, n) as one call of the SME variant (one matrix unit);
//   collab  [0, split) as one call of the SME variant and [split, n) over the
//           other n_threads - 1 workers (all n_threads with one thread).
// Every tile is computed by exactly one call and kernels never reduce across
// tiles (abi.h), so results are independent of the thread count.
//
// Worker kinds. Today every worker is a vector-core (CPU) worker: the "SME
// range" is an ordinary task of the pool, which may run on any worker, and the
// SME variant must be callable from a normal thread (the host stand-ins are).
// The aarch64 path adds real matrix-unit workers: threads pinned to the cores
// that own the SME units, entering streaming mode with ZA enabled, to which the
// SME ranges are routed; the split already models one such worker.
//
// Temporaries live in one arena owned by the program, kept across runs and
// reallocated only when the constants of a run need more bytes than it has.
// A program therefore must not run concurrently with itself. Temporaries
// whose lives do not overlap share bytes: a temporary lives from the first
// dispatch binding it to the last, in table order (the order run() executes
// in; a scheduler that overlaps dispatches must place them by the deps
// instead). Each run places them, largest first, at the lowest offset that
// no temporary living at the same time occupies (or, when alignment gaps
// would make that larger, each in bytes of its own); the contents need not
// survive a temporary's last dispatch (abi.h: temporaries start
// uninitialised).
#pragma once

#include "smepilot_rt/abi.h"
#include "smepilot_rt/status.h"
#include "smepilot_rt/thread_pool.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace smepilot::rt {

/// How a collab dispatch's tiles are split: tiles [0, split) go to the SME
/// variant. Exact for any tile_count >= 0 (no intermediate overflow).
int64_t collab_split(int64_t tile_count, uint32_t sme_share, int64_t tile_granule);

/// A validated dispatch table with the state to run it (the temporaries'
/// arena). The table is not copied: it must outlive the program (tables are
/// static data of the compiled code).
class dispatch_program {
public:
  /// Validates `table`; the error names what is wrong and where.
  static result<dispatch_program> create(const smepilot_rt_dispatch_table *table);

  dispatch_program(dispatch_program &&) noexcept;
  dispatch_program &operator=(dispatch_program &&) noexcept;
  ~dispatch_program();

  /// Runs every dispatch once. `arguments` holds one non-null base pointer
  /// per argument buffer (table->n_arguments), `constants` exactly
  /// table->n_constants values. Fails, before any kernel runs, when the counts
  /// differ, an argument is null, or a tile count or temporary size evaluates
  /// negative or overflows.
  status run(thread_pool &pool, std::span<void *const> arguments,
             std::span<const int64_t> constants);

  const smepilot_rt_dispatch_table &table() const { return *table_; }
  /// The phase name, or "(unnamed)".
  const std::string &phase_name() const { return phase_name_; }

  /// Bytes of the temporaries' arena (0 before the first run).
  size_t arena_bytes() const { return arena_bytes_; }
  /// Bytes the last run's temporaries took in the arena, and what they would
  /// take each in bytes of its own (the sum of their aligned sizes).
  size_t last_run_temporary_bytes() const { return last_packed_bytes_; }
  size_t last_run_unshared_bytes() const { return last_unshared_bytes_; }
  /// How many times the arena has been (re)allocated.
  int arena_allocations() const { return arena_allocations_; }

private:
  explicit dispatch_program(const smepilot_rt_dispatch_table *table);
  status ensure_arena(size_t bytes);

  struct arena_deleter {
    void operator()(std::byte *p) const;
  };

  const smepilot_rt_dispatch_table *table_ = nullptr;
  std::string phase_name_;
  std::unique_ptr<std::byte[], arena_deleter> arena_;
  size_t arena_bytes_ = 0;
  int arena_allocations_ = 0;
  // Per-run scratch, sized at creation.
  std::vector<void *> buffer_ptrs_;  ///< One per buffer.
  std::vector<void *> binding_ptrs_; ///< One per binding: buffer_ptrs_[binding.buffer].
  std::vector<size_t> temp_offsets_; ///< One per temporary, into the arena.
  std::vector<int64_t> tile_counts_; ///< One per dispatch.
  /// Per temporary: the temporaries whose lives overlap its own (fixed by
  /// the table), and this run's size; placement scratch.
  std::vector<std::vector<uint32_t>> temp_overlaps_;
  std::vector<size_t> temp_sizes_;
  std::vector<size_t> temp_seq_offsets_; ///< Each in bytes of its own, in order.
  std::vector<uint32_t> temp_order_;
  std::vector<char> temp_placed_;
  std::vector<char> temp_bound_; ///< Some dispatch binds it.
  std::vector<std::pair<size_t, size_t>> busy_;
  size_t last_packed_bytes_ = 0, last_unshared_bytes_ = 0;
  /// Places the temporaries of temp_sizes_ (temp_offsets_); returns the
  /// bytes they span.
  size_t place_temporaries();
};

} // namespace smepilot::rt
