// Tests of run-time CPU feature detection (cpu_features.h).
//
// Detection is checked against a second, independent source:
//   x86-64   the "flags" line of /proc/cpuinfo (the kernel's view of cpuid
//            and of the register state it enables);
//   aarch64  the vector lengths the kernel reports through
//            prctl(PR_SVE_GET_VL / PR_SME_GET_VL), and, under QEMU
//            (SMEPILOT_EXPECTED_SVL_BYTES set by ctest to the length given to
//            qemu-aarch64 -cpu max), the features -cpu max has and the exact
//            length. (QEMU 7.2 user mode passes the host's /proc/cpuinfo
//            through, so it is no use for aarch64.)
// The error texts of require_sme() are checked on hand-made feature sets, on
// every architecture.
#include "smepilot_rt/cpu_features.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#if defined(__aarch64__) && defined(__linux__)
#include <sys/prctl.h>
#endif

namespace {

using smepilot::rt::cpu_arch;
using smepilot::rt::cpu_features;
using smepilot::rt::describe;
using smepilot::rt::detect_cpu_features;
using smepilot::rt::require_sme;

TEST(CpuFeatures, RequireSmeExplainsAMissingSme) {
  cpu_features f;
  f.arch = cpu_arch::aarch64;
  f.source = "getauxval";
  f.sve = true;
  smepilot::rt::status s = require_sme(f);
  ASSERT_FALSE(s.is_ok());
  EXPECT_EQ(s.message(), "this CPU has no SME (HWCAP2_SME clear): the sme target cannot run here");

  f.source = "sysctlbyname";
  s = require_sme(f);
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("hw.optional.arm.FEAT_SME is 0"), std::string::npos) << s.message();

  cpu_features x86;
  x86.arch = cpu_arch::x86_64;
  x86.avx512f = true;
  s = require_sme(x86);
  ASSERT_FALSE(s.is_ok());
  EXPECT_EQ(s.message(),
            "this CPU is x86-64, not aarch64: it has no SME, so the sme target cannot run here");
}

TEST(CpuFeatures, RequireSmeChecksTheStreamingVectorLength) {
  cpu_features f;
  f.arch = cpu_arch::aarch64;
  f.source = "getauxval";
  f.sme = true;
  for (int64_t bad : {0, 8, 48, 512}) {
    f.sme_vector_bytes = bad;
    smepilot::rt::status s = require_sme(f);
    EXPECT_FALSE(s.is_ok()) << bad;
    EXPECT_NE(s.message().find(std::to_string(bad) + " bytes"), std::string::npos) << s.message();
  }
  for (int64_t good : {16, 32, 64, 128, 256}) {
    f.sme_vector_bytes = good;
    EXPECT_TRUE(require_sme(f).is_ok()) << good;
  }
}

TEST(CpuFeatures, DescribeListsPresentAndMissingFeatures) {
  cpu_features f;
  f.arch = cpu_arch::aarch64;
  f.source = "getauxval";
  f.neon = f.sve = f.sme = true;
  f.sve_vector_bytes = 32;
  f.sme_vector_bytes = 64;
  const std::string d = describe(f);
  EXPECT_EQ(d.rfind("aarch64 (getauxval): neon sve (VL 256 bits) sme (SVL 512 bits)", 0), 0u) << d;
  EXPECT_NE(d.find("; no dotprod sve2 bf16 i8mm sme2"), std::string::npos) << d;
}

#if defined(__x86_64__)

/// The flags of the first processor in /proc/cpuinfo; empty if unreadable.
std::set<std::string> proc_cpuinfo_flags() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("flags", 0) != 0)
      continue;
    std::istringstream words(line.substr(line.find(':') + 1));
    std::set<std::string> flags;
    std::string w;
    while (words >> w)
      flags.insert(w);
    return flags;
  }
  return {};
}

