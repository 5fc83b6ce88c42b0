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
