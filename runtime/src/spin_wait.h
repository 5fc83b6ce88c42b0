// SMEPilot runtime (internal): the bounded spin before a thread blocks.
//
// A waiting worker first spins, because the next piece of work is usually
// published within microseconds and a futex wake-up costs more than that; but
// only for a bounded *time* (a count of pause instructions is not a time:
// x86 PAUSE takes from ~10 to ~150 cycles depending on the core), so that on
// a busy machine a waiting thread gives its core back quickly. After the
// first quarter of the bound the spin also calls sched_yield between polls:
// when more threads are runnable than there are cores (another process, or
// -t above the core count), the thread whose work we wait for may be queued
// behind us on this core, and yielding lets it run. With nothing else
// runnable sched_yield returns at once. Blocking after the bound is what
// gives a busy core back for good.
#pragma once

#include <chrono>
#include <cstdint>

#include <sched.h>

namespace smepilot::rt {

/// How long a waiting thread spins (and yields) before it blocks.
constexpr int64_t kSpinNanoseconds = 20'000;
/// How long it spins on pause alone before it starts to yield.
constexpr int64_t kPauseOnlyNanoseconds = kSpinNanoseconds / 4;

inline void cpu_relax_hint() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

/// Spins until `done()` is true (returns true) or kSpinNanoseconds have
/// passed (returns false). Reads the clock every 32 polls while pausing
/// only, then at every poll, each followed by a sched_yield.
template <typename Pred> bool spin_until(Pred &&done) {
  using clock = std::chrono::steady_clock;
  const clock::time_point start = clock::now();
  const clock::time_point yield_from = start + std::chrono::nanoseconds(kPauseOnlyNanoseconds);
  const clock::time_point deadline = start + std::chrono::nanoseconds(kSpinNanoseconds);
  for (unsigned i = 1;; ++i) {
    if (done())
      return true;
    cpu_relax_hint();
    if ((i & 31) == 0 && clock::now() >= yield_from)
      break;
  }
  for (;;) {
    if (done())
      return true;
    ::sched_yield();
    if (clock::now() >= deadline)
      return done();
  }
}

} // namespace smepilot::rt
