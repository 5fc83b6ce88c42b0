//===- HostTarget.h - what the JIT compiles for on this machine -*- C++ -*-===//
//
// The JIT engine compiles for the machine it runs on. select_host_target()
// turns the CPU's run-time features (smepilot_rt/cpu_features.h: cpuid,
// HWCAP/HWCAP2, the SVE and streaming vector lengths; never LLVM's host
// detection, which reads /proc/cpuinfo on aarch64 and so sees the x86 host
// under qemu-user) into:
//   - the kind of machine and the pipeline for it: the host pipeline on
//     x86-64 (AVX-512, AVX2 or baseline) and aarch64 without a usable matrix
//     unit (NEON), the SME pipeline on aarch64 with SME and SVE (target
//     sme-sve) or SME2 without SVE (sme2-nosve, Apple M4 style);
//   - the Roofline profile: --profile if given; else the profile
//     `smepilot-run --calibrate` measured on this very CPU (same identity and
//     core count); else a built-in profile that matches the host (same
//     architecture, every feature it names present, a matrix unit exactly
//     when the pipeline uses one, with the same streaming vector length, and
//     as many cores as this process may use); else a conservative profile
//     generated from the features. A calibrated profile comes before a
//     built-in one: it was measured here, on the user's request;
//   - the LLVM CPU name and feature string the code is generated for.
// Every choice carries its reason, for `-v`. Inputs are injectable, so each
// combination of features is tested without the machine.
//
//===----------------------------------------------------------------------===//

#ifndef SMEPILOT_ENGINE_HOSTTARGET_H
#define SMEPILOT_ENGINE_HOSTTARGET_H

#include "smepilot_rt/calibrate.h"
#include "smepilot_rt/cpu_features.h"
#include "smepilot_rt/status.h"

#include <string>
#include <vector>

namespace smepilot::engine {

/// What select_host_target() looks at.
struct host_target_inputs {
  rt::cpu_features cpu;
  /// CPUs this process may use (rt::default_thread_count()).
  int cores = 1;
  /// x86-64: LLVM's name of this CPU model, for its scheduling model
  /// (llvm::sys::getHostCPUName, which reads cpuid on x86, as
  /// cpu_features does); "" picks the generic x86-64 level of the
  /// features. Unused on aarch64, where LLVM would read /proc/cpuinfo.
  std::string x86_cpu_name;
  /// --profile: a built-in name or a .json path; "" = choose.
  std::string profile_override;
  /// Where `--calibrate` keeps profiles (calibrated_profile_path); "" = do
  /// not look for one.
  std::string calibration_dir;
};

/// The machine as the JIT compiles for it.
struct host_target {
  /// The features it was chosen from (host_target_inputs::cpu).
  rt::cpu_features cpu;
  /// "x86-64 AVX-512", "x86-64 AVX2", "x86-64", "aarch64 NEON",
  /// "aarch64 SME with SVE", "aarch64 SME2 without SVE".
  std::string kind;
  /// "host" (smepilot-host-pipeline) or "sme" (smepilot-sme-pipeline).
  std::string pipeline;
  /// The SME pipeline's target (sme-sve, sme2-nosve); "" for host.
  std::string sme_target;
  /// f32 lanes of the vector registers the host pipeline fills (16 with
  /// AVX-512, 8 with AVX2, 4 otherwise).
  int vector_lanes = 4;
  /// The profile: a built-in name, a .json path, or (conservative) the
  /// profile's JSON text itself, which loadHardwareProfile accepts.
  std::string profile;
  /// "override", "calibrated", "built-in" or "conservative".
  std::string profile_source;
  /// The profile's own name (its "name" field).
  std::string profile_name;
  /// LLVM's CPU name and feature string ("+avx2,-avx512f,...").
  std::string llvm_cpu;
  std::string llvm_features;
  /// Why this kind, pipeline and profile, one sentence each.
  std::vector<std::string> reasons;
  /// Things -v should say that were considered and passed over (a cached
  /// profile from another CPU, a malformed one, ...).
  std::vector<std::string> notes;

  /// Several lines for -v, each starting with "smepilot-run: jit: ".
  std::string describe() const;
};

/// The LLVM feature string of `cpu` ("+fma,+avx2,-avx512f,..."): every
/// feature cpu_features knows, present or not.
std::string llvm_feature_string(const rt::cpu_features &cpu);

/// `cpu`'s identity with the core count: what a calibrated profile is keyed
/// by (rt::cpu_identity(cpu) + "; N cores").
std::string calibration_identity(const rt::cpu_features &cpu, int cores);

/// Where --calibrate keeps the profile of this identity under `dir`:
/// <dir>/profiles/calibrated-<16 hex digits of its SHA-256>.json.
std::string calibrated_profile_path(const std::string &dir,
                                    const std::string &identity);

/// The profile (HardwareProfile.h's JSON schema) of what `c` measured on
/// the machine `target` describes (its features and pipeline), `cores`
/// threads, on `date` (YYYY-MM-DD): every number's source says "measured on
/// <date>" and how, or "assumed" and why; "calibration" records the
/// identity (calibration_identity) the profile belongs to. Checked by the
/// profile parser before it is returned.
rt::result<std::string> calibrated_profile_json(const rt::calibration &c,
                                                const host_target &target,
                                                int cores,
                                                const std::string &date);

/// Writes calibrated_profile_json to calibrated_profile_path(dir, identity)
/// (atomically, creating the directories) and returns the path. Refuses
/// what was measured under an emulator (target.cpu.emulated).
rt::result<std::string> write_calibrated_profile(const rt::calibration &c,
                                                 const host_target &target,
                                                 int cores,
                                                 const std::string &date,
                                                 const std::string &dir);

/// $XDG_CACHE_HOME/smepilot, else $HOME/.cache/smepilot; "" when neither is
/// set: where smepilot-run keeps compiled objects and calibrated profiles.
std::string default_cache_dir();

/// Chooses (see the file comment). Errors: an architecture the JIT cannot
/// compile for, a --profile that cannot be loaded, or one for another
/// architecture or with a matrix unit the chosen pipeline does not use.
rt::result<host_target> select_host_target(const host_target_inputs &inputs);

/// The inputs of this process on this machine (cpu features, cores, LLVM's
/// x86 CPU name), with `profile_override` and `calibration_dir`.
host_target_inputs detect_host_target_inputs(std::string profile_override,
                                             std::string calibration_dir);

} // namespace smepilot::engine

#endif // SMEPILOT_ENGINE_HOSTTARGET_H
