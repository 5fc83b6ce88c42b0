#include "smepilot_rt/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <thread>
#include <vector>

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
