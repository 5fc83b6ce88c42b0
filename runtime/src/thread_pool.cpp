// SMEPilot runtime: thread pool (see thread_pool.h for the contract).
//
// Protocol. A job's fields (item function, context, total units, who may
// take lane 1) are plain data the submitter writes while no job runs; it then
// stores each lane's `claimed` word (generation, 0) and `published` word
// (generation, ready) with release, and wakes blocked workers. A worker
// claims by loading `claimed` then `published` (acquire): same generation and
// claimed < published means item `claimed` exists in the current job; a
// compare-and-swap of `claimed` to claimed + 1 makes it this worker's. Only
// then does it read the job's fields: the job cannot end before that item is
// done, so they stay put (the CAS reads a value in the release sequence of
// the submitter's store, so it sees them). After running the item it adds
// the units the item returned to `units_done_`; whoever brings it to the
// job's total wakes the submitter. Publishing more items is a fetch_add on
// `published` by a thread that holds an item (or the submitter's start
// function), so the job is live.
//
// Sleeping. A thread with nothing to claim spins (spin_wait.h), then takes
// the mutex, counts itself in `sleepers_` and re-checks before it waits;
// publishers and the last finisher update their atomic first and then wake
// the condition variable if `sleepers_` is non-zero. Both sides are seq_cst,
// so either the sleeper's re-check sees the update or the waker sees the
// sleeper (and then takes the mutex, so the notify cannot fall between the
// re-check and the wait).
#include "smepilot_rt/thread_pool.h"

#include "spin_wait.h"

#include <algorithm>
#include <limits>
#include <string>
#include <system_error>

namespace smepilot::rt {

namespace {

/// The worker id of the task this thread is running, or -1 outside any task.
/// A nested parallel_for runs inline with this id (so per-worker scratch
/// stays private) instead of deadlocking on the busy pool.
thread_local int t_worker_id = -1;

constexpr uint64_t kCountMask = 0xFFFF'FFFFu;

uint32_t generation_of(uint64_t word) { return uint32_t(word >> 32); }
uint32_t count_of(uint64_t word) { return uint32_t(word & kCountMask); }

/// The items of a parallel_for: chunk `first_chunk + index` of `grain` tasks.
struct chunk_job {
  thread_pool::range_fn fn;
  void *ctx;
  int64_t n, grain, first_chunk;

  static uint64_t run_item(void *p, int, uint32_t index, int worker_id) {
    const chunk_job &j = *static_cast<const chunk_job *>(p);
    const int64_t begin = (j.first_chunk + int64_t(index)) * j.grain;
    j.fn(j.ctx, begin, std::min(j.n, begin + j.grain), worker_id);
    return 1;
  }
};

} // namespace

int thread_pool::current_worker() { return t_worker_id; }

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
    stop_.store(true, std::memory_order_seq_cst);
  }
  wake_.notify_all();
  for (std::thread &t : threads_)
    t.join();
}

int64_t thread_pool::default_grain(int64_t n_tasks) const {
  int64_t chunks = int64_t(n_threads_) * 4;
  return std::max<int64_t>(1, (n_tasks + chunks - 1) / chunks);
}

bool thread_pool::claimable(int worker_id) const {
  for (int lane = 0; lane < 2; ++lane) {
    if (lane == 1 && worker_id >= lane1_workers_.load(std::memory_order_relaxed))
      continue;
    const uint64_t c = lanes_[lane].claimed.load(std::memory_order_acquire);
    const uint64_t p = lanes_[lane].published.load(std::memory_order_acquire);
    if (generation_of(c) == generation_of(p) && count_of(c) < count_of(p))
      return true;
  }
  return false;
}

bool thread_pool::try_claim(int worker_id, int &lane_out, uint32_t &index) {
  // Lane 1 first: its workers prefer it (thread_pool.h).
  for (int lane = 1; lane >= 0; --lane) {
    lane_words &l = lanes_[lane];
    uint64_t c = l.claimed.load(std::memory_order_acquire);
    for (;;) {
      const uint64_t p = l.published.load(std::memory_order_acquire);
      if (generation_of(c) != generation_of(p) || count_of(c) >= count_of(p))
        break;
      // Read after `c`, so it is this generation's value or later; and if
      // the CAS below succeeds the job is still live, so not later.
      if (lane == 1 && worker_id >= lane1_workers_.load(std::memory_order_relaxed))
        break;
      if (l.claimed.compare_exchange_weak(c, c + 1, std::memory_order_acq_rel,
                                          std::memory_order_acquire)) {
        lane_out = lane;
        index = count_of(c);
        return true;
      }
    }
  }
  return false;
}

