// Test helper: stalls one thread of this process for a while, as if the OS
// had descheduled it (another process busy on its core), by sending it a
// signal whose handler sleeps. Used to check that a pool job or a dispatch
// run does not wait for a worker that holds no work.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <ctime>
#include <thread>

#include <sys/syscall.h>
#include <unistd.h>

namespace smepilot::rt::test_stall {

/// 0: idle, 1: a thread is inside the handler, 2: it has left.
inline std::atomic<int> g_state{0};
inline std::atomic<long> g_stall_ms{0};

inline void stall_handler(int) {
  g_state.store(1);
  const long ms = g_stall_ms.load();
  timespec ts{ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0) {
  }
  g_state.store(2);
}

inline pid_t this_tid() { return pid_t(::syscall(SYS_gettid)); }

/// Makes thread `tid` sleep `ms` milliseconds in a signal handler; returns
/// once it is inside the handler (false after 5 s without).
inline bool stall_thread(pid_t tid, long ms) {
  struct sigaction sa{};
  sa.sa_handler = stall_handler;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  if (::sigaction(SIGUSR1, &sa, nullptr) != 0)
    return false;
  g_stall_ms.store(ms);
  g_state.store(0);
  if (::syscall(SYS_tgkill, ::getpid(), tid, SIGUSR1) != 0)
    return false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (g_state.load() == 0) {
    if (std::chrono::steady_clock::now() > deadline)
      return false;
    std::this_thread::yield();
  }
  return true;
}

/// Waits until the stalled thread has left the handler.
inline void wait_stall_over() {
  while (g_state.load() == 1)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
}

} // namespace smepilot::rt::test_stall
