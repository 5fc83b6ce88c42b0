#include "smepilot_rt/thread_pool.h"

#include "stall_thread.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <thread>
#include <vector>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>

using smepilot::rt::thread_pool;

TEST(ThreadPool, EveryTaskRunsExactlyOnce) {
  for (int n_threads : {1, 2, 3, 8}) {
    thread_pool pool(n_threads);
    EXPECT_EQ(pool.n_threads(), n_threads);
    for (int64_t n : {0, 1, 7, 64, 1000}) {
      for (int64_t grain : {1, 3, 64, 5000}) {
        std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
        std::atomic<int> bad_worker{0}, bad_range{0};
        pool.parallel_for(n, grain, [&](int64_t b, int64_t e, int w) {
          if (w < 0 || w >= n_threads)
            bad_worker++;
          if (!(b < e && e - b <= grain && e <= n))
            bad_range++;
          for (int64_t i = b; i < e; ++i)
            hits[size_t(i)]++;
        });
        EXPECT_EQ(bad_worker.load(), 0);
        EXPECT_EQ(bad_range.load(), 0);
        for (int64_t i = 0; i < n; ++i)
          ASSERT_EQ(hits[size_t(i)].load(), 1)
              << "task " << i << " n " << n << " grain " << grain << " threads " << n_threads;
      }
    }
  }
}

TEST(ThreadPool, UsesSeveralWorkers) {
  thread_pool pool(3);
  std::atomic<int> seen_mask{0};
  // Tasks that wait a little so the background workers get a share.
  pool.parallel_for(64, 1, [&](int64_t, int64_t, int w) {
    seen_mask |= 1 << w;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  });
  EXPECT_EQ(seen_mask.load(), 0b111);
}

TEST(ThreadPool, ManySmallJobsBackToBack) {
  thread_pool pool(3);
  int64_t total = 0;
  std::vector<int64_t> partial(3);
  for (int job = 0; job < 2000; ++job) {
    partial.assign(3, 0);
    pool.parallel_for(30, 1, [&](int64_t b, int64_t e, int w) {
      for (int64_t i = b; i < e; ++i)
        partial[size_t(w)] += i;
    });
    total += partial[0] + partial[1] + partial[2];
  }
  EXPECT_EQ(total, int64_t(2000) * (29 * 30 / 2));
}

TEST(ThreadPool, NestedParallelForRunsInlineOnTheSameWorker) {
  thread_pool pool(2);
  std::atomic<int64_t> sum{0};
  std::atomic<int> id_mismatch{0};
  pool.parallel_for(8, 1, [&](int64_t b, int64_t e, int outer) {
    for (int64_t i = b; i < e; ++i)
      pool.parallel_for(10, 2, [&](int64_t b2, int64_t e2, int inner) {
        id_mismatch += inner != outer;
        for (int64_t j = b2; j < e2; ++j)
          sum += i * 10 + j;
      });
  });
  EXPECT_EQ(sum.load(), 79 * 80 / 2);
  EXPECT_EQ(id_mismatch.load(), 0);
}

/// The thread id of worker `worker` of `pool`, found by running tasks that
/// sleep until that worker has taken one.
pid_t worker_tid(thread_pool &pool, int worker) {
  std::atomic<pid_t> tid{0};
  for (int attempt = 0; attempt < 100 && tid.load() == 0; ++attempt)
    pool.parallel_for(16, 1, [&](int64_t, int64_t, int w) {
      if (w == worker)
        tid.store(smepilot::rt::test_stall::this_tid());
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    });
  return tid.load();
}

/// A worker stalled while it holds no item (here: 2 s in a signal
/// handler, as if the OS had descheduled it behind a busy process) delays
/// no job: completion is "all items done", and the submitter takes every
/// item itself. The pool that waited for each worker to check in took the
/// whole stall for the first job.
TEST(ThreadPool, StalledIdleWorkerDoesNotDelayJobs) {
  namespace ts = smepilot::rt::test_stall;
  thread_pool pool(2);
  const pid_t tid = worker_tid(pool, 1);
  ASSERT_NE(tid, 0) << "worker 1 never ran a task";
  std::this_thread::sleep_for(std::chrono::milliseconds(50)); // let it go idle
  ASSERT_TRUE(ts::stall_thread(tid, 2000));
  const auto start = std::chrono::steady_clock::now();
  std::vector<int64_t> sums(2, 0);
  for (int job = 0; job < 50; ++job)
    pool.parallel_for(64, 1, [&](int64_t b, int64_t e, int w) {
      for (int64_t i = b; i < e; ++i)
        sums[size_t(w)] += i;
    });
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const bool still_stalled = ts::g_state.load() == 1;
  ts::wait_stall_over();
  EXPECT_EQ(sums[0] + sums[1], 50 * (63 * 64 / 2));
  EXPECT_EQ(sums[1], 0) << "worker 1 ran a task while stalled";
  // The jobs ended while the worker was still stalled: none waited for it
  // (under an emulator too, where 50 small jobs take far less than 2 s).
  EXPECT_TRUE(still_stalled) << "50 small jobs took " << seconds
                             << " s: they waited for the stalled worker";
}

