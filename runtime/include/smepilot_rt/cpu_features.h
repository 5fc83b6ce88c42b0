// SMEPilot runtime: what the CPU we run on can execute, detected at run time.
//
// The compiler targets a feature set chosen ahead of time (`--target sme`,
// `--target cpu`); the runtime must check, before it calls a kernel, that the
// machine really has those features: an SME instruction on a CPU without SME
// is a SIGILL, not an error message. detect_cpu_features() asks the operating
// system, never the compiler flags of this build:
//   Linux aarch64  getauxval(AT_HWCAP) / getauxval(AT_HWCAP2) bits (the bit
//                  numbers of arch/arm64/include/uapi/asm/hwcap.h), and the
//                  vector lengths with `cntb` (SVE) and `rdsvl` (SME), each
//                  executed only when its HWCAP bit is set;
//   macOS arm64    sysctlbyname("hw.optional.arm.FEAT_*"), which reports no
//                  SVE (Apple's cores have SME without non-streaming SVE);
//   x86-64         cpuid, with xgetbv to check that the OS saves the AVX,
//                  AVX-512 and AMX register state (a CPU flag without the OS
//                  state is unusable).
// Fields that do not apply to the architecture stay false/zero.
//
// The identity fields (x86 vendor/family/model/stepping, aarch64 MIDR_EL1 and
// the raw HWCAP words) name the CPU for what is measured on it: a calibrated
// profile (`smepilot-run --calibrate`) is keyed by cpu_identity(). `emulated`
// says the process runs under a user-mode emulator (qemu-aarch64), where the
// features are the emulated CPU's but no timing means anything.
#pragma once

#include "smepilot_rt/status.h"

#include <cstdint>
#include <string>
#include <string_view>

namespace smepilot::rt {

/// The architecture detect_cpu_features() ran on.
enum class cpu_arch { unknown, aarch64, x86_64 };

/// Run-time CPU features (see the file comment for where each comes from).
struct cpu_features {
  cpu_arch arch = cpu_arch::unknown;
  /// Where the aarch64 flags came from: "getauxval", "sysctlbyname", or ""
  /// (named in error messages).
  const char *source = "";

  // aarch64.
  bool neon = false;
  bool fp16 = false; ///< half-precision Advanced SIMD (HWCAP_ASIMDHP)
  bool dotprod = false;
  bool sve = false;
  bool sve2 = false;
  bool bf16 = false;
  bool i8mm = false;
  bool sme = false;
  bool sme2 = false;
  bool sme_f64f64 = false;
  bool sme_i16i64 = false;
  bool sme_fa64 = false;
  /// Non-streaming SVE vector length in bytes (`cntb`); 0 without SVE.
  int64_t sve_vector_bytes = 0;
  /// Streaming vector length SVL in bytes (`rdsvl #1`): ZA is SVL x SVL
  /// bytes. 0 without SME.
  int64_t sme_vector_bytes = 0;

  // x86-64 (each flag also requires the OS to enable the register state).
  bool fma = false;
  bool avx2 = false;
  bool avx512f = false;
  bool avx512bw = false;
  bool avx512vl = false;
  bool avx512bf16 = false;
  bool avx512vnni = false;
  bool avx512fp16 = false;
  bool amx_tile = false;
  bool amx_bf16 = false;
  bool amx_int8 = false;

  // Identity. x86-64: the cpuid vendor string and the display family, model
  // and stepping of leaf 1. aarch64: MIDR_EL1 (0 when unreadable) and the
  // raw AT_HWCAP / AT_HWCAP2 words.
  std::string vendor;
  int family = 0;
  int model = 0;
  int stepping = 0;
  uint64_t midr = 0;
  uint64_t hwcap = 0;
  uint64_t hwcap2 = 0;

  /// The process runs under a user-mode emulator: on aarch64 Linux,
  /// /proc/cpuinfo describes another architecture's CPU (qemu-user passes
  /// the host's through). Features are still the emulated CPU's; speeds are
  /// the emulator's, never the CPU's.
  bool emulated = false;
};

/// Detects the features of the CPU this thread runs on.
cpu_features detect_cpu_features();

/// One line for `-v` output, e.g. "aarch64 (getauxval): neon dotprod sve
/// (VL 512 bits) sve2 bf16 i8mm sme (SVL 512 bits) sme_f64f64 sme_i16i64
/// sme_fa64; no sme2".
std::string describe(const cpu_features &features);

/// The CPU's identity for keys of what is measured on it: the architecture,
/// the identity fields and every feature flag with the vector lengths, e.g.
/// "x86_64 AuthenticAMD family 0x1a model 0x2 stepping 0x0: fma avx2 ...".
/// Two CPUs with the same identity run the same code at the same speed per
/// core (up to clocks and memory, which a calibration measures).
std::string cpu_identity(const cpu_features &features);

/// True when /proc/cpuinfo text `cpuinfo` cannot describe an aarch64 CPU
/// (no "CPU implementer" line, or x86's "vendor_id"): what an aarch64
/// process sees under qemu-user. Exposed for tests.
bool cpuinfo_is_foreign_to_aarch64(std::string_view cpuinfo);

/// Ok when kernels compiled for the sme target can run on this CPU (aarch64
/// with SME and a plausible streaming vector length); otherwise an error that
/// says what is missing and how it was detected.
status require_sme(const cpu_features &features);

} // namespace smepilot::rt
