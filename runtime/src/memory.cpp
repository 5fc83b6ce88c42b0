// SMEPilot runtime: the memory budget (see memory.h).
#include "smepilot_rt/memory.h"

#include "strformat.h"

#include <sys/resource.h>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace smepilot::rt {
namespace {

/// Takes the first line of `rest` (without its '\n') into `line`; false once
/// `rest` is empty.
bool next_line(std::string_view &rest, std::string_view &line) {
  if (rest.empty())
    return false;
  const size_t end = std::min(rest.find('\n'), rest.size());
  line = rest.substr(0, end);
  rest.remove_prefix(std::min(end + 1, rest.size()));
  return true;
}

/// The value of the line "KEY: NUMBER kB" of a /proc file, in bytes.
std::optional<uint64_t> parse_kb_line(std::string_view text, std::string_view key) {
  std::string_view line;
  while (next_line(text, line)) {
    if (line.size() <= key.size() || line.substr(0, key.size()) != key || line[key.size()] != ':')
      continue;
    line.remove_prefix(key.size() + 1);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t'))
      line.remove_prefix(1);
    uint64_t v = 0;
    size_t digits = 0;
    while (digits < line.size() && line[digits] >= '0' && line[digits] <= '9') {
      if (v > (UINT64_MAX - 9) / 10)
        return std::nullopt;
      v = v * 10 + uint64_t(line[digits] - '0');
      ++digits;
    }
    if (digits == 0)
      return std::nullopt;
    std::string_view unit = line.substr(digits);
    while (!unit.empty() && unit.front() == ' ')
      unit.remove_prefix(1);
    while (!unit.empty() && (unit.back() == ' ' || unit.back() == '\r'))
      unit.remove_suffix(1);
    if (unit != "kB")
      return std::nullopt;
    return checked_mul(v, 1024);
  }
  return std::nullopt;
}

std::optional<std::string> read_text(const std::string &path) {
  std::ifstream in(path);
  if (!in)
    return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad())
    return std::nullopt;
  return ss.str();
}

/// The tightest headroom (limit - usage) over the cgroup at `rel` under
/// `mount` and its ancestors; `limit_file`/`usage_file` are the version's
/// names. Without a readable limit anywhere: unlimited.
uint64_t cgroup_headroom(const std::string &mount, std::string rel, const char *limit_file,
                         const char *usage_file) {
  uint64_t best = unlimited_bytes;
  for (;;) {
    const std::string dir = mount + (rel == "/" ? "" : rel);
    std::optional<std::string> limit_text = read_text(dir + "/" + limit_file);
    std::optional<uint64_t> limit =
        limit_text ? parse_cgroup_bytes(*limit_text) : std::optional<uint64_t>();
    if (limit && *limit != unlimited_bytes) {
      uint64_t usage = 0;
      if (std::optional<std::string> usage_text = read_text(dir + "/" + usage_file))
        usage = parse_cgroup_bytes(*usage_text).value_or(0);
      best = std::min(best, *limit > usage ? *limit - usage : 0);
    }
    if (rel.empty() || rel == "/")
      break;
    size_t slash = rel.find_last_of('/');
    rel = slash == 0 || slash == std::string::npos ? "/" : rel.substr(0, slash);
  }
  return best;
}

} // namespace

std::optional<uint64_t> checked_mul(uint64_t a, uint64_t b) {
  uint64_t out;
  if (__builtin_mul_overflow(a, b, &out))
    return std::nullopt;
  return out;
}

std::optional<uint64_t> checked_product(std::initializer_list<uint64_t> factors) {
  uint64_t out = 1;
  for (uint64_t f : factors)
    if (__builtin_mul_overflow(out, f, &out))
      return std::nullopt;
  return out;
}

std::optional<uint64_t> parse_meminfo_available(std::string_view meminfo) {
  return parse_kb_line(meminfo, "MemAvailable");
}

std::optional<uint64_t> parse_status_vm_size(std::string_view status_text) {
  return parse_kb_line(status_text, "VmSize");
}

std::optional<uint64_t> parse_cgroup_bytes(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ' || text.back() == '\r'))
    text.remove_suffix(1);
  if (text == "max")
    return unlimited_bytes;
  if (text.empty() || text.size() > 20)
    return std::nullopt;
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9')
      return std::nullopt;
    if (v > (UINT64_MAX - 9) / 10)
      return std::nullopt;
    v = v * 10 + uint64_t(c - '0');
  }
  // cgroup v1 says "no limit" with the largest page-aligned signed value
  // (9223372036854771712); nothing real comes near 2^62.
  if (v >= (uint64_t(1) << 62))
    return unlimited_bytes;
  return v;
}