TEST(CpuFeatures, X86FlagsMatchProcCpuinfo) {
  const std::set<std::string> flags = proc_cpuinfo_flags();
  if (flags.empty())
    GTEST_SKIP() << "no flags line in /proc/cpuinfo to compare with";
  const cpu_features f = detect_cpu_features();
  EXPECT_EQ(f.arch, cpu_arch::x86_64);
  const struct {
    const char *cpuinfo_name;
    bool detected;
  } checks[] = {
      {"fma", f.fma},
      {"avx2", f.avx2},
      {"avx512f", f.avx512f},
      {"avx512bw", f.avx512bw},
      {"avx512vl", f.avx512vl},
      {"avx512_bf16", f.avx512bf16},
      {"avx512_vnni", f.avx512vnni},
      {"avx512_fp16", f.avx512fp16},
      {"amx_tile", f.amx_tile},
      {"amx_bf16", f.amx_bf16},
      {"amx_int8", f.amx_int8},
  };
  for (const auto &c : checks)
    EXPECT_EQ(c.detected, flags.count(c.cpuinfo_name) == 1)
        << c.cpuinfo_name << ": detected " << c.detected << ", /proc/cpuinfo says "
        << (flags.count(c.cpuinfo_name) ? "present" : "absent");
  EXPECT_FALSE(f.sme);
  EXPECT_FALSE(f.sve);
  EXPECT_EQ(f.sme_vector_bytes, 0);
  EXPECT_FALSE(require_sme(f).is_ok());
  const std::string d = describe(f);
  EXPECT_EQ(d.rfind("x86-64 (cpuid): ", 0), 0u) << d;
  EXPECT_EQ(d.find("avx512f") != std::string::npos, f.avx512f) << d;
}

#endif

#if defined(__aarch64__) && defined(__linux__)

/// The vector length the kernel reports for `option` (PR_SVE_GET_VL or
/// PR_SME_GET_VL), or -1 when it does not know the option.
int64_t prctl_vector_bytes(int option) {
  const int r = prctl(option, 0, 0, 0, 0);
  return r < 0 ? -1 : int64_t(r & 0xffff);
}

TEST(CpuFeatures, Aarch64VectorLengthsMatchTheKernel) {
  const cpu_features f = detect_cpu_features();
  EXPECT_EQ(f.arch, cpu_arch::aarch64);
  EXPECT_TRUE(f.neon);
  constexpr int pr_sve_get_vl = 51, pr_sme_get_vl = 64; // <linux/prctl.h>
  const int64_t sve = prctl_vector_bytes(pr_sve_get_vl);
  const int64_t sme = prctl_vector_bytes(pr_sme_get_vl);
  if (f.sve)
    EXPECT_EQ(f.sve_vector_bytes, sve) << "cntb disagrees with PR_SVE_GET_VL";
  else
    EXPECT_EQ(f.sve_vector_bytes, 0);
  if (f.sme) {
    EXPECT_EQ(f.sme_vector_bytes, sme) << "rdsvl disagrees with PR_SME_GET_VL";
    EXPECT_TRUE(require_sme(f).is_ok()) << require_sme(f).message();
  } else {
    EXPECT_EQ(f.sme_vector_bytes, 0);
    EXPECT_EQ(require_sme(f).message(),
              "this CPU has no SME (HWCAP2_SME clear): the sme target cannot run here");
  }
}

TEST(CpuFeatures, QemuCpuMaxHasSveSmeAndTheConfiguredLength) {
  const char *expected = std::getenv("SMEPILOT_EXPECTED_SVL_BYTES");
  if (!expected)
    GTEST_SKIP() << "SMEPILOT_EXPECTED_SVL_BYTES is not set (ctest sets it to the vector "
                    "length it gives qemu-aarch64 -cpu max)";
  const int64_t bytes = std::strtoll(expected, nullptr, 10);
  const cpu_features f = detect_cpu_features();
  EXPECT_TRUE(f.sve);
  EXPECT_TRUE(f.sve2);
  EXPECT_TRUE(f.sme);
  EXPECT_TRUE(f.bf16);
  EXPECT_TRUE(f.i8mm);
  EXPECT_TRUE(f.sme_f64f64);
  EXPECT_EQ(f.sme_vector_bytes, bytes);
  EXPECT_EQ(f.sve_vector_bytes, bytes);
  const std::string d = describe(f);
  EXPECT_NE(d.find("sme (SVL " + std::to_string(bytes * 8) + " bits)"), std::string::npos) << d;
}

#endif

} // namespace
