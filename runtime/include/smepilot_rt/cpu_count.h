// SMEPilot runtime: how many threads to use by default.
//
// "All hardware threads" is wrong whenever this process may not use them
// all: a CPU affinity mask (taskset, a container's cpuset) or a CPU quota
// (a cgroup v2 cpu.max of "150000 100000": 1.5 CPUs' worth of time per
// period) make extra threads wait for a core, and a dispatch waits for its
// slowest worker. default_thread_count() is the number of CPUs in this
// thread's affinity mask (sched_getaffinity), capped by the tightest cpu.max
// quota of this process's cgroup and its ancestors, rounded up
// (ceil(quota / period)), and at least 1. The cgroup is the "0::<path>" line
// of /proc/self/cgroup (cgroup v2), read under /sys/fs/cgroup. Unreadable or
// malformed files mean no cap: the affinity count stands.
#pragma once

#include "smepilot_rt/status.h"

#include <string>
#include <string_view>

namespace smepilot::rt {

/// The CPU cap of a cgroup v2 cpu.max text: ceil(quota / period) for
/// "150000 100000" (2), 0 for an unlimited "max 100000" (or "max"); an error
/// naming the text when it is neither.
result<int> cpu_max_limit(std::string_view cpu_max_text);

/// The tightest cap (0: none) of the cgroup named by `proc_self_cgroup` (the
/// text of /proc/self/cgroup) and of its ancestors, reading
/// `<cgroup_root>/<path>/cpu.max` up to `<cgroup_root>/cpu.max`. Files that
/// are missing or malformed impose no cap.
int cgroup_cpu_limit(std::string_view proc_self_cgroup, const std::string &cgroup_root);

/// max(1, affinity_cpus capped by cpu_limit when cpu_limit > 0).
int thread_count_for(int affinity_cpus, int cpu_limit);

/// The number of CPUs in this thread's affinity mask (hardware threads when
/// the system cannot say), at least 1.
int affinity_cpu_count();

/// The default -t: thread_count_for(affinity_cpu_count(), the cgroup cap of
/// this process under /sys/fs/cgroup).
int default_thread_count();

} // namespace smepilot::rt
