#include "smepilot_rt/thread_pool.h"

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
