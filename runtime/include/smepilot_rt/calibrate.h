// SMEPilot runtime: measure this machine for the Roofline model.
//
// `smepilot-run --calibrate` runs these microbenchmarks and writes what they
// measured as a hardware profile (the compiler's JSON schema, profiles/), so
// that the JIT's decisions and predictions rest on this machine's numbers
// rather than on a built-in guess. Each kernel is short (the whole run takes
// a few seconds) and runs on every thread at once, as the compiled engine
// does, best of several repetitions:
//   clock        a chain of dependent integer adds (one per cycle on every
//                core of the field), per thread;
//   vector FLOP/s per element type, with the instruction the compiled
//                kernels use: x86-64 vfmadd231ps (f32; f16 is widened to f32),
//                vdpbf16ps (bf16, AVX512-BF16), vpdpbusd (i8, AVX512-VNNI);
//                aarch64 fmla (f32), fmla .8h (f16), bfdot (bf16), sdot (i8).
//                An element type without its instruction is computed with f32
//                FMAs by the kernels, so it gets the f32 rate;
//   read bandwidth at 1..N threads, summing a buffer far larger than the
//                last-level cache;
//   the matrix unit (SME): fmopa, bfmopa and smopa on all four 32-bit ZA
//                tiles, in streaming mode, on one thread.
// Numbers measured under an emulator (cpu_features::emulated) are the
// emulator's: they are reported but must not become a profile.
#pragma once

#include "smepilot_rt/cpu_features.h"

#include <cstdint>
#include <string>
#include <vector>

namespace smepilot::rt {

/// One element type's measured rate: GFLOP/s (GOP/s for i8) of all threads
/// together, and the instruction behind it ("" = not measured, `gflops` then
/// copied from f32).
struct calibrated_rate {
  double gflops = 0;
  std::string instruction;
};

struct calibration {
  int threads = 1;
  /// Clock of one core under load, GHz.
  double ghz = 0;
  /// Vector units, all threads together.
  calibrated_rate f32, f16, bf16, i8;
  /// Read bandwidth in GB/s with 1, 2, ..., threads threads.
  std::vector<double> read_gbps;
  /// The matrix unit (one thread), when the CPU has SME; zero otherwise.
  calibrated_rate matrix_f32, matrix_bf16, matrix_i8;
  /// Last-level cache size in bytes from the system (0: unknown).
  int64_t llc_bytes = 0;
  /// Wall time the measurements took.
  double seconds = 0;
};

struct calibrate_options {
  /// Threads to measure with (the profile's core count); at least 1.
  int threads = 1;
  /// Bytes of the bandwidth buffer (0: 8x the last-level cache, at least
  /// 256 MiB).
  int64_t buffer_bytes = 0;
  /// Scales every kernel's work: 1 = the real calibration, smaller for tests.
  double effort = 1.0;
};

/// Runs the microbenchmarks on this machine, which has `features`.
calibration calibrate(const cpu_features &features, const calibrate_options &options);

/// The measurements as a table for the terminal, one line per quantity.
std::string describe(const calibration &c);

} // namespace smepilot::rt
