// SMEPilot runtime: large zero-filled buffers (weights, packed weights)
// backed by anonymous memory the kernel may give transparent huge pages.
//
// Why not std::vector: gigabytes of F32 weights in 4 KiB pages cost a page
// fault each (1.2 million for Llama-3.2-1B), which in a VM is most of the
// load time, and a vector zero-fills before the dequantizer overwrites it.
// An anonymous mapping is zero on first touch and, advised MADV_HUGEPAGE
// (Linux "madvise" THP mode), faults in 2 MiB at a time.
#pragma once

#include "smepilot_rt/status.h"

#include <cstddef>
#include <utility>

namespace smepilot::rt {

class large_buffer {
public:
  large_buffer() = default;
  large_buffer(large_buffer &&o) noexcept { *this = std::move(o); }
  large_buffer &operator=(large_buffer &&o) noexcept {
    if (this != &o) {
      release();
      map_ = std::exchange(o.map_, nullptr);
      map_bytes_ = std::exchange(o.map_bytes_, 0);
      data_ = std::exchange(o.data_, nullptr);
      bytes_ = std::exchange(o.bytes_, 0);
    }
    return *this;
  }
  large_buffer(const large_buffer &) = delete;
  large_buffer &operator=(const large_buffer &) = delete;
  ~large_buffer() { release(); }

  /// `bytes` zero bytes aligned to `alignment` (a power of two; the page size
  /// at least); `what` names the buffer in the out-of-memory error.
  static result<large_buffer> allocate(size_t bytes, const char *what, size_t alignment = 0);

  /// `bytes` zero bytes that are only backed as they are touched, for a
  /// buffer sized for the worst case and filled from the front (the KV
  /// cache): no swap or commit charge is reserved up front (MAP_NORESERVE)
  /// and no huge pages are asked for (a sparse touch would back 2 MiB each).
  /// Fails with a message naming `what` when the address space is short.
  static result<large_buffer> reserve(size_t bytes, const char *what);

  void *data() const { return data_; }
  size_t size() const { return bytes_; }

private:
  static result<large_buffer> map(size_t bytes, const char *what, size_t alignment, bool reserve);
  void release();
  void *map_ = nullptr; ///< The mapping (data_ is inside it when aligned further).
  size_t map_bytes_ = 0;
  void *data_ = nullptr;
  size_t bytes_ = 0;
};

} // namespace smepilot::rt
