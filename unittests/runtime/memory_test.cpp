// The memory budget (memory.h): parsing /proc and cgroup files from strings,
// overflow-safe products, and the messages of the checks.
#include "smepilot_rt/memory.h"

#include <gtest/gtest.h>

using namespace smepilot::rt;

TEST(Memory, MemAvailableFromMeminfo) {
  const char *meminfo = "MemTotal:       24576000 kB\n"
                        "MemFree:        20000000 kB\n"
                        "MemAvailable:   23000000 kB\n"
                        "Buffers:           12345 kB\n";
  EXPECT_EQ(parse_meminfo_available(meminfo), uint64_t(23000000) * 1024);
  // The key must match whole: "MemAvailableX" is another line.
  EXPECT_EQ(parse_meminfo_available("MemAvailableX: 5 kB\nMemAvailable: 7 kB"), uint64_t(7) * 1024);
  EXPECT_EQ(parse_meminfo_available("MemTotal: 1 kB\n"), std::nullopt);
  EXPECT_EQ(parse_meminfo_available("MemAvailable: lots kB\n"), std::nullopt);
  EXPECT_EQ(parse_meminfo_available("MemAvailable: 12 MB\n"), std::nullopt);
  EXPECT_EQ(parse_meminfo_available(""), std::nullopt);
  // kB * 1024 beyond 64 bits is not a number of bytes.
  EXPECT_EQ(parse_meminfo_available("MemAvailable: 18446744073709551615 kB\n"), std::nullopt);
  EXPECT_EQ(parse_meminfo_available("MemAvailable: 99999999999999999999999 kB\n"), std::nullopt);
}

TEST(Memory, VmSizeFromStatus) {
  EXPECT_EQ(parse_status_vm_size("Name:\tx\nVmPeak:\t 900 kB\nVmSize:\t  812 kB\n"),
            uint64_t(812) * 1024);
  EXPECT_EQ(parse_status_vm_size("Name:\tx\n"), std::nullopt);
}

TEST(Memory, CgroupLimits) {
  EXPECT_EQ(parse_cgroup_bytes("max\n"), unlimited_bytes);
  EXPECT_EQ(parse_cgroup_bytes("1073741824\n"), uint64_t(1) << 30);
  EXPECT_EQ(parse_cgroup_bytes("0"), uint64_t(0));
  // cgroup v1's "no limit".
  EXPECT_EQ(parse_cgroup_bytes("9223372036854771712\n"), unlimited_bytes);
  EXPECT_EQ(parse_cgroup_bytes(""), std::nullopt);
  EXPECT_EQ(parse_cgroup_bytes("12k"), std::nullopt);
  EXPECT_EQ(parse_cgroup_bytes("-1"), std::nullopt);
  EXPECT_EQ(parse_cgroup_bytes("999999999999999999999999"), std::nullopt);
}

TEST(Memory, CgroupPaths) {
  cgroup_paths v2 = parse_proc_self_cgroup("0::/user.slice/session-1.scope\n");
  EXPECT_EQ(v2.v2, "/user.slice/session-1.scope");
  EXPECT_EQ(v2.v1_memory, "");
  cgroup_paths v1 = parse_proc_self_cgroup("9:name=systemd:/\n"
                                           "4:memory:/process_api/b9bc\n"
                                           "3:cpuset:/\n"
                                           "0::/\n");
  EXPECT_EQ(v1.v1_memory, "/process_api/b9bc");
  EXPECT_EQ(v1.v2, "/");
  // A controller list, and a path containing ':'.
  EXPECT_EQ(parse_proc_self_cgroup("5:cpu,memory:/a:b\n").v1_memory, "/a:b");
  EXPECT_EQ(parse_proc_self_cgroup("5:memoryx:/a\n").v1_memory, "");
  EXPECT_EQ(parse_proc_self_cgroup("garbage").v2, "");
}

TEST(Memory, CheckedProducts) {
  EXPECT_EQ(checked_mul(1ull << 31, 1ull << 31), 1ull << 62);
  EXPECT_EQ(checked_mul(1ull << 32, 1ull << 32), std::nullopt);
  EXPECT_EQ(checked_product({2, 3, 4}), 24u);
  // 2^31 positions * 2^20 * 2^20 wraps 64 bits even though each factor fits.
  EXPECT_EQ(checked_product({1ull << 31, 1ull << 20, 1ull << 20}), std::nullopt);
  EXPECT_EQ(checked_product({}), 1u);
}

TEST(Memory, ChecksNameTheFlag) {
  memory_budget b;
  b.available = uint64_t(3) << 30;
  b.available_source = "MemAvailable";
  b.address_space = uint64_t(1) << 30;
  EXPECT_TRUE(check_memory(b, uint64_t(3) << 30, "x", "y").is_ok());
  status s = check_memory(b, (uint64_t(3) << 30) + 1, "the logits of 9 tokens", "lower -b");
  ASSERT_FALSE(s.is_ok());
  EXPECT_EQ(s.message(), "the logits of 9 tokens needs 3.0 GiB, more than the 3.0 GiB of memory "
                         "available (MemAvailable); lower -b");
  status r = check_reservation(b, uint64_t(5) << 30, "the KV cache of 7 positions", "lower -c");
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.message(), "the KV cache of 7 positions reserves 5.0 GiB of address space, more "
                         "than the 1.0 GiB left under the address-space limit (ulimit -v); "
                         "lower -c");
  EXPECT_TRUE(check_reservation(b, uint64_t(1) << 30, "x", "y").is_ok());
}

TEST(Memory, FormatBytes) {
  EXPECT_EQ(format_bytes(512), "512 bytes");
  EXPECT_EQ(format_bytes(1536), "1.5 KiB");
  EXPECT_EQ(format_bytes(uint64_t(8) << 30), "8.0 GiB");
}

TEST(Memory, ProbeOnThisMachine) {
  memory_budget b = probe_memory_budget();
#ifdef __linux__
  EXPECT_GT(b.available, 0u);
  EXPECT_LT(b.available, unlimited_bytes) << "MemAvailable should be readable on Linux";
  EXPECT_FALSE(b.available_source.empty());
#endif
}
