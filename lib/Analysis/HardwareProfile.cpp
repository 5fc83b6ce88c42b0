//===- HardwareProfile.cpp - hardware profiles as data
//----------------------===//
//
// Reads profiles/*.json (compiled in) or a user's profile file into a
// #smepilot.target attribute. Every field is required unless marked optional
// below, and every error names the file and the field's path.
//
// Format (numbers are plain JSON numbers; "sources" maps field paths to the
// citation each number comes from and is required to be non-empty):
//
//   { "name": "apple-m4", "arch": "aarch64", "features": "+sme2,...",
//     "description": "...",
//     "vector": { "cores": 4, "bits": 128, "ghz": 4.4,
//                 "flops_per_cycle": { "f32": 32, "f16": 64, "bf16": 64, "i8":
//                 128 }, "bandwidth_gbps": 100 },
//     "matrix": { "units": 1, "ghz": 4.4, "svl_bits": 512, (optional:
//                 "flops_per_cycle": { ... }, "bandwidth_gbps": 90 },   no
//                 matrix unit)
//     "memory": { "bandwidth_gbps": 120, "llc_bytes": 16777216 },
//     "sync_overhead_us": 2.0,
//     "sources": { "vector.ghz": "...", ... } }
//
//===----------------------------------------------------------------------===//

#include "smepilot/Analysis/HardwareProfile.h"

#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <cmath>

using namespace mlir;
using namespace mlir::smepilot;

namespace {
struct BuiltinProfile {
  const char *name;
  const char *json;
};
// Generated from profiles/*.json by cmake/EmbedProfiles.cmake.
#include "smepilot/Analysis/BuiltinProfiles.inc"

/// Bounds no real machine reaches: a number beyond them is a typo or a
/// broken measurement, refused rather than believed. Clocks in GHz,
/// bandwidths in GB/s, FLOP per cycle per core or unit, microseconds.
constexpr double kMaxNumber = 1e7;
constexpr uint64_t kMaxInteger = uint64_t(1) << 50;
constexpr double kMaxGhz = 10;
constexpr double kMaxBandwidthGbps = 1e5;
constexpr double kMaxFlopsPerCycle = 1e5;
constexpr uint64_t kMaxUnits = 1 << 16;
constexpr double kMaxSyncUs = 1e6;

/// Reads fields off a JSON object, remembering the first error.
class FieldReader {
public:
  FieldReader(llvm::StringRef source, std::string &error)
      : source(source), error(error) {}

