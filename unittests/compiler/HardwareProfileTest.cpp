//===- HardwareProfileTest.cpp - profile files
//------------------------------===//

#include "smepilot/Analysis/HardwareProfile.h"

#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>

using namespace mlir;
using namespace mlir::smepilot;

namespace {

class HardwareProfileTest : public ::testing::Test {
protected:
  HardwareProfileTest() { ctx.loadDialect<SMEPilotDialect>(); }

  /// The error message of parsing `json`, or "" if it parsed.
  std::string errorOf(StringRef json) {
    llvm::Expected<TargetAttr> t = parseHardwareProfile(&ctx, json, "p.json");
    if (t)
      return "";
    return llvm::toString(t.takeError());
  }

  MLIRContext ctx;
};

const char *kValid = R"json({
  "name": "test", "arch": "aarch64", "features": "+sme",
  "vector": { "cores": 4, "bits": 128, "ghz": 2.0,
              "flops_per_cycle": { "f32": 16, "f16": 32, "bf16": 32, "i8": 64 },
              "bandwidth_gbps": 50 },
  "matrix": { "units": 1, "ghz": 2.0, "svl_bits": 512,
              "flops_per_cycle": { "f32": 512, "f16": 512, "bf16": 512, "i8": 1024 },
              "bandwidth_gbps": 40 },
  "memory": { "bandwidth_gbps": 60, "llc_bytes": 1048576 },
  "sync_overhead_us": 1.5,
  "sources": { "everything": "made up for a test" }
})json";

TEST_F(HardwareProfileTest, ParsesAValidProfile) {
  llvm::Expected<TargetAttr> t = parseHardwareProfile(&ctx, kValid, "p.json");
  ASSERT_TRUE(bool(t)) << llvm::toString(t.takeError());
  EXPECT_EQ(t->getName(), "test");
  EXPECT_EQ(t->getVectorCores(), 4u);
  EXPECT_EQ(t->getSvlBits(), 512u);
  EXPECT_DOUBLE_EQ(t->getMatrixFlops().getBf16(), 512);
  EXPECT_DOUBLE_EQ(t->getSyncOverheadUs(), 1.5);
  EXPECT_TRUE(t->hasMatrixUnit());
}

TEST_F(HardwareProfileTest, ErrorsNameTheField) {
  std::string s = kValid;
  auto replace = [&](const std::string &from, const std::string &to) {
    std::string copy = s;
    copy.replace(copy.find(from), from.size(), to);
    return copy;
  };
  EXPECT_EQ(errorOf(replace("\"cores\": 4", "\"cores\": \"four\"")),
            "p.json: field 'vector.cores': expected an integer");
  EXPECT_EQ(errorOf(replace("\"svl_bits\": 512,", "")),
            "p.json: field 'matrix.svl_bits': missing");
  EXPECT_EQ(errorOf(replace("\"bf16\": 32", "\"bf16\": -1")),
            "p.json: field 'vector.flops_per_cycle.bf16': must be a finite "
            "number >= 0.0");
  EXPECT_NE(errorOf(replace("\"svl_bits\": 512", "\"svl_bits\": 500"))
                .find("'svl_bits' must be a power of two"),
            std::string::npos);
  EXPECT_NE(errorOf(replace("\"bandwidth_gbps\": 40", "\"bandwidth_gbps\": 70"))
                .find("'matrix_bw_gbps' (70.0) exceeds 'mem_bw_gbps'"),
            std::string::npos)
      << errorOf(replace("\"bandwidth_gbps\": 40", "\"bandwidth_gbps\": 70"));
  EXPECT_EQ(
      errorOf(replace("{ \"everything\": \"made up for a test\" }", "{}")),
      "p.json: field 'sources': must cite a source for the profile's "
      "numbers");
  EXPECT_EQ(errorOf(replace("\"i8\": 64", "\"i8\": 64, \"f8\": 1")),
            "p.json: field 'vector.flops_per_cycle.f8': unknown element type "
            "(expected f32, f16, bf16, i8)");
  EXPECT_NE(errorOf("{ not json").find("p.json: invalid JSON"),
            std::string::npos);
}

