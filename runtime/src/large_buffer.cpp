// SMEPilot runtime: large_buffer (large_buffer.h).
#include "large_buffer.h"

#include "strformat.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>

#include <cerrno>
#include <cstring>

namespace smepilot::rt {

result<large_buffer> large_buffer::allocate(size_t bytes, const char *what, size_t alignment) {
  return map(bytes, what, alignment, /*reserve=*/false);
}

result<large_buffer> large_buffer::reserve(size_t bytes, const char *what) {
  return map(bytes, what, 0, /*reserve=*/true);
}

result<large_buffer> large_buffer::map(size_t bytes, const char *what, size_t alignment,
                                       bool reserve) {
  large_buffer b;
  if (bytes == 0)
    return b;
  const size_t page = size_t(sysconf(_SC_PAGESIZE));
  // Beyond the page size, map the alignment's worth more and start inside.
  const size_t extra = alignment > page ? alignment : 0;
  size_t map_bytes;
  if (__builtin_add_overflow(bytes, extra, &map_bytes))
    return status::error(strformat("out of memory: %zu bytes for %s", bytes, what));
  const int flags = MAP_PRIVATE | MAP_ANONYMOUS | (reserve ? MAP_NORESERVE : 0);
  void *p = mmap(nullptr, map_bytes, PROT_READ | PROT_WRITE, flags, -1, 0);
  if (p == MAP_FAILED)
    return status::error(
        strformat("out of memory: %zu bytes for %s (%s)", bytes, what, std::strerror(errno)));
#ifdef MADV_HUGEPAGE
  if (!reserve && map_bytes >= (size_t(2) << 20))
    madvise(p, map_bytes, MADV_HUGEPAGE); // advisory: fewer faults and TLB misses
#endif
  b.map_ = p;
  b.map_bytes_ = map_bytes;
  uintptr_t start = reinterpret_cast<uintptr_t>(p);
  if (extra)
    start = (start + alignment - 1) / alignment * alignment;
  b.data_ = reinterpret_cast<void *>(start);
  b.bytes_ = bytes;
  return b;
}

void large_buffer::release() {
  if (map_)
    munmap(map_, map_bytes_);
  map_ = data_ = nullptr;
  map_bytes_ = bytes_ = 0;
}

} // namespace smepilot::rt