void thread_pool::wake_sleepers() {
  if (sleepers_.load(std::memory_order_seq_cst) == 0)
    return;
  std::lock_guard<std::mutex> lock(mutex_);
  wake_.notify_all();
}

void thread_pool::add_units(uint64_t units, uint64_t total) {
  if (units == 0)
    return;
  if (units_done_.fetch_add(units, std::memory_order_seq_cst) + units == total)
    wake_sleepers();
}

void thread_pool::run_claimed(int worker_id, int lane, uint32_t index) {
  // The job is live while this item is unfinished: its fields are stable.
  const uint64_t total = job_total_;
  add_units(job_fn_(job_ctx_, lane, index, worker_id), total);
}

void thread_pool::publish(int lane, uint32_t count) {
  if (count == 0)
    return;
  lanes_[lane].published.fetch_add(count, std::memory_order_seq_cst);
  wake_sleepers();
}

void thread_pool::run_job(item_fn fn, start_fn start, void *ctx, uint64_t total_units,
                          int lane1_workers, uint32_t ready0, uint32_t ready1) {
  if (total_units == 0)
    return;
  job_fn_ = fn;
  job_ctx_ = ctx;
  job_total_ = total_units;
  lane1_workers_.store(lane1_workers, std::memory_order_relaxed);
  units_done_.store(0, std::memory_order_relaxed);
  const uint64_t gen = uint64_t(++generation_) << 32;
  for (lane_words &l : lanes_)
    l.claimed.store(gen, std::memory_order_release);
  lanes_[0].published.store(gen | ready0, std::memory_order_seq_cst);
  lanes_[1].published.store(gen | ready1, std::memory_order_seq_cst);
  if (ready0 + uint64_t(ready1) > 0)
    wake_sleepers();

  t_worker_id = 0;
  if (start)
    add_units(start(ctx), total_units);
  const auto over = [&] {
    return units_done_.load(std::memory_order_seq_cst) == total_units || claimable(0);
  };
  while (units_done_.load(std::memory_order_acquire) != total_units) {
    int lane = 0;
    uint32_t index = 0;
    if (try_claim(0, lane, index)) {
      run_claimed(0, lane, index);
      continue;
    }
    if (spin_until(over))
      continue;
    std::unique_lock<std::mutex> lock(mutex_);
    sleepers_.fetch_add(1, std::memory_order_seq_cst);
    wake_.wait(lock, over);
    sleepers_.fetch_sub(1, std::memory_order_seq_cst);
  }
  t_worker_id = -1;
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
  // One job per at most 2^32 - 1 chunks (the width of a lane's count).
  const int64_t n_chunks = (n_tasks - 1) / grain + 1;
  constexpr int64_t kMaxChunks = std::numeric_limits<uint32_t>::max();
  for (int64_t first = 0; first < n_chunks; first += kMaxChunks) {
    const int64_t count = std::min(kMaxChunks, n_chunks - first);
    chunk_job job{fn, ctx, n_tasks, grain, first};
    run_job(&chunk_job::run_item, nullptr, &job, uint64_t(count), 0, uint32_t(count), 0);
  }
}

void thread_pool::worker_main(int worker_id) {
  t_worker_id = worker_id;
  const auto wanted = [&] { return stop_.load(std::memory_order_seq_cst) || claimable(worker_id); };
  for (;;) {
    int lane = 0;
    uint32_t index = 0;
    if (try_claim(worker_id, lane, index)) {
      run_claimed(worker_id, lane, index);
      continue;
    }
    if (stop_.load(std::memory_order_acquire))
      return;
    if (spin_until(wanted))
      continue;
    std::unique_lock<std::mutex> lock(mutex_);
    sleepers_.fetch_add(1, std::memory_order_seq_cst);
    wake_.wait(lock, wanted);
    sleepers_.fetch_sub(1, std::memory_order_seq_cst);
  }
}

} // namespace smepilot::rt
