// SMEPilot runtime: run-time CPU feature detection (cpu_features.h).
//
// One detector per platform, chosen by the preprocessor; each fills only the
// fields of its architecture. The aarch64 vector lengths are read with `cntb`
// and `rdsvl`, written here with `.arch_extension` so that this file builds
// for plain armv8-a: the instructions run only after the HWCAP (or sysctl)
// check said the CPU has them.
#include "smepilot_rt/cpu_features.h"

#include "strformat.h"

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#elif defined(__aarch64__) && defined(__APPLE__)
#include <sys/sysctl.h>
#elif defined(__x86_64__)
#include <cpuid.h>
#endif

namespace smepilot::rt {
namespace {

#if defined(__aarch64__)
/// `rdsvl x, #1`: the streaming vector length in bytes. Needs SME.
int64_t read_streaming_vector_bytes() {
  int64_t bytes;
  asm volatile(".arch_extension sme\n\trdsvl %0, #1" : "=r"(bytes));
  return bytes;
}
#endif

#if defined(__aarch64__) && defined(__linux__)
// arch/arm64/include/uapi/asm/hwcap.h (spelled out: the cross headers of an
// older distribution lack the newer bits, e.g. HWCAP2_SME2).
constexpr uint64_t hwcap_asimd = 1ull << 1;
constexpr uint64_t hwcap_asimdhp = 1ull << 10;
constexpr uint64_t hwcap_cpuid = 1ull << 11;
constexpr uint64_t hwcap_asimddp = 1ull << 20;
constexpr uint64_t hwcap_sve = 1ull << 22;
constexpr uint64_t hwcap2_sve2 = 1ull << 1;
constexpr uint64_t hwcap2_i8mm = 1ull << 13;
constexpr uint64_t hwcap2_bf16 = 1ull << 14;
constexpr uint64_t hwcap2_sme = 1ull << 23;
constexpr uint64_t hwcap2_sme_i16i64 = 1ull << 24;
constexpr uint64_t hwcap2_sme_f64f64 = 1ull << 25;
constexpr uint64_t hwcap2_sme_fa64 = 1ull << 30;
constexpr uint64_t hwcap2_sme2 = 1ull << 37;

/// `cntb x`: the SVE vector length in bytes. Needs SVE.
int64_t read_sve_vector_bytes() {
  int64_t bytes;
  asm volatile(".arch_extension sve\n\tcntb %0" : "=r"(bytes));
  return bytes;
}

/// MIDR_EL1: the kernel traps and emulates the read when it advertises
/// HWCAP_CPUID (so does qemu-user); otherwise sysfs, or 0.
uint64_t read_midr(uint64_t hwcap) {
  if (hwcap & hwcap_cpuid) {
    uint64_t midr;
    asm volatile("mrs %0, midr_el1" : "=r"(midr));
    return midr;
  }
  std::ifstream in("/sys/devices/system/cpu/cpu0/regs/identification/midr_el1");
  std::string text;
  if (!(in >> text))
    return 0;
  return std::strtoull(text.c_str(), nullptr, 16);
}

void detect(cpu_features &f) {
  f.arch = cpu_arch::aarch64;
  f.source = "getauxval";
  const uint64_t hwcap = getauxval(AT_HWCAP);
  const uint64_t hwcap2 = getauxval(AT_HWCAP2);
  f.hwcap = hwcap;
  f.hwcap2 = hwcap2;
  f.midr = read_midr(hwcap);
  {
    std::ifstream in("/proc/cpuinfo");
    std::stringstream text;
    text << in.rdbuf();
    f.emulated = cpuinfo_is_foreign_to_aarch64(text.str());
  }
  f.neon = hwcap & hwcap_asimd;
  f.fp16 = hwcap & hwcap_asimdhp;
  f.dotprod = hwcap & hwcap_asimddp;
  f.sve = hwcap & hwcap_sve;
  f.sve2 = hwcap2 & hwcap2_sve2;
  f.bf16 = hwcap2 & hwcap2_bf16;
  f.i8mm = hwcap2 & hwcap2_i8mm;
  f.sme = hwcap2 & hwcap2_sme;
  f.sme2 = hwcap2 & hwcap2_sme2;
  f.sme_f64f64 = hwcap2 & hwcap2_sme_f64f64;
  f.sme_i16i64 = hwcap2 & hwcap2_sme_i16i64;
  f.sme_fa64 = hwcap2 & hwcap2_sme_fa64;
  if (f.sve)
    f.sve_vector_bytes = read_sve_vector_bytes();
  if (f.sme)
    f.sme_vector_bytes = read_streaming_vector_bytes();
}

#elif defined(__aarch64__) && defined(__APPLE__)
/// An integer sysctl that is 1 when the feature is present; absent keys
/// (older macOS) read as 0.
bool sysctl_flag(const char *name) {
  int value = 0;
  size_t size = sizeof(value);
  if (sysctlbyname(name, &value, &size, nullptr, 0) != 0)
    return false;
  return value != 0;
}

void detect(cpu_features &f) {
  f.arch = cpu_arch::aarch64;
  f.source = "sysctlbyname";
  f.neon = true; // Every Apple arm64 core has Advanced SIMD.
  f.fp16 = sysctl_flag("hw.optional.arm.FEAT_FP16");
  {
    int64_t family = 0;
    size_t size = sizeof(family);
    if (sysctlbyname("hw.cpufamily", &family, &size, nullptr, 0) == 0)
      f.midr = uint64_t(uint32_t(family)); // Apple's stand-in for MIDR
  }
  f.dotprod = sysctl_flag("hw.optional.arm.FEAT_DotProd");
  f.sve = false; // Not exposed (M4: SME without non-streaming SVE).
  f.bf16 = sysctl_flag("hw.optional.arm.FEAT_BF16");
  f.i8mm = sysctl_flag("hw.optional.arm.FEAT_I8MM");
  f.sme = sysctl_flag("hw.optional.arm.FEAT_SME");
  f.sme2 = sysctl_flag("hw.optional.arm.FEAT_SME2");
  f.sme_f64f64 = sysctl_flag("hw.optional.arm.FEAT_SME_F64F64");
  f.sme_i16i64 = sysctl_flag("hw.optional.arm.FEAT_SME_I16I64");
  f.sme_fa64 = sysctl_flag("hw.optional.arm.FEAT_SME_FA64");
  if (f.sme)
    f.sme_vector_bytes = read_streaming_vector_bytes();
}

#elif defined(__x86_64__)
// XCR0 state components the OS must enable (Intel SDM vol. 1, 13.1).
constexpr uint64_t xcr0_avx = (1u << 1) | (1u << 2);                // SSE, YMM
constexpr uint64_t xcr0_avx512 = (1u << 5) | (1u << 6) | (1u << 7); // k, ZMM
constexpr uint64_t xcr0_amx = (1u << 17) | (1u << 18);              // TILECFG, TILEDATA

uint64_t read_xcr0() {
  uint32_t lo, hi;
  asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (uint64_t(hi) << 32) | lo;
}

void detect(cpu_features &f) {
  f.arch = cpu_arch::x86_64;
  f.source = "cpuid";
  unsigned eax, ebx, ecx, edx;
  if (__get_cpuid(0, &eax, &ebx, &ecx, &edx)) {
    char vendor[13];
    std::memcpy(vendor, &ebx, 4);
    std::memcpy(vendor + 4, &edx, 4);
    std::memcpy(vendor + 8, &ecx, 4);
    vendor[12] = 0;
    f.vendor = vendor;
  }
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx))
    return;
  // Display family and model (Intel SDM vol. 2A, CPUID leaf 1; AMD alike).
  const int base_family = (eax >> 8) & 0xf, base_model = (eax >> 4) & 0xf;
  f.stepping = eax & 0xf;
  f.family = base_family == 0xf ? base_family + int((eax >> 20) & 0xff) : base_family;
  f.model = base_family == 0x6 || base_family == 0xf ? (int((eax >> 16) & 0xf) << 4) + base_model
                                                     : base_model;
  const bool osxsave = ecx & (1u << 27);
  const bool avx = ecx & (1u << 28);
  const bool fma = ecx & (1u << 12);
  const uint64_t xcr0 = osxsave ? read_xcr0() : 0;
  const bool os_avx = (xcr0 & xcr0_avx) == xcr0_avx;
  const bool os_avx512 = os_avx && (xcr0 & xcr0_avx512) == xcr0_avx512;
  const bool os_amx = (xcr0 & xcr0_amx) == xcr0_amx;
  f.fma = avx && fma && os_avx;

