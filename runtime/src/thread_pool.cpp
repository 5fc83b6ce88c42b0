// SMEPilot runtime: thread pool (see thread_pool.h for the contract).
//
// Protocol. The submitting thread publishes the job (function, context, task
// count, grain), resets the task counter, sets `workers_busy_` to the number of
// background workers and bumps `generation_` under the mutex, then wakes the
// workers. Every worker (the submitter included) claims chunks with
// fetch_add on `next_task_` until the space is exhausted. Each background
// worker then decrements `workers_busy_`; the last one wakes the submitter,
// which has been spinning briefly (spin_wait.h: at most kSpinNanoseconds) and
// then blocking on `done_cv_`. Because the
// submitter waits for every background worker to check in, no worker can still
// be reading the job when the next one is published.
#include "smepilot_rt/thread_pool.h"

#include "spin_wait.h"

#include <algorithm>
#include <string>
#include <system_error>

namespace smepilot::rt {

namespace {

/// The worker id of the task this thread is running, or -1 outside any task.
/// A nested parallel_for runs inline with this id (so per-worker scratch
/// stays private) instead of deadlocking on the busy pool.
thread_local int t_worker_id = -1;

} // namespace

thread_pool::thread_pool(int n_threads) : n_threads_(std::max(1, n_threads)) {
  const int wanted = n_threads_;
  threads_.reserve(size_t(wanted - 1));
  for (int i = 1; i < wanted; ++i) {
    // std::thread reports a refused thread (EAGAIN: a thread or memory
    // limit) as std::system_error; nothing else is thrown here.
    try {
      threads_.emplace_back([this, i] { worker_main(i); });
    } catch (const std::system_error &e) {
      n_threads_ = i; // workers 0..i-1 exist; worker ids stay below n_threads_
      start_error_ = "cannot start thread " + std::to_string(i + 1) + " of " +
                     std::to_string(wanted) + ": " + e.code().message();
      break;
    }
  }
}

result<std::unique_ptr<thread_pool>> thread_pool::create(int n_threads, const std::string &hint) {
  if (n_threads < 1)
    return status::error("invalid thread count " + std::to_string(n_threads) +
                         " (must be at least 1)" + hint);
  auto pool = std::make_unique<thread_pool>(n_threads);
  if (!pool->start_error().empty())
    return status::error(pool->start_error() + hint); // the destructor joins the others
  return pool;
}

thread_pool::~thread_pool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  work_cv_.notify_all();
  for (std::thread &t : threads_)
    t.join();
}

int64_t thread_pool::default_grain(int64_t n_tasks) const {
  int64_t chunks = int64_t(n_threads_) * 4;
  return std::max<int64_t>(1, (n_tasks + chunks - 1) / chunks);
}

void thread_pool::run_chunks(int worker_id) {
  const int64_t n = job_n_, grain = job_grain_;
  for (;;) {
    int64_t begin = next_task_.fetch_add(grain, std::memory_order_relaxed);
    if (begin >= n)
      break;
    job_fn_(job_ctx_, begin, std::min(n, begin + grain), worker_id);
  }
}

void thread_pool::run(int64_t n_tasks, int64_t grain, range_fn fn, void *ctx) {
  if (n_tasks <= 0)
    return;
  grain = std::max<int64_t>(1, grain);
  if (threads_.empty() || n_tasks <= grain || t_worker_id >= 0) {
    // Inline, still in chunks of `grain` so callers may size scratch by it.
    const int outer = t_worker_id;
    const int id = outer >= 0 ? outer : 0;
    t_worker_id = id;
    for (int64_t b = 0; b < n_tasks; b += grain)
      fn(ctx, b, std::min(n_tasks, b + grain), id);
    t_worker_id = outer;
    return;
  }

  job_fn_ = fn;
  job_ctx_ = ctx;
  job_n_ = n_tasks;
  job_grain_ = grain;
  next_task_.store(0, std::memory_order_relaxed);
  workers_busy_.store(int(threads_.size()), std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    generation_.fetch_add(1, std::memory_order_release);
  }
  work_cv_.notify_all();

  t_worker_id = 0;
  run_chunks(0);
  t_worker_id = -1;

  if (spin_until([this] { return workers_busy_.load(std::memory_order_acquire) == 0; }))
    return;
  std::unique_lock<std::mutex> lock(mutex_);
  done_cv_.wait(lock, [this] { return workers_busy_.load(std::memory_order_acquire) == 0; });
}

void thread_pool::worker_main(int worker_id) {
  t_worker_id = worker_id;
  uint64_t seen = 0;
  for (;;) {
    const bool have_job =
        spin_until([&] { return generation_.load(std::memory_order_acquire) != seen; });
    if (!have_job) {
      std::unique_lock<std::mutex> lock(mutex_);
      work_cv_.wait(lock,
                    [&] { return stop_ || generation_.load(std::memory_order_acquire) != seen; });
      if (stop_)
        return;
    }
    seen = generation_.load(std::memory_order_acquire);
    run_chunks(worker_id);
    if (workers_busy_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      std::lock_guard<std::mutex> lock(mutex_);
      done_cv_.notify_one();
    }
  }
}

} // namespace smepilot::rt