  const llvm::json::Object *object(const llvm::json::Object &parent,
                                   llvm::StringRef key, llvm::StringRef path) {
    if (!error.empty())
      return nullptr;
    const llvm::json::Object *o = parent.getObject(key);
    if (!o)
      fail(path, parent.get(key) ? "expected an object" : "missing");
    return o;
  }
  std::string string(const llvm::json::Object &parent, llvm::StringRef key,
                     llvm::StringRef path) {
    if (!error.empty())
      return {};
    std::optional<llvm::StringRef> s = parent.getString(key);
    if (!s) {
      fail(path, parent.get(key) ? "expected a string" : "missing");
      return {};
    }
    return s->str();
  }
  double number(const llvm::json::Object &parent, llvm::StringRef key,
                llvm::StringRef path, double min = 0, double max = kMaxNumber) {
    if (!error.empty())
      return 0;
    std::optional<double> v = parent.getNumber(key);
    if (!v) {
      fail(path, parent.get(key) ? "expected a number" : "missing");
      return 0;
    }
    if (!std::isfinite(*v) || *v < min) {
      fail(path, "must be a finite number >= " + formatF64(min));
      return 0;
    }
    if (*v > max) {
      fail(path, "must be at most " + formatF64(max) + " (no machine has " +
                     formatF64(*v) + ")");
      return 0;
    }
    return *v;
  }
  uint64_t integer(const llvm::json::Object &parent, llvm::StringRef key,
                   llvm::StringRef path, uint64_t min = 0,
                   uint64_t max = kMaxInteger) {
    if (!error.empty())
      return 0;
    std::optional<int64_t> v = parent.getInteger(key);
    if (!v) {
      fail(path, parent.get(key) ? "expected an integer" : "missing");
      return 0;
    }
    if (*v < static_cast<int64_t>(min)) {
      fail(path, "must be >= " + std::to_string(min));
      return 0;
    }
    if (static_cast<uint64_t>(*v) > max) {
      fail(path, "must be at most " + std::to_string(max) +
                     " (no machine has " + std::to_string(*v) + ")");
      return 0;
    }
    return static_cast<uint64_t>(*v);
  }
  void fail(llvm::StringRef path, llvm::StringRef what) {
    if (error.empty())
      error = (source + ": field '" + path + "': " + what).str();
  }

private:
  llvm::StringRef source;
  std::string &error;
};

PeaksAttr readPeaks(MLIRContext *ctx, FieldReader &r,
                    const llvm::json::Object &unit, llvm::StringRef unitName) {
  std::string path = (unitName + ".flops_per_cycle").str();
  const llvm::json::Object *o = r.object(unit, "flops_per_cycle", path);
  if (!o)
    return {};
  double f32 = r.number(*o, "f32", path + ".f32", 0, kMaxFlopsPerCycle);
  double f16 = r.number(*o, "f16", path + ".f16", 0, kMaxFlopsPerCycle);
  double bf16 = r.number(*o, "bf16", path + ".bf16", 0, kMaxFlopsPerCycle);
  double i8 = r.number(*o, "i8", path + ".i8", 0, kMaxFlopsPerCycle);
  for (const auto &kv : *o)
    if (!llvm::is_contained({"f32", "f16", "bf16", "i8"}, kv.first.str()))
      r.fail(path + "." + kv.first.str(),
             "unknown element type (expected f32, f16, bf16, i8)");
  return PeaksAttr::get(ctx, f32, f16, bf16, i8);
}

/// How deep arrays and objects may nest in a profile (a real one nests 3).
constexpr unsigned kMaxJsonDepth = 64;

/// The offset of the first bracket that nests deeper than kMaxJsonDepth, if
/// any. llvm::json::parse recurses once per level without a limit: a deep
/// enough file overflows the stack, so it is refused before parsing. Brackets
/// inside strings do not count; the rest of the syntax is the parser's job.
std::optional<size_t> findTooDeepNesting(llvm::StringRef json) {
  unsigned depth = 0;
  bool inString = false;
  for (size_t i = 0; i < json.size(); ++i) {
    char c = json[i];
    if (inString) {
      if (c == '\\')
        ++i; // skip the escaped character
      else if (c == '"')
        inString = false;
      continue;
    }
    if (c == '"') {
      inString = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth)
        return i;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return std::nullopt;
}
} // namespace

std::vector<std::string> mlir::smepilot::getBuiltinProfileNames() {
  std::vector<std::string> names;
  for (const BuiltinProfile &p : kBuiltinProfiles)
    names.push_back(p.name);
  std::sort(names.begin(), names.end());
  return names;
}

llvm::Expected<TargetAttr>
mlir::smepilot::parseHardwareProfile(MLIRContext *ctx, llvm::StringRef json,
                                     llvm::StringRef sourceName) {
  auto makeError = [&](const std::string &msg) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
  };
  if (std::optional<size_t> offset = findTooDeepNesting(json))
    return makeError(
        llvm::formatv("{0}: invalid JSON: arrays and objects nest deeper than "
                      "{1} levels (at byte offset {2})",
                      sourceName, kMaxJsonDepth, *offset)
            .str());
  llvm::Expected<llvm::json::Value> parsed = llvm::json::parse(json);
  if (!parsed)
    return makeError(
        (sourceName + ": invalid JSON: " + llvm::toString(parsed.takeError()))
            .str());
  const llvm::json::Object *root = parsed->getAsObject();
  if (!root)
    return makeError((sourceName + ": expected a JSON object").str());

  std::string error;
  FieldReader r(sourceName, error);
  std::string name = r.string(*root, "name", "name");
  std::string arch = r.string(*root, "arch", "arch");
  std::string features = r.string(*root, "features", "features");

  const llvm::json::Object *vector = r.object(*root, "vector", "vector");
  uint64_t cores = 0, bits = 0;
  double vghz = 0, vbw = 0;
  PeaksAttr vpeaks;
  if (vector) {
    cores = r.integer(*vector, "cores", "vector.cores", 1, kMaxUnits);
    bits = r.integer(*vector, "bits", "vector.bits", 64);
    vghz = r.number(*vector, "ghz", "vector.ghz", 0, kMaxGhz);
    vpeaks = readPeaks(ctx, r, *vector, "vector");
    vbw = r.number(*vector, "bandwidth_gbps", "vector.bandwidth_gbps", 0,
                   kMaxBandwidthGbps);
  }

