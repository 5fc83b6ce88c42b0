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

TEST(CpuFeatures, ForeignCpuinfoMeansEmulation) {
  using smepilot::rt::cpuinfo_is_foreign_to_aarch64;
  // An aarch64 kernel's /proc/cpuinfo (one processor).
  EXPECT_FALSE(cpuinfo_is_foreign_to_aarch64(
      "processor\t: 0\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd evtstrm sve sme\n"
      "CPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x0\n"
      "CPU part\t: 0xd4f\nCPU revision\t: 1\n"));
  // What qemu-aarch64 passes through on an x86-64 host, and nothing at all.
  EXPECT_TRUE(
      cpuinfo_is_foreign_to_aarch64("processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 26\n"
                                    "flags\t\t: fpu avx512f\n"));
  EXPECT_TRUE(cpuinfo_is_foreign_to_aarch64(""));
}

TEST(CpuFeatures, IdentityNamesTheCpuAndItsFeatures) {
  cpu_features x86;
  x86.arch = cpu_arch::x86_64;
  x86.source = "cpuid";
  x86.vendor = "AuthenticAMD";
  x86.family = 0x1a;
  x86.model = 0x2;
  x86.stepping = 1;
  x86.avx512f = true;
  const std::string id = smepilot::rt::cpu_identity(x86);
  EXPECT_EQ(id.rfind("x86_64 AuthenticAMD family 0x1a model 0x2 stepping 0x1; x86-64 (cpuid): ", 0),
            0u)
      << id;
  cpu_features other = x86;
  other.avx512bf16 = true;
  EXPECT_NE(smepilot::rt::cpu_identity(other), id) << "a feature bit must change the identity";

  cpu_features arm;
  arm.arch = cpu_arch::aarch64;
  arm.source = "getauxval";
  arm.midr = 0x410fd4f1;
  arm.hwcap = 0x2;
  arm.hwcap2 = 0x800000;
  arm.sme = true;
  arm.sme_vector_bytes = 64;
  const std::string a = smepilot::rt::cpu_identity(arm);
  EXPECT_EQ(a.rfind("aarch64 MIDR 0x410fd4f1 HWCAP 0x2 HWCAP2 0x800000; ", 0), 0u) << a;
  arm.sme_vector_bytes = 32;
  EXPECT_NE(smepilot::rt::cpu_identity(arm), a) << "the SVL must change the identity";
}

#if defined(__x86_64__)

/// The value of the first `key` line of /proc/cpuinfo; empty if none.
std::string proc_cpuinfo_value(const std::string &key) {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) != 0 || line.find(':') == std::string::npos)
      continue;
    const std::string name = line.substr(0, line.find(':'));
    if (name.find_last_not_of(" \t") + 1 != key.size())
      continue;
    std::string value = line.substr(line.find(':') + 1);
    value.erase(0, value.find_first_not_of(' '));
    return value;
  }
  return {};
}

TEST(CpuFeatures, X86IdentityMatchesProcCpuinfo) {
  const std::string vendor = proc_cpuinfo_value("vendor_id");
  if (vendor.empty())
    GTEST_SKIP() << "no vendor_id line in /proc/cpuinfo to compare with";
  const cpu_features f = detect_cpu_features();
  EXPECT_EQ(f.vendor, vendor);
  EXPECT_EQ(std::to_string(f.family), proc_cpuinfo_value("cpu family"));
  EXPECT_EQ(std::to_string(f.model), proc_cpuinfo_value("model"));
  EXPECT_EQ(std::to_string(f.stepping), proc_cpuinfo_value("stepping"));
  EXPECT_FALSE(f.emulated);
}

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
  // qemu-user shows the x86-64 host's /proc/cpuinfo: detected as emulation.
  EXPECT_TRUE(f.emulated);
  const std::string d = describe(f);
  EXPECT_NE(d.find("sme (SVL " + std::to_string(bytes * 8) + " bits)"), std::string::npos) << d;
}

#endif

} // namespace
