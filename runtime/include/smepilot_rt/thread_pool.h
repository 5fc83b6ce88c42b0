// SMEPilot runtime: a fixed pool of worker threads that run jobs of claimed
// items, and a blocking parallel_for built on them.
//
// A job is a set of items in two lanes. The submitting thread publishes how
// many items each lane holds; more may be published while the job runs (by
// whoever runs one of its items: the dispatch executor publishes the ranges
// of a dispatch when its deps finish). Items are *claimed*, never assigned:
// whichever worker is running takes the next unclaimed item (an atomic
// compare-and-swap on a per-lane word), and the submitting thread takes part
// as worker 0. Lane 1 is for workers [0, lane1_workers) only, which take it
// first (the executor's matrix-unit workers and their SME ranges); lane 0 is
// for everyone. Each item returns how many of the job's *units* it
// completed, and the job is over when the units reach the job's total: never
// "when every worker has checked in". So a worker the OS has descheduled
// (another process on its core) delays a job only while it holds an item it
// claimed; one that wakes after the job is over finds nothing to claim and
// goes back to sleep.
//
// Why late workers are harmless: every item and every job field is read only
// after a successful claim, and a job cannot end while one of its items is
// claimed and unfinished, so the submitter cannot have moved on to the next
// job. The lane words carry the job's generation (upper 32 bits) beside the
// count (lower 32 bits), so a claim against an old job fails. (A thread
// would have to stall between its load and its compare-and-swap for exactly
// 2^32 jobs for an old claim to succeed.)
//
// parallel_for(n, grain, fn) is a job whose items are the chunks of at most
// `grain` tasks of [0, n), one unit each. Which worker runs which chunk
// varies from run to run: callers that need results independent of the
// thread count must make each task's result independent of where it runs
// (never split one reduction across tasks). The worker id passed to a task
// (0..n_threads-1) is the thread that runs it (0: the submitter), so it
// selects per-worker scratch memory safely. A parallel_for called from
// inside a task runs inline on the calling worker, with that worker's id.
//
// Idle workers spin for a short, time-bounded while (spin_wait.h: 20 us,
// yielding after 5 us; decode steps issue jobs back to back) and then block
// on a condition variable, so an idle pool burns no CPU and a busy machine
// gets its cores back; whoever publishes items wakes blocked workers, and
// the submitter waits for the end of its job the same way.
#pragma once

#include "smepilot_rt/status.h"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace smepilot::rt {

class thread_pool {
public:
  /// Runs `fn(ctx, task_begin, task_end, worker_id)`; the C form of a task.
  using range_fn = void (*)(void *ctx, int64_t begin, int64_t end, int worker_id);
  /// Runs item `index` of `lane` of the current job on `worker_id` and
  /// returns the units it completed (job).
  using item_fn = uint64_t (*)(void *ctx, int lane, uint32_t index, int worker_id);
  /// Called once on the submitting thread (worker 0) right after a job is
  /// published (job); returns the units it completed.
  using start_fn = uint64_t (*)(void *ctx);

  /// A pool of `n_threads` workers in total: the calling thread plus
  /// `n_threads - 1` background threads. Values below 1 mean 1. The system
  /// may refuse a thread (a thread or address-space limit): the pool then
  /// runs with the threads it got (at least the calling one) and
  /// start_error() says which was refused and why; create() makes that an
  /// error.
  explicit thread_pool(int n_threads);
  /// A pool of exactly `n_threads` workers, or an error naming the thread
  /// the system refused and why ("cannot start thread 37 of 300: Resource
  /// temporarily unavailable"), with `hint` appended ("; lower -t").
  static result<std::unique_ptr<thread_pool>> create(int n_threads, const std::string &hint = "");
  ~thread_pool();
  thread_pool(const thread_pool &) = delete;
  thread_pool &operator=(const thread_pool &) = delete;

  /// "" when every thread asked for started, else "cannot start thread 37 of
  /// 300: Resource temporarily unavailable".
  const std::string &start_error() const { return start_error_; }

  /// Number of workers, including the thread that calls parallel_for.
  int n_threads() const { return n_threads_; }

  /// The worker id of the pool task this thread is running (of any pool),
  /// or -1 outside any task.
  static int current_worker();

  /// Calls `fn(begin, end, worker_id)` for consecutive chunks covering
  /// [0, n_tasks), each at most `grain` tasks long (grain < 1 means 1), and
  /// returns when all have run. Must not be called concurrently from two
  /// threads outside the pool.
  template <typename F> void parallel_for(int64_t n_tasks, int64_t grain, F &&fn) {
    using fn_t = std::remove_reference_t<F>;
    run(
        n_tasks, grain,
        [](void *ctx, int64_t b, int64_t e, int w) { (*static_cast<fn_t *>(ctx))(b, e, w); },
        const_cast<void *>(static_cast<const void *>(&fn)));
  }

  /// parallel_for with a grain giving each worker about four chunks.
  template <typename F> void parallel_for(int64_t n_tasks, F &&fn) {
    parallel_for(n_tasks, default_grain(n_tasks), std::forward<F>(fn));
  }

  /// The C form of parallel_for.
  void run(int64_t n_tasks, int64_t grain, range_fn fn, void *ctx);

  int64_t default_grain(int64_t n_tasks) const;

  /// Runs a job (file comment): `ready0` and `ready1` items are published in
  /// lanes 0 and 1, `start(ctx)` (if not null) runs on this thread, and the
  /// call returns when items and `start` have completed `total_units` units.
  /// Lane 1 is claimed by workers [0, lane1_workers) only. Must be called
  /// from outside any pool task, never concurrently from two threads.
  void run_job(item_fn fn, start_fn start, void *ctx, uint64_t total_units, int lane1_workers,
               uint32_t ready0, uint32_t ready1);
  /// Publishes `count` more items in `lane` of the running job and wakes
  /// blocked workers. Only from inside that job (an item or `start`), and
  /// in the order the items were written.
  void publish(int lane, uint32_t count);

private:
  struct alignas(64) lane_words {
    std::atomic<uint64_t> claimed{0};               ///< generation << 32 | items claimed
    alignas(64) std::atomic<uint64_t> published{0}; ///< generation << 32 | items published
  };

  void worker_main(int worker_id);
  /// Claims an item this worker may take; false when there is none.
  bool try_claim(int worker_id, int &lane, uint32_t &index);
  /// Whether an item this worker may take is published and unclaimed.
  bool claimable(int worker_id) const;
  /// Runs a claimed item and counts its units.
  void run_claimed(int worker_id, int lane, uint32_t index);
  void add_units(uint64_t units, uint64_t total);
  void wake_sleepers();

  int n_threads_ = 1;
  std::string start_error_;
  std::vector<std::thread> threads_;

  lane_words lanes_[2];
  // The current job. Written by the submitter before the lane words of its
  // generation are stored (release); read by others only after a claim.
  item_fn job_fn_ = nullptr;
  void *job_ctx_ = nullptr;
  uint64_t job_total_ = 0;
  std::atomic<int> lane1_workers_{0}; ///< Read before a claim: see try_claim.
  uint32_t generation_ = 0;           ///< Only the submitter touches it.
  alignas(64) std::atomic<uint64_t> units_done_{0};

  std::mutex mutex_;
  std::condition_variable wake_;
  std::atomic<int> sleepers_{0}; ///< Threads blocked (or about to) on wake_.
  std::atomic<bool> stop_{false};
};

} // namespace smepilot::rt
