//===- HostTarget.cpp - what the JIT compiles for on this machine ---------===//
//
// See HostTarget.h.
//
//===----------------------------------------------------------------------===//

#include "smepilot/Engine/HostTarget.h"

#include "smepilot/Analysis/HardwareProfile.h"
#include "smepilot/Codegen/ObjectCache.h"
#include "smepilot/Support/OutputFile.h"

#include "smepilot_rt/cpu_count.h"

#include "mlir/IR/MLIRContext.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/TargetParser/Host.h"

#include <algorithm>

namespace smepilot::engine {
namespace {

namespace cc = ::mlir::smepilot;

/// A cpu_features flag and its LLVM feature name.
struct feature_name {
  const char *llvm;
  bool rt::cpu_features::*flag;
};

constexpr feature_name kX86Features[] = {
    {"fma", &rt::cpu_features::fma},
    {"avx2", &rt::cpu_features::avx2},
    {"avx512f", &rt::cpu_features::avx512f},
    {"avx512bw", &rt::cpu_features::avx512bw},
    {"avx512vl", &rt::cpu_features::avx512vl},
    {"avx512bf16", &rt::cpu_features::avx512bf16},
    {"avx512vnni", &rt::cpu_features::avx512vnni},
    {"avx512fp16", &rt::cpu_features::avx512fp16},
    {"amx-tile", &rt::cpu_features::amx_tile},
    {"amx-bf16", &rt::cpu_features::amx_bf16},
    {"amx-int8", &rt::cpu_features::amx_int8},
};

constexpr feature_name kAArch64Features[] = {
    {"neon", &rt::cpu_features::neon},
    {"fullfp16", &rt::cpu_features::fp16},
    {"dotprod", &rt::cpu_features::dotprod},
    {"sve", &rt::cpu_features::sve},
    {"sve2", &rt::cpu_features::sve2},
    {"bf16", &rt::cpu_features::bf16},
    {"i8mm", &rt::cpu_features::i8mm},
    {"sme", &rt::cpu_features::sme},
    {"sme2", &rt::cpu_features::sme2},
    {"sme-f64f64", &rt::cpu_features::sme_f64f64},
    {"sme-i16i64", &rt::cpu_features::sme_i16i64},
    {"sme-fa64", &rt::cpu_features::sme_fa64},
};

llvm::ArrayRef<feature_name> features_of(rt::cpu_arch arch) {
  if (arch == rt::cpu_arch::x86_64)
    return kX86Features;
  if (arch == rt::cpu_arch::aarch64)
    return kAArch64Features;
  return {};
}

/// Whether `cpu` has the feature a profile names (LLVM spelling; "fp16" is
/// taken for "fullfp16"); nullopt when cpu_features cannot tell.
std::optional<bool> has_feature(const rt::cpu_features &cpu,
                                llvm::StringRef name) {
  if (name == "fp16")
    name = "fullfp16";
  for (const feature_name &f : features_of(cpu.arch))
    if (name == f.llvm)
      return cpu.*(f.flag);
  return std::nullopt;
}

const char *arch_name(rt::cpu_arch arch) {
  switch (arch) {
  case rt::cpu_arch::x86_64:
    return "x86_64";
  case rt::cpu_arch::aarch64:
    return "aarch64";
  case rt::cpu_arch::unknown:
    break;
  }
  return "unknown";
}

/// Why `profile` does not describe this host, or "" when it does.
std::string mismatch(cc::TargetAttr profile, const rt::cpu_features &cpu,
                     int cores, const host_target &target) {
  if (profile.getArch() != arch_name(cpu.arch))
    return ("it is for " + profile.getArch()).str();
  llvm::SmallVector<llvm::StringRef> names;
  profile.getFeatures().split(names, ',', -1, /*KeepEmpty=*/false);
  for (llvm::StringRef feature : names) {
    feature = feature.trim();
    if (!feature.consume_front("+"))
      continue; // "-x" names what the profile lacks: nothing to check
    std::optional<bool> has = has_feature(cpu, feature);
    if (!has)
      return ("it names " + feature + ", which detection cannot check").str();
    if (!*has)
      return ("this CPU has no " + feature).str();
  }
  const bool matrix = profile.hasMatrixUnit();
  if (matrix != (target.pipeline == "sme"))
    return matrix ? "it models a matrix unit the chosen pipeline does not use"
                  : "it models no matrix unit, and this CPU has SME";
  if (matrix && int64_t(profile.getSvlBits()) != cpu.sme_vector_bytes * 8)
    return llvm::formatv("its SVL is {0} bits, this CPU's {1}",
                         profile.getSvlBits(), cpu.sme_vector_bytes * 8)
        .str();
  if (int(profile.getVectorCores()) != cores)
    return llvm::formatv("it has {0} cores, this process may use {1}",
                         profile.getVectorCores(), cores)
        .str();
  return "";
}

/// The name of a profile made for `target`: "<prefix>-x86-64-avx-512" for
/// the kind "x86-64 AVX-512".
std::string profile_name_for(llvm::StringRef prefix,
                             const host_target &target) {
  std::string name =
      (prefix + "-" + llvm::StringRef(target.kind).lower()).str();
  std::replace(name.begin(), name.end(), ' ', '-');
  return name;
}

/// A profile that promises little: one core at 2 GHz with one FMA pipe of
/// the detected width, 10 GB/s, and (SME) a matrix unit at a quarter of an
/// SVL-wide outer product per cycle. Numbers the Roofline model can only
/// underestimate on a real machine of the kind, each source saying so.
std::string conservative_profile(const rt::cpu_features &cpu,
                                 const host_target &target) {
  const int bits = target.vector_lanes * 32;
  const double f32 = 2.0 * target.vector_lanes; // one FMA pipe
  llvm::json::Object vector{
      {"cores", 1},
      {"bits", bits},
      {"ghz", 2.0},
      {"flops_per_cycle",
       llvm::json::Object{
           {"f32", f32}, {"f16", f32}, {"bf16", f32}, {"i8", 2 * f32}}},
      {"bandwidth_gbps", 10.0}};
  llvm::json::Object sources{
      {"vector",
       "conservative default for an unrecognised " + target.kind +
           " (no matching built-in profile and no --calibrate profile): one "
           "core at 2 GHz with one FMA pipe of the detected vector width"},
      {"memory", "conservative default: 10 GB/s, 8 MiB last-level cache"},
      {"sync_overhead_us", "conservative default"}};
  llvm::json::Object root{
      {"name", profile_name_for("conservative", target)},
      {"description", "generated from the detected features of this CPU (" +
                          rt::describe(cpu) + ")"},
      {"arch", arch_name(cpu.arch)},
      {"features", llvm_feature_string(cpu)},
      {"vector", std::move(vector)},
      {"memory",
       llvm::json::Object{{"bandwidth_gbps", 10.0}, {"llc_bytes", 8 << 20}}},
      {"sync_overhead_us", target.pipeline == "sme" ? 10.0 : 0.0}};
  if (target.pipeline == "sme") {
    const int64_t svl = cpu.sme_vector_bytes * 8;
    // An SVL x SVL f32 outer product is (SVL/32)^2 FMAs; a quarter of it.
    const double outer = 2.0 * (svl / 32) * (svl / 32) / 4;
    root["matrix"] = llvm::json::Object{
        {"units", 1},
        {"ghz", 1.0},
        {"svl_bits", svl},
        {"flops_per_cycle", llvm::json::Object{{"f32", outer},
                                               {"f16", outer},
                                               {"bf16", outer},
                                               {"i8", 2 * outer}}},
        {"bandwidth_gbps", 10.0}};
    sources["matrix"] = "conservative default: one unit at 1 GHz doing a "
                        "quarter of an SVL-wide f32 outer product per cycle";
  }
  root["sources"] = std::move(sources);
  std::string text;
  llvm::raw_string_ostream os(text);
  os << llvm::json::Value(std::move(root));
  return text;
}

/// The calibrated profile at `path` if it was measured on `identity`;
/// otherwise nothing, with a note saying why it was passed over.
std::optional<std::string> read_calibrated(mlir::MLIRContext &ctx,
                                           const std::string &path,
                                           const std::string &identity,
                                           std::vector<std::string> &notes,
                                           std::string &name) {
  if (!llvm::sys::fs::exists(path))
    return std::nullopt;
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      llvm::MemoryBuffer::getFile(path);
  if (!buffer) {
    notes.push_back("calibrated profile " + path +
                    " ignored: " + buffer.getError().message());
    return std::nullopt;
  }
  llvm::Expected<cc::TargetAttr> parsed =
      cc::parseHardwareProfile(&ctx, (*buffer)->getBuffer(), path);
  if (!parsed) {
    notes.push_back("calibrated profile ignored: " +
                    llvm::toString(parsed.takeError()));
    return std::nullopt;
  }
  // The parse above succeeded, so this is a JSON object.
  llvm::Expected<llvm::json::Value> json =
      llvm::json::parse((*buffer)->getBuffer());
  std::optional<llvm::StringRef> measured_on;
  if (json)
    if (const llvm::json::Object *calibration =
            json->getAsObject()->getObject("calibration"))
      measured_on = calibration->getString("cpu_identity");
  if (!json)
    llvm::consumeError(json.takeError());
  if (!measured_on || *measured_on != identity) {
    notes.push_back(
        "calibrated profile " + path + " ignored: " +
        (measured_on
             ? "it was measured on another CPU (" + measured_on->str() + ")"
             : std::string("it has no calibration.cpu_identity")));
    return std::nullopt;
  }
  name = parsed->getName().str();
  return path;
}

} // namespace

std::string llvm_feature_string(const rt::cpu_features &cpu) {
  std::string out;
  for (const feature_name &f : features_of(cpu.arch)) {
    if (!out.empty())
      out += ',';
    out += cpu.*(f.flag) ? '+' : '-';
    out += f.llvm;
  }
  return out;
}

std::string calibration_identity(const rt::cpu_features &cpu, int cores) {
  return rt::cpu_identity(cpu) + "; " + std::to_string(cores) + " cores";
}

std::string calibrated_profile_path(const std::string &dir,
                                    const std::string &identity) {
  cc::CacheKeyBuilder key;
  key.add("calibration-identity", identity);
  llvm::SmallString<256> path(dir);
  llvm::sys::path::append(path, "profiles",
                          "calibrated-" + key.final().hex().substr(0, 16) +
                              ".json");
  return path.str().str();
}

std::string host_target::describe() const {
  std::string out =
      "smepilot-run: jit: host " + kind + ": " + pipeline + " pipeline" +
      (sme_target.empty() ? "" : " for " + sme_target) + ", profile " +
      profile_name + " (" + profile_source + "), LLVM cpu " + llvm_cpu + "\n";
  for (const std::string &r : reasons)
    out += "smepilot-run: jit:   " + r + "\n";
  for (const std::string &n : notes)
    out += "smepilot-run: jit:   note: " + n + "\n";
  return out;
}

rt::result<host_target> select_host_target(const host_target_inputs &in) {
  const rt::cpu_features &cpu = in.cpu;
  host_target t;
  t.cpu = cpu;
  // The kind of machine and its pipeline.
  switch (cpu.arch) {
  case rt::cpu_arch::x86_64:
    t.pipeline = "host";
    if (cpu.avx512f && cpu.avx512bw && cpu.avx512vl) {
      t.kind = "x86-64 AVX-512";
      t.vector_lanes = 16;
    } else if (cpu.avx2 && cpu.fma) {
      t.kind = "x86-64 AVX2";
      t.vector_lanes = 8;
    } else {
      t.kind = "x86-64";
      t.vector_lanes = 4;
    }
    t.reasons.push_back(
        t.kind + ": the host pipeline, vector code " +
        std::to_string(t.vector_lanes * 32) + " bits wide" +
        (cpu.amx_tile ? "; the CPU has AMX, which no pipeline uses yet" : ""));
    break;
  case rt::cpu_arch::aarch64:
    if (cpu.sme && cpu.sve) {
      t.kind = "aarch64 SME with SVE";
      t.pipeline = "sme";
      t.sme_target = "sme-sve";
      std::string why = "HWCAP2 reports SME and HWCAP SVE: the SME pipeline "
                        "for sme-sve, SVL " +
                        std::to_string(cpu.sme_vector_bytes * 8) + " bits";
      if (cpu.sve_vector_bytes != cpu.sme_vector_bytes)
        why += " (the SVE vector length is " +
               std::to_string(cpu.sve_vector_bytes * 8) +
               " bits: streaming kernels size their tiles by the SVL, the "
               "vector-core kernels are fixed-width NEON)";
      t.reasons.push_back(why);
    } else if (cpu.sme && cpu.sme2) {
      t.kind = "aarch64 SME2 without SVE";
      t.pipeline = "sme";
      t.sme_target = "sme2-nosve";
      t.reasons.push_back(
          "SME2 without SVE (as Apple M4): the SME pipeline for "
          "sme2-nosve, SVL " +
          std::to_string(cpu.sme_vector_bytes * 8) + " bits");
    } else {
      t.kind = "aarch64 NEON";
      t.pipeline = "host";
      t.reasons.push_back(
          cpu.sme ? "SME without SVE or SME2: no SME target can use it "
                    "(LLVM needs +sve for scalable code outside streaming "
                    "mode), so the host pipeline on NEON"
                  : "no SME: the host pipeline on NEON");
    }
    t.vector_lanes = 4;
    if (t.pipeline == "sme") {
      if (rt::status s = rt::require_sme(cpu); !s.is_ok())
        return s;
    }
    break;
  case rt::cpu_arch::unknown:
    return rt::status::error(
        "the jit engine cannot compile for this CPU: its architecture is "
        "neither x86-64 nor aarch64 (use --engine reference)");
  }

  // LLVM's CPU and features: from the detected flags only.
  t.llvm_features = llvm_feature_string(cpu);
  if (cpu.arch == rt::cpu_arch::x86_64)
    t.llvm_cpu = !in.x86_cpu_name.empty() ? in.x86_cpu_name
                 : t.vector_lanes == 16   ? "x86-64-v4"
                 : t.vector_lanes == 8    ? "x86-64-v3"
                                          : "x86-64";
  else
    t.llvm_cpu = "generic";

  // The profile.
  mlir::MLIRContext ctx(mlir::MLIRContext::Threading::DISABLED);
  ctx.loadDialect<cc::SMEPilotDialect>();
  const std::string identity = calibration_identity(cpu, in.cores);
  if (!in.profile_override.empty()) {
    llvm::Expected<cc::TargetAttr> p =
        cc::loadHardwareProfile(&ctx, in.profile_override);
    if (!p)
      return rt::status::error("--profile: " + llvm::toString(p.takeError()));
    if (p->getArch() != arch_name(cpu.arch))
      return rt::status::error("--profile " + in.profile_override +
                               " describes an " + p->getArch().str() +
                               " machine; the jit engine compiles for this " +
                               arch_name(cpu.arch) +
                               " host (use --target NAME with --emit-object "
                               "or --explain to compile for another)");
    if (p->hasMatrixUnit() && t.pipeline != "sme")
      return rt::status::error("--profile " + in.profile_override +
                               " models a matrix unit, and the " + t.kind +
                               " host pipeline has none to put operators on");
    t.profile = in.profile_override;
    t.profile_source = "override";
    t.profile_name = p->getName().str();
    t.reasons.push_back("profile " + t.profile_name + ": --profile");
    return t;
  }
  if (!in.calibration_dir.empty()) {
    const std::string path =
        calibrated_profile_path(in.calibration_dir, identity);
    std::string name;
    if (std::optional<std::string> found =
            read_calibrated(ctx, path, identity, t.notes, name)) {
      t.profile = *found;
      t.profile_source = "calibrated";
      t.profile_name = name;
      t.reasons.push_back("profile " + name + ": measured on this CPU by " +
                          "smepilot-run --calibrate (" + path + ")");
      return t;
    }
  }
  for (const std::string &name : cc::getBuiltinProfileNames()) {
    llvm::Expected<cc::TargetAttr> p = cc::loadHardwareProfile(&ctx, name);
    if (!p) {
      llvm::consumeError(p.takeError()); // the library's tests check them
      continue;
    }
    const std::string why = mismatch(*p, cpu, in.cores, t);
    if (!why.empty()) {
      if (p->getArch() == arch_name(cpu.arch))
        t.notes.push_back("built-in profile " + name +
                          " does not match: " + why);
      continue;
    }
    t.profile = name;
    t.profile_source = "built-in";
    t.profile_name = name;
    t.reasons.push_back("profile " + name +
                        ": built-in, matches this CPU's architecture, "
                        "features and " +
                        std::to_string(in.cores) + " cores");
    return t;
  }
  t.profile = conservative_profile(cpu, t);
  t.profile_source = "conservative";
  t.profile_name = profile_name_for("conservative", t);
  t.reasons.push_back("profile " + t.profile_name +
                      ": no built-in profile matches and no calibrated one "
                      "exists (smepilot-run --calibrate measures one)");
  return t;
}

rt::result<std::string> calibrated_profile_json(const rt::calibration &c,
                                                const host_target &target,
                                                int cores,
                                                const std::string &date) {
  const rt::cpu_features &cpu = target.cpu;
  const std::string measured =
      "measured on " + date + " by smepilot-run --calibrate: ";
  const double ghz = c.ghz;
  auto per_cycle = [&](const rt::calibrated_rate &r, double units) {
    return ghz > 0 ? r.gflops / (units * ghz) : 0.0;
  };
  auto how = [](const rt::calibrated_rate &r) {
    return r.instruction.empty() ? std::string("no instruction of its own: "
                                               "computed with f32 FMAs, so "
                                               "the f32 rate")
                                 : r.instruction;
  };
  const double bandwidth = c.read_gbps.empty() ? 0 : c.read_gbps.back();
  std::string by_threads;
  for (size_t i = 0; i < c.read_gbps.size(); ++i)
    by_threads += llvm::formatv("{0}{1:F1} GB/s with {2}", i ? ", " : "",
                                c.read_gbps[i], i + 1)
                      .str();
  llvm::json::Object sources{
      {"vector.cores", "the CPUs this process may use (affinity mask and "
                       "cgroup quota) when it was measured"},
      {"vector.bits", "the detected vector registers (" + target.kind + ")"},
      {"vector.ghz",
       measured + "a chain of dependent integer adds on every thread at once"},
      {"vector.flops_per_cycle",
       measured + "rate on all threads / (threads x clock); f32 " + how(c.f32) +
           ", f16 " + how(c.f16) + ", bf16 " + how(c.bf16) + ", i8 " +
           how(c.i8)},
      {"vector.bandwidth_gbps",
       measured + "summing a buffer far larger than the last-level cache: " +
           by_threads},
      {"memory.bandwidth_gbps", measured + "as vector.bandwidth_gbps"},
      {"memory.llc_bytes", c.llc_bytes > 0
                               ? "read from the system (x86-64: cpuid's cache "
                                 "parameters; aarch64: sysfs or sysconf)"
                               : "assumed: the system does not say; 8 MiB"},
      {"sync_overhead_us",
       target.pipeline == "sme"
           ? "assumed: 5 us to hand a tile range to the matrix-unit worker "
             "and join (not measured)"
           : "no matrix unit: nothing to split"}};
  llvm::json::Object vector{
      {"cores", cores},
      {"bits", target.vector_lanes * 32},
      {"ghz", ghz},
      {"flops_per_cycle",
       llvm::json::Object{{"f32", per_cycle(c.f32, c.threads)},
                          {"f16", per_cycle(c.f16, c.threads)},
                          {"bf16", per_cycle(c.bf16, c.threads)},
                          {"i8", per_cycle(c.i8, c.threads)}}},
      {"bandwidth_gbps", bandwidth}};
  llvm::json::Object root{
      {"name", profile_name_for("calibrated", target)},
      {"description",
       "Measured on this machine by smepilot-run --calibrate on " + date +
           ": " + rt::describe(cpu)},
      {"arch", arch_name(cpu.arch)},
      {"features", llvm_feature_string(cpu)},
      {"vector", std::move(vector)},
      {"memory",
       llvm::json::Object{
           {"bandwidth_gbps", bandwidth},
           {"llc_bytes", c.llc_bytes > 0 ? c.llc_bytes : int64_t(8) << 20}}},
      {"sync_overhead_us", target.pipeline == "sme" ? 5.0 : 0.0}};
  if (target.pipeline == "sme") {
    if (c.matrix_f32.gflops <= 0)
      return rt::status::error("the calibration has no matrix-unit rates for "
                               "this SME host");
    root["matrix"] = llvm::json::Object{
        {"units", 1},
        {"ghz", ghz},
        {"svl_bits", cpu.sme_vector_bytes * 8},
        {"flops_per_cycle",
         llvm::json::Object{{"f32", per_cycle(c.matrix_f32, 1)},
                            {"f16", per_cycle(c.matrix_bf16, 1)},
                            {"bf16", per_cycle(c.matrix_bf16, 1)},
                            {"i8", per_cycle(c.matrix_i8, 1)}}},
        {"bandwidth_gbps", c.read_gbps.empty() ? 0 : c.read_gbps.front()}};
    sources["matrix.units"] = "assumed: one matrix unit serves this process";
    sources["matrix.ghz"] = "assumed: the cores' measured clock";
    sources["matrix.svl_bits"] = "detected: rdsvl";
    sources["matrix.flops_per_cycle"] =
        measured + "one thread, four ZA tiles: f32 " +
        c.matrix_f32.instruction + ", bf16 " + c.matrix_bf16.instruction +
        ", i8 " + c.matrix_i8.instruction + "; f16 assumed at the bf16 rate";
    sources["matrix.bandwidth_gbps"] =
        "assumed: one thread's measured read bandwidth";
  }
  root["sources"] = std::move(sources);
  llvm::json::Array read;
  for (double g : c.read_gbps)
    read.push_back(g);
  root["calibration"] =
      llvm::json::Object{{"cpu_identity", calibration_identity(cpu, cores)},
                         {"date", date},
                         {"seconds", c.seconds},
                         {"read_gbps_by_threads", std::move(read)}};
  std::string text;
  llvm::raw_string_ostream os(text);
  os << llvm::formatv("{0:2}", llvm::json::Value(std::move(root))) << "\n";
  // Never a profile the parser would refuse (a zero or absurd number).
  mlir::MLIRContext ctx(mlir::MLIRContext::Threading::DISABLED);
  ctx.loadDialect<cc::SMEPilotDialect>();
  llvm::Expected<cc::TargetAttr> parsed =
      cc::parseHardwareProfile(&ctx, text, "the calibrated profile");
  if (!parsed)
    return rt::status::error("the measurements do not make a valid profile: " +
                             llvm::toString(parsed.takeError()));
  return text;
}

rt::result<std::string> write_calibrated_profile(const rt::calibration &c,
                                                 const host_target &target,
                                                 int cores,
                                                 const std::string &date,
                                                 const std::string &dir) {
  if (target.cpu.emulated)
    return rt::status::error(
        "not written: this process runs under an emulator (its /proc/cpuinfo "
        "describes another CPU), so these are the emulator's speeds, not the "
        "CPU's");
  if (dir.empty())
    return rt::status::error("not written: no cache directory (neither "
                             "XDG_CACHE_HOME nor HOME is set)");
  rt::result<std::string> json =
      calibrated_profile_json(c, target, cores, date);
  if (!json)
    return json.take_error();
  const std::string path =
      calibrated_profile_path(dir, calibration_identity(target.cpu, cores));
  if (std::error_code ec =
          llvm::sys::fs::create_directories(llvm::sys::path::parent_path(path)))
    return rt::status::error("cannot create the directory of " + path + ": " +
                             ec.message());
  if (llvm::Error err = cc::writeOutputFile(
          path, {}, [&](llvm::raw_ostream &os) { os << *json; }))
    return rt::status::error("cannot write " + llvm::toString(std::move(err)));
  return path;
}

std::string default_cache_dir() { return cc::getDefaultObjectCacheDir(); }

host_target_inputs detect_host_target_inputs(std::string profile_override,
                                             std::string calibration_dir) {
  host_target_inputs in;
  in.cpu = rt::detect_cpu_features();
  in.cores = rt::default_thread_count();
  if (in.cpu.arch == rt::cpu_arch::x86_64)
    in.x86_cpu_name = llvm::sys::getHostCPUName().str();
  in.profile_override = std::move(profile_override);
  in.calibration_dir = std::move(calibration_dir);
  return in;
}

} // namespace smepilot::engine
