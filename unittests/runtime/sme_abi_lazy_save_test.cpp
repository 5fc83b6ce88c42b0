// The SME ABI routines driven by compiler-generated code, not by hand.
//
// sme_abi_test.cpp checks each routine against the specification with inline
// assembly. Here clang-22 (ACLE SME attributes and intrinsics, the same
// AArch64 backend that lowers MLIR's ArmSME kernels) emits the lazy-save
// protocol itself: a function with live ZA (`__arm_new("za")`) calls a
// private-ZA function, so the compiler sets up a TPIDR2 block and save
// buffer before the call, the callee commits the save on entry (it calls
// __arm_tpidr2_save, or __arm_za_disable) and overwrites ZA, and after the
// call the caller finds TPIDR2_EL0 null and calls __arm_tpidr2_restore. ZA
// read back after the call must equal what was loaded before it. With no-op
// routines the callee's ZA contents come back instead.
#include <gtest/gtest.h>

#if defined(__aarch64__) && defined(__linux__)

#include "smepilot_rt/cpu_features.h"

#include <arm_sme.h>

#include <cstdint>
#include <vector>

namespace {

// The file is compiled for the baseline architecture (so that no SVE code
// lands in templates other tests share); the SME functions opt in one by one.
#define SMEPILOT_SME_TARGET __attribute__((target("sme")))

std::vector<uint8_t> callee_junk;

/// A private-ZA function that uses ZA: on entry the compiler commits any
/// lazy save of its caller (__arm_tpidr2_save), then it fills ZA with junk.
///
/// The empty asm that clobbers x30 works around a clang-22 bug: in a leaf
/// __arm_new("za") function the new SME ABI lowering (aarch64-new-sme-abi, on
/// by default in LLVM 22) emits `bl __arm_tpidr2_save` without saving LR, so
/// the function returns to its own prologue and faults (seen under QEMU; the
/// old lowering, -mllvm -aarch64-new-sme-abi=false, spills LR). See
/// docs/sme-abi.md: MLIR kernels that are leaf new-ZA functions have the
/// same prologue.
__arm_new("za") SMEPILOT_SME_TARGET __attribute__((noinline)) void overwrite_za(int64_t svl) {
  asm volatile("" ::: "x30");
  svzero_za();
  for (int64_t row = 0; row < svl; ++row)
    svldr_za(uint32_t(row), callee_junk.data() + row * svl);
}

/// SVCR and TPIDR2_EL0 as disable_za saw them after __arm_za_disable.
uint64_t svcr_after_disable;
void *tpidr2_after_disable;

/// A private-ZA function that turns ZA off the way longjmp or an unwinder
/// would: __arm_za_disable commits the lazy save. It records the state
/// afterwards, since a caller cannot tell a disable that did nothing (ZA
/// still dormant, so it abandons the save) from one that worked.
SMEPILOT_SME_TARGET __attribute__((noinline)) void disable_za() {
  __arm_za_disable();
  asm volatile("mrs %0, svcr\n\tmrs %1, tpidr2_el0"
               : "=r"(svcr_after_disable), "=r"(tpidr2_after_disable));
}

/// Loads ZA from `in`, calls `callee` (a private-ZA function: the compiler
/// wraps the call in a lazy save), stores ZA to `out`.
__arm_new("za") SMEPILOT_SME_TARGET
    __attribute__((noinline)) void keep_za_across_call(const uint8_t *in, uint8_t *out, int64_t svl,
                                                       bool use_disable) {
  for (int64_t row = 0; row < svl; ++row)
    svldr_za(uint32_t(row), in + row * svl);
  if (use_disable)
    disable_za();
  else
    overwrite_za(svl);
  for (int64_t row = 0; row < svl; ++row)
    svstr_za(uint32_t(row), out + row * svl);
}

/// The same in streaming mode: the call to the non-streaming callee also
/// leaves and re-enters streaming mode around the lazy save.
__arm_new("za") __arm_locally_streaming SMEPILOT_SME_TARGET
    __attribute__((noinline)) void keep_za_across_call_streaming(const uint8_t *in, uint8_t *out,
                                                                 int64_t svl, bool use_disable) {
  for (int64_t row = 0; row < svl; ++row)
    svldr_za(uint32_t(row), in + row * svl);
  if (use_disable)
    disable_za();
  else
    overwrite_za(svl);
  for (int64_t row = 0; row < svl; ++row)
    svstr_za(uint32_t(row), out + row * svl);
}

class SmeAbiLazySave : public ::testing::TestWithParam<std::tuple<bool, bool>> {
protected:
  void SetUp() override {
    const auto f = smepilot::rt::detect_cpu_features();
    if (!f.sme)
      GTEST_SKIP() << "this CPU has no SME (HWCAP2_SME clear); run under qemu-aarch64 -cpu max";
    svl = f.sme_vector_bytes;
    in.resize(size_t(svl * svl));
    callee_junk.assign(size_t(svl * svl), 0);
    for (size_t i = 0; i < in.size(); ++i) {
      in[i] = uint8_t(i * 13 + (i / size_t(svl)) + 1);
      callee_junk[i] = uint8_t(~in[i]);
    }
  }
  int64_t svl = 0;
  std::vector<uint8_t> in;
};

TEST_P(SmeAbiLazySave, ZaSurvivesACallThatCommitsTheLazySave) {
  const auto [streaming, use_disable] = GetParam();
  std::vector<uint8_t> out(in.size(), 0);
  svcr_after_disable = ~0ull;
  tpidr2_after_disable = &svcr_after_disable;
  if (streaming)
    keep_za_across_call_streaming(in.data(), out.data(), svl, use_disable);
  else
    keep_za_across_call(in.data(), out.data(), svl, use_disable);
  int64_t bad_row = -1;
  for (int64_t row = 0; row < svl && bad_row < 0; ++row)
    for (int64_t col = 0; col < svl; ++col)
      if (out[size_t(row * svl + col)] != in[size_t(row * svl + col)]) {
        bad_row = row;
        break;
      }
  EXPECT_EQ(bad_row, -1) << "ZA row " << bad_row << " differs after the call (SVL " << svl
                         << " bytes): the lazy save or its restore lost it";
  if (use_disable) {
    EXPECT_EQ(svcr_after_disable, 0u) << "ZA (or SM) still on after __arm_za_disable";
    EXPECT_EQ(tpidr2_after_disable, nullptr) << "TPIDR2_EL0 still set after __arm_za_disable";
  }
  // Both functions turn ZA off and leave no lazy save behind.
  uint64_t svcr;
  void *tpidr2;
  asm volatile(".arch_extension sme\n\tmrs %0, svcr\n\tmrs %1, tpidr2_el0"
               : "=r"(svcr), "=r"(tpidr2));
  EXPECT_EQ(svcr, 0u);
  EXPECT_EQ(tpidr2, nullptr);
}

INSTANTIATE_TEST_SUITE_P(
    Callers, SmeAbiLazySave, ::testing::Combine(::testing::Bool(), ::testing::Bool()),
    [](const ::testing::TestParamInfo<std::tuple<bool, bool>> &info) {
      return std::string(std::get<0>(info.param) ? "Streaming" : "NonStreaming") +
             (std::get<1>(info.param) ? "CalleeCallsZaDisable" : "CalleeUsesZa");
    });

} // namespace

#else // not aarch64 Linux

TEST(SmeAbiLazySave, OnlyInTheAarch64LinuxBuild) {
  GTEST_SKIP() << "compiler-generated SME lazy saves exist only in the aarch64 Linux build";
}

#endif
