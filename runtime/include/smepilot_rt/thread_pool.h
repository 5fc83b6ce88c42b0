// SMEPilot runtime: a fixed pool of worker threads with a blocking parallel_for.
//
// The pool runs one job at a time: `parallel_for(n, grain, fn)` splits the task
// space [0, n) into chunks of at most `grain` tasks, hands them out to the
// workers (the calling thread takes part as worker 0) and returns when every
// chunk has run. Chunks are claimed dynamically (an atomic counter), so which
// worker runs which chunk varies from run to run: callers that need results
// independent of the thread count must make each task's result independent of
// where it runs (never split one reduction across tasks). The reference
// executor does exactly that. The dispatch executor (dispatch.h) submits one
// job per run of a table, `parallel_for(n_threads, 1, worker_loop)`: each
// task is one worker's scheduling loop, which takes ranges of ready
// dispatches until the table is done; `worker_id` (0..n_threads-1) selects
// per-worker scratch memory (and names the worker in a trace).
//
// Idle workers spin for a short, time-bounded while (spin_wait.h: 20 us;
// decode steps issue jobs back to back) and then block on a condition
// variable, so an idle pool burns no CPU and a busy machine gets its cores
// back; the submitting thread waits for the workers the same way. A
// parallel_for called from inside a task runs inline on the calling worker,
// with that worker's id (no nested parallelism, no deadlock, no sharing of
// per-worker scratch).
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

private:
  void worker_main(int worker_id);
  void run_chunks(int worker_id);

  int n_threads_ = 1;
  std::string start_error_;
  std::vector<std::thread> threads_;

  // The current job. Written by the submitting thread before `generation_`
  // is bumped (release), read by workers after they see the new generation.
  range_fn job_fn_ = nullptr;
  void *job_ctx_ = nullptr;
  int64_t job_n_ = 0;
  int64_t job_grain_ = 1;
  std::atomic<int64_t> next_task_{0};
  std::atomic<int> workers_busy_{0}; ///< Background workers not yet done.

  std::mutex mutex_;
  std::condition_variable work_cv_;
  std::condition_variable done_cv_;
  std::atomic<uint64_t> generation_{0};
  bool stop_ = false; ///< Guarded by mutex_.
};

} // namespace smepilot::rt