  uint64_t units = 0, svl = 0;
  double mghz = 0, mbw = 0;
  PeaksAttr mpeaks = PeaksAttr::get(ctx, 0, 0, 0, 0);
  if (error.empty() && root->get("matrix")) {
    const llvm::json::Object *matrix = r.object(*root, "matrix", "matrix");
    if (matrix) {
      units = r.integer(*matrix, "units", "matrix.units", 0, kMaxUnits);
      mghz = r.number(*matrix, "ghz", "matrix.ghz", 0, kMaxGhz);
      svl = r.integer(*matrix, "svl_bits", "matrix.svl_bits");
      mpeaks = readPeaks(ctx, r, *matrix, "matrix");
      mbw = r.number(*matrix, "bandwidth_gbps", "matrix.bandwidth_gbps", 0,
                     kMaxBandwidthGbps);
    }
  }

  const llvm::json::Object *memory = r.object(*root, "memory", "memory");
  double membw = 0;
  uint64_t llc = 0;
  if (memory) {
    membw = r.number(*memory, "bandwidth_gbps", "memory.bandwidth_gbps", 0,
                     kMaxBandwidthGbps);
    llc = r.integer(*memory, "llc_bytes", "memory.llc_bytes");
  }
  double sync =
      r.number(*root, "sync_overhead_us", "sync_overhead_us", 0, kMaxSyncUs);

  // Every profile says where its numbers come from.
  if (error.empty()) {
    const llvm::json::Object *sources = r.object(*root, "sources", "sources");
    if (sources && sources->empty())
      r.fail("sources", "must cite a source for the profile's numbers");
  }
  if (!error.empty())
    return makeError(error);

  // The attribute verifier checks the relations between fields.
  std::string diag;
  {
    ScopedDiagnosticHandler handler(ctx, [&](Diagnostic &d) {
      diag = d.str();
      return success();
    });
    auto emitAtUnknown = [&]() {
      return mlir::emitError(UnknownLoc::get(ctx));
    };
    // Exact parameter types, so the generated (verifying) getChecked is
    // chosen over the generic template.
    TargetAttr target = TargetAttr::getChecked(
        llvm::function_ref<InFlightDiagnostic()>(emitAtUnknown), ctx,
        StringRef(name), StringRef(arch), StringRef(features),
        static_cast<uint32_t>(cores), static_cast<uint32_t>(bits), F64(vghz),
        vpeaks, F64(vbw), static_cast<uint32_t>(units), F64(mghz), mpeaks,
        F64(mbw), static_cast<uint32_t>(svl), F64(membw), llc, F64(sync));
    if (target)
      return target;
  }
  return makeError((sourceName + ": " + diag).str());
}

llvm::Expected<TargetAttr>
mlir::smepilot::loadHardwareProfile(MLIRContext *ctx,
                                    llvm::StringRef nameOrPath) {
  for (const BuiltinProfile &p : kBuiltinProfiles)
    if (nameOrPath == p.name)
      return parseHardwareProfile(ctx, p.json, (nameOrPath + ".json").str());
  // A profile generated in memory (the JIT's conservative profile for an
  // unrecognised host) is passed as its JSON text.
  if (nameOrPath.ltrim().starts_with("{"))
    return parseHardwareProfile(ctx, nameOrPath, "<generated profile>");
  if (nameOrPath.ends_with(".json") || llvm::sys::fs::exists(nameOrPath)) {
    llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
        llvm::MemoryBuffer::getFile(nameOrPath);
    if (!buffer)
      return llvm::createStringError(
          buffer.getError(), "cannot read profile file '%s': %s",
          nameOrPath.str().c_str(), buffer.getError().message().c_str());
    return parseHardwareProfile(ctx, (*buffer)->getBuffer(), nameOrPath);
  }
  std::string known;
  for (const std::string &n : getBuiltinProfileNames())
    known += (known.empty() ? "" : ", ") + n;
  return llvm::createStringError(
      llvm::inconvertibleErrorCode(),
      "unknown hardware profile '%s' (built-in profiles: %s; or give a path "
      "to a .json profile)",
      nameOrPath.str().c_str(), known.c_str());
}