/// run_job with two lanes: items publish more items while the job runs,
/// lane 1 items run on workers [0, lane1_workers) only, every item runs
/// once, and the job ends when the units reach the total.
struct lanes_job {
  thread_pool *pool;
  std::vector<std::atomic<int>> runs0, runs1;
  std::atomic<int> lane1_elsewhere{0};
  explicit lanes_job(size_t n) : runs0(n), runs1(n) {}

  static uint64_t item(void *p, int lane, uint32_t index, int worker) {
    lanes_job &j = *static_cast<lanes_job *>(p);
    if (lane == 1) {
      if (worker != 0)
        ++j.lane1_elsewhere;
      ++j.runs1[index];
      return 1;
    }
    ++j.runs0[index];
    // Item i of lane 0 publishes item i + 1 of each lane (the first item is
    // published by run_job), so items appear while others run.
    if (index + 1 < j.runs0.size()) {
      j.pool->publish(0, 1);
      j.pool->publish(1, 1);
    }
    return 1;
  }
  static uint64_t start(void *p) {
    // Lane 1's first item, from the submitter.
    static_cast<lanes_job *>(p)->pool->publish(1, 1);
    return 0;
  }
};

TEST(ThreadPool, JobsWithLanesAndLatePublishing) {
  for (int n_threads : {1, 2, 3}) {
    thread_pool pool(n_threads);
    for (int rep = 0; rep < 50; ++rep) {
      lanes_job j(40);
      j.pool = &pool;
      pool.run_job(&lanes_job::item, &lanes_job::start, &j, 80, 1, 1, 0);
      for (size_t i = 0; i < 40; ++i) {
        ASSERT_EQ(j.runs0[i].load(), 1) << "lane 0 item " << i;
        ASSERT_EQ(j.runs1[i].load(), 1) << "lane 1 item " << i;
      }
      EXPECT_EQ(j.lane1_elsewhere.load(), 0) << "a lane 1 item ran on a worker not allowed it";
    }
  }
}

TEST(ThreadPool, IdleWorkersDoNotSpin) {
  thread_pool pool(3);
  pool.parallel_for(100, 1, [](int64_t, int64_t, int) {});
  std::clock_t cpu0 = std::clock();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  double cpu_seconds = double(std::clock() - cpu0) / CLOCKS_PER_SEC;
  // Two spinning workers would use ~0.6 s of CPU time here.
  EXPECT_LT(cpu_seconds, 0.1);
}

TEST(ThreadPool, CreateGivesExactlyTheThreadsAskedFor) {
  auto pool = thread_pool::create(3);
  ASSERT_TRUE(pool.is_ok()) << pool.error().message();
  EXPECT_EQ((*pool)->n_threads(), 3);
  EXPECT_TRUE((*pool)->start_error().empty());
  auto bad = thread_pool::create(0, "; lower -t");
  ASSERT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.error().message(), "invalid thread count 0 (must be at least 1); lower -t");
}

// A thread the system refuses (here: no address space left for its stack)
// is an error naming the thread, not an uncaught std::system_error. Runs in
// a child process, which alone gets the limit.
TEST(ThreadPool, RefusedThreadIsAnError) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer needs address space of its own";
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
  GTEST_SKIP() << "AddressSanitizer needs address space of its own";
#elif __has_feature(thread_sanitizer)
  GTEST_SKIP() << "ThreadSanitizer needs address space of its own";
#endif
#endif
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(fds[0]);
    // Room for the pool object, not for 63 thread stacks of several MiB.
    std::FILE *st = std::fopen("/proc/self/status", "r");
    unsigned long long vm_kb = 0;
    char line[256];
    while (st && std::fgets(line, sizeof line, st))
      if (std::sscanf(line, "VmSize: %llu kB", &vm_kb) == 1)
        break;
    if (st)
      std::fclose(st);
    struct rlimit rl;
    rl.rlim_cur = rl.rlim_max = rlim_t(vm_kb * 1024 + (16ull << 20));
    ::setrlimit(RLIMIT_AS, &rl);
    auto pool = thread_pool::create(64, "; lower -t");
    const std::string msg = pool ? std::string("OK") : pool.error().message();
    (void)!::write(fds[1], msg.data(), msg.size());
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string msg;
  char buf[512];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;)
    msg.append(buf, size_t(n));
  ::close(fds[0]);
  int wstatus = 0;
  ASSERT_EQ(::waitpid(pid, &wstatus, 0), pid);
  ASSERT_TRUE(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0)
      << "the child died (status " << wstatus << "): a refused thread aborted it";
  if (msg == "OK")
    GTEST_SKIP() << "RLIMIT_AS is not enforced here (an emulator?)";
  EXPECT_NE(msg.find("cannot start thread "), std::string::npos) << msg;
  EXPECT_NE(msg.find(" of 64: "), std::string::npos) << msg;
  EXPECT_NE(msg.find("; lower -t"), std::string::npos) << msg;
}
