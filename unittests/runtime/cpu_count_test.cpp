// The default thread count (cpu_count.h): the affinity mask's CPUs capped by
// the cgroup v2 cpu.max quota, from injected inputs and from a cgroup tree
// built in a temporary directory.
#include "smepilot_rt/cpu_count.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

using namespace smepilot::rt;
using ::testing::HasSubstr;

TEST(CpuCount, CpuMaxQuotaRoundsUp) {
  EXPECT_EQ(*cpu_max_limit("150000 100000"), 2);
  EXPECT_EQ(*cpu_max_limit("150000 100000\n"), 2);
  EXPECT_EQ(*cpu_max_limit("100000 100000"), 1);
  EXPECT_EQ(*cpu_max_limit("50000 100000"), 1) << "half a CPU is still one thread";
  EXPECT_EQ(*cpu_max_limit("400000 100000"), 4);
  EXPECT_EQ(*cpu_max_limit("200000"), 2) << "the period defaults to 100000";
}

TEST(CpuCount, CpuMaxUnlimited) {
  EXPECT_EQ(*cpu_max_limit("max 100000"), 0);
  EXPECT_EQ(*cpu_max_limit("max 100000\n"), 0);
  EXPECT_EQ(*cpu_max_limit("max"), 0);
}

TEST(CpuCount, CpuMaxMalformedIsAnError) {
  for (const char *bad : {"", "\n", "abc 100000", "150000 abc", "150000 0", "0 100000", "-5 100000",
                          "150000 100000 7", "max -1", "1.5 100000"}) {
    const result<int> r = cpu_max_limit(bad);
    ASSERT_FALSE(r) << "'" << bad << "'";
    EXPECT_THAT(r.error().message(), HasSubstr("cpu.max: expected '<quota|max> <period>'"));
  }
}

TEST(CpuCount, ThreadCountIsAffinityCappedByQuota) {
  EXPECT_EQ(thread_count_for(8, 0), 8) << "no quota";
  EXPECT_EQ(thread_count_for(8, 2), 2);
  EXPECT_EQ(thread_count_for(2, 8), 2) << "a quota above the mask does not add CPUs";
  EXPECT_EQ(thread_count_for(0, 0), 1);
  EXPECT_EQ(thread_count_for(1, 0), 1);
  EXPECT_EQ(thread_count_for(4, *cpu_max_limit("150000 100000")), 2);
  EXPECT_EQ(thread_count_for(4, *cpu_max_limit("max 100000")), 4);
}

class CgroupTree : public ::testing::Test {
protected:
  std::filesystem::path root;
  void SetUp() override {
    char tmpl[] = "/tmp/smepilot-cgroup-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root = tmpl;
    std::filesystem::create_directories(root / "a" / "b");
  }
  void TearDown() override { std::filesystem::remove_all(root); }
  void write(const std::filesystem::path &rel, const std::string &text) {
    std::ofstream(root / rel) << text;
  }
};

TEST_F(CgroupTree, TightestQuotaOfTheCgroupAndItsAncestors) {
  const std::string self = "12:cpu,cpuacct:/ignored\n0::/a/b\n";
  EXPECT_EQ(cgroup_cpu_limit(self, root.string()), 0) << "no cpu.max files: no cap";
  write("a/b/cpu.max", "max 100000\n");
  EXPECT_EQ(cgroup_cpu_limit(self, root.string()), 0);
  write("a/cpu.max", "300000 100000\n");
  EXPECT_EQ(cgroup_cpu_limit(self, root.string()), 3) << "the parent's quota applies";
  write("a/b/cpu.max", "150000 100000\n");
  EXPECT_EQ(cgroup_cpu_limit(self, root.string()), 2) << "the tighter of the two";
  write("cpu.max", "100000 100000\n");
  EXPECT_EQ(cgroup_cpu_limit(self, root.string()), 1) << "the root's file counts too";
}

TEST_F(CgroupTree, MalformedOrMissingInputsImposeNoCap) {
  write("a/b/cpu.max", "garbage\n");
  EXPECT_EQ(cgroup_cpu_limit("0::/a/b\n", root.string()), 0);
  write("a/cpu.max", "200000 100000");
  EXPECT_EQ(cgroup_cpu_limit("0::/a/b\n", root.string()), 2) << "a malformed leaf is skipped";
  EXPECT_EQ(cgroup_cpu_limit("", root.string()), 0) << "no cgroup v2 line";
  EXPECT_EQ(cgroup_cpu_limit("1:cpu:/a\n", root.string()), 0) << "cgroup v1 only";
  EXPECT_EQ(cgroup_cpu_limit("0::relative\n", root.string()), 0);
  EXPECT_EQ(cgroup_cpu_limit("0::/a/b\n", (root / "missing").string()), 0);
}

TEST(CpuCount, DefaultIsWithinTheAffinityMask) {
  const int affinity = affinity_cpu_count();
  EXPECT_GE(affinity, 1);
  EXPECT_LE(affinity, int(std::max(1u, std::thread::hardware_concurrency())));
  const int n = default_thread_count();
  EXPECT_GE(n, 1);
  EXPECT_LE(n, affinity);
}