  unsigned max_leaf = __get_cpuid_max(0, nullptr);
  if (max_leaf < 7)
    return;
  __cpuid_count(7, 0, eax, ebx, ecx, edx);
  const unsigned leaf7_max_subleaf = eax;
  f.avx2 = os_avx && avx && (ebx & (1u << 5));
  f.avx512f = os_avx512 && (ebx & (1u << 16));
  f.avx512bw = f.avx512f && (ebx & (1u << 30));
  f.avx512vl = f.avx512f && (ebx & (1u << 31));
  f.avx512vnni = f.avx512f && (ecx & (1u << 11));
  f.avx512fp16 = f.avx512f && (edx & (1u << 23));
  // AMX: Linux also wants arch_prctl(ARCH_REQ_XCOMP_PERM) before first use.
  f.amx_tile = os_amx && (edx & (1u << 24));
  f.amx_bf16 = f.amx_tile && (edx & (1u << 22));
  f.amx_int8 = f.amx_tile && (edx & (1u << 25));
  if (leaf7_max_subleaf >= 1) {
    __cpuid_count(7, 1, eax, ebx, ecx, edx);
    f.avx512bf16 = f.avx512f && (eax & (1u << 5));
  }
}

#else
void detect(cpu_features &) {}
#endif

void append_flag(std::string &yes, std::string &no, bool present, const char *name,
                 const std::string &detail = "") {
  std::string &list = present ? yes : no;
  if (!list.empty())
    list += ' ';
  list += name;
  if (present && !detail.empty())
    list += detail;
}

} // namespace

