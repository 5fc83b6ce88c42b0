// SMEPilot runtime: the default thread count (see cpu_count.h).
#include "smepilot_rt/cpu_count.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <fstream>
#include <sstream>
#include <thread>

#if defined(__linux__)
#include <sched.h>
#endif

namespace smepilot::rt {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

/// A whole decimal number >= 1, or false.
bool parse_positive(std::string_view s, long long &out) {
  if (s.empty())
    return false;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size() && out >= 1;
}

bool read_file(const std::string &path, std::string &out) {
  std::ifstream in(path);
  if (!in)
    return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return true;
}

} // namespace

result<int> cpu_max_limit(std::string_view text) {
  const std::string_view t = trim(text);
  const size_t space = t.find(' ');
  const std::string_view quota = t.substr(0, space);
  const std::string_view period =
      space == std::string_view::npos ? std::string_view("100000") : trim(t.substr(space + 1));
  long long q = 0, p = 0;
  if (!parse_positive(period, p))
    return status::error("cpu.max: expected '<quota|max> <period>', got '" + std::string(t) + "'");
  if (quota == "max")
    return 0;
  if (!parse_positive(quota, q))
    return status::error("cpu.max: expected '<quota|max> <period>', got '" + std::string(t) + "'");
  const long long cpus = q / p + (q % p != 0 ? 1 : 0);
  return int(std::min<long long>(cpus, 1 << 20));
}

int cgroup_cpu_limit(std::string_view proc_self_cgroup, const std::string &cgroup_root) {
  // The cgroup v2 line is "0::<path>".
  std::string_view path;
  bool found = false;
  while (!proc_self_cgroup.empty()) {
    const size_t nl = proc_self_cgroup.find('\n');
    const std::string_view line = proc_self_cgroup.substr(0, nl);
    proc_self_cgroup.remove_prefix(nl == std::string_view::npos ? proc_self_cgroup.size() : nl + 1);
    if (line.substr(0, 3) == "0::") {
      path = trim(line.substr(3));
      found = true;
      break;
    }
  }
  if (!found || path.empty() || path.front() != '/')
    return 0;
  int limit = 0;
  std::string dir(path);
  for (;;) {
    std::string text;
    if (dir.find("/..") == std::string::npos &&
        read_file(cgroup_root + (dir == "/" ? "" : dir) + "/cpu.max", text)) {
      const result<int> cap = cpu_max_limit(text);
      if (cap && *cap > 0)
        limit = limit == 0 ? *cap : std::min(limit, *cap);
    }
    if (dir == "/")
      break;
    const size_t slash = dir.find_last_of('/');
    dir = slash == 0 ? "/" : dir.substr(0, slash);
  }
  return limit;
}

int thread_count_for(int affinity_cpus, int cpu_limit) {
  int n = std::max(1, affinity_cpus);
  if (cpu_limit > 0)
    n = std::min(n, cpu_limit);
  return n;
}

int affinity_cpu_count() {
#if defined(__linux__)
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0)
      return n;
  }
  // More CPUs than a cpu_set_t holds: ask with a larger set.
  for (int cpus = 2048; cpus <= (1 << 16); cpus *= 2) {
    cpu_set_t *big = CPU_ALLOC(cpus);
    if (!big)
      break;
    const size_t bytes = CPU_ALLOC_SIZE(cpus);
    CPU_ZERO_S(bytes, big);
    const int rc = sched_getaffinity(0, bytes, big);
    const int n = rc == 0 ? CPU_COUNT_S(bytes, big) : 0;
    CPU_FREE(big);
    if (n > 0)
      return n;
    if (rc != 0 && errno != EINVAL)
      break;
  }
#endif
  return int(std::max(1u, std::thread::hardware_concurrency()));
}

int default_thread_count() {
  int limit = 0;
#if defined(__linux__)
  std::string cgroup;
  if (read_file("/proc/self/cgroup", cgroup))
    limit = cgroup_cpu_limit(cgroup, "/sys/fs/cgroup");
#endif
  return thread_count_for(affinity_cpu_count(), limit);
}

} // namespace smepilot::rt
