// Dispatch tables (abi.h) and their executor (dispatch.h), with hand-written
// C++ kernels standing in for compiled ones.
#include "smepilot_rt/dispatch.h"

#include "table_builder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <optional>
#include <vector>

// The straight computations below must round exactly like the kernels.
#pragma clang fp contract(off)

using smepilot::rt::collab_split;
using smepilot::rt::dispatch_program;
using smepilot::rt::thread_pool;
using ::testing::HasSubstr;

extern "C" {
extern const smepilot_rt_dispatch_table smepilot_rt_test_c_table;
size_t smepilot_rt_test_c_layout(int which);
}

namespace {

using namespace smepilot::rt::test_tables;

// ---------------------------------------------------------------------------
// Kernels. Constants of the chain: {M, K, N}; tiles are rows of the output.

void matmul_rows(void *const *b, const int64_t *c, int64_t begin, int64_t end) {
  const float *A = static_cast<const float *>(b[0]), *B = static_cast<const float *>(b[1]);
  float *C = static_cast<float *>(b[2]);
  const int64_t K = c[1], N = c[2];
  for (int64_t r = begin; r < end; ++r)
    for (int64_t j = 0; j < N; ++j) {
      float acc = 0.0f;
      for (int64_t k = 0; k < K; ++k)
        acc += A[r * K + k] * B[k * N + j];
      C[r * N + j] = acc;
    }
}

void add_bias_rows(void *const *b, const int64_t *c, int64_t begin, int64_t end) {
  const float *X = static_cast<const float *>(b[0]), *bias = static_cast<const float *>(b[1]);
  float *Y = static_cast<float *>(b[2]);
  const int64_t N = c[2];
  for (int64_t r = begin; r < end; ++r)
    for (int64_t j = 0; j < N; ++j)
      Y[r * N + j] = X[r * N + j] + bias[j];
}

void softmax_rows(void *const *b, const int64_t *c, int64_t begin, int64_t end) {
  const float *X = static_cast<const float *>(b[0]);
  float *Y = static_cast<float *>(b[1]);
  const int64_t N = c[2];
  for (int64_t r = begin; r < end; ++r) {
    float mx = X[r * N];
    for (int64_t j = 1; j < N; ++j)
      mx = std::fmax(mx, X[r * N + j]);
    float sum = 0.0f;
    for (int64_t j = 0; j < N; ++j) {
      Y[r * N + j] = std::exp(X[r * N + j] - mx);
      sum += Y[r * N + j];
    }
    for (int64_t j = 0; j < N; ++j)
      Y[r * N + j] /= sum;
  }
}

TEST(DispatchAbi, LayoutsAgreeBetweenCAndCpp) {
  EXPECT_EQ(smepilot_rt_test_c_layout(0), sizeof(smepilot_rt_extent));
  EXPECT_EQ(smepilot_rt_test_c_layout(1), sizeof(smepilot_rt_buffer));
  EXPECT_EQ(smepilot_rt_test_c_layout(2), sizeof(smepilot_rt_binding));
  EXPECT_EQ(smepilot_rt_test_c_layout(3), sizeof(smepilot_rt_dispatch));
  EXPECT_EQ(smepilot_rt_test_c_layout(4), sizeof(smepilot_rt_dispatch_table));
  EXPECT_EQ(smepilot_rt_test_c_layout(5), offsetof(smepilot_rt_dispatch, tile_count));
  EXPECT_EQ(smepilot_rt_test_c_layout(6), offsetof(smepilot_rt_dispatch_table, dispatches));
  EXPECT_EQ(smepilot_rt_test_c_layout(7), offsetof(smepilot_rt_dispatch_table, deps));
}

TEST(DispatchAbi, TableWrittenInCRuns) {
  auto program = dispatch_program::create(&smepilot_rt_test_c_table);
  ASSERT_TRUE(program) << program.error().message();
  EXPECT_EQ(program->phase_name(), "c_iota");
  thread_pool pool(2);
  std::vector<float> out(11, -1.0f);
  void *args[] = {out.data()};
  const int64_t constants[] = {100, 10};
  ASSERT_TRUE(program->run(pool, args, constants));
  for (int i = 0; i < 10; ++i)
    EXPECT_EQ(out[size_t(i)], float(100 + i));
  EXPECT_EQ(out[10], -1.0f); // tile count 10: nothing past it
}

// (a) matmul -> +bias -> softmax through two temporaries, same bytes as the
// straight computation with 1, 2 and 3 threads.
TEST(DispatchProgram, ChainMatchesStraightComputationForAnyThreadCount) {
  const int64_t M = 37, K = 11, N = 9;
  std::vector<float> A(static_cast<size_t>(M * K)), B(static_cast<size_t>(K * N)),
      bias(static_cast<size_t>(N));
  for (size_t i = 0; i < A.size(); ++i)
    A[i] = std::sin(float(i) * 0.37f);
  for (size_t i = 0; i < B.size(); ++i)
    B[i] = std::cos(float(i) * 0.11f) * 0.5f;
  for (size_t i = 0; i < bias.size(); ++i)
    bias[i] = float(i) * 0.25f - 1.0f;

  // Straight computation.
  std::vector<float> t(size_t(M * N)), u(size_t(M * N)), expect(size_t(M * N));
  for (int64_t r = 0; r < M; ++r)
    for (int64_t j = 0; j < N; ++j) {
      float acc = 0.0f;
      for (int64_t k = 0; k < K; ++k)
        acc += A[size_t(r * K + k)] * B[size_t(k * N + j)];
      t[size_t(r * N + j)] = acc;
      u[size_t(r * N + j)] = acc + bias[size_t(j)];
    }
  for (int64_t r = 0; r < M; ++r) {
    const float *x = &u[size_t(r * N)];
    float *y = &expect[size_t(r * N)];
    float mx = x[0];
    for (int64_t j = 1; j < N; ++j)
      mx = std::fmax(mx, x[j]);
    float sum = 0.0f;
    for (int64_t j = 0; j < N; ++j) {
      y[j] = std::exp(x[j] - mx);
      sum += y[j];
    }
    for (int64_t j = 0; j < N; ++j)
      y[j] /= sum;
  }

  table_builder tb;
  tb.phase = "chain";
  tb.n_constants = 3;
  const uint32_t kmm = tb.kernel(matmul_rows), kadd = tb.kernel(add_bias_rows),
                 ksm = tb.kernel(softmax_rows);
  const uint32_t a = tb.argument("A"), b = tb.argument("B"), bi = tb.argument("bias"),
                 out = tb.argument("out");
  const uint32_t tt = tb.temporary("t", scaled(0, 4 * N)), tu = tb.temporary("u", scaled(0, 4 * N));
  const uint32_t d0 = tb.dispatch("matmul", kmm, scaled(0, 1), {rd(a), rd(b), wr(tt)});
  const uint32_t d1 = tb.dispatch("bias", kadd, scaled(0, 1), {rd(tt), rd(bi), wr(tu)}, {d0});
  tb.dispatch("softmax", ksm, scaled(0, 1), {rd(tu), wr(out)}, {d1});
  auto program = dispatch_program::create(tb.table());
  ASSERT_TRUE(program) << program.error().message();

  const int64_t constants[] = {M, K, N};
  for (int n_threads : {1, 2, 3}) {
    thread_pool pool(n_threads);
    std::vector<float> got(size_t(M * N), -7.0f);
    void *args[] = {A.data(), B.data(), bias.data(), got.data()};
    for (int rep = 0; rep < 3; ++rep) {
      ASSERT_TRUE(program->run(pool, args, constants));
      ASSERT_EQ(std::memcmp(got.data(), expect.data(), got.size() * sizeof(float)), 0)
          << n_threads << " threads, run " << rep;
    }
  }
}

// ---------------------------------------------------------------------------
// (b), (e): tile counts and temporary sizes from constants {len, pos}.
constexpr int64_t W = 5; // floats per row

void embed_rows(void *const *b, const int64_t *, int64_t begin, int64_t end) {
  const int32_t *tokens = static_cast<const int32_t *>(b[0]);
  float *rows = static_cast<float *>(b[1]);
  for (int64_t i = begin; i < end; ++i)
    for (int64_t j = 0; j < W; ++j)
      rows[i * W + j] = float(tokens[i]) * 0.5f + float(j);
}

void store_rows(void *const *b, const int64_t *c, int64_t begin, int64_t end) {
  const float *rows = static_cast<const float *>(b[0]);
  float *cache = static_cast<float *>(b[1]);
  const int64_t pos = c[1];
  for (int64_t i = begin; i < end; ++i)
    for (int64_t j = 0; j < W; ++j)
      cache[(pos + i) * W + j] = rows[i * W + j] * 2.0f;
}

void count_up(void *const *b, const int64_t *, int64_t begin, int64_t end) {
  int64_t *seen = static_cast<int64_t *>(b[0]);
  for (int64_t i = begin; i < end; ++i)
    seen[i] += 1;
}

void record_pointers(void *const *b, const int64_t *, int64_t begin, int64_t end) {
  EXPECT_EQ(begin, 0);
  EXPECT_EQ(end, 1);
  uintptr_t *where = static_cast<uintptr_t *>(b[0]);
  where[0] = reinterpret_cast<uintptr_t>(b[1]);
  where[1] = reinterpret_cast<uintptr_t>(b[2]);
}

struct dynamic_table {
  table_builder tb;
  dynamic_table() {
    tb.phase = "dynamic";
    tb.n_constants = 2; // {len, pos}
    const uint32_t ke = tb.kernel(embed_rows), ks = tb.kernel(store_rows), kc = tb.kernel(count_up),
                   kr = tb.kernel(record_pointers);
    const uint32_t tokens = tb.argument("tokens"), cache = tb.argument("cache"),
                   seen = tb.argument("seen"), where = tb.argument("where");
    const uint32_t rows = tb.temporary("rows", scaled(0, 4 * W));
    const uint32_t aligned = tb.temporary("aligned", fixed(100), 4096);
    const uint32_t d0 = tb.dispatch("embed", ke, scaled(0, 1), {rd(tokens), wr(rows)});
    tb.dispatch("store", ks, scaled(0, 1), {rd(rows), wr(cache)}, {d0});
    // 2 * pos + 1 tiles.
    tb.dispatch("count", kc, scaled(1, 2, 1), {{seen, SMEPILOT_RT_ACCESS_READ_WRITE, 0}});
    tb.dispatch("where", kr, fixed(1), {wr(where), rd(rows), wr(aligned)}, {d0});
  }
};

TEST(DispatchProgram, TileCountsAndTemporarySizesFromConstants) {
  dynamic_table dt;
  auto program = dispatch_program::create(dt.tb.table());
  ASSERT_TRUE(program) << program.error().message();
  thread_pool pool(3);
  const int64_t capacity = 64;
  std::vector<float> cache(size_t(capacity * W), 0.0f);
  std::vector<int32_t> tokens(capacity);
  for (size_t i = 0; i < tokens.size(); ++i)
    tokens[i] = int32_t(3 * i + 1);
  int64_t pos = 0;
  for (int64_t len : {7, 1, 0, 20, 3}) {
    std::vector<int64_t> seen(size_t(2 * capacity + 2), 0);
    uintptr_t where[2] = {0, 0};
    // The chunk's tokens are tokens[pos, pos + len).
    void *args[] = {tokens.data() + pos, cache.data(), seen.data(), where};
    const int64_t constants[] = {len, pos};
    ASSERT_TRUE(program->run(pool, args, constants)) << "len " << len;
    for (size_t i = 0; i < seen.size(); ++i)
      ASSERT_EQ(seen[i], int64_t(i) < 2 * pos + 1 ? 1 : 0) << "tile " << i << " pos " << pos;
    EXPECT_EQ(where[0] % 64, 0u);
    EXPECT_EQ(where[1] % 4096, 0u);
    EXPECT_GE(program->arena_bytes(), size_t(4 * W * len));
    pos += len;
  }
  for (int64_t p = 0; p < capacity; ++p)
    for (int64_t j = 0; j < W; ++j) {
      const float expect = p < pos ? (float(tokens[size_t(p)]) * 0.5f + float(j)) * 2.0f : 0.0f;
      ASSERT_EQ(cache[size_t(p * W + j)], expect) << "row " << p << " col " << j;
    }
}

TEST(DispatchProgram, TemporariesReusedAcrossRuns) {
  dynamic_table dt;
  auto program = dispatch_program::create(dt.tb.table());
  ASSERT_TRUE(program) << program.error().message();
  EXPECT_EQ(program->arena_allocations(), 0);
  EXPECT_EQ(program->arena_bytes(), 0u);
  thread_pool pool(2);
  std::vector<float> cache(size_t(2000 * W));
  std::vector<int32_t> tokens(2000, 1);
  std::vector<int64_t> seen(8);
  uintptr_t where[2] = {0, 0};
  void *args[] = {tokens.data(), cache.data(), seen.data(), where};
  auto run = [&](int64_t len) {
    const int64_t constants[] = {len, 0};
    EXPECT_TRUE(program->run(pool, args, constants));
    return where[0];
  };
  const uintptr_t first = run(16);
  EXPECT_EQ(program->arena_allocations(), 1);
  const size_t bytes = program->arena_bytes();
  EXPECT_EQ(run(16), first); // the same sizes: the same layout
  run(3);                    // smaller: same arena (the layout may differ)
  run(0);
  EXPECT_EQ(run(16), first);
  EXPECT_EQ(program->arena_allocations(), 1);
  EXPECT_EQ(program->arena_bytes(), bytes);
  run(2000); // larger (40000 bytes > 8192): grown once
  EXPECT_EQ(program->arena_allocations(), 2);
  EXPECT_GT(program->arena_bytes(), bytes);
  run(16);
  run(2000);
  EXPECT_EQ(program->arena_allocations(), 2);
}

// ---------------------------------------------------------------------------
// Temporaries whose lives do not overlap share arena bytes; the others never
// do. A five-dispatch chain over N floats:
//   d0 A = x + 1   d1 B = 2 x   d2 C = B + 1   d3 D = 3 C   d4 out = A + D
// Lives (first..last dispatch): A 0-4, B 1-2, C 2-3, D 3-4. Only B and D
// may share: three buffers' bytes instead of four, and the result is the
// straight computation's. Each kernel records the pointers it was given.

constexpr int64_t share_n = 1000; // floats per temporary (4000 bytes, 64-aligned: 4032)
std::vector<const void *> g_share_ptrs[5];

template <int Id> void share_kernel(void *const *b, const int64_t *, int64_t, int64_t) {
  g_share_ptrs[Id].assign(b, b + (Id == 4 ? 3 : 2));
  const float *in = static_cast<const float *>(b[0]);
  float *out = static_cast<float *>(b[Id == 4 ? 2 : 1]);
  for (int64_t i = 0; i < share_n; ++i) {
    switch (Id) {
    case 0:
      out[i] = in[i] + 1.0f;
      break;
    case 1:
      out[i] = 2.0f * in[i];
      break;
    case 2:
      out[i] = in[i] + 1.0f;
      break;
    case 3:
      out[i] = 3.0f * in[i];
      break;
    default:
      out[i] = in[i] + static_cast<const float *>(b[1])[i];
      break;
    }
  }
}

TEST(DispatchProgram, TemporariesWithDisjointLivesShareBytes) {
  table_builder tb;
  tb.phase = "share";
  const uint32_t x = tb.argument("x"), out = tb.argument("out");
  const int64_t bytes = share_n * 4;
  const uint32_t A = tb.temporary("A", fixed(bytes)), B = tb.temporary("B", fixed(bytes)),
                 C = tb.temporary("C", fixed(bytes)), D = tb.temporary("D", fixed(bytes));
  const uint32_t d0 = tb.dispatch("a", tb.kernel(share_kernel<0>), fixed(1), {rd(x), wr(A)});
  const uint32_t d1 = tb.dispatch("b", tb.kernel(share_kernel<1>), fixed(1), {rd(x), wr(B)});
  const uint32_t d2 = tb.dispatch("c", tb.kernel(share_kernel<2>), fixed(1), {rd(B), wr(C)}, {d1});
  const uint32_t d3 = tb.dispatch("d", tb.kernel(share_kernel<3>), fixed(1), {rd(C), wr(D)}, {d2});
  tb.dispatch("out", tb.kernel(share_kernel<4>), fixed(1), {rd(A), rd(D), wr(out)}, {d0, d3});
  auto program = dispatch_program::create(tb.table());
  ASSERT_TRUE(program) << program.error().message();
  std::vector<float> xs(share_n), got(share_n, -1.0f);
  for (int64_t i = 0; i < share_n; ++i)
    xs[size_t(i)] = float(i) * 0.5f;
  void *args[] = {xs.data(), got.data()};
  thread_pool pool(2);
  for (int rep = 0; rep < 2; ++rep) {
    ASSERT_TRUE(program->run(pool, args, {}));
    for (int64_t i = 0; i < share_n; ++i)
      ASSERT_EQ(got[size_t(i)], (xs[size_t(i)] + 1.0f) + 3.0f * (2.0f * xs[size_t(i)] + 1.0f))
          << "element " << i << ", run " << rep;
  }
  const size_t slot = (size_t(bytes) + 63) / 64 * 64;
  EXPECT_EQ(program->last_run_unshared_bytes(), 3 * slot + size_t(bytes));
  EXPECT_EQ(program->last_run_temporary_bytes(), 2 * slot + size_t(bytes));
  const auto *a = static_cast<const std::byte *>(g_share_ptrs[0][1]);
  const auto *b = static_cast<const std::byte *>(g_share_ptrs[1][1]);
  const auto *c = static_cast<const std::byte *>(g_share_ptrs[2][1]);
  const auto *d = static_cast<const std::byte *>(g_share_ptrs[3][1]);
  EXPECT_EQ(b, d) << "B (dispatches 1-2) and D (3-4) do not live at the same time";
  auto disjoint = [&](const std::byte *p, const std::byte *q) {
    return p + bytes <= q || q + bytes <= p;
  };
  EXPECT_TRUE(disjoint(a, b) && disjoint(a, c) && disjoint(a, d)) << "A lives throughout";
  EXPECT_TRUE(disjoint(b, c) && disjoint(c, d)) << "C overlaps B at dispatch 2 and D at 3";
  EXPECT_EQ(g_share_ptrs[4][0], a);
  EXPECT_EQ(g_share_ptrs[4][1], d);
}

// Placement keeps each temporary's alignment (also when it lands next to
// another), and a temporary no dispatch binds takes no bytes from the ones
// that are used: A (100 bytes) lives at dispatches 0-1 and B (100 bytes,
// aligned to 4096) at 1-2, so they are apart; "unused" (1 MiB) is bound by
// nothing. Each kernel records its bindings.
std::vector<const void *> g_align_ptrs[3];
template <int Id> void record_kernel(void *const *b, const int64_t *, int64_t, int64_t) {
  g_align_ptrs[Id].assign(b, b + 2);
  static_cast<char *>(b[1])[0] = char(Id);
}

/// Runs x -> first -> second -> out, three record_kernel dispatches, so that
/// the two temporaries live at dispatches 0-1 and 1-2 (both at 1); `extra`
/// adds a temporary nothing binds. Returns the program after one run.
std::optional<dispatch_program> run_two_temporaries(table_builder &tb, smepilot_rt_buffer first,
                                                    smepilot_rt_buffer second, bool extra = false) {
  const uint32_t x = tb.argument("x"), out = tb.argument("out");
  const uint32_t t0 = tb.temporary(first.name, first.size, first.alignment);
  const uint32_t t1 = tb.temporary(second.name, second.size, second.alignment);
  if (extra)
    tb.temporary("unused", fixed(1 << 20));
  const uint32_t d0 = tb.dispatch("first", tb.kernel(record_kernel<0>), fixed(1), {rd(x), wr(t0)});
  const uint32_t d1 =
      tb.dispatch("second", tb.kernel(record_kernel<1>), fixed(1), {rd(t0), wr(t1)}, {d0});
  tb.dispatch("out", tb.kernel(record_kernel<2>), fixed(1), {rd(t1), wr(out)}, {d1});
  auto program = dispatch_program::create(tb.table());
  EXPECT_TRUE(program) << program.error().message();
  if (!program)
    return std::nullopt;
  char xs[4] = {0}, got[4] = {0};
  void *args[] = {xs, got};
  thread_pool pool(1);
  EXPECT_TRUE(program->run(pool, args, {}));
  EXPECT_EQ(g_align_ptrs[1][0], g_align_ptrs[0][1]);
  EXPECT_EQ(got[0], 2);
  return std::move(*program);
}

TEST(DispatchProgram, SharedPlacementKeepsAlignment) {
  table_builder tb;
  tb.phase = "align";
  auto program = run_two_temporaries(tb, {"A", fixed(100), 0, 0}, {"B", fixed(100), 4096, 0},
                                     /*extra=*/true);
  ASSERT_TRUE(program);
  const auto a = reinterpret_cast<uintptr_t>(g_align_ptrs[0][1]);
  const auto b = reinterpret_cast<uintptr_t>(g_align_ptrs[1][1]);
  EXPECT_EQ(a % 64, 0u);
  EXPECT_EQ(b % 4096, 0u);
  EXPECT_TRUE(a + 100 <= b || b + 100 <= a) << "A and B live at the same time";
  // The 1 MiB nobody binds takes no bytes: A and B fit in 8 KiB.
  EXPECT_LE(program->last_run_temporary_bytes(), size_t(8192));
  EXPECT_GT(program->last_run_unshared_bytes(), size_t(1 << 20));
}

// Sharing never costs bytes: Y (50 bytes, aligned to 4096) lives at
// dispatches 0-1 and X (100 bytes) at 1-2. Placed largest first, X takes
// offset 0 and Y the next 4096 boundary (4146 bytes); one after the other in
// table order they take 164. The executor keeps the smaller layout.
TEST(DispatchProgram, SharingNeverTakesMoreThanOneBufferEach) {
  table_builder tb;
  tb.phase = "gaps";
  auto program = run_two_temporaries(tb, {"Y", fixed(50), 4096, 0}, {"X", fixed(100), 0, 0});
  ASSERT_TRUE(program);
  EXPECT_EQ(program->last_run_unshared_bytes(), 164u);
  EXPECT_EQ(program->last_run_temporary_bytes(), 164u);
  const auto y = reinterpret_cast<uintptr_t>(g_align_ptrs[0][1]);
  const auto xp = reinterpret_cast<uintptr_t>(g_align_ptrs[1][1]);
  EXPECT_EQ(y % 4096, 0u);
  EXPECT_TRUE(y + 50 <= xp || xp + 100 <= y);
}

// ---------------------------------------------------------------------------
// (c) Collab split. bindings: marks (int32 per tile), stats (int64: SME calls,
// CPU calls, first SME tile, end of SME range, tiles seen twice).

template <int32_t Mark>
void mark_tiles(void *const *b, const int64_t *, int64_t begin, int64_t end) {
  int32_t *marks = static_cast<int32_t *>(b[0]);
  int64_t *stats = static_cast<int64_t *>(b[1]);
  std::atomic_ref<int64_t>(stats[Mark == 2 ? 0 : 1]).fetch_add(1);
  if (Mark == 2) {
    stats[2] = begin;
    stats[3] = end;
  }
  for (int64_t i = begin; i < end; ++i) {
    if (marks[i] != 0)
      std::atomic_ref<int64_t>(stats[4]).fetch_add(1);
    marks[i] = Mark;
  }
}

struct collab_table {
  table_builder tb;
  collab_table(uint32_t mode, uint32_t share, int64_t granule) {
    tb.phase = "collab";
    tb.n_constants = 1;
    const uint32_t kc = tb.kernel(mark_tiles<1>), ks = tb.kernel(mark_tiles<2>);
    const uint32_t marks = tb.argument("marks"), stats = tb.argument("stats");
    tb.dispatch("op", kc, scaled(0, 1), {wr(marks), {stats, SMEPILOT_RT_ACCESS_READ_WRITE, 0}}, {},
                mode, ks, share, granule);
  }
};

struct collab_outcome {
  std::vector<int32_t> marks;
  int64_t stats[5];
};

collab_outcome run_collab(uint32_t mode, uint32_t share, int64_t granule, int64_t n,
                          thread_pool &pool, size_t inline_bytes = 0) {
  collab_table ct(mode, share, granule);
  auto program = dispatch_program::create(ct.tb.table());
  EXPECT_TRUE(program) << program.error().message();
  program->set_inline_bytes(inline_bytes);
  collab_outcome o{std::vector<int32_t>(size_t(n) + 1, 0), {0, 0, -1, -1, 0}};
  void *args[] = {o.marks.data(), o.stats};
  const int64_t constants[] = {n};
  EXPECT_TRUE(program->run(pool, args, constants));
  return o;
}

TEST(DispatchProgram, CollabSplitGivesSmeTheLeadingGranuleAlignedTiles) {
  for (int n_threads : {1, 2, 3}) {
    thread_pool pool(n_threads);
    for (int64_t n : {0, 1, 7, 16, 100}) {
      for (uint32_t share : {0u, 1u, 16384u, 32768u, 40000u, 65535u, 65536u}) {
        for (int64_t granule : {1, 3, 4, 8}) {
          // Independent of collab_split(): 128-bit arithmetic.
          int64_t split = int64_t((__int128)n * share / 65536);
          split -= split % granule;
          SCOPED_TRACE(testing::Message() << "threads " << n_threads << " n " << n << " share "
                                          << share << " granule " << granule);
          ASSERT_EQ(collab_split(n, share, granule), split);
          collab_outcome o = run_collab(SMEPILOT_RT_MODE_COLLAB, share, granule, n, pool);
          for (int64_t i = 0; i < n; ++i)
            ASSERT_EQ(o.marks[size_t(i)], i < split ? 2 : 1) << "tile " << i;
          EXPECT_EQ(o.marks[size_t(n)], 0);
          EXPECT_EQ(o.stats[4], 0) << "a tile computed twice";
          EXPECT_EQ(o.stats[0], split > 0 ? 1 : 0) << "SME calls";
          if (split > 0) {
            EXPECT_EQ(o.stats[2], 0);
            EXPECT_EQ(o.stats[3], split);
          }
          // CPU calls: kRangesPerWorker contiguous ranges per CPU worker at
          // most (one worker: one range, in table order).
          const int64_t cpu_workers = split > 0 && n_threads > 1 ? n_threads - 1 : n_threads;
          const int64_t per = n_threads > 1 ? smepilot::rt::kRangesPerWorker : 1;
          EXPECT_EQ(o.stats[1], std::min<int64_t>(per * cpu_workers, n - split));
          // Inline (the default threshold; these buffers declare no bytes):
          // one call per part, same tiles.
          o = run_collab(SMEPILOT_RT_MODE_COLLAB, share, granule, n, pool,
                         smepilot::rt::kInlineBytes);
          for (int64_t i = 0; i < n; ++i)
            ASSERT_EQ(o.marks[size_t(i)], i < split ? 2 : 1) << "tile " << i;
          EXPECT_EQ(o.stats[0], split > 0 ? 1 : 0);
          EXPECT_EQ(o.stats[1], n - split > 0 ? 1 : 0);
        }
      }
    }
  }
}

TEST(DispatchProgram, CollabEdgeCases) {
  thread_pool pool(3);
  // share 0: everything on the CPU variant.
  collab_outcome o = run_collab(SMEPILOT_RT_MODE_COLLAB, 0, 1, 50, pool);
  EXPECT_EQ(std::count(o.marks.begin(), o.marks.end(), 1), 50);
  EXPECT_EQ(o.stats[0], 0);
  // share 65536 with a tile count that is a multiple of the granule: all SME.
  o = run_collab(SMEPILOT_RT_MODE_COLLAB, SMEPILOT_RT_SHARE_ONE, 4, 48, pool);
  EXPECT_EQ(std::count(o.marks.begin(), o.marks.end(), 2), 48);
  EXPECT_EQ(o.stats[1], 0);
  // ... and otherwise the irregular tail stays on the CPU.
  o = run_collab(SMEPILOT_RT_MODE_COLLAB, SMEPILOT_RT_SHARE_ONE, 4, 50, pool);
  EXPECT_EQ(std::count(o.marks.begin(), o.marks.end(), 2), 48);
  EXPECT_EQ(o.marks[48], 1);
  EXPECT_EQ(o.marks[49], 1);
  // Fewer tiles than one granule: all CPU.
  o = run_collab(SMEPILOT_RT_MODE_COLLAB, SMEPILOT_RT_SHARE_ONE, 8, 5, pool);
  EXPECT_EQ(std::count(o.marks.begin(), o.marks.end(), 1), 5);
  // Mode sme: every tile on the SME variant, one call.
  o = run_collab(SMEPILOT_RT_MODE_SME, 0, 4, 50, pool);
  EXPECT_EQ(std::count(o.marks.begin(), o.marks.end(), 2), 50);
  EXPECT_EQ(o.stats[0], 1);
  EXPECT_EQ(o.stats[1], 0);
  // Mode cpu ignores a present SME variant.
  o = run_collab(SMEPILOT_RT_MODE_CPU, SMEPILOT_RT_SHARE_ONE, 1, 50, pool);
  EXPECT_EQ(std::count(o.marks.begin(), o.marks.end(), 1), 50);
  // No overflow for huge tile counts.
  EXPECT_EQ(collab_split(INT64_MAX, SMEPILOT_RT_SHARE_ONE, 1), INT64_MAX);
  EXPECT_EQ(collab_split((int64_t(1) << 40) + 6, 32768, 1), (int64_t(1) << 39) + 3);
  EXPECT_EQ(collab_split((int64_t(1) << 40) + 6, 32768, 16), (int64_t(1) << 39));
}

// Bindings with an offset (abi.h v5): the kernel's pointer is the buffer's
// base plus the offset, for an argument and for a temporary; what the layers'
// K/V cache kernels, one kernel for all layers, rely on.
void write_tile_index(void *const *b, const int64_t *, int64_t begin, int64_t end) {
  for (int64_t i = begin; i < end; ++i)
    static_cast<float *>(b[0])[i] = float(i + 1);
}
void copy_four(void *const *b, const int64_t *, int64_t, int64_t) {
  for (int i = 0; i < 4; ++i)
    static_cast<float *>(b[1])[i] = static_cast<const float *>(b[0])[i];
}

TEST(DispatchProgram, BindingsPointOffsetBytesIntoTheirBuffer) {
  table_builder tb;
  const uint32_t kw = tb.kernel(write_tile_index), kc = tb.kernel(copy_four);
  const uint32_t out = tb.argument("out");
  const uint32_t tmp = tb.temporary("tmp", fixed(64));
  // Layer 2 of a [4][4] float argument, twice (two "layers" 1 and 2), then
  // through a temporary's second half.
  const uint32_t d0 = tb.dispatch("layer1", kw, fixed(4), {at(wr(out), 16)});
  const uint32_t d1 = tb.dispatch("layer2", kw, fixed(4), {at(wr(out), 32)}, {d0});
  const uint32_t d2 = tb.dispatch("to_tmp", kw, fixed(4), {at(wr(tmp), 32)});
  tb.dispatch("from_tmp", kc, fixed(1), {at(rd(tmp), 32), at(wr(out), 48)}, {d1, d2});
  auto program = dispatch_program::create(tb.table());
  ASSERT_TRUE(program) << program.error().message();
  for (int threads : {1, 2}) {
    thread_pool pool(threads);
    std::vector<float> data(16, -1.0f);
    void *args[] = {data.data()};
    ASSERT_TRUE(program->run(pool, args, {}));
    const std::vector<float> expected{-1, -1, -1, -1, 1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4};
    EXPECT_EQ(data, expected) << threads << " threads";
  }
}

// ---------------------------------------------------------------------------
// (d) Validation and run-time errors, each message checked.

void noop(void *const *, const int64_t *, int64_t, int64_t) {}

/// Two arguments, a temporary, three dispatches: x -> t -> y, and a collab one.
struct small_table {
  table_builder tb;
  uint32_t x, y, t;
  small_table() {
    tb.phase = "small";
    tb.n_constants = 1;
    const uint32_t k0 = tb.kernel(noop), k1 = tb.kernel(noop);
    x = tb.argument("x");
    y = tb.argument("y");
    t = tb.temporary("t", scaled(0, 4));
    const uint32_t d0 = tb.dispatch("produce", k0, scaled(0, 1), {rd(x), wr(t)});
    tb.dispatch("consume", k0, scaled(0, 1), {rd(t), wr(y)}, {d0});
    tb.dispatch("split", k0, fixed(10), {rd(x)}, {}, SMEPILOT_RT_MODE_COLLAB, k1, 32768, 2);
  }
  std::string error() {
    auto p = dispatch_program::create(tb.table());
    return p ? std::string("(no error)") : p.error().message();
  }
};

TEST(DispatchValidation, TheBaseTableIsValid) {
  small_table s;
  EXPECT_EQ(s.error(), "(no error)");
}

TEST(DispatchValidation, Errors) {
  EXPECT_EQ(dispatch_program::create(nullptr).error().message(), "dispatch table: null table");
  {
    small_table s;
    s.tb.table();
    s.tb.t.abi_version = 99;
    auto p = dispatch_program::create(&s.tb.t);
    EXPECT_EQ(p.error().message(),
              "dispatch table 'small': ABI version 99, but this runtime implements version " +
                  std::to_string(SMEPILOT_RT_ABI_VERSION));
  }
  {
    small_table s;
    s.tb.dispatches[1].cpu_kernel = 2;
    EXPECT_EQ(s.error(), "dispatch table 'small': dispatch 1 ('consume'): CPU kernel index 2 is "
                         "out of range (the table has 2 kernels)");
  }
  {
    small_table s;
    s.tb.dispatches[2].sme_kernel = 5;
    EXPECT_THAT(s.error(), HasSubstr("dispatch 2 ('split'): SME kernel index 5 is out of range"));
  }
  {
    small_table s;
    s.tb.deps[0] = 1; // consume depends on itself
    EXPECT_EQ(s.error(), "dispatch table 'small': dispatch 1 ('consume') depends on dispatch 1, "
                         "which is not earlier in the table (dependencies must point backwards)");
    s.tb.deps[0] = 2; // a later dispatch
    EXPECT_THAT(s.error(), HasSubstr("depends on dispatch 2, which is not earlier"));
    s.tb.deps[0] = 3; // no such dispatch
    EXPECT_THAT(s.error(), HasSubstr("dependency entry 0 names dispatch 3, but the table has 3"));
  }
  {
    small_table s;
    s.tb.dispatches[2].mode = SMEPILOT_RT_MODE_SME;
    s.tb.dispatches[2].sme_kernel = SMEPILOT_RT_NO_KERNEL;
    EXPECT_EQ(s.error(), "dispatch table 'small': dispatch 2 ('split'): mode sme needs an SME "
                         "kernel, but the dispatch has none");
    s.tb.dispatches[2].mode = SMEPILOT_RT_MODE_COLLAB;
    EXPECT_THAT(s.error(), HasSubstr("mode collab needs an SME kernel"));
    s.tb.dispatches[2].mode = 3;
    EXPECT_THAT(s.error(), HasSubstr("dispatch 2 ('split'): mode 3, expected cpu (0), sme (1)"));
  }
  {
    small_table s;
    s.tb.bindings[1].buffer = 7;
    EXPECT_EQ(s.error(), "dispatch table 'small': binding 1 names buffer 7, but the table has 3 "
                         "buffers");
  }
  {
    small_table s;
    s.tb.dispatches[1].bindings_count = 9;
    EXPECT_EQ(s.error(), "dispatch table 'small': dispatch 1 ('consume'): bindings [2, 11) are "
                         "outside the table's 5 bindings");
    s.tb.dispatches[1].bindings_count = 2;
    s.tb.dispatches[1].deps_begin = 1;
    EXPECT_THAT(s.error(), HasSubstr("dispatch 1 ('consume'): dependencies [1, 2) are outside"));
  }
  {
    small_table s;
    s.tb.bindings[0].offset = -8;
    EXPECT_EQ(s.error(), "dispatch table 'small': binding 0 (buffer 0 ('x')): offset -8 bytes, "
                         "outside the buffer");
    // A buffer of a fixed size: the offset must fall inside it.
    s.tb.bindings[0].offset = 16;
    s.tb.buffers[0].size = fixed(16);
    EXPECT_EQ(s.error(), "dispatch table 'small': binding 0 (buffer 0 ('x')): offset 16 bytes, "
                         "outside the buffer of 16 bytes");
    s.tb.bindings[0].offset = 12;
    EXPECT_EQ(s.error(), "(no error)");
  }
  {
    small_table s;
    s.tb.bindings[0].access = 0;
    EXPECT_THAT(s.error(), HasSubstr("binding 0 (buffer 0 ('x')): access 0, expected read (1)"));
  }
  {
    small_table s;
    s.tb.kernels[1] = nullptr;
    EXPECT_EQ(s.error(), "dispatch table 'small': kernel 1 is null");
  }
  {
    small_table s;
    s.tb.dispatches[2].sme_share = 65537;
    EXPECT_THAT(s.error(), HasSubstr("dispatch 2 ('split'): sme_share 65537 is above 65536"));
    s.tb.dispatches[2].sme_share = 0;
    s.tb.dispatches[2].tile_granule = 0;
    EXPECT_THAT(s.error(), HasSubstr("dispatch 2 ('split'): tile_granule 0, expected >= 1"));
  }
  {
    small_table s;
    s.tb.dispatches[0].tile_count.constant = 1;
    EXPECT_EQ(s.error(), "dispatch table 'small': dispatch 0 ('produce') tile count uses "
                         "constant 1, but the table has 1 constants (or -1 for a fixed value)");
    s.tb.dispatches[0].tile_count = fixed(-3);
    EXPECT_THAT(s.error(), HasSubstr("dispatch 0 ('produce') tile count is a fixed -3"));
  }
  {
    small_table s;
    s.tb.buffers[2].alignment = 48;
    EXPECT_EQ(s.error(), "dispatch table 'small': buffer 2 ('t'): alignment 48 is not a power "
                         "of two");
  }
  {
    small_table s;
    s.tb.table();
    s.tb.t.dispatches = nullptr;
    auto p = dispatch_program::create(&s.tb.t);
    EXPECT_THAT(p.error().message(), HasSubstr("dispatches array is null but its length is 3"));
  }
}

TEST(DispatchValidation, HazardsNeedDependencies) {
  {
    small_table s; // consume reads t without depending on produce
    s.tb.dispatches[1].deps_count = 0;
    EXPECT_EQ(s.error(), "dispatch table 'small': dispatch 1 ('consume') reads buffer 2 ('t'), "
                         "which dispatch 0 ('produce') writes, without depending on it");
  }
  {
    small_table s; // produce only reads the temporary instead of writing it
    s.tb.bindings[1].access = SMEPILOT_RT_ACCESS_READ;
    EXPECT_EQ(s.error(), "dispatch table 'small': dispatch 0 ('produce') reads buffer 2 ('t'), "
                         "a temporary no earlier dispatch writes (temporaries start "
                         "uninitialised)");
  }
  {
    // Reading and writing a fresh temporary is allowed: the kernel may read
    // back only what it wrote (a loop carrying the buffer).
    small_table s;
    s.tb.bindings[1].access = SMEPILOT_RT_ACCESS_READ_WRITE;
    EXPECT_EQ(s.error(), "(no error)");
  }
  {
    // Write after read: a fourth dispatch overwrites x, which 'split' reads.
    small_table s;
    s.tb.dispatch("clobber", 0, fixed(1), {wr(s.x)}, {0});
    EXPECT_EQ(s.error(), "dispatch table 'small': dispatch 3 ('clobber') writes buffer 0 ('x'), "
                         "which dispatch 2 ('split') reads, without depending on it");
    s.tb.deps.back() = 2; // depends on split, which does not depend on produce (a reader too)
    EXPECT_THAT(s.error(), HasSubstr("which dispatch 0 ('produce') reads"));
  }
  {
    // Transitive dependencies are enough: clobber -> split -> produce.
    small_table s;
    s.tb.dispatches.pop_back();
    s.tb.dispatch("split", 0, fixed(10), {rd(s.x)}, {0}, SMEPILOT_RT_MODE_COLLAB, 1, 32768, 2);
    s.tb.dispatch("clobber", 0, fixed(1), {wr(s.x)}, {2});
    EXPECT_EQ(s.error(), "(no error)");
  }
}

TEST(DispatchValidation, RunErrors) {
  small_table s;
  auto program = dispatch_program::create(s.tb.table());
  ASSERT_TRUE(program) << program.error().message();
  thread_pool pool(1);
  float x[4], y[4];
  void *args[] = {x, y};
  void *null_args[] = {x, nullptr};
  const int64_t ok[] = {4}, negative[] = {-2}, huge[] = {INT64_MAX / 2};
  EXPECT_TRUE(program->run(pool, args, ok));
  EXPECT_EQ(program->run(pool, std::span<void *const>(args, 1), ok).message(),
            "dispatch table 'small': 1 arguments given, expected 2");
  EXPECT_EQ(program->run(pool, args, {}).message(),
            "dispatch table 'small': 0 constants given, expected 1");
  EXPECT_EQ(program->run(pool, null_args, ok).message(),
            "dispatch table 'small': argument 1 ('y') is null");
  EXPECT_EQ(program->run(pool, args, negative).message(),
            "dispatch table 'small': dispatch 0 ('produce'): tile count is -2 for these constants");
  EXPECT_EQ(program->run(pool, args, huge).message(),
            "dispatch table 'small': buffer 2 ('t'): size overflows for these constants");
}

} // namespace