cpu_features detect_cpu_features() {
  cpu_features f;
  detect(f);
  return f;
}

std::string describe(const cpu_features &f) {
  std::string yes, no;
  switch (f.arch) {
  case cpu_arch::aarch64: {
    auto bits = [](const char *what, int64_t bytes) {
      return bytes ? strformat(" (%s %lld bits)", what, (long long)bytes * 8) : std::string();
    };
    append_flag(yes, no, f.neon, "neon");
    append_flag(yes, no, f.dotprod, "dotprod");
    append_flag(yes, no, f.sve, "sve", bits("VL", f.sve_vector_bytes));
    append_flag(yes, no, f.sve2, "sve2");
    append_flag(yes, no, f.bf16, "bf16");
    append_flag(yes, no, f.i8mm, "i8mm");
    append_flag(yes, no, f.sme, "sme", bits("SVL", f.sme_vector_bytes));
    append_flag(yes, no, f.sme2, "sme2");
    append_flag(yes, no, f.sme_f64f64, "sme_f64f64");
    append_flag(yes, no, f.sme_i16i64, "sme_i16i64");
    append_flag(yes, no, f.sme_fa64, "sme_fa64");
    append_flag(yes, no, f.fp16, "fp16");
    break;
  }
  case cpu_arch::x86_64:
    append_flag(yes, no, f.fma, "fma");
    append_flag(yes, no, f.avx2, "avx2");
    append_flag(yes, no, f.avx512f, "avx512f");
    append_flag(yes, no, f.avx512bw, "avx512bw");
    append_flag(yes, no, f.avx512vl, "avx512vl");
    append_flag(yes, no, f.avx512bf16, "avx512_bf16");
    append_flag(yes, no, f.avx512vnni, "avx512_vnni");
    append_flag(yes, no, f.avx512fp16, "avx512_fp16");
    append_flag(yes, no, f.amx_tile, "amx_tile");
    append_flag(yes, no, f.amx_bf16, "amx_bf16");
    append_flag(yes, no, f.amx_int8, "amx_int8");
    break;
  case cpu_arch::unknown:
    return "unknown architecture: no features detected";
  }
  std::string out = f.arch == cpu_arch::aarch64 ? "aarch64" : "x86-64";
  out += strformat(" (%s): ", f.source);
  out += yes.empty() ? "no listed features" : yes;
  if (!no.empty())
    out += "; no " + no;
  return out;
}

std::string cpu_identity(const cpu_features &f) {
  std::string id;
  switch (f.arch) {
  case cpu_arch::x86_64:
    id = strformat("x86_64 %s family 0x%x model 0x%x stepping 0x%x", f.vendor.c_str(), f.family,
                   f.model, f.stepping);
    break;
  case cpu_arch::aarch64:
    id = strformat("aarch64 MIDR 0x%" PRIx64 " HWCAP 0x%" PRIx64 " HWCAP2 0x%" PRIx64, f.midr,
                   f.hwcap, f.hwcap2);
    break;
  case cpu_arch::unknown:
    return "unknown";
  }
  return id + "; " + describe(f);
}

bool cpuinfo_is_foreign_to_aarch64(std::string_view cpuinfo) {
  return cpuinfo.find("CPU implementer") == std::string_view::npos ||
         cpuinfo.find("vendor_id") != std::string_view::npos;
}

status require_sme(const cpu_features &f) {
  if (f.arch != cpu_arch::aarch64)
    return status::error(
        strformat("this CPU is %s, not aarch64: it has no SME, so the sme target cannot run here",
                  f.arch == cpu_arch::x86_64 ? "x86-64" : "of an unknown architecture"));
  if (!f.sme) {
    const char *why = std::string(f.source) == "sysctlbyname" ? "hw.optional.arm.FEAT_SME is 0"
                                                              : "HWCAP2_SME clear";
    return status::error(
        strformat("this CPU has no SME (%s): the sme target cannot run here", why));
  }
  const int64_t svl = f.sme_vector_bytes;
  if (svl < 16 || svl > 256 || (svl & (svl - 1)) != 0)
    return status::error(strformat("this CPU reports SME with a streaming vector length of %lld "
                                   "bytes; expected a power of two in 16..256",
                                   (long long)svl));
  return status::ok();
}

} // namespace smepilot::rt
