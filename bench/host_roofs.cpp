// The roofs of this machine for bench/host_performance.sh: the read
// bandwidth N threads reach on a buffer far larger than the caches (a
// STREAM-like "sum" kernel: every thread reads its own slice, first touched
// by that thread, and adds it up), and the peak rate of the three vector
// instructions the kernels are meant to use: f32 FMA (vfmadd231ps,
// 32 flop per zmm instruction), BF16 dot (vdpbf16ps, 64 flop) and int8 dot
// (vpdpbusd, 128 op: 64 u8 x s8 products and their sums). The peak loops
// keep 12 independent accumulators so that latency does not limit them.
//
// Built by bench/host_performance.sh with the system compiler at
// -O3 -march=native (the instructions are compiled only where the host has
// them: __AVX512F__, __AVX512BF16__, __AVX512VNNI__). Prints one JSON object.
//
// usage: host_roofs [--threads N] [--mib M] [--passes P]
//   --threads N  threads (default 2)
//   --mib M      buffer size in MiB, all threads together (default 1024)
//   --passes P   timed passes of each test; the best is reported as the
//                roof (STREAM's convention), the median beside it (default 7)

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace {

using Clock = std::chrono::steady_clock;

// Runs body(thread index) on n threads that start together; returns the
// seconds from the common start to the last thread's end.
double runTogether(int n, const std::function<void(int)> &body) {
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<Clock::time_point> ends(n);
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i)
    threads.emplace_back([&, i] {
      ready.fetch_add(1);
      while (!go.load(std::memory_order_acquire))
        std::this_thread::yield();
      body(i);
      ends[i] = Clock::now();
    });
  while (ready.load() != n)
    std::this_thread::yield();
  auto start = Clock::now();
  go.store(true, std::memory_order_release);
  for (auto &t : threads)
    t.join();
  auto end = *std::max_element(ends.begin(), ends.end());
  return std::chrono::duration<double>(end - start).count();
}

uint64_t sumSlice(const uint64_t *p, size_t n) {
#if defined(__AVX512F__)
  __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    a0 = _mm512_add_epi64(a0, _mm512_load_si512(p + i));
    a1 = _mm512_add_epi64(a1, _mm512_load_si512(p + i + 8));
    a2 = _mm512_add_epi64(a2, _mm512_load_si512(p + i + 16));
    a3 = _mm512_add_epi64(a3, _mm512_load_si512(p + i + 24));
  }
  alignas(64) uint64_t lanes[8];
  _mm512_store_si512(lanes, _mm512_add_epi64(_mm512_add_epi64(a0, a1),
                                             _mm512_add_epi64(a2, a3)));
  uint64_t s = 0;
  for (uint64_t v : lanes)
    s += v;
  for (; i < n; ++i)
    s += p[i];
  return s;
#else
  uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += p[i];
    s1 += p[i + 1];
    s2 += p[i + 2];
    s3 += p[i + 3];
  }
  for (; i < n; ++i)
    s0 += p[i];
  return s0 + s1 + s2 + s3;
#endif
}

volatile uint64_t gSink;

struct Result {
  double best = 0, median = 0;
  std::vector<double> passes;
};

Result summarize(std::vector<double> rates) {
  Result r;
  r.passes = rates;
  std::sort(rates.begin(), rates.end());
  r.best = rates.back();
  r.median = rates[rates.size() / 2];
  return r;
}

// Read bandwidth in GB/s (1e9 bytes).
Result readBandwidth(int threads, size_t mib, int passes) {
  size_t total = mib << 20;
  size_t perThread = (total / threads) / 64 * 64;
  size_t words = perThread / sizeof(uint64_t);
  std::vector<uint64_t *> slices(threads);
  // Each thread allocates and first-touches its own slice.
  runTogether(threads, [&](int t) {
    auto *p = static_cast<uint64_t *>(std::aligned_alloc(64, perThread));
    for (size_t i = 0; i < words; ++i)
      p[i] = i ^ static_cast<uint64_t>(t);
    slices[t] = p;
  });
  std::vector<uint64_t> sums(threads);
  auto pass = [&] {
    return runTogether(threads,
                       [&](int t) { sums[t] = sumSlice(slices[t], words); });
  };
  pass(); // warm the page tables
  std::vector<double> rates;
  for (int i = 0; i < passes; ++i) {
    double s = pass();
    rates.push_back(double(perThread) * threads / s / 1e9);
    for (auto v : sums)
      gSink = gSink + v;
  }
  for (auto *p : slices)
    std::free(p);
  return summarize(rates);
}

constexpr long kIters = 4'000'000; // x 12 instructions per thread per pass

