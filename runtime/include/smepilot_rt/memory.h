// SMEPilot runtime: how much memory this process may still use, and checks
// of user- and file-controlled sizes against it before anything is allocated.
//
// Memory available is the smallest of
//  - MemAvailable in /proc/meminfo (what the kernel can give without
//    swapping: free memory plus reclaimable caches),
//  - the memory cgroup's limit minus its usage, for every cgroup from this
//    process's own up to the root: cgroup v2 memory.max - memory.current,
//    cgroup v1 memory.limit_in_bytes - memory.usage_in_bytes ("max" and v1's
//    huge "no limit" values mean no limit).
// Address space available is RLIMIT_AS (ulimit -v) minus the process's
// current virtual size (VmSize in /proc/self/status); unlimited without one.
//
// Two kinds of allocation are checked differently:
//  - memory that is written (activations, logits, F32 weight copies) must fit
//    in the memory available (check_memory);
//  - a reservation that is only touched as it is used (the KV cache, sized
//    for the whole context) must fit in the address space (check_reservation);
//    smepilot-run then checks the part a run will touch against the memory.
//
// The parse functions take the files' text, so they are tested on strings.
#pragma once

#include "smepilot_rt/status.h"

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace smepilot::rt {

/// "no limit" for the limits below.
inline constexpr uint64_t unlimited_bytes = UINT64_MAX;

/// MemAvailable in bytes from the text of /proc/meminfo; nullopt when the line
/// is absent or malformed.
std::optional<uint64_t> parse_meminfo_available(std::string_view meminfo);

/// A cgroup memory limit or usage file (v2 memory.max / memory.current, v1
/// memory.limit_in_bytes / memory.usage_in_bytes): the number of bytes;
/// unlimited_bytes for "max" and for v1's "no limit" (any value of 2^62 or
/// more); nullopt when the text is not a number.
std::optional<uint64_t> parse_cgroup_bytes(std::string_view text);

/// The cgroup paths of the text of /proc/self/cgroup: the v2 path (the
/// "0::PATH" line) and the v1 memory controller's path (the line whose
/// controller list contains "memory"); empty when absent.
struct cgroup_paths {
  std::string v2;
  std::string v1_memory;
};
cgroup_paths parse_proc_self_cgroup(std::string_view text);

/// VmSize in bytes from the text of /proc/self/status; nullopt when absent.
std::optional<uint64_t> parse_status_vm_size(std::string_view status_text);

/// What this process may still use, with where each number came from.
struct memory_budget {
  uint64_t available = unlimited_bytes;     ///< bytes that may still be written
  std::string available_source;             ///< "MemAvailable", "cgroup memory.max", ...
  uint64_t address_space = unlimited_bytes; ///< bytes that may still be reserved
};

/// Reads /proc/meminfo, the cgroup files and RLIMIT_AS now. A number that
/// cannot be read is left unlimited (the allocation itself then decides).
memory_budget probe_memory_budget();

/// Bytes as "512.0 KiB", "1.5 GiB".
std::string format_bytes(uint64_t bytes);

/// Ok when `bytes` (written memory) fits in `budget.available`; otherwise an
/// error "WHAT needs N, more than the M of memory available (SOURCE); FIX".
/// `what` names the buffer and the setting that sized it ("the KV cache of
/// 131072 positions"), `fix` says which flag to change ("lower -c").
status check_memory(const memory_budget &budget, uint64_t bytes, std::string_view what,
                    std::string_view fix);

/// The same for a reservation against `budget.address_space` (ulimit -v).
status check_reservation(const memory_budget &budget, uint64_t bytes, std::string_view what,
                         std::string_view fix);

/// a * b, or nullopt when it overflows 64 bits.
std::optional<uint64_t> checked_mul(uint64_t a, uint64_t b);
/// The product of all factors, or nullopt when it overflows 64 bits.
std::optional<uint64_t> checked_product(std::initializer_list<uint64_t> factors);

} // namespace smepilot::rt
