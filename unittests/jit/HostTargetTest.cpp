// What the JIT compiles for (HostTarget.h), from injected feature sets: one
// case per kind of machine, the profile order (--profile, calibrated,
// built-in, conservative), the profiles passed over and why, and the
// calibrated profile's JSON.
#include "smepilot/Engine/HostTarget.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>

namespace {

namespace eng = smepilot::engine;
namespace rt = smepilot::rt;

/// This project's development machine: Zen 5 with AVX-512, AVX512-BF16 and
/// AVX512-VNNI, 2 CPUs.
eng::host_target_inputs zen5(int cores = 2) {
  eng::host_target_inputs in;
  rt::cpu_features &f = in.cpu;
  f.arch = rt::cpu_arch::x86_64;
  f.source = "cpuid";
  f.vendor = "AuthenticAMD";
  f.family = 0x1a;
  f.model = 0x2;
  f.fma = f.avx2 = f.avx512f = f.avx512bw = f.avx512vl = true;
  f.avx512bf16 = f.avx512vnni = true;
  in.cores = cores;
  in.x86_cpu_name = "znver5";
  return in;
}

/// An aarch64 Linux machine with SME and SVE at `svl_bytes` / `sve_bytes`.
eng::host_target_inputs sme_sve(int64_t svl_bytes, int64_t sve_bytes,
                                int cores = 4) {
  eng::host_target_inputs in;
  rt::cpu_features &f = in.cpu;
  f.arch = rt::cpu_arch::aarch64;
  f.source = "getauxval";
  f.neon = f.dotprod = f.sve = f.sve2 = f.bf16 = f.i8mm = f.sme = true;
  f.sve_vector_bytes = sve_bytes;
  f.sme_vector_bytes = svl_bytes;
  f.midr = 0x410fd801;
  in.cores = cores;
  return in;
}

/// Apple M4's performance cluster as Linux would show it: SME2 without SVE,
/// SVL 512 bits, 4 cores.
eng::host_target_inputs m4() {
  eng::host_target_inputs in;
  rt::cpu_features &f = in.cpu;
  f.arch = rt::cpu_arch::aarch64;
  f.source = "getauxval";
  f.neon = f.fp16 = f.dotprod = f.bf16 = f.i8mm = true;
  f.sme = f.sme2 = f.sme_f64f64 = f.sme_i16i64 = true;
  f.sme_vector_bytes = 64;
  in.cores = 4;
  return in;
}

eng::host_target select(const eng::host_target_inputs &in) {
  rt::result<eng::host_target> t = eng::select_host_target(in);
  EXPECT_TRUE(t.is_ok()) << (t ? "" : t.error().message());
  return t ? *t : eng::host_target{};
}

std::string joined(const std::vector<std::string> &lines) {
  std::string out;
  for (const std::string &l : lines)
    out += l + "\n";
  return out;
}

TEST(HostTarget, X86Avx512MatchesTheBuiltinHostProfile) {
  const eng::host_target t = select(zen5());
  EXPECT_EQ(t.kind, "x86-64 AVX-512");
  EXPECT_EQ(t.pipeline, "host");
  EXPECT_EQ(t.sme_target, "");
  EXPECT_EQ(t.vector_lanes, 16);
  EXPECT_EQ(t.profile, "host-x86");
  EXPECT_EQ(t.profile_source, "built-in");
  EXPECT_EQ(t.llvm_cpu, "znver5");
  EXPECT_EQ(t.llvm_features,
            "+fma,+avx2,+avx512f,+avx512bw,+avx512vl,+avx512bf16,+avx512vnni,"
            "-avx512fp16,-amx-tile,-amx-bf16,-amx-int8");
  EXPECT_NE(t.describe().find("smepilot-run: jit: host x86-64 AVX-512: host "
                              "pipeline, profile host-x86 (built-in), LLVM "
                              "cpu znver5\n"),
            std::string::npos)
      << t.describe();
}

TEST(HostTarget, X86WithOtherCoresGetsAConservativeProfile) {
  const eng::host_target t = select(zen5(/*cores=*/8));
  EXPECT_EQ(t.profile_source, "conservative");
  EXPECT_EQ(t.profile_name, "conservative-x86-64-avx-512");
  EXPECT_NE(joined(t.notes).find("built-in profile host-x86 does not match: "
                                 "it has 2 cores, this process may use 8"),
            std::string::npos)
      << joined(t.notes);
  // The generated profile is JSON text the profile loader accepts, for one
  // core of the detected width.
  EXPECT_EQ(t.profile.front(), '{');
  EXPECT_NE(t.profile.find("\"bits\":512"), std::string::npos) << t.profile;
  EXPECT_NE(t.profile.find("\"cores\":1"), std::string::npos) << t.profile;
  EXPECT_EQ(t.profile.find("\"matrix\""), std::string::npos) << t.profile;
}

TEST(HostTarget, X86Avx2AndBaseline) {
  eng::host_target_inputs in = zen5();
  in.cpu.avx512f = in.cpu.avx512bw = in.cpu.avx512vl = false;
  in.cpu.avx512bf16 = in.cpu.avx512vnni = false;
  in.x86_cpu_name = "";
  eng::host_target t = select(in);
  EXPECT_EQ(t.kind, "x86-64 AVX2");
  EXPECT_EQ(t.vector_lanes, 8);
  EXPECT_EQ(t.llvm_cpu, "x86-64-v3");
  EXPECT_NE(t.llvm_features.find("-avx512f"), std::string::npos);
  // host-x86 needs AVX-512: not this machine's profile.
  EXPECT_EQ(t.profile_source, "conservative");
  EXPECT_NE(joined(t.notes).find("host-x86 does not match: this CPU has no "
                                 "avx512f"),
            std::string::npos)
      << joined(t.notes);

  in.cpu.avx2 = in.cpu.fma = false;
  t = select(in);
  EXPECT_EQ(t.kind, "x86-64");
  EXPECT_EQ(t.vector_lanes, 4);
  EXPECT_EQ(t.llvm_cpu, "x86-64");
}

TEST(HostTarget, X86AmxIsNotUsedAndItsProfileNeverMatches) {
  eng::host_target_inputs in = zen5(128);
  in.cpu.amx_tile = in.cpu.amx_bf16 = in.cpu.amx_int8 = true;
  const eng::host_target t = select(in);
  EXPECT_EQ(t.pipeline, "host");
  EXPECT_NE(joined(t.reasons).find("AMX, which no pipeline uses yet"),
            std::string::npos);
  EXPECT_NE(t.profile_name, "xeon6-amx");
}

TEST(HostTarget, Aarch64SmeWithSve) {
  const eng::host_target t = select(sme_sve(64, 64));
  EXPECT_EQ(t.kind, "aarch64 SME with SVE");
  EXPECT_EQ(t.pipeline, "sme");
  EXPECT_EQ(t.sme_target, "sme-sve");
  EXPECT_EQ(t.llvm_cpu, "generic");
  EXPECT_NE(t.llvm_features.find("+sve,"), std::string::npos);
  EXPECT_NE(t.llvm_features.find("+sme,"), std::string::npos);
  EXPECT_NE(t.llvm_features.find("-sme2"), std::string::npos);
  // phone-c1-sme2 wants SME2, which this CPU lacks (as QEMU 7.2's -cpu max).
  EXPECT_EQ(t.profile_source, "conservative");
  EXPECT_NE(joined(t.notes).find("phone-c1-sme2 does not match: this CPU has "
                                 "no sme2"),
            std::string::npos)
      << joined(t.notes);
  EXPECT_NE(t.profile.find("\"svl_bits\":512"), std::string::npos) << t.profile;
}

TEST(HostTarget, Aarch64SmeWhoseStreamingLengthDiffersFromSve) {
  eng::host_target_inputs in = sme_sve(/*svl=*/32, /*sve=*/64);
  in.cpu.sme2 = true;
  const eng::host_target t = select(in);
  EXPECT_EQ(t.sme_target, "sme-sve");
  EXPECT_NE(joined(t.reasons).find("SVL 256 bits (the SVE vector length is "
                                   "512 bits"),
            std::string::npos)
      << joined(t.reasons);
  // phone-c1-sme2 now has every feature, but its SVL is 512 bits.
  EXPECT_NE(joined(t.notes).find("phone-c1-sme2 does not match: its SVL is "
                                 "512 bits, this CPU's 256"),
            std::string::npos)
      << joined(t.notes);
  // The conservative profile is sized by the streaming length.
  EXPECT_NE(t.profile.find("\"svl_bits\":256"), std::string::npos) << t.profile;
}

TEST(HostTarget, PhoneWithSme2MatchesItsProfile) {
  eng::host_target_inputs in = sme_sve(64, 16);
  in.cpu.sme2 = true;
  const eng::host_target t = select(in);
  EXPECT_EQ(t.profile, "phone-c1-sme2");
  EXPECT_EQ(t.profile_source, "built-in");
}

TEST(HostTarget, Sme2WithoutSveIsTheAppleM4Target) {
  const eng::host_target t = select(m4());
  EXPECT_EQ(t.kind, "aarch64 SME2 without SVE");
  EXPECT_EQ(t.sme_target, "sme2-nosve");
  EXPECT_EQ(t.profile, "apple-m4");
  // Never +sve: LLVM would emit SVE-only instructions outside streaming
  // mode (docs/sme-path.md).
  EXPECT_NE(t.llvm_features.find("-sve,"), std::string::npos)
      << t.llvm_features;
  EXPECT_NE(t.llvm_features.find("+sme2"), std::string::npos);
}

TEST(HostTarget, SmeWithoutSveOrSme2FallsBackToNeon) {
  eng::host_target_inputs in = m4();
  in.cpu.sme2 = false;
  const eng::host_target t = select(in);
  EXPECT_EQ(t.kind, "aarch64 NEON");
  EXPECT_EQ(t.pipeline, "host");
  EXPECT_NE(joined(t.reasons).find("SME without SVE or SME2"),
            std::string::npos);
  EXPECT_EQ(t.profile_source, "conservative");
  EXPECT_EQ(t.profile.find("\"matrix\""), std::string::npos);
}

TEST(HostTarget, NeonOnly) {
  eng::host_target_inputs in;
  in.cpu.arch = rt::cpu_arch::aarch64;
  in.cpu.neon = true;
  const eng::host_target t = select(in);
  EXPECT_EQ(t.kind, "aarch64 NEON");
  EXPECT_EQ(t.vector_lanes, 4);
  EXPECT_NE(t.profile.find("\"bits\":128"), std::string::npos);
}

TEST(HostTarget, ImplausibleStreamingLengthIsAnError) {
  rt::result<eng::host_target> t = eng::select_host_target(sme_sve(48, 48));
  ASSERT_FALSE(t.is_ok());
  EXPECT_NE(t.error().message().find("48 bytes"), std::string::npos);
}

TEST(HostTarget, UnknownArchitectureIsAnError) {
  rt::result<eng::host_target> t =
      eng::select_host_target(eng::host_target_inputs{});
  ASSERT_FALSE(t.is_ok());
  EXPECT_NE(t.error().message().find("neither x86-64 nor aarch64"),
            std::string::npos);
}

TEST(HostTarget, ProfileOverride) {
  eng::host_target_inputs in = zen5(8);
  in.profile_override = "host-x86";
  eng::host_target t = select(in);
  EXPECT_EQ(t.profile, "host-x86");
  EXPECT_EQ(t.profile_source, "override");

  in.profile_override = "apple-m4";
  rt::result<eng::host_target> bad = eng::select_host_target(in);
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.error().message().find("describes an aarch64 machine"),
            std::string::npos)
      << bad.error().message();