// A profile from a file (--profile, a calibrated one) is refused when a
// number is zero, negative, not a number or absurd, naming the field.
TEST_F(HardwareProfileTest, RefusesZeroNegativeAndAbsurdNumbers) {
  std::string s = kValid;
  auto replace = [&](const std::string &from, const std::string &to) {
    std::string copy = s;
    copy.replace(copy.find(from), from.size(), to);
    return copy;
  };
  EXPECT_NE(errorOf(replace("\"ghz\": 2.0", "\"ghz\": 0"))
                .find("'vector_ghz' must be > 0"),
            std::string::npos);
  EXPECT_EQ(errorOf(replace("\"ghz\": 2.0", "\"ghz\": -2")),
            "p.json: field 'vector.ghz': must be a finite number >= 0.0");
  EXPECT_EQ(errorOf(replace("\"ghz\": 2.0", "\"ghz\": 3000")),
            "p.json: field 'vector.ghz': must be at most 10.0 (no machine has "
            "3000.0)");
  EXPECT_EQ(
      errorOf(replace("\"bandwidth_gbps\": 60", "\"bandwidth_gbps\": 6e9")),
      "p.json: field 'memory.bandwidth_gbps': must be at most 1.0e+05 "
      "(no machine has 6.0e+09)");
  EXPECT_EQ(errorOf(replace("\"cores\": 4", "\"cores\": 1000000")),
            "p.json: field 'vector.cores': must be at most 65536 (no machine "
            "has 1000000)");
  EXPECT_EQ(errorOf(replace("\"f32\": 512", "\"f32\": 1e12")),
            "p.json: field 'matrix.flops_per_cycle.f32': must be at most "
            "1.0e+05 (no machine has 1.0e+12)");
  EXPECT_NE(errorOf(replace("\"f32\": 16", "\"f32\": 0")).find("f32 peak > 0"),
            std::string::npos);
  // JSON has no NaN or infinity: such a file does not parse.
  EXPECT_NE(
      errorOf(replace("\"ghz\": 2.0", "\"ghz\": NaN")).find("invalid JSON"),
      std::string::npos);
  EXPECT_EQ(errorOf(replace("\"sync_overhead_us\": 1.5",
                            "\"sync_overhead_us\": 1e9")),
            "p.json: field 'sync_overhead_us': must be at most 1.0e+06 (no "
            "machine has 1.0e+09)");
}

TEST_F(HardwareProfileTest, AcceptsAProfileAsJsonText) {
  llvm::Expected<TargetAttr> t = loadHardwareProfile(&ctx, kValid);
  ASSERT_TRUE(bool(t)) << llvm::toString(t.takeError());
  EXPECT_EQ(t->getName(), "test");
  std::string broken = kValid;
  const std::string cores = "\"cores\": 4";
  broken.replace(broken.find(cores), cores.size(), "\"cores\": 0");
  llvm::Expected<TargetAttr> bad = loadHardwareProfile(&ctx, broken);
  ASSERT_FALSE(bool(bad));
  EXPECT_EQ(llvm::toString(bad.takeError()),
            "<generated profile>: field 'vector.cores': must be >= 1");
}

TEST_F(HardwareProfileTest, BuiltinProfilesAllParse) {
  std::vector<std::string> names = getBuiltinProfileNames();
  for (const char *required :
       {"apple-m4", "host-x86", "phone-c1-sme2", "xeon6-amx"})
    EXPECT_NE(std::find(names.begin(), names.end(), required), names.end())
        << required;
  for (const std::string &name : names) {
    llvm::Expected<TargetAttr> t = loadHardwareProfile(&ctx, name);
    EXPECT_TRUE(bool(t)) << name << ": "
                         << (t ? "" : llvm::toString(t.takeError()));
  }
  // The host has no matrix unit; the others have one.
  EXPECT_FALSE((*loadHardwareProfile(&ctx, "host-x86")).hasMatrixUnit());
  EXPECT_TRUE((*loadHardwareProfile(&ctx, "apple-m4")).hasMatrixUnit());
}

TEST_F(HardwareProfileTest, UnknownProfileListsTheKnownOnes) {
  llvm::Expected<TargetAttr> t = loadHardwareProfile(&ctx, "apple-m9");
  ASSERT_FALSE(bool(t));
  std::string msg = llvm::toString(t.takeError());
  EXPECT_NE(msg.find("unknown hardware profile 'apple-m9'"), std::string::npos);
  EXPECT_NE(msg.find("apple-m4"), std::string::npos);
  llvm::Expected<TargetAttr> f = loadHardwareProfile(&ctx, "/nonexistent.json");
  ASSERT_FALSE(bool(f));
  EXPECT_NE(llvm::toString(f.takeError()).find("cannot read profile file"),
            std::string::npos);
}

TEST_F(HardwareProfileTest, DeepNestingIsRefusedBeforeParsing) {
  // Deep enough to overflow the stack of llvm::json::parse.
  std::string deep = std::string(200000, '[') + std::string(200000, ']');
  std::string error = errorOf(deep);
  EXPECT_NE(error.find("p.json: invalid JSON: arrays and objects nest deeper "
                       "than 64 levels (at byte offset 64)"),
            std::string::npos)
      << error;

  // 64 levels are fine (and then not a profile); brackets in strings do not
  // count, escaped quotes do not end a string.
  std::string ok = std::string(64, '[') + std::string(64, ']');
  EXPECT_NE(errorOf(ok).find("expected a JSON object"), std::string::npos);
  std::string inString =
      "{\"name\": \"\\\"" + std::string(100, '[') + "\", \"arch\": 1}";
  EXPECT_NE(errorOf(inString).find("field 'arch': expected a string"),
            std::string::npos)
      << errorOf(inString);
}

} // namespace
