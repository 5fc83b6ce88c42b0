// SMEPilot runtime (internal): the bounded spin before a thread blocks.
//
// A waiting worker first spins, because the next piece of work is usually
// published within microseconds and a futex wake-up costs more than that; but
// only for a bounded *time* (a count of pause instructions is not a time:
// x86 PAUSE takes from ~10 to ~150 cycles depending on the core), so that on
// a busy machine a waiting thread gives its core back quickly. No
// sched_yield in the loop: when another process wants the core, blocking is
// what lets it run.
#pragma once

#include <chrono>
#include <cstdint>

namespace smepilot::rt {

/// How long a waiting thread spins before it blocks.
constexpr int64_t kSpinNanoseconds = 20'000;

inline void cpu_relax_hint() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

/// Spins until `done()` is true (returns true) or kSpinNanoseconds have
/// passed (returns false). Reads the clock every 32 iterations.
template <typename Pred> bool spin_until(Pred &&done) {
  using clock = std::chrono::steady_clock;
  const clock::time_point deadline = clock::now() + std::chrono::nanoseconds(kSpinNanoseconds);
  for (unsigned i = 1;; ++i) {
    if (done())
      return true;
    cpu_relax_hint();
    if ((i & 31) == 0 && clock::now() >= deadline)
      return done();
  }
}

} // namespace smepilot::rt