#if defined(__AVX512F__)
void peakFma() {
  __m512 a = _mm512_set1_ps(1.0001f), b = _mm512_set1_ps(0.9999f);
  __m512 c[12];
  for (auto &x : c)
    x = _mm512_set1_ps(0.5f);
  for (long i = 0; i < kIters; ++i) {
    for (auto &x : c)
      x = _mm512_fmadd_ps(a, b, x);
    __asm__ volatile("" : "+v"(a));
  }
  __m512 s = c[0];
  for (int k = 1; k < 12; ++k)
    s = _mm512_add_ps(s, c[k]);
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, s);
  gSink = gSink + static_cast<uint64_t>(lanes[0] + lanes[15]);
}
#endif

#if defined(__AVX512BF16__)
void peakBf16() {
  __m512bh a = (__m512bh)_mm512_set1_epi16(0x3f80); // 1.0
  __m512bh b = (__m512bh)_mm512_set1_epi16(0x3c00); // 2^-7
  __m512 c[12];
  for (auto &x : c)
    x = _mm512_setzero_ps();
  for (long i = 0; i < kIters; ++i) {
    for (auto &x : c)
      x = _mm512_dpbf16_ps(x, a, b);
    __asm__ volatile("" : "+v"(a));
  }
  __m512 s = c[0];
  for (int k = 1; k < 12; ++k)
    s = _mm512_add_ps(s, c[k]);
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, s);
  gSink = gSink + static_cast<uint64_t>(lanes[0] + lanes[15]);
}
#endif

#if defined(__AVX512VNNI__)
void peakVnni() {
  __m512i a = _mm512_set1_epi8(3), b = _mm512_set1_epi8(-2);
  __m512i c[12];
  for (auto &x : c)
    x = _mm512_setzero_si512();
  for (long i = 0; i < kIters; ++i) {
    for (auto &x : c)
      x = _mm512_dpbusd_epi32(x, a, b);
    __asm__ volatile("" : "+v"(a));
  }
  __m512i s = c[0];
  for (int k = 1; k < 12; ++k)
    s = _mm512_add_epi32(s, c[k]);
  alignas(64) int32_t lanes[16];
  _mm512_store_si512(lanes, s);
  gSink = gSink + static_cast<uint64_t>(lanes[0] + lanes[15]);
}
#endif

// Peak rate in G(fl)op/s of fn, which runs kIters x 12 instructions of
// opsPerInstr operations each on every thread.
[[maybe_unused]] Result peak(int threads, int passes, void (*fn)(),
                             double opsPerInstr) {
  runTogether(threads, [&](int) { fn(); }); // warm up (clocks, licences)
  std::vector<double> rates;
  for (int i = 0; i < passes; ++i) {
    double s = runTogether(threads, [&](int) { fn(); });
    rates.push_back(double(kIters) * 12 * opsPerInstr * threads / s / 1e9);
  }
  return summarize(rates);
}

void printResult(const char *name, const Result &r, bool last) {
  std::printf("  \"%s\": {\"best\": %.2f, \"median\": %.2f, \"passes\": [",
              name, r.best, r.median);
  for (size_t i = 0; i < r.passes.size(); ++i)
    std::printf("%s%.2f", i ? ", " : "", r.passes[i]);
  std::printf("]}%s\n", last ? "" : ",");
}

} // namespace

int main(int argc, char **argv) {
  int threads = 2, passes = 7;
  size_t mib = 1024;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> const char * {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "host_roofs: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--threads")
      threads = std::atoi(next());
    else if (a == "--mib")
      mib = std::strtoull(next(), nullptr, 10);
    else if (a == "--passes")
      passes = std::atoi(next());
    else {
      std::fprintf(stderr,
                   "usage: host_roofs [--threads N] [--mib M] [--passes P]\n");
      return 2;
    }
  }
  if (threads < 1 || passes < 1 || mib < 1) {
    std::fprintf(stderr, "host_roofs: bad arguments\n");
    return 2;
  }
  Result bw = readBandwidth(threads, mib, passes);
  std::printf("{\n  \"threads\": %d,\n  \"buffer_mib\": %zu,\n", threads, mib);
  std::vector<std::pair<const char *, Result>> peaks;
#if defined(__AVX512F__)
  peaks.emplace_back("fp32_fma_gflops", peak(threads, passes, peakFma, 32));
#endif
#if defined(__AVX512BF16__)
  peaks.emplace_back("bf16_dot_gflops", peak(threads, passes, peakBf16, 64));
#endif
#if defined(__AVX512VNNI__)
  peaks.emplace_back("int8_vnni_gops", peak(threads, passes, peakVnni, 128));
#endif
  printResult("read_gbs", bw, peaks.empty());
  for (size_t i = 0; i < peaks.size(); ++i)
    printResult(peaks[i].first, peaks[i].second, i + 1 == peaks.size());
  std::printf("}\n");
  return 0;
}
