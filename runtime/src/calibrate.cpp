// SMEPilot runtime: the calibration microbenchmarks (calibrate.h).
//
// Every kernel keeps a dozen independent accumulators in registers, so that
// the loop is bound by the units' throughput, not by an instruction's
// latency; the x86-64 kernels are compiled for their instruction set with a
// target attribute and run only when cpu_features says the CPU (and the OS)
// has it; the aarch64 ones are single instructions in inline assembly, named
// with .arch_extension so that the file builds for plain armv8-a. Each
// kernel first finds an iteration count that runs for a few milliseconds
// (doubling), then takes the best of several timed runs on every thread at
// once.
#include "smepilot_rt/calibrate.h"

#include "strformat.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#elif defined(__aarch64__)
#include <arm_neon.h>
#endif
#include <unistd.h>

#if defined(__aarch64__) && defined(__linux__)
// calibrate_aarch64.S: `iterations` rounds of four outer products (one per
// 32-bit ZA tile) in streaming mode. kind 0: fmopa (f32), 1: bfmopa (bf16
// pairs), 2: smopa (i8 quadruples).
extern "C" void smepilot_rt_calibrate_mopa(uint64_t iterations, int kind);
#endif

namespace smepilot::rt {
namespace {

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

/// Runs `body(thread index)` on `threads` threads that start together; the
/// time from the common start to the last one's end.
double run_on_threads(int threads, const std::function<void(int)> &body) {
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<double> ends(threads, 0);
  clock_type::time_point start;
  auto worker = [&](int t) {
    ready.fetch_add(1);
    while (!go.load(std::memory_order_acquire)) {
    }
    body(t);
    ends[t] = seconds_since(start);
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t)
    pool.emplace_back(worker, t);
  while (ready.load() != threads - 1) {
  }
  start = clock_type::now();
  go.store(true, std::memory_order_release);
  ready.fetch_add(1);
  body(0);
  ends[0] = seconds_since(start);
  for (std::thread &t : pool)
    t.join();
  return *std::max_element(ends.begin(), ends.end());
}

/// A kernel that does `iterations` rounds of work and returns a value that
/// depends on all of it (so nothing is optimized away).
using kernel = double (*)(int64_t iterations);

/// Where kernels' results go, so that no kernel is optimized away (atomic:
/// every thread stores to it).
std::atomic<double> sink{0};

void keep(double value) { sink.store(value, std::memory_order_relaxed); }

/// Giga-operations per second of `k`, which does `ops_per_iteration` operations
/// per iteration, run on `threads` threads at once: the iteration count is
/// doubled until one run takes `target_s`, then the best of `reps` runs.
double measure_rate(kernel k, double ops_per_iteration, int threads, double target_s,
                    int reps = 3) {
  int64_t iterations = 1024;
  for (;;) {
    auto t0 = clock_type::now();
    keep(k(iterations));
    if (seconds_since(t0) >= target_s || iterations > (int64_t(1) << 40))
      break;
    iterations *= 2;
  }
  double best = 0;
  for (int r = 0; r < reps; ++r) {
    double t = run_on_threads(threads, [&](int) { keep(k(iterations)); });
    if (t > 0)
      best = std::max(best, ops_per_iteration * double(iterations) * threads / t / 1e9);
  }
  return best;
}

// ---- clock -------------------------------------------------------------

/// Eight dependent adds per iteration: one per cycle.
double add_chain(int64_t iterations) {
  uint64_t x = 1, y = 3;
  for (int64_t i = 0; i < iterations; ++i) {
#if defined(__x86_64__)
    asm volatile("add %1, %0\n\tadd %1, %0\n\tadd %1, %0\n\tadd %1, %0\n\t"
                 "add %1, %0\n\tadd %1, %0\n\tadd %1, %0\n\tadd %1, %0"
                 : "+r"(x)
                 : "r"(y));
#elif defined(__aarch64__)
    asm volatile("add %0, %0, %1\n\tadd %0, %0, %1\n\tadd %0, %0, %1\n\t"
                 "add %0, %0, %1\n\tadd %0, %0, %1\n\tadd %0, %0, %1\n\t"
                 "add %0, %0, %1\n\tadd %0, %0, %1"
                 : "+r"(x)
                 : "r"(y));
#else
    x += y * 8;
#endif
  }
  return double(x);
}

// ---- vector kernels ----------------------------------------------------

constexpr int kAccumulators = 12;

#if defined(__x86_64__)
__attribute__((target("avx512f"))) double f32_avx512(int64_t iterations) {
  __m512 acc[kAccumulators];
  for (int j = 0; j < kAccumulators; ++j)
    acc[j] = _mm512_set1_ps(1.0f + 0.001f * j);
  const __m512 b = _mm512_set1_ps(0.999f), c = _mm512_set1_ps(0.001f);
  for (int64_t i = 0; i < iterations; ++i)
    for (int j = 0; j < kAccumulators; ++j)
      acc[j] = _mm512_fmadd_ps(acc[j], b, c);
  __m512 sum = acc[0];
  for (int j = 1; j < kAccumulators; ++j)
    sum = _mm512_add_ps(sum, acc[j]);
  return _mm512_reduce_add_ps(sum);
}

__attribute__((target("avx2,fma"))) double f32_avx2(int64_t iterations) {
  __m256 acc[kAccumulators];
  for (int j = 0; j < kAccumulators; ++j)
    acc[j] = _mm256_set1_ps(1.0f + 0.001f * j);
  const __m256 b = _mm256_set1_ps(0.999f), c = _mm256_set1_ps(0.001f);
  for (int64_t i = 0; i < iterations; ++i)
    for (int j = 0; j < kAccumulators; ++j)
      acc[j] = _mm256_fmadd_ps(acc[j], b, c);
  float out[8];
  __m256 sum = acc[0];
  for (int j = 1; j < kAccumulators; ++j)
    sum = _mm256_add_ps(sum, acc[j]);
  _mm256_storeu_ps(out, sum);
  return out[0];
}

/// SSE2 has no FMA: a multiply and an add, two FLOPs per lane.
double f32_sse2(int64_t iterations) {
  __m128 acc[kAccumulators];
  for (int j = 0; j < kAccumulators; ++j)
    acc[j] = _mm_set1_ps(1.0f + 0.001f * j);
  const __m128 b = _mm_set1_ps(0.999f), c = _mm_set1_ps(0.001f);
  for (int64_t i = 0; i < iterations; ++i)
    for (int j = 0; j < kAccumulators; ++j)
      acc[j] = _mm_add_ps(_mm_mul_ps(acc[j], b), c);
  float out[4];
  _mm_storeu_ps(out, acc[0]);
  return out[0];
}

__attribute__((target("avx512f,avx512bf16"))) double bf16_avx512(int64_t iterations) {
  __m512 acc[kAccumulators];
  for (int j = 0; j < kAccumulators; ++j)
    acc[j] = _mm512_setzero_ps();
  const __m512bh a = _mm512_cvtne2ps_pbh(_mm512_set1_ps(0.001f), _mm512_set1_ps(0.002f));
  const __m512bh b = _mm512_cvtne2ps_pbh(_mm512_set1_ps(0.003f), _mm512_set1_ps(0.001f));
  for (int64_t i = 0; i < iterations; ++i)
    for (int j = 0; j < kAccumulators; ++j)
      acc[j] = _mm512_dpbf16_ps(acc[j], a, b);
  __m512 sum = acc[0];
  for (int j = 1; j < kAccumulators; ++j)
    sum = _mm512_add_ps(sum, acc[j]);
  return _mm512_reduce_add_ps(sum);
}

__attribute__((target("avx512f,avx512vnni"))) double i8_avx512(int64_t iterations) {
  __m512i acc[kAccumulators];
  for (int j = 0; j < kAccumulators; ++j)
    acc[j] = _mm512_setzero_si512();
  const __m512i a = _mm512_set1_epi8(3), b = _mm512_set1_epi8(-2);
  for (int64_t i = 0; i < iterations; ++i)
    for (int j = 0; j < kAccumulators; ++j)
      acc[j] = _mm512_dpbusd_epi32(acc[j], a, b);
  __m512i sum = acc[0];
  for (int j = 1; j < kAccumulators; ++j)
    sum = _mm512_add_epi32(sum, acc[j]);
  return double(_mm512_reduce_add_epi32(sum));
}
#endif

#if defined(__aarch64__)
/// One instruction on each of the accumulators per iteration.
#define SMEPILOT_NEON_KERNEL(name, ext, insn)                                                      \
  double name(int64_t iterations) {                                                                \
    float32x4_t acc[kAccumulators];                                                                \
    for (int j = 0; j < kAccumulators; ++j)                                                        \
      acc[j] = vdupq_n_f32(0.0f);                                                                  \
    const float32x4_t b = vdupq_n_f32(0.001f), c = vdupq_n_f32(0.002f);                            \
    for (int64_t i = 0; i < iterations; ++i)                                                       \
      for (int j = 0; j < kAccumulators; ++j)                                                      \
        asm volatile(ext insn : "+w"(acc[j]) : "w"(b), "w"(c));                                    \
    float32x4_t sum = acc[0];                                                                      \
    for (int j = 1; j < kAccumulators; ++j)                                                        \
      sum = vaddq_f32(sum, acc[j]);                                                                \
    return vgetq_lane_f32(sum, 0);                                                                 \
  }
SMEPILOT_NEON_KERNEL(f32_neon, "", "fmla %0.4s, %1.4s, %2.4s")
SMEPILOT_NEON_KERNEL(f16_neon, ".arch_extension fp16\n\t", "fmla %0.8h, %1.8h, %2.8h")
SMEPILOT_NEON_KERNEL(bf16_neon, ".arch_extension bf16\n\t", "bfdot %0.4s, %1.8h, %2.8h")
SMEPILOT_NEON_KERNEL(i8_neon, ".arch_extension dotprod\n\t", "sdot %0.4s, %1.16b, %2.16b")
#undef SMEPILOT_NEON_KERNEL

#if defined(__linux__)
double mopa_f32(int64_t iterations) {
  smepilot_rt_calibrate_mopa(uint64_t(iterations), 0);
  return 0;
}
double mopa_bf16(int64_t iterations) {
  smepilot_rt_calibrate_mopa(uint64_t(iterations), 1);
  return 0;
}
double mopa_i8(int64_t iterations) {
  smepilot_rt_calibrate_mopa(uint64_t(iterations), 2);
  return 0;
}
#endif
#endif

// ---- bandwidth ---------------------------------------------------------

typedef uint64_t line_type __attribute__((vector_size(64)));

/// Sums `count` 64-byte lines with four independent accumulators.
uint64_t sum_lines(const line_type *lines, size_t count) {
  line_type a = {}, b = {}, c = {}, d = {};
  size_t i = 0;
  for (; i + 4 <= count; i += 4) {
    a += lines[i];
    b += lines[i + 1];
    c += lines[i + 2];
    d += lines[i + 3];
  }
  for (; i < count; ++i)
    a += lines[i];
  line_type s = a + b + c + d;
  uint64_t out = 0;
  for (int j = 0; j < 8; ++j)
    out += s[j];
  return out;
}

#if defined(__x86_64__)
/// The size of one instance of the highest-level cache a core sees, from
/// cpuid's deterministic cache parameters (leaf 4 on Intel, 0x8000001d on
/// AMD): on a CPU of several core complexes it is one complex's L3, not the
/// socket's total that sysconf reports. 0 when cpuid does not say.
int64_t cpuid_last_level_cache_bytes(const cpu_features &f) {
  const unsigned leaf = f.vendor == "AuthenticAMD" || f.vendor == "HygonGenuine" ? 0x8000001du : 4u;
  if (__get_cpuid_max(leaf & 0x80000000u, nullptr) < leaf)
    return 0;
  int best_level = 0;
  int64_t best_bytes = 0;
  for (unsigned sub = 0; sub < 16; ++sub) {
    unsigned eax, ebx, ecx, edx;
    __cpuid_count(leaf, sub, eax, ebx, ecx, edx);
    if ((eax & 0x1f) == 0) // no more caches
      break;
    const int level = int((eax >> 5) & 0x7);
    const int64_t bytes = int64_t((ebx >> 22) + 1) * (((ebx >> 12) & 0x3ff) + 1) *
                          ((ebx & 0xfff) + 1) * (int64_t(ecx) + 1);
    if (level > best_level) {
      best_level = level;
      best_bytes = bytes;
    }
  }
  return best_bytes;
}
#endif

/// The last-level cache's size in bytes: cpuid on x86-64, else sysfs (the
/// highest cache level of cpu0), else sysconf; 0 when none knows.
int64_t last_level_cache_bytes(const cpu_features &f) {
#if defined(__x86_64__)
  if (const int64_t bytes = cpuid_last_level_cache_bytes(f); bytes > 0)
    return bytes;
#else
  (void)f;
#endif
  int best_level = 0;
  int64_t best_bytes = 0;
  for (int index = 0; index < 8; ++index) {
    const std::string dir = strformat("/sys/devices/system/cpu/cpu0/cache/index%d/", index);
    std::ifstream level_file(dir + "level"), size_file(dir + "size");
    int level = 0;
    std::string size;
    if (!(level_file >> level) || !(size_file >> size) || size.empty())
      continue;
    int64_t bytes = std::strtoll(size.c_str(), nullptr, 10);
    if (size.back() == 'K')
      bytes <<= 10;
    else if (size.back() == 'M')
      bytes <<= 20;
    if (level > best_level || (level == best_level && bytes > best_bytes)) {
      best_level = level;
      best_bytes = bytes;
    }
  }
  if (best_bytes > 0)
    return best_bytes;
#if defined(_SC_LEVEL3_CACHE_SIZE)
  const long l3 = sysconf(_SC_LEVEL3_CACHE_SIZE);
  if (l3 > 0)
    return l3;
#endif
  return 0;
}

std::string rate(const calibrated_rate &r, const char *unit) {
  if (r.gflops <= 0)
    return "not measured";
  return strformat("%8.1f %s  (%s)", r.gflops, unit,
                   r.instruction.empty() ? "no instruction of its own: the f32 rate"
                                         : r.instruction.c_str());
}

} // namespace

calibration calibrate(const cpu_features &f, const calibrate_options &options) {
  const auto t0 = clock_type::now();
  calibration c;
  c.threads = std::max(1, options.threads);
  const double target_s = 0.02 * options.effort;
  const int n = c.threads;

  c.ghz = measure_rate(add_chain, 8, 1, target_s);
  // On every thread at once: a core's clock drops when all cores run.
  c.ghz = std::min(c.ghz, measure_rate(add_chain, 8, n, target_s) / n);

  const double acc = kAccumulators;
#if defined(__x86_64__)
  if (f.avx512f)
    c.f32 = {measure_rate(f32_avx512, acc * 32, n, target_s), "vfmadd231ps zmm"};
  else if (f.avx2 && f.fma)
    c.f32 = {measure_rate(f32_avx2, acc * 16, n, target_s), "vfmadd231ps ymm"};
  else
    c.f32 = {measure_rate(f32_sse2, acc * 8, n, target_s), "mulps + addps"};
  if (f.avx512bf16)
    c.bf16 = {measure_rate(bf16_avx512, acc * 64, n, target_s), "vdpbf16ps zmm"};
  if (f.avx512vnni)
    c.i8 = {measure_rate(i8_avx512, acc * 128, n, target_s), "vpdpbusd zmm"};
#elif defined(__aarch64__)
  c.f32 = {measure_rate(f32_neon, acc * 8, n, target_s), "fmla .4s"};
  if (f.fp16)
    c.f16 = {measure_rate(f16_neon, acc * 16, n, target_s), "fmla .8h"};
  if (f.bf16)
    c.bf16 = {measure_rate(bf16_neon, acc * 16, n, target_s), "bfdot .4s"};
  if (f.dotprod)
    c.i8 = {measure_rate(i8_neon, acc * 32, n, target_s), "sdot .4s"};
#if defined(__linux__)
  if (f.sme && f.sme_vector_bytes > 0) {
    // Four tiles of (SVL/32)^2 32-bit accumulators per iteration; the
    // widening forms do 2 (bf16) or 4 (i8) products per accumulator.
    const double tile = double(f.sme_vector_bytes / 4) * double(f.sme_vector_bytes / 4);
    c.matrix_f32 = {measure_rate(mopa_f32, 4 * 2 * tile, 1, target_s), "fmopa za.s"};
    c.matrix_bf16 = {measure_rate(mopa_bf16, 4 * 4 * tile, 1, target_s), "bfmopa za.s"};
    c.matrix_i8 = {measure_rate(mopa_i8, 4 * 8 * tile, 1, target_s), "smopa za.s"};
  }
#endif
#endif
  // The element types the kernels compute with f32 FMAs.
  for (calibrated_rate *r : {&c.f16, &c.bf16, &c.i8})
    if (r->gflops <= 0)
      r->gflops = c.f32.gflops;

  c.llc_bytes = last_level_cache_bytes(f);
  int64_t bytes = options.buffer_bytes;
  if (bytes <= 0)
    bytes = std::clamp<int64_t>(8 * c.llc_bytes, int64_t(256) << 20, int64_t(1) << 30);
  const size_t lines = size_t(bytes) / sizeof(line_type);
  std::unique_ptr<line_type[]> buffer(new line_type[lines]);
  std::memset(buffer.get(), 1, lines * sizeof(line_type)); // fault the pages in
  for (int t = 1; t <= n; ++t) {
    double best = 0;
    for (int r = 0; r < 3; ++r) {
      const double s = run_on_threads(t, [&](int i) {
        const size_t begin = lines * i / t, end = lines * (i + 1) / t;
        keep(double(sum_lines(buffer.get() + begin, end - begin)));
      });
      if (s > 0)
        best = std::max(best, double(lines * sizeof(line_type)) / s / 1e9);
    }
    c.read_gbps.push_back(best);
  }
  c.seconds = seconds_since(t0);
  return c;
}

std::string describe(const calibration &c) {
  std::string out;
  out += strformat("  clock            %8.2f GHz per core under load (dependent integer adds)\n",
                   c.ghz);
  out += strformat("  vector f32       %s\n", rate(c.f32, "GFLOP/s").c_str());
  out += strformat("  vector f16       %s\n", rate(c.f16, "GFLOP/s").c_str());
  out += strformat("  vector bf16      %s\n", rate(c.bf16, "GFLOP/s").c_str());
  out += strformat("  vector i8        %s\n", rate(c.i8, "GOP/s  ").c_str());
  if (c.matrix_f32.gflops > 0) {
    out += strformat("  matrix f32       %s\n", rate(c.matrix_f32, "GFLOP/s").c_str());
    out += strformat("  matrix bf16      %s\n", rate(c.matrix_bf16, "GFLOP/s").c_str());
    out += strformat("  matrix i8        %s\n", rate(c.matrix_i8, "GOP/s  ").c_str());
  }
  for (size_t t = 0; t < c.read_gbps.size(); ++t)
    out += strformat("  read bandwidth   %8.1f GB/s with %zu thread%s\n", c.read_gbps[t], t + 1,
                     t ? "s" : "");
  out += strformat("  last-level cache %8.1f MiB\n", double(c.llc_bytes) / (1 << 20));
  out += strformat("  (vector rates on %d thread%s at once; %.1f s in all)\n", c.threads,
                   c.threads > 1 ? "s" : "", c.seconds);
  return out;
}

} // namespace smepilot::rt
