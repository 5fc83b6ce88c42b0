// Tests of the SME ABI support routines (runtime/src/sme_abi_aarch64.S).
//
// Each test puts the thread in a known SME state with inline assembly
// (smstart/smstop, TPIDR2_EL0, ZA filled row by row with `ldr za`), calls a
// routine through call_recording() and checks the observable contract:
// results, ZA contents (read back with `str za`), the save buffer, SVCR and
// TPIDR2_EL0 afterwards, and that every register the routine promises to
// preserve (x0-x15 as the routine's contract says, x19-x29, Z0-Z31, P0-P15)
// still holds its canary. No-op stubs fail every case except the two
// that check that a save with nothing to save writes nothing; a routine that
// uses a register it must preserve fails the register checks (tried with the
// save loop's slice index moved to w12).
//
// The tests run in and out of streaming mode (the routines are
// streaming-compatible). They need SME: under qemu-aarch64 -cpu max they run,
// and the aarch64 sub-build also runs them at several vector lengths
// (unittests/runtime/CMakeLists.txt). SmeAbiWithoutSme* run instead on CPUs
// without SME (ctest: -cpu max,sme=off and -cpu cortex-a72), where the
// routines must do nothing and execute no SME instruction. On other
// architectures the file is one skipped test.
#include <gtest/gtest.h>

#if defined(__aarch64__) && defined(__linux__)

#include "smepilot_rt/cpu_features.h"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

extern "C" {
struct arm_sme_state_result {
  uint64_t x0, x1;
};
arm_sme_state_result __arm_sme_state(void);
void __arm_tpidr2_save(void);
void __arm_tpidr2_restore(void *block);
void __arm_za_disable(void);
uint64_t __arm_get_current_vg(void);

/// General-purpose registers and SVCR right after a call made by
/// call_recording.
struct call_record {
  uint64_t x[30]; // x0..x29 (x16, x17, x18 not meaningful)
  uint64_t svcr_after;
  /// Vector length in bytes when Z0-Z31 and P0-P15 were recorded, else 0.
  uint64_t vector_bytes;
  /// z[i * vector_bytes ...]: Z<i>; p[i * vector_bytes / 8 ...]: P<i>.
  uint8_t z[32 * 256];
  uint8_t p[16 * 32];
};

/// Calls fn with x0 = arg0 and x1..x15, x19..x29 set to canary(i); in
/// streaming mode (smstart sm before, smstop sm after) when bit 0 of `mode`
/// is set. Records the registers, and SVCR (into svcr_after) when bit 1 is
/// set, as fn returned them. With bit 2 (needs SVE, or streaming mode) it also
/// sets Z<i> to bytes i + 1 and P<i> to ptrue pattern(i) before the call and
/// records them after it. Mode 0 executes no SME or SVE instruction.
void call_recording(const void *fn, uint64_t arg0, uint64_t mode, call_record *out);
}
static_assert(offsetof(call_record, vector_bytes) == 248);
static_assert(offsetof(call_record, z) == 256);
static_assert(offsetof(call_record, p) == 256 + 32 * 256);