cgroup_paths parse_proc_self_cgroup(std::string_view text) {
  cgroup_paths out;
  std::string_view line;
  while (next_line(text, line)) {
    // ID:CONTROLLERS:PATH (the path may itself contain ':').
    size_t c1 = line.find(':');
    if (c1 == std::string_view::npos)
      continue;
    size_t c2 = line.find(':', c1 + 1);
    if (c2 == std::string_view::npos)
      continue;
    std::string_view id = line.substr(0, c1), controllers = line.substr(c1 + 1, c2 - c1 - 1);
    std::string_view path = line.substr(c2 + 1);
    if (id == "0" && controllers.empty()) {
      out.v2 = std::string(path);
      continue;
    }
    size_t p = 0;
    while (p <= controllers.size()) {
      size_t comma = controllers.find(',', p);
      if (comma == std::string_view::npos)
        comma = controllers.size();
      if (controllers.substr(p, comma - p) == "memory")
        out.v1_memory = std::string(path);
      p = comma + 1;
    }
  }
  return out;
}

memory_budget probe_memory_budget() {
  memory_budget b;
  if (std::optional<std::string> meminfo = read_text("/proc/meminfo"))
    if (std::optional<uint64_t> avail = parse_meminfo_available(*meminfo)) {
      b.available = *avail;
      b.available_source = "MemAvailable";
    }
  cgroup_paths paths;
  if (std::optional<std::string> cg = read_text("/proc/self/cgroup"))
    paths = parse_proc_self_cgroup(*cg);
  // Inside a container the cgroup file system may be mounted at the
  // container's own cgroup: cgroup_headroom then finds nothing under the
  // full path, and the walk up to "/" reads the mount's root, which is it.
  uint64_t v2 = cgroup_headroom("/sys/fs/cgroup", paths.v2.empty() ? "/" : paths.v2, "memory.max",
                                "memory.current");
  if (v2 < b.available) {
    b.available = v2;
    b.available_source = "the cgroup's memory.max";
  }
  if (!paths.v1_memory.empty()) {
    uint64_t v1 = cgroup_headroom("/sys/fs/cgroup/memory", paths.v1_memory, "memory.limit_in_bytes",
                                  "memory.usage_in_bytes");
    if (v1 < b.available) {
      b.available = v1;
      b.available_source = "the cgroup's memory.limit_in_bytes";
    }
  }
  struct rlimit rl;
  if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
    uint64_t used = 0;
    if (std::optional<std::string> st = read_text("/proc/self/status"))
      used = parse_status_vm_size(*st).value_or(0);
    b.address_space = uint64_t(rl.rlim_cur) > used ? uint64_t(rl.rlim_cur) - used : 0;
  }
  return b;
}

std::string format_bytes(uint64_t bytes) {
  const char *units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (bytes < 1024)
    return std::to_string(bytes) + " bytes";
  double v = double(bytes);
  int u = 0;
  while (v >= 1024.0 && u < 6) {
    v /= 1024.0;
    ++u;
  }
  return strformat("%.1f %s", v, units[u]);
}

status check_memory(const memory_budget &budget, uint64_t bytes, std::string_view what,
                    std::string_view fix) {
  if (bytes <= budget.available)
    return status::ok();
  return status::error(strformat("%.*s needs %s, more than the %s of memory available (%s); %.*s",
                                 int(what.size()), what.data(), format_bytes(bytes).c_str(),
                                 format_bytes(budget.available).c_str(),
                                 budget.available_source.c_str(), int(fix.size()), fix.data()));
}

status check_reservation(const memory_budget &budget, uint64_t bytes, std::string_view what,
                         std::string_view fix) {
  if (bytes <= budget.address_space)
    return status::ok();
  return status::error(strformat("%.*s reserves %s of address space, more than the %s left "
                                 "under the address-space limit (ulimit -v); %.*s",
                                 int(what.size()), what.data(), format_bytes(bytes).c_str(),
                                 format_bytes(budget.address_space).c_str(), int(fix.size()),
                                 fix.data()));
}

} // namespace smepilot::rt
