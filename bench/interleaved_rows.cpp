// How fast one thread reads a row-major matrix of quantized rows when it
// walks R rows together, block by block (a register block of R weight rows
// in a GEMV), against one row after the other (R = 1). This is what chose
// the decode schedule of smepilot-tile-cpu (one W row at a time): on the
// AMD EPYC this project is built on, 8 interleaved rows of 2176 bytes (a
// Q8_0 row of 2048) read at about half the bandwidth of one stream.
//
// The matrix is `rows` rows of `blocks` Q8_0-like blocks of 34 bytes; each
// step loads the 32 quant bytes of one block of one row and adds them up
// (AVX2 when the compiler targets it, else 8-byte words), so the loop is
// bound by memory, not by arithmetic. Each thread reads its own matrix,
// first touched by that thread.
//
// Build: c++ -O2 -march=native -pthread bench/interleaved_rows.cpp -o
// interleaved_rows. Usage: interleaved_rows [--threads N] [--mib M]
// [--passes P] [R...] (default R: 1 2 4 8; M: 256 MiB per thread; P: 3, the
// best pass reported). Prints one line per R: GB/s, all threads together.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace {

constexpr size_t kBlockBytes = 34; // a Q8_0 block: f16 scale + 32 quants
constexpr size_t kBlocks = 64;     // a row of 2048 elements

// Sums the 32 quant bytes of every block, R rows at a time.
uint64_t readRows(const uint8_t *base, size_t rows, size_t r) {
  const size_t rowBytes = kBlocks * kBlockBytes;
#if defined(__AVX2__)
  __m256i acc = _mm256_setzero_si256();
  for (size_t row = 0; row + r <= rows; row += r)
    for (size_t b = 0; b < kBlocks; ++b)
      for (size_t j = 0; j < r; ++j) {
        const uint8_t *p = base + (row + j) * rowBytes + b * kBlockBytes + 2;
        acc = _mm256_add_epi64(
            acc, _mm256_loadu_si256(reinterpret_cast<const __m256i *>(p)));
      }
  alignas(32) uint64_t lanes[4];
  _mm256_store_si256(reinterpret_cast<__m256i *>(lanes), acc);
  return lanes[0] + lanes[1] + lanes[2] + lanes[3];
#else
  uint64_t acc = 0;
  for (size_t row = 0; row + r <= rows; row += r)
    for (size_t b = 0; b < kBlocks; ++b)
      for (size_t j = 0; j < r; ++j) {
        const uint8_t *p = base + (row + j) * rowBytes + b * kBlockBytes + 2;
        for (size_t w = 0; w < 32; w += 8) {
          uint64_t v;
          std::memcpy(&v, p + w, 8);
          acc += v;
        }
      }
  return acc;
#endif
}

bool parsePositive(const char *text, long &out) {
  char *end = nullptr;
  long v = std::strtol(text, &end, 10);
  if (!*text || *end || v <= 0)
    return false;
  out = v;
  return true;
}

} // namespace

int main(int argc, char **argv) {
  long threads = 1, mib = 256, passes = 3;
  std::vector<long> interleave;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    long *option = arg == "--threads"  ? &threads
                   : arg == "--mib"    ? &mib
                   : arg == "--passes" ? &passes
                                       : nullptr;
    long v = 0;
    if (option) {
      if (i + 1 >= argc || !parsePositive(argv[++i], v)) {
        std::fprintf(stderr, "interleaved_rows: %s needs a positive integer\n",
                     arg.c_str());
        return 1;
      }
      *option = v;
    } else if (parsePositive(argv[i], v)) {
      interleave.push_back(v);
    } else {
      std::fprintf(stderr, "interleaved_rows: not a row count: %s\n", argv[i]);
      return 1;
    }
  }
  if (interleave.empty())
    interleave = {1, 2, 4, 8};

  const size_t rowBytes = kBlocks * kBlockBytes;
  const size_t rows = (size_t(mib) << 20) / rowBytes / 8 * 8;
  std::vector<std::vector<uint8_t>> matrices(threads);
  {
    std::vector<std::thread> pool;
    for (long t = 0; t < threads; ++t)
      pool.emplace_back([&, t] { matrices[t].assign(rows * rowBytes, 1); });
    for (std::thread &th : pool)
      th.join();
  }
  std::printf("threads %ld, %zu rows of %zu bytes per thread (%.0f MiB)\n",
              threads, rows, rowBytes, rows * rowBytes / 1048576.0);
  for (long r : interleave) {
    double best = 0;
    for (long p = 0; p < passes; ++p) {
      std::vector<uint64_t> sums(threads);
      std::vector<std::thread> pool;
      auto start = std::chrono::steady_clock::now();
      for (long t = 0; t < threads; ++t)
        pool.emplace_back([&, t] {
          sums[t] = readRows(matrices[t].data(), rows, size_t(r));
        });
      for (std::thread &th : pool)
        th.join();
      double s = std::chrono::duration<double>(
                     std::chrono::steady_clock::now() - start)
                     .count();
      uint64_t check = 0;
      for (uint64_t v : sums)
        check += v;
      if (check == 0) // the sums keep the loads alive
        std::printf("(sum 0)\n");
      best = std::max(best, threads * (rows / r * r) * rowBytes / s / 1e9);
    }
    std::printf("R = %ld rows interleaved: %.1f GB/s\n", r, best);
  }
  return 0;
}