namespace {

constexpr uint64_t canary(int reg) { return 0xc0de000000000000ull | uint64_t(reg); }

#define SMEPILOT_CANARY(n) "movz x" #n ", #" #n "\n\tmovk x" #n ", #0xc0de, lsl #48\n\t"

// x0 = fn, x1 = arg0, x2 = streaming, x3 = out.
asm(R"(
        .text
        .arch_extension sme
        .arch_extension sve
        .p2align 2
        .globl call_recording
        .type call_recording, %function
call_recording:
        stp     x29, x30, [sp, #-112]!
        stp     x19, x20, [sp, #16]
        stp     x21, x22, [sp, #32]
        stp     x23, x24, [sp, #48]
        stp     x25, x26, [sp, #64]
        stp     x27, x28, [sp, #80]
        stp     x3, x2, [sp, #96]
        mov     x16, x0
        mov     x0, x1
        tbz     x2, #0, 1f
        smstart sm
1:      tbz     x2, #2, 5f
        dup     z0.b, #1
        dup     z1.b, #2
        dup     z2.b, #3
        dup     z3.b, #4
        dup     z4.b, #5
        dup     z5.b, #6
        dup     z6.b, #7
        dup     z7.b, #8
        dup     z8.b, #9
        dup     z9.b, #10
        dup     z10.b, #11
        dup     z11.b, #12
        dup     z12.b, #13
        dup     z13.b, #14
        dup     z14.b, #15
        dup     z15.b, #16
        dup     z16.b, #17
        dup     z17.b, #18
        dup     z18.b, #19
        dup     z19.b, #20
        dup     z20.b, #21
        dup     z21.b, #22
        dup     z22.b, #23
        dup     z23.b, #24
        dup     z24.b, #25
        dup     z25.b, #26
        dup     z26.b, #27
        dup     z27.b, #28
        dup     z28.b, #29
        dup     z29.b, #30
        dup     z30.b, #31
        dup     z31.b, #32
        ptrue   p0.b, vl1
        ptrue   p1.b, vl2
        ptrue   p2.b, vl3
        ptrue   p3.b, vl4
        ptrue   p4.b, vl5
        ptrue   p5.b, vl6
        ptrue   p6.b, vl7
        ptrue   p7.b, vl8
        ptrue   p8.h, vl1
        ptrue   p9.h, vl2
        ptrue   p10.h, vl3
        ptrue   p11.h, vl4
        ptrue   p12.h, vl5
        ptrue   p13.h, vl6
        ptrue   p14.h, vl7
        ptrue   p15.h, vl8
5:
        )" SMEPILOT_CANARY(1) SMEPILOT_CANARY(2) SMEPILOT_CANARY(3) SMEPILOT_CANARY(4)
        SMEPILOT_CANARY(5) SMEPILOT_CANARY(6) SMEPILOT_CANARY(7) SMEPILOT_CANARY(8)
            SMEPILOT_CANARY(9) SMEPILOT_CANARY(10) SMEPILOT_CANARY(11) SMEPILOT_CANARY(12)
                SMEPILOT_CANARY(13) SMEPILOT_CANARY(14) SMEPILOT_CANARY(15) SMEPILOT_CANARY(19)
                    SMEPILOT_CANARY(20) SMEPILOT_CANARY(21) SMEPILOT_CANARY(22) SMEPILOT_CANARY(23)
                        SMEPILOT_CANARY(24) SMEPILOT_CANARY(25) SMEPILOT_CANARY(26)
                            SMEPILOT_CANARY(27) SMEPILOT_CANARY(28) SMEPILOT_CANARY(29) R"(
        blr     x16
        ldr     x17, [sp, #96]
        stp     x0, x1, [x17, #0]
        stp     x2, x3, [x17, #16]
        stp     x4, x5, [x17, #32]
        stp     x6, x7, [x17, #48]
        stp     x8, x9, [x17, #64]
        stp     x10, x11, [x17, #80]
        stp     x12, x13, [x17, #96]
        stp     x14, x15, [x17, #112]
        stp     xzr, xzr, [x17, #128]
        stp     xzr, x19, [x17, #144]
        stp     x20, x21, [x17, #160]
        stp     x22, x23, [x17, #176]
        stp     x24, x25, [x17, #192]
        stp     x26, x27, [x17, #208]
        stp     x28, x29, [x17, #224]
        ldr     x16, [sp, #104]
        tbz     x16, #2, 4f
        cntb    x16
        str     x16, [x17, #248]
        add     x16, x17, #256
        str     z0, [x16, #0, mul vl]
        str     z1, [x16, #1, mul vl]
        str     z2, [x16, #2, mul vl]
        str     z3, [x16, #3, mul vl]
        str     z4, [x16, #4, mul vl]
        str     z5, [x16, #5, mul vl]
        str     z6, [x16, #6, mul vl]
        str     z7, [x16, #7, mul vl]
        str     z8, [x16, #8, mul vl]
        str     z9, [x16, #9, mul vl]
        str     z10, [x16, #10, mul vl]
        str     z11, [x16, #11, mul vl]
        str     z12, [x16, #12, mul vl]
        str     z13, [x16, #13, mul vl]
        str     z14, [x16, #14, mul vl]
        str     z15, [x16, #15, mul vl]
        str     z16, [x16, #16, mul vl]
        str     z17, [x16, #17, mul vl]
        str     z18, [x16, #18, mul vl]
        str     z19, [x16, #19, mul vl]
        str     z20, [x16, #20, mul vl]
        str     z21, [x16, #21, mul vl]
        str     z22, [x16, #22, mul vl]
        str     z23, [x16, #23, mul vl]
        str     z24, [x16, #24, mul vl]
        str     z25, [x16, #25, mul vl]
        str     z26, [x16, #26, mul vl]
        str     z27, [x16, #27, mul vl]
        str     z28, [x16, #28, mul vl]
        str     z29, [x16, #29, mul vl]
        str     z30, [x16, #30, mul vl]
        str     z31, [x16, #31, mul vl]
        add     x16, x17, #2, lsl #12
        add     x16, x16, #256
        str     p0, [x16, #0, mul vl]
        str     p1, [x16, #1, mul vl]
        str     p2, [x16, #2, mul vl]
        str     p3, [x16, #3, mul vl]
        str     p4, [x16, #4, mul vl]
        str     p5, [x16, #5, mul vl]
        str     p6, [x16, #6, mul vl]
        str     p7, [x16, #7, mul vl]
        str     p8, [x16, #8, mul vl]
        str     p9, [x16, #9, mul vl]
        str     p10, [x16, #10, mul vl]
        str     p11, [x16, #11, mul vl]
        str     p12, [x16, #12, mul vl]
        str     p13, [x16, #13, mul vl]
        str     p14, [x16, #14, mul vl]
        str     p15, [x16, #15, mul vl]
        ldr     x16, [sp, #104]
4:      tbz     x16, #1, 3f
        mrs     x16, svcr
        str     x16, [x17, #240]
3:      tbz     x16, #0, 2f
        smstop  sm
2:
        ldp     x19, x20, [sp, #16]
        ldp     x21, x22, [sp, #32]
        ldp     x23, x24, [sp, #48]
        ldp     x25, x26, [sp, #64]
        ldp     x27, x28, [sp, #80]
        ldp     x29, x30, [sp], #112
        ret
        .size call_recording, . - call_recording
)");

/// The registers a routine preserves, as a bit set over x0..x29.
constexpr uint32_t regs(int first, int last) {
  uint32_t mask = 0;
  for (int r = first; r <= last; ++r)
    mask |= 1u << r;
  return mask;
}
constexpr uint32_t callee_saved = regs(19, 29);
constexpr uint32_t preserved_by_sme_state = regs(2, 15) | callee_saved;
constexpr uint32_t preserved_by_save = regs(0, 13) | callee_saved; // also restore, za_disable
constexpr uint32_t preserved_by_get_vg = regs(1, 15) | callee_saved;

/// Checks that every register in `mask` holds its canary (x0 holds `arg0`).
void expect_preserved(const call_record &r, uint32_t mask, uint64_t arg0, const char *routine) {
  for (int reg = 0; reg < 30; ++reg) {
    if (!(mask & (1u << reg)))
      continue;
    const uint64_t expected = reg == 0 ? arg0 : canary(reg);
    EXPECT_EQ(r.x[reg], expected) << routine << " clobbered x" << reg
                                  << ", which the AAPCS64 says it preserves";
  }
  const size_t vl = size_t(r.vector_bytes);
  if (vl == 0)
    return;
  for (size_t zi = 0; zi < 32; ++zi)
    for (size_t b = 0; b < vl; ++b)
      if (r.z[zi * vl + b] != zi + 1) {
        ADD_FAILURE() << routine << " clobbered z" << zi << " (byte " << b
                      << "), which the AAPCS64 says it preserves";
        break;
      }
  // P<i>: one bit per byte lane; ptrue .b vl(i+1) for P0-P7, .h vl(i-7) (every
  // other bit) for P8-P15.
  const size_t pl = vl / 8;
  for (size_t pi = 0; pi < 16; ++pi) {
    std::vector<uint8_t> expected(pl, 0);
    const size_t lanes = pi < 8 ? pi + 1 : pi - 7, stride = pi < 8 ? 1 : 2;
    for (size_t lane = 0; lane < lanes; ++lane)
      expected[lane * stride / 8] |= uint8_t(1u << (lane * stride % 8));
    EXPECT_EQ(std::memcmp(r.p + pi * pl, expected.data(), pl), 0)
        << routine << " clobbered p" << pi << ", which the AAPCS64 says it preserves";
  }
}

constexpr uint64_t svcr_sm = 1, svcr_za = 2;

// This file is compiled for the baseline architecture (so that no SVE code
// lands in templates other tests share); each SME or SVE instruction names its
// extension instead.
#define SME ".arch_extension sme\n\t"
#define SVE ".arch_extension sve\n\t"

uint64_t read_svcr() {
  uint64_t v;
  asm volatile(SME "mrs %0, svcr" : "=r"(v));
  return v;
}
void *read_tpidr2() {
  void *v;
  asm volatile(SME "mrs %0, tpidr2_el0" : "=r"(v));
  return v;
}
void write_tpidr2(const void *p) { asm volatile(SME "msr tpidr2_el0, %0" ::"r"(p) : "memory"); }
void za_on() { asm volatile(SME "smstart za" ::: "memory"); }
void za_off() { asm volatile(SME "smstop za" ::: "memory"); }
void zero_za() { asm volatile(SME "zero {za}" ::: "memory"); }
int64_t svl_bytes() {
  int64_t v;
  asm volatile(SME "rdsvl %0, #1" : "=r"(v));
  return v;
}
int64_t sve_bytes() {
  int64_t v;
  asm volatile(SVE "cntb %0" : "=r"(v));
  return v;
}
/// ZA slice `row` = `svl` bytes at p.
void load_za_row(uint32_t row, const uint8_t *p) {
  asm volatile(SME "mov w12, %w0\n\tldr za[w12, 0], [%1]" ::"r"(row), "r"(p) : "x12", "memory");
}
void store_za_row(uint32_t row, uint8_t *p) {
  asm volatile(SME "mov w12, %w0\n\tstr za[w12, 0], [%1]" ::"r"(row), "r"(p) : "x12", "memory");
}

/// A TPIDR2 block (AAPCS64 6.4.3).
struct tpidr2_block {
  void *za_save_buffer;
  uint16_t num_za_save_slices;
  uint8_t reserved[6];
};
static_assert(sizeof(tpidr2_block) == 16);

/// SVL x SVL bytes in which no two rows are equal (the row index is XORed
/// into every byte), and different seeds give different contents.
std::vector<uint8_t> za_pattern(int64_t svl, uint8_t seed) {
  std::vector<uint8_t> p(size_t(svl * svl));
  for (int64_t row = 0; row < svl; ++row)
    for (int64_t col = 0; col < svl; ++col)
      p[size_t(row * svl + col)] = uint8_t(row ^ (col * 7 + seed * 29 + 1));
  return p;
}
void load_za(const std::vector<uint8_t> &p, int64_t svl) {
  for (int64_t row = 0; row < svl; ++row)
    load_za_row(uint32_t(row), p.data() + row * svl);
}
std::vector<uint8_t> read_za(int64_t svl) {
  std::vector<uint8_t> out(size_t(svl * svl));
  for (int64_t row = 0; row < svl; ++row)
    store_za_row(uint32_t(row), out.data() + row * svl);
  return out;
}
/// Index of the first row where a and b differ, or -1.
int64_t first_different_row(const uint8_t *a, const uint8_t *b, int64_t rows, int64_t svl) {
  for (int64_t row = 0; row < rows; ++row)
    if (std::memcmp(a + row * svl, b + row * svl, size_t(svl)) != 0)
      return row;
  return -1;
}

class SmeAbi : public ::testing::TestWithParam<bool> {
protected:
  void SetUp() override {
    features = smepilot::rt::detect_cpu_features();
    if (!features.sme)
      GTEST_SKIP() << "this CPU has no SME (HWCAP2_SME clear); run under "
                      "qemu-aarch64 -cpu max to test the SME ABI routines";
    svl = svl_bytes();
    ASSERT_EQ(read_svcr(), 0u) << "a previous test left streaming mode or ZA on";
    ASSERT_EQ(read_tpidr2(), nullptr) << "a previous test left TPIDR2_EL0 set";
  }
  /// Leaves the thread with SM and ZA off and TPIDR2_EL0 null, whatever the
  /// test did before it failed.
  void TearDown() override {
    if (!features.sme)
      return;
    write_tpidr2(nullptr);
    asm volatile(SME "smstop" ::: "memory");
  }
  bool streaming() const { return GetParam(); }
  /// call_recording's mode: read SVCR, enter streaming mode if asked, and
  /// check the vector registers when SVE instructions can run.
  uint64_t streaming_arg() const {
    return (streaming() ? 1 : 0) | 2 | (streaming() || features.sve ? 4 : 0);
  }
  uint64_t sm_bit() const { return streaming() ? svcr_sm : 0; }

  smepilot::rt::cpu_features features;
  int64_t svl = 0;
};

INSTANTIATE_TEST_SUITE_P(Modes, SmeAbi, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool> &info) {
                           return std::string(info.param ? "Streaming" : "NonStreaming");
                         });

TEST_P(SmeAbi, SmeStateReportsSmeTpidr2AndModes) {
  tpidr2_block off_block{}; // za_save_buffer null, 0 slices: the ZA "off" state
  write_tpidr2(&off_block);
  call_record r{};
  call_recording((const void *)&__arm_sme_state, 0, streaming_arg(), &r);
  // Bit 63: has SME; bit 62: has TPIDR2_EL0; bits 1:0: PSTATE.ZA, PSTATE.SM.
  EXPECT_EQ(r.x[0], 0xc000000000000000ull | sm_bit());
  EXPECT_EQ(r.x[1], uint64_t(&off_block)) << "x1 must be TPIDR2_EL0";
  expect_preserved(r, preserved_by_sme_state, r.x[0], "__arm_sme_state");

  write_tpidr2(nullptr);
  za_on();
  call_recording((const void *)&__arm_sme_state, 0, streaming_arg(), &r);
  EXPECT_EQ(r.x[0], 0xc000000000000000ull | svcr_za | sm_bit());
  EXPECT_EQ(r.x[1], 0u);
  EXPECT_EQ(r.svcr_after, svcr_za | sm_bit()) << "__arm_sme_state changed PSTATE";
  za_off();
}

TEST_P(SmeAbi, Tpidr2SaveCommitsEveryLiveSlice) {
  const auto pattern = za_pattern(svl, 1);
  std::vector<uint8_t> buffer(pattern.size(), 0);
  tpidr2_block block{buffer.data(), uint16_t(svl), {}};
  za_on();
  load_za(pattern, svl);
  write_tpidr2(&block); // ZA is now dormant
  call_record r{};
  call_recording((const void *)&__arm_tpidr2_save, 0x1234, streaming_arg(), &r);
  EXPECT_EQ(first_different_row(buffer.data(), pattern.data(), svl, svl), -1)
      << "the save buffer does not hold ZA (row shown is the first wrong one)";
  EXPECT_EQ(read_tpidr2(), &block) << "__arm_tpidr2_save must leave TPIDR2_EL0 alone";
  EXPECT_EQ(r.svcr_after, svcr_za | sm_bit()) << "ZA must stay on (dormant)";
  expect_preserved(r, preserved_by_save, 0x1234, "__arm_tpidr2_save");
  // ZA itself is unchanged by a save.
  write_tpidr2(nullptr);
  EXPECT_EQ(first_different_row(read_za(svl).data(), pattern.data(), svl, svl), -1);
  za_off();
}

TEST_P(SmeAbi, Tpidr2SaveStoresOnlyTheLiveSlicesInsideTheBuffer) {
  // A buffer of 16 slices (W = 1) with 3 live ones; bytes after it are a
  // guard that must stay untouched.
  const auto pattern = za_pattern(svl, 2);
  const size_t buffer_bytes = size_t(16 * svl);
  std::vector<uint8_t> memory(buffer_bytes + size_t(svl), 0xee);
  tpidr2_block block{memory.data(), 3, {}};
  za_on();
  load_za(pattern, svl);
  write_tpidr2(&block);
  call_record r{};
  call_recording((const void *)&__arm_tpidr2_save, 0, streaming_arg(), &r);
  EXPECT_EQ(first_different_row(memory.data(), pattern.data(), 3, svl), -1);
  for (size_t i = buffer_bytes; i < memory.size(); ++i)
    ASSERT_EQ(memory[i], 0xee) << "byte " << i << " past the save buffer was written";
  write_tpidr2(nullptr);
  za_off();
}

TEST_P(SmeAbi, Tpidr2SaveDoesNothingWithoutALazySave) {
  za_on();
  load_za(za_pattern(svl, 3), svl);
  call_record r{};
  // TPIDR2_EL0 null: nothing to commit.
  call_recording((const void *)&__arm_tpidr2_save, 0, streaming_arg(), &r);
  EXPECT_EQ(read_tpidr2(), nullptr);
  EXPECT_EQ(r.svcr_after, svcr_za | sm_bit());
  expect_preserved(r, preserved_by_save, 0, "__arm_tpidr2_save");
  // A block with a buffer but zero live slices: the buffer stays untouched.
  std::vector<uint8_t> buffer(size_t(svl * svl), 0xee);
  tpidr2_block block{buffer.data(), 0, {}};
  write_tpidr2(&block);
  call_recording((const void *)&__arm_tpidr2_save, 0, streaming_arg(), &r);
  for (uint8_t b : buffer)
    ASSERT_EQ(b, 0xee) << "a save with num_za_save_slices = 0 wrote to the buffer";
  write_tpidr2(nullptr);
  za_off();
}

TEST_P(SmeAbi, Tpidr2RestoreFillsZaFromTheBlock) {
  const auto pattern = za_pattern(svl, 4);
  std::vector<uint8_t> buffer = pattern;
  tpidr2_block block{buffer.data(), uint16_t(svl), {}};
  za_on();
  zero_za();
  call_record r{};
  call_recording((const void *)&__arm_tpidr2_restore, uint64_t(&block), streaming_arg(), &r);
  EXPECT_EQ(first_different_row(read_za(svl).data(), pattern.data(), svl, svl), -1)
      << "ZA does not hold the saved slices after __arm_tpidr2_restore";
  EXPECT_EQ(r.svcr_after, svcr_za | sm_bit());
  EXPECT_EQ(read_tpidr2(), nullptr);
  expect_preserved(r, preserved_by_save, uint64_t(&block), "__arm_tpidr2_restore");
  za_off();
}

TEST_P(SmeAbi, Tpidr2RestoreLoadsTheLiveSlicesOnly) {
  const auto pattern = za_pattern(svl, 5);
  tpidr2_block block{const_cast<uint8_t *>(pattern.data()), 5, {}};
  za_on();
  zero_za();
  call_record r{};
  call_recording((const void *)&__arm_tpidr2_restore, uint64_t(&block), streaming_arg(), &r);
  const auto za = read_za(svl);
  EXPECT_EQ(first_different_row(za.data(), pattern.data(), 5, svl), -1);
  za_off();
}

TEST_P(SmeAbi, ZaDisableCommitsTheLazySaveAndTurnsZaOff) {
  const auto pattern = za_pattern(svl, 6);
  std::vector<uint8_t> buffer(pattern.size(), 0);
  tpidr2_block block{buffer.data(), uint16_t(svl), {}};
  za_on();
  load_za(pattern, svl);
  write_tpidr2(&block);
  call_record r{};
  call_recording((const void *)&__arm_za_disable, 77, streaming_arg(), &r);
  EXPECT_EQ(r.svcr_after, sm_bit()) << "PSTATE.ZA must be clear and PSTATE.SM unchanged";
  EXPECT_EQ(read_tpidr2(), nullptr) << "__arm_za_disable must set TPIDR2_EL0 to null";
  EXPECT_EQ(first_different_row(buffer.data(), pattern.data(), svl, svl), -1)
      << "the pending lazy save was not committed";
  expect_preserved(r, preserved_by_save, 77, "__arm_za_disable");
}

TEST_P(SmeAbi, ZaDisableWithoutLazySaveTurnsZaOff) {
  za_on();
  call_record r{};
  call_recording((const void *)&__arm_za_disable, 0, streaming_arg(), &r);
  EXPECT_EQ(r.svcr_after, sm_bit());
  EXPECT_EQ(read_tpidr2(), nullptr);
  // With ZA already off it is a no-op.
  call_recording((const void *)&__arm_za_disable, 0, streaming_arg(), &r);
  EXPECT_EQ(r.svcr_after, sm_bit());
}

TEST_P(SmeAbi, ZaDisableThenRestoreRoundTrip) {
  // The lazy-save protocol of AAPCS64 9.1 end to end: S1 has live ZA, sets up
  // a lazy save, a callee commits it (__arm_za_disable), S1 sees TPIDR2_EL0
  // null, turns ZA on and restores.
  const auto pattern = za_pattern(svl, 7);
  std::vector<uint8_t> buffer(pattern.size(), 0);
  tpidr2_block block{buffer.data(), uint16_t(svl), {}};
  za_on();
  load_za(pattern, svl);
  write_tpidr2(&block);
  call_record r{};
  call_recording((const void *)&__arm_za_disable, 0, streaming_arg(), &r);
  ASSERT_EQ(read_tpidr2(), nullptr);
  za_on();
  zero_za();
  call_recording((const void *)&__arm_tpidr2_restore, uint64_t(&block), streaming_arg(), &r);
  EXPECT_EQ(first_different_row(read_za(svl).data(), pattern.data(), svl, svl), -1);
  za_off();
}

TEST_P(SmeAbi, GetCurrentVgIsTheStreamingOrSveGranuleCount) {
  call_record r{};
  call_recording((const void *)&__arm_get_current_vg, 0, streaming_arg(), &r);
  const int64_t expected = streaming() ? svl / 8 : (features.sve ? sve_bytes() / 8 : 0);
  EXPECT_EQ(int64_t(r.x[0]), expected);
  expect_preserved(r, preserved_by_get_vg, r.x[0], "__arm_get_current_vg");
}

using SmeAbiDeathTest = SmeAbi;
INSTANTIATE_TEST_SUITE_P(Modes, SmeAbiDeathTest, ::testing::Values(false));

TEST_P(SmeAbiDeathTest, Tpidr2SaveAbortsOnNonzeroReservedBytes) {
  std::vector<uint8_t> buffer(size_t(svl * svl));
  tpidr2_block block{buffer.data(), uint16_t(svl), {0, 0, 0, 1, 0, 0}};
  EXPECT_DEATH(
      {
        za_on();
        write_tpidr2(&block);
        __arm_tpidr2_save();
      },
      "__arm_tpidr2_save: the TPIDR2 block at TPIDR2_EL0 has nonzero reserved bytes");
}

TEST_P(SmeAbiDeathTest, Tpidr2RestoreAbortsOnMisuse) {
  std::vector<uint8_t> buffer(size_t(svl * svl));
  tpidr2_block good{buffer.data(), uint16_t(svl), {}};
  tpidr2_block reserved{buffer.data(), uint16_t(svl), {1, 0, 0, 0, 0, 0}};
  EXPECT_DEATH(
      {
        za_on();
        write_tpidr2(&good);
        __arm_tpidr2_restore(&good);
      },
      "TPIDR2_EL0 not null");
  EXPECT_DEATH(
      {
        za_on();
        __arm_tpidr2_restore(&reserved);
      },
      "__arm_tpidr2_restore: the TPIDR2 block has nonzero reserved bytes");
  EXPECT_DEATH(__arm_tpidr2_restore(&good), "PSTATE.ZA clear");
  EXPECT_DEATH(
      {
        za_on();
        __arm_tpidr2_restore(nullptr);
      },
      "null TPIDR2 block");
}

/// On a CPU without SME (ctest runs this under qemu-aarch64 -cpu max,sme=off
/// and -cpu cortex-a72) the routines must report nothing and do nothing,
/// without executing an SME instruction.
TEST(SmeAbiWithoutSme, RoutinesReportNothingAndDoNothing) {
  const auto f = smepilot::rt::detect_cpu_features();
  if (f.sme)
    GTEST_SKIP() << "this CPU has SME; ctest runs this test under qemu-aarch64 -cpu "
                    "max,sme=off and -cpu cortex-a72";
  const uint64_t mode = f.sve ? 4 : 0; // record Z/P when SVE can
  call_record r{};
  call_recording((const void *)&__arm_sme_state, 0, mode, &r);
  EXPECT_EQ(r.x[0], 0u) << "__arm_sme_state must return x0 = 0 without SME";
  EXPECT_EQ(r.x[1], 0u) << "__arm_sme_state must return x1 = 0 without SME";
  expect_preserved(r, preserved_by_sme_state, 0, "__arm_sme_state");
  call_recording((const void *)&__arm_tpidr2_save, 5, mode, &r);
  expect_preserved(r, preserved_by_save, 5, "__arm_tpidr2_save");
  call_recording((const void *)&__arm_za_disable, 6, mode, &r);
  expect_preserved(r, preserved_by_save, 6, "__arm_za_disable");
  call_recording((const void *)&__arm_get_current_vg, 0, mode, &r);
  EXPECT_EQ(int64_t(r.x[0]), f.sve ? sve_bytes() / 8 : 0);
  expect_preserved(r, preserved_by_get_vg, r.x[0], "__arm_get_current_vg");
}

TEST(SmeAbiWithoutSmeDeathTest, Tpidr2RestoreAbortsWithoutSme) {
  if (smepilot::rt::detect_cpu_features().sme)
    GTEST_SKIP() << "this CPU has SME";
  tpidr2_block block{};
  EXPECT_DEATH(__arm_tpidr2_restore(&block), "__arm_tpidr2_restore called on a thread without SME");
}

} // namespace

#else // not aarch64 Linux

TEST(SmeAbi, OnlyInTheAarch64LinuxBuild) {
  GTEST_SKIP() << "the SME ABI routines (runtime/src/sme_abi_aarch64.S) exist only in the "
                  "aarch64 Linux build; this build is for another architecture";
}

#endif
