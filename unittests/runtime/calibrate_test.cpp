// The calibration microbenchmarks (calibrate.h), run small: every kernel this
// CPU has must run and give a positive rate, the ones it lacks must fall
// back to the f32 rate, and the table must name what was timed. Under
// qemu-aarch64 this also runs the SME kernel (fmopa, bfmopa, smopa in
// streaming mode) for real; its numbers are the emulator's, so only their
// presence is checked, never their size.
#include "smepilot_rt/calibrate.h"

#include <gtest/gtest.h>

#include <string>

namespace {

namespace rt = smepilot::rt;

rt::calibration small_calibration(const rt::cpu_features &f, int threads) {
  rt::calibrate_options options;
  options.threads = threads;
  options.buffer_bytes = 16 << 20;
  options.effort = 0.05;
  return rt::calibrate(f, options);
}

TEST(Calibrate, MeasuresEveryUnitThisCpuHas) {
  const rt::cpu_features f = rt::detect_cpu_features();
  const rt::calibration c = small_calibration(f, 2);
  EXPECT_EQ(c.threads, 2);
  EXPECT_GT(c.ghz, 0);
  EXPECT_GT(c.f32.gflops, 0);
  EXPECT_FALSE(c.f32.instruction.empty());
  for (const rt::calibrated_rate *r : {&c.f16, &c.bf16, &c.i8}) {
    EXPECT_GT(r->gflops, 0);
    if (r->instruction.empty())
      EXPECT_EQ(r->gflops, c.f32.gflops) << "a type without its instruction gets the f32 rate";
  }
#if defined(__x86_64__)
  EXPECT_EQ(c.bf16.instruction.empty(), !f.avx512bf16);
  EXPECT_EQ(c.i8.instruction.empty(), !f.avx512vnni);
#elif defined(__aarch64__)
  EXPECT_EQ(c.bf16.instruction.empty(), !f.bf16);
  EXPECT_EQ(c.i8.instruction.empty(), !f.dotprod);
#endif
  ASSERT_EQ(c.read_gbps.size(), 2u);
  EXPECT_GT(c.read_gbps[0], 0);
  EXPECT_GT(c.read_gbps[1], 0);
  // The matrix unit: measured exactly when there is one.
  const bool sme = f.sme && f.sme_vector_bytes > 0;
  EXPECT_EQ(c.matrix_f32.gflops > 0, sme);
  EXPECT_EQ(c.matrix_bf16.gflops > 0, sme);
  EXPECT_EQ(c.matrix_i8.gflops > 0, sme);
  EXPECT_GT(c.seconds, 0);

  const std::string table = rt::describe(c);
  EXPECT_NE(table.find("read bandwidth"), std::string::npos) << table;
  EXPECT_NE(table.find("with 2 threads"), std::string::npos) << table;
  EXPECT_NE(table.find(c.f32.instruction), std::string::npos) << table;
  EXPECT_EQ(table.find("matrix f32") != std::string::npos, sme) << table;
}

TEST(Calibrate, ACpuWithoutDotProductsGetsTheF32Rate) {
  rt::cpu_features f = rt::detect_cpu_features();
  f.avx512bf16 = f.avx512vnni = f.bf16 = f.dotprod = f.fp16 = false;
  f.sme = false;
  const rt::calibration c = small_calibration(f, 1);
  for (const rt::calibrated_rate *r : {&c.f16, &c.bf16, &c.i8}) {
    EXPECT_TRUE(r->instruction.empty());
    EXPECT_EQ(r->gflops, c.f32.gflops);
  }
  EXPECT_EQ(c.matrix_f32.gflops, 0);
  ASSERT_EQ(c.read_gbps.size(), 1u);
  EXPECT_NE(rt::describe(c).find("no instruction of its own: the f32 rate"), std::string::npos);
}

} // namespace