  in.profile_override = "xeon6-amx";
  bad = eng::select_host_target(in);
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.error().message().find("models a matrix unit"),
            std::string::npos)
      << bad.error().message();

  in.profile_override = "no-such-profile";
  bad = eng::select_host_target(in);
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.error().message().find("unknown hardware profile "
                                       "'no-such-profile'"),
            std::string::npos);
}

class CalibratedProfile : public ::testing::Test {
protected:
  void SetUp() override {
    dir = std::filesystem::temp_directory_path() /
          ("smepilot-host-target-" + std::to_string(::getpid()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir);
  }
  void TearDown() override { std::filesystem::remove_all(dir); }

  /// A plausible calibration of the Zen 5 machine.
  static rt::calibration zen5_calibration() {
    rt::calibration c;
    c.threads = 2;
    c.ghz = 3.6;
    c.f32 = {420, "vfmadd231ps zmm"};
    c.f16 = {420, ""};
    c.bf16 = {800, "vdpbf16ps zmm"};
    c.i8 = {1650, "vpdpbusd zmm"};
    c.read_gbps = {40.0, 54.0};
    c.llc_bytes = 32 << 20;
    c.seconds = 2.5;
    return c;
  }

  std::filesystem::path dir;
};

TEST_F(CalibratedProfile, IsWrittenThenPreferredOverTheBuiltin) {
  eng::host_target_inputs in = zen5();
  in.calibration_dir = dir.string();
  eng::host_target before = select(in);
  EXPECT_EQ(before.profile_source, "built-in");

  rt::result<std::string> path = eng::write_calibrated_profile(
      zen5_calibration(), before, in.cores, "2026-12-06", dir.string());
  ASSERT_TRUE(path.is_ok()) << path.error().message();
  EXPECT_EQ(*path, eng::calibrated_profile_path(
                       dir.string(), eng::calibration_identity(in.cpu, 2)));
  std::ifstream file(*path);
  std::stringstream text;
  text << file.rdbuf();
  const std::string json = text.str();
  // Per-cycle numbers: 420 GFLOP/s / (2 threads x 3.6 GHz) = 58.33...
  EXPECT_NE(json.find("\"f32\": 58.33"), std::string::npos) << json;
  EXPECT_NE(json.find("\"bandwidth_gbps\": 54"), std::string::npos) << json;
  EXPECT_NE(json.find("measured on 2026-12-06 by smepilot-run --calibrate"),
            std::string::npos);
  EXPECT_NE(json.find("\"cpu_identity\": \"x86_64 AuthenticAMD family 0x1a"),
            std::string::npos)
      << json;

  eng::host_target after = select(in);
  EXPECT_EQ(after.profile_source, "calibrated");
  EXPECT_EQ(after.profile, *path);
  EXPECT_EQ(after.profile_name, "calibrated-x86-64-avx-512");

  // The same file, but this process may use other cores: another identity,
  // so another path, and nothing is found there.
  in.cores = 1;
  EXPECT_NE(select(in).profile_source, "calibrated");
}

TEST_F(CalibratedProfile, FromAnotherCpuOrMalformedIsIgnoredWithANote) {
  eng::host_target_inputs in = zen5();
  in.calibration_dir = dir.string();
  const eng::host_target t = select(in);
  ASSERT_TRUE(eng::write_calibrated_profile(zen5_calibration(), t, 2,
                                            "2026-12-06", dir.string())
                  .is_ok());
  const std::string path = eng::calibrated_profile_path(
      dir.string(), eng::calibration_identity(in.cpu, 2));
  std::ifstream in_file(path);
  std::stringstream text;
  text << in_file.rdbuf();
  std::string json = text.str();
  in_file.close();

  // Copied from another machine (same path, other identity inside).
  std::string other = json;
  const std::string key = "AuthenticAMD family 0x1a";
  other.replace(other.find(key), key.size(), "GenuineIntel family 0x6");
  std::ofstream(path) << other;
  eng::host_target again = select(in);
  EXPECT_EQ(again.profile_source, "built-in");
  EXPECT_NE(joined(again.notes)
                .find("was measured on another CPU (x86_64 "
                      "GenuineIntel"),
            std::string::npos)
      << joined(again.notes);

  // Broken by hand: a zero clock.
  std::string zero = json;
  const size_t ghz = zero.find("\"ghz\": ");
  zero.replace(ghz, zero.find_first_of(",\n", ghz) - ghz, "\"ghz\": 0");
  std::ofstream(path) << zero;
  again = select(in);
  EXPECT_EQ(again.profile_source, "built-in");
  EXPECT_NE(joined(again.notes).find("calibrated profile ignored: "),
            std::string::npos);
  EXPECT_NE(joined(again.notes).find("'vector_ghz' must be > 0"),
            std::string::npos)
      << joined(again.notes);
}

TEST_F(CalibratedProfile, NeverFromAnEmulatorNorAbsurd) {
  eng::host_target_inputs in = sme_sve(64, 64);
  in.cpu.emulated = true;
  const eng::host_target t = select(in);
  rt::calibration c = zen5_calibration();
  c.matrix_f32 = {50, "fmopa za.s"};
  c.matrix_bf16 = {100, "bfmopa za.s"};
  c.matrix_i8 = {200, "smopa za.s"};
  rt::result<std::string> path =
      eng::write_calibrated_profile(c, t, 4, "2026-12-06", dir.string());
  ASSERT_FALSE(path.is_ok());
  EXPECT_NE(path.error().message().find("runs under an emulator"),
            std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir));

  // Not emulated: an SME profile with a matrix unit of the detected SVL.
  in.cpu.emulated = false;
  const eng::host_target real = select(in);
  rt::result<std::string> json =
      eng::calibrated_profile_json(c, real, 4, "2026-12-06");
  ASSERT_TRUE(json.is_ok()) << json.error().message();
  EXPECT_NE(json->find("\"svl_bits\": 512"), std::string::npos) << *json;

  // A broken measurement (a clock of 5000 GHz) makes no profile.
  c.ghz = 5000;
  json = eng::calibrated_profile_json(c, real, 4, "2026-12-06");
  ASSERT_FALSE(json.is_ok());
  EXPECT_NE(json.error().message().find("field 'vector.ghz': must be at most"),
            std::string::npos)
      << json.error().message();
}

} // namespace
