// SMEPilot runtime: the GGUF reader.
//
// open() brings the whole file into memory (mmap, or read(2) into anonymous
// memory so that weights cannot be evicted with the page cache), then parse()
// walks it once with a bounds-checked cursor and validates everything listed
// in gguf.h before anything else can look at it. After a successful parse,
// every string, array and tensor range recorded in the gguf_file is known to
// lie inside the image, so the accessors decode without further checks.
//
// Sizes are never trusted: each count is compared with the bytes left before
// anything is reserved, and every product or sum of file-controlled numbers
// goes through checked arithmetic.
#include "smepilot_rt/gguf.h"

#include "smepilot_rt/input_file.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "strformat.h"

namespace smepilot::rt {
namespace {

using ull = unsigned long long;

bool mul_overflows(uint64_t a, uint64_t b, uint64_t &out) {
  return __builtin_mul_overflow(a, b, &out);
}
bool add_overflows(uint64_t a, uint64_t b, uint64_t &out) {
  return __builtin_add_overflow(a, b, &out);
}

template <typename T> T load(const uint8_t *p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

bool is_known_type(uint32_t t) { return t <= static_cast<uint32_t>(gguf_type::float64); }

bool is_integer(gguf_type t) {
  switch (t) {
  case gguf_type::uint8:
  case gguf_type::int8:
  case gguf_type::uint16:
  case gguf_type::int16:
  case gguf_type::uint32:
  case gguf_type::int32:
  case gguf_type::uint64:
  case gguf_type::int64:
    return true;
  default:
    return false;
  }
}

bool is_signed(gguf_type t) {
  return t == gguf_type::int8 || t == gguf_type::int16 || t == gguf_type::int32 ||
         t == gguf_type::int64;
}

// Decodes one scalar of `type` at `p` into `v` (p is known to be in bounds).
void decode_scalar(gguf_type type, const uint8_t *p, gguf_value &v) {
  v.type = type;
  switch (type) {
  case gguf_type::uint8:
    v.u = p[0];
    break;
  case gguf_type::int8:
    v.i = static_cast<int8_t>(p[0]);
    break;
  case gguf_type::uint16:
    v.u = load<uint16_t>(p);
    break;
  case gguf_type::int16:
    v.i = load<int16_t>(p);
    break;
  case gguf_type::uint32:
    v.u = load<uint32_t>(p);
    break;
  case gguf_type::int32:
    v.i = load<int32_t>(p);
    break;
  case gguf_type::uint64:
    v.u = load<uint64_t>(p);
    break;
  case gguf_type::int64:
    v.i = load<int64_t>(p);
    break;
  case gguf_type::float32:
    v.f = load<float>(p);
    break;
  case gguf_type::float64:
    v.f = load<double>(p);
    break;
  case gguf_type::boolean:
    v.b = p[0] != 0;
    break;
  default:
    break;
  }
}

// Bounds-checked cursor over the image; its errors name the file and an offset.
class cursor {
public:
  cursor(const std::string &path, const uint8_t *base, uint64_t size)
      : path_(path), base_(base), size_(size) {}
  const uint8_t *base() const { return base_; }
  uint64_t size() const { return size_; }
  uint64_t pos() const { return pos_; }
  uint64_t remaining() const { return size_ - pos_; }
  bool has(uint64_t n) const { return n <= remaining(); }
  const uint8_t *here() const { return base_ + pos_; }
  void skip(uint64_t n) { pos_ += n; } // caller checked has(n)
  template <typename T> bool read(T &out) {
    if (!has(sizeof(T)))
      return false;
    out = load<T>(base_ + pos_);
    pos_ += sizeof(T);
    return true;
  }

  status error_at(uint64_t offset, const std::string &what) const {
    return status::error(
        strformat("%s: offset %llu: %s", path_.c_str(), ull(offset), what.c_str()));
  }

  // Reads a string at the cursor; `what` says whose string it is.
  status read_string(std::string_view &out, const std::string &what) {
    const uint64_t at = pos_;
    uint64_t len;
    if (!read(len))
      return error_at(at, strformat("file ends inside the length of %s (file size %llu)",
                                    what.c_str(), ull(size_)));
    if (!has(len))
      return error_at(at, strformat("%s has length %llu, but only %llu bytes remain in the file",
                                    what.c_str(), ull(len), ull(remaining())));
    out = std::string_view(reinterpret_cast<const char *>(here()), size_t(len));
    skip(len);
    return status::ok();
  }

private:
  const std::string &path_;
  const uint8_t *base_;
  uint64_t size_;
  uint64_t pos_ = 0;
};

constexpr uint64_t header_size = 24;
// The smallest possible encodings, used to bound counts by the bytes left.
constexpr uint64_t min_kv_size = 8 + 4 + 1;                  // empty key, u8 value
constexpr uint64_t min_tensor_info_size = 8 + 4 + 8 + 4 + 8; // empty name, 1 dim
constexpr uint32_t max_dims = 4;

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

} // namespace

uint64_t gguf_scalar_size(gguf_type type) {
  switch (type) {
  case gguf_type::uint8:
  case gguf_type::int8:
  case gguf_type::boolean:
    return 1;
  case gguf_type::uint16:
  case gguf_type::int16:
    return 2;
  case gguf_type::uint32:
  case gguf_type::int32:
  case gguf_type::float32:
    return 4;
  case gguf_type::uint64:
  case gguf_type::int64:
  case gguf_type::float64:
    return 8;
  default:
    return 0;
  }
}

const char *gguf_type_name(gguf_type type) {
  switch (type) {
  case gguf_type::uint8:
    return "uint8";
  case gguf_type::int8:
    return "int8";
  case gguf_type::uint16:
    return "uint16";
  case gguf_type::int16:
    return "int16";
  case gguf_type::uint32:
    return "uint32";
  case gguf_type::int32:
    return "int32";
  case gguf_type::float32:
    return "float32";
  case gguf_type::boolean:
    return "bool";
  case gguf_type::string:
    return "string";
  case gguf_type::array:
    return "array";
  case gguf_type::uint64:
    return "uint64";
  case gguf_type::int64:
    return "int64";
  case gguf_type::float64:
    return "float64";
  }
  return "unknown";
}

std::string gguf_dims_string(const std::vector<int64_t> &dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i)
      s += ", ";
    s += std::to_string(dims[i]);
  }
  return s + "]";
}

const char *gguf_load_mode_name(gguf_load_mode mode) {
  switch (mode) {
  case gguf_load_mode::automatic:
    return "automatic";
  case gguf_load_mode::mmap:
    return "mmap";
  case gguf_load_mode::read:
    return "read";
  }
  return "unknown";
}

uint64_t system_mem_available() {
  if (FILE *f = std::fopen("/proc/meminfo", "r")) {
    char line[256];
    uint64_t kb = 0;
    bool found = false;
    while (std::fgets(line, sizeof line, f)) {
      unsigned long long v;
      if (std::sscanf(line, "MemAvailable: %llu kB", &v) == 1) {
        kb = v;
        found = true;
        break;
      }
    }
    std::fclose(f);
    if (found && kb <= std::numeric_limits<uint64_t>::max() / 1024)
      return kb * 1024;
  }
#if defined(_SC_AVPHYS_PAGES) && defined(_SC_PAGESIZE)
  long pages = sysconf(_SC_AVPHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  if (pages > 0 && page > 0)
    return uint64_t(pages) * uint64_t(page);
#endif
  return 0;
}

gguf_load_mode gguf_resolve_load_mode(gguf_load_mode requested, uint64_t file_size,
                                      uint64_t mem_available) {
  if (requested != gguf_load_mode::automatic)
    return requested;
  if (mem_available == 0)
    return gguf_load_mode::mmap;
  return file_size < mem_available / 2 ? gguf_load_mode::read : gguf_load_mode::mmap;
}

gguf_file::~gguf_file() {
  if (mapping_)
    munmap(mapping_, size_);
  if (fd_ >= 0)
    ::close(fd_);
}

uint64_t gguf_file::release_pages(const void *data, uint64_t n_bytes) const {
  if (!mapping_ || !data || n_bytes == 0)
    return 0;
  const uintptr_t base = reinterpret_cast<uintptr_t>(mapping_);
  const uintptr_t begin = reinterpret_cast<uintptr_t>(data);
  if (begin < base || n_bytes > size_ || begin - base > size_ - n_bytes)
    return 0;
  const uintptr_t page = uintptr_t(sysconf(_SC_PAGESIZE));
  const uintptr_t first = (begin + page - 1) / page * page;
  const uintptr_t last = (begin + n_bytes) / page * page;
  if (last <= first)
    return 0;
  void *p = reinterpret_cast<void *>(first);
  const size_t len = size_t(last - first);
  if (load_mode_ == gguf_load_mode::mmap) {
    // Pages of a private file mapping that were never written are the
    // file's: dropping them loses nothing.
    if (madvise(p, len, MADV_DONTNEED) != 0)
      return 0;
    return len;
  }
  if (fd_ < 0)
    return 0;
  // The anonymous copy starts at file offset 0, so the file's pages at the
  // same offsets hold the same bytes. Mapped elsewhere first and moved over
  // the copy: a failure leaves the copy as it was.
  void *q = mmap(nullptr, len, PROT_READ, MAP_PRIVATE, fd_, off_t(first - base));
  if (q == MAP_FAILED)
    return 0;
  if (mremap(q, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, p) != p) {
    munmap(q, len);
    return 0;
  }
  return len;
}

result<std::unique_ptr<gguf_file>> gguf_file::from_bytes(std::vector<uint8_t> bytes,
                                                         std::string name) {
  auto t0 = std::chrono::steady_clock::now();
  std::unique_ptr<gguf_file> f(new gguf_file());
  f->path_ = std::move(name);
  f->owned_ = std::move(bytes);
  f->base_ = f->owned_.data();
  f->size_ = f->owned_.size();
  f->load_mode_ = gguf_load_mode::read;
  SMEPILOT_RT_RETURN_IF_ERROR(f->parse());
  f->load_seconds_ = seconds_since(t0);
  return f;
}

namespace {

// Reads `size` bytes of `fd` into `dst`, printing progress for large files.
status read_all(int fd, uint8_t *dst, uint64_t size, const std::string &path, bool progress) {
  constexpr uint64_t chunk = 64ull << 20;
  constexpr uint64_t progress_threshold = 256ull << 20;
  const bool show = progress && size > progress_threshold;
  const bool tty = show && isatty(STDERR_FILENO);
  auto t0 = std::chrono::steady_clock::now();
  int last_tenth = -1;
  uint64_t done = 0;
  while (done < size) {
    size_t want = size_t(std::min(chunk, size - done));
    ssize_t n = ::pread(fd, dst + done, want, off_t(done));
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return status::error(strformat("%s: offset %llu: read failed: %s", path.c_str(), ull(done),
                                     std::strerror(errno)));
    }
    if (n == 0)
      return status::error(strformat("%s: offset %llu: file ended while reading (expected %llu "
                                     "bytes; was it truncated meanwhile?)",
                                     path.c_str(), ull(done), ull(size)));
    done += uint64_t(n);
    if (show) {
      int tenth = int(done * 10 / size);
      if (tty || tenth != last_tenth) {
        std::fprintf(stderr, "%sloading %s: %llu / %llu MiB (%d%%)%s", tty ? "\r" : "",
                     path.c_str(), ull(done >> 20), ull(size >> 20), int(done * 100 / size),
                     tty ? "" : "\n");
        last_tenth = tenth;
      }
    }
  }
  if (show) {
    double s = seconds_since(t0);
    std::fprintf(stderr, "%sloaded %s: %llu MiB in %.2f s (%.0f MiB/s)\n", tty ? "\r" : "",
                 path.c_str(), ull(size >> 20), s, s > 0 ? double(size >> 20) / s : 0.0);
  }
  return status::ok();
}

struct fd_closer {
  int fd;
  ~fd_closer() {
    if (fd >= 0)
      ::close(fd);
  }
};

} // namespace

result<std::unique_ptr<gguf_file>> gguf_file::open(const std::string &path,
                                                   const gguf_open_options &options) {
  auto t0 = std::chrono::steady_clock::now();
  std::unique_ptr<gguf_file> f(new gguf_file());
  f->path_ = path;
  result<int> opened = open_input_file(path); // regular files only; never waits
  if (!opened)
    return opened.take_error();
  const int fd = *opened;
  fd_closer closer{fd};
  struct stat st;
  if (fstat(fd, &st) != 0)
    return status::error(strformat("%s: cannot stat: %s", path.c_str(), std::strerror(errno)));
  const uint64_t size = uint64_t(st.st_size);
  if (size > std::numeric_limits<size_t>::max())
    return status::error(strformat("%s: file of %llu bytes does not fit in the address space",
                                   path.c_str(), ull(size)));

  gguf_load_mode mode = options.mode;
  if (mode == gguf_load_mode::automatic)
    mode = gguf_resolve_load_mode(mode, size, system_mem_available());

  if (size == 0) {
    // Nothing to map: parse() reports the empty file.
    f->base_ = f->owned_.data();
  } else if (mode == gguf_load_mode::read) {
    void *p =
        mmap(nullptr, size_t(size), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
      if (options.mode == gguf_load_mode::read)
        return status::error(strformat("%s: cannot allocate %llu bytes to read the file into: %s",
                                       path.c_str(), ull(size), std::strerror(errno)));
      mode = gguf_load_mode::mmap; // automatic: fall back to mapping the file
    } else {
      f->mapping_ = p;
      f->size_ = size;
#ifdef MADV_HUGEPAGE
      madvise(p, size_t(size), MADV_HUGEPAGE); // fewer TLB misses on weights; advisory
#endif
      SMEPILOT_RT_RETURN_IF_ERROR(
          read_all(fd, static_cast<uint8_t *>(p), size, path, options.progress));
      mprotect(p, size_t(size), PROT_READ); // weights are read-only from here on
      f->base_ = static_cast<const uint8_t *>(p);
      f->fd_ = fd; // release_pages maps the file over copied pages
      closer.fd = -1;
    }
  }
  if (size != 0 && mode == gguf_load_mode::mmap) {
    void *p = mmap(nullptr, size_t(size), PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED)
      return status::error(strformat("%s: cannot mmap %llu bytes: %s", path.c_str(), ull(size),
                                     std::strerror(errno)));
    f->mapping_ = p;
    f->base_ = static_cast<const uint8_t *>(p);
  }
  f->size_ = size;
  f->load_mode_ = mode;
  SMEPILOT_RT_RETURN_IF_ERROR(f->parse());
  f->load_seconds_ = seconds_since(t0);
  return f;
}

namespace {

struct gguf_header {
  uint32_t version;
  uint64_t n_tensors;
  uint64_t n_kv;
};

// The header: magic, version, and the tensor and metadata counts, each count
// bounded by the bytes left.
result<gguf_header> read_header(cursor &c) {
  const uint8_t *base = c.base();
  const uint64_t size = c.size();
  if (size < 4)
    return c.error_at(0, strformat("file is %llu bytes, too short for the GGUF magic: not a GGUF "
                                   "file",
                                   ull(size)));
  if (std::memcmp(base, "GGUF", 4) != 0) {
    std::string shown;
    for (int i = 0; i < 4; ++i)
      shown += (base[i] >= 0x20 && base[i] < 0x7f) ? char(base[i]) : '.';
    return c.error_at(0, strformat("bad magic '%s' (bytes %02x %02x %02x %02x), expected 'GGUF': "
                                   "not a GGUF file",
                                   shown.c_str(), base[0], base[1], base[2], base[3]));
  }
  c.skip(4);
  gguf_header h;
  if (!c.read(h.version))
    return c.error_at(4, strformat("file ends inside the header (file size %llu, the header is "
                                   "%llu bytes)",
                                   ull(size), ull(header_size)));
  if (h.version == 1)
    return c.error_at(4, "GGUF version 1 is not supported (it uses 32-bit counts); expected "
                         "version 2 or 3: convert the file again with a current llama.cpp");
  if (h.version == 0x02000000u || h.version == 0x03000000u)
    return c.error_at(4, strformat("version field reads 0x%08x: this looks like a big-endian "
                                   "GGUF file, which is not supported (expected a little-endian "
                                   "version 2 or 3)",
                                   h.version));
  if (h.version != 2 && h.version != 3)
    return c.error_at(4, strformat("unsupported GGUF version %u, expected 2 or 3", h.version));
  if (!c.read(h.n_tensors) || !c.read(h.n_kv))
    return c.error_at(c.pos(), strformat("file ends inside the header (file size %llu, the "
                                         "header is %llu bytes)",
                                         ull(size), ull(header_size)));
  if (h.n_kv > c.remaining() / min_kv_size)
    return c.error_at(16, strformat("metadata count n_kv = %llu is more than the remaining %llu "
                                    "bytes could hold (each key-value pair takes at least %llu "
                                    "bytes)",
                                    ull(h.n_kv), ull(c.remaining()), ull(min_kv_size)));
  if (h.n_tensors > c.remaining() / min_tensor_info_size ||
      h.n_kv * min_kv_size + h.n_tensors * min_tensor_info_size > c.remaining())
    return c.error_at(8, strformat("tensor count n_tensors = %llu is more than the remaining %llu "
                                   "bytes could hold (each tensor info takes at least %llu "
                                   "bytes, after %llu key-value pairs)",
                                   ull(h.n_tensors), ull(c.remaining()), ull(min_tensor_info_size),
                                   ull(h.n_kv)));
  return h;
}

// An array value after its type id (at `value_at`): element type and count,
// then the elements, checked and skipped (the accessors decode them later).
status read_array(cursor &c, const std::string &what, uint64_t value_at, gguf_value &v) {
  uint32_t elem_id;
  if (!c.read(elem_id) || !c.read(v.array_count))
    return c.error_at(value_at, what + ": file ends inside the array header");
  if (elem_id == uint32_t(gguf_type::array))
    return c.error_at(value_at, what + ": nested arrays are not supported (array of array)");
  if (!is_known_type(elem_id))
    return c.error_at(value_at, strformat("%s: unknown array element type %u (expected 0 to 12)",
                                          what.c_str(), elem_id));
  v.array_type = gguf_type(elem_id);
  v.array_offset = c.pos();
  if (v.array_type == gguf_type::string) {
    if (v.array_count > c.remaining() / 8)
      return c.error_at(value_at, strformat("%s: array of %llu strings cannot fit in the "
                                            "remaining %llu bytes (8 bytes at least each)",
                                            what.c_str(), ull(v.array_count), ull(c.remaining())));
    for (uint64_t e = 0; e < v.array_count; ++e) {
      const uint64_t at = c.pos();
      uint64_t len;
      if (!c.read(len))
        return c.error_at(
            at, strformat("%s: file ends inside the length of element %llu", what.c_str(), ull(e)));
      if (!c.has(len))
        return c.error_at(at, strformat("%s: element %llu has length %llu, but only %llu bytes "
                                        "remain in the file",
                                        what.c_str(), ull(e), ull(len), ull(c.remaining())));
      c.skip(len);
    }
    return status::ok();
  }
  const uint64_t elem_size = gguf_scalar_size(v.array_type);
  if (v.array_count > c.remaining() / elem_size)
    return c.error_at(value_at, strformat("%s: array of %llu %s is past the end of the file "
                                          "(%llu bytes remain)",
                                          what.c_str(), ull(v.array_count),
                                          gguf_type_name(v.array_type), ull(c.remaining())));
  if (v.array_type == gguf_type::boolean) {
    for (uint64_t e = 0; e < v.array_count; ++e)
      if (c.here()[e] > 1)
        return c.error_at(c.pos() + e, strformat("%s: element %llu is a bool of value %u, "
                                                 "expected 0 or 1",
                                                 what.c_str(), ull(e), c.here()[e]));
  }
  c.skip(v.array_count * elem_size);
  return status::ok();
}

// Metadata entry `k`: key, value type and value.
status read_kv(cursor &c, uint64_t k, gguf_kv &kv) {
  kv.offset = c.pos();
  SMEPILOT_RT_RETURN_IF_ERROR(
      c.read_string(kv.key, strformat("the key of metadata entry %llu", ull(k))));
  const std::string what = "key " + quoted(kv.key);
  const uint64_t type_at = c.pos();
  uint32_t type_id;
  if (!c.read(type_id))
    return c.error_at(type_at, what + ": file ends inside the value type");
  if (!is_known_type(type_id))
    return c.error_at(
        type_at, strformat("%s: unknown value type %u (expected 0 to 12)", what.c_str(), type_id));
  gguf_value &v = kv.value;
  v.type = gguf_type(type_id);
  const uint64_t value_at = c.pos();
  if (v.type == gguf_type::string)
    return c.read_string(v.str, "the value of " + what);
  if (v.type == gguf_type::array)
    return read_array(c, what, value_at, v);
  const uint64_t n = gguf_scalar_size(v.type);
  if (!c.has(n))
    return c.error_at(value_at, strformat("%s: file ends inside the %s value", what.c_str(),
                                          gguf_type_name(v.type)));
  if (v.type == gguf_type::boolean && c.here()[0] > 1)
    return c.error_at(
        value_at, strformat("%s: bool of value %u, expected 0 or 1", what.c_str(), c.here()[0]));
  decode_scalar(v.type, c.here(), v);
  c.skip(n);
  return status::ok();
}

// The tensor data alignment: general.alignment (a non-zero power of two) if
// the key `a` is present, else 32.
result<uint64_t> read_alignment(const cursor &c, const gguf_kv *a) {
  if (!a)
    return uint64_t(32);
  const gguf_value &v = a->value;
  if (!is_integer(v.type))
    return c.error_at(a->offset, strformat("key 'general.alignment' has type %s, expected uint32",
                                           gguf_type_name(v.type)));
  if (is_signed(v.type) && v.i <= 0)
    return c.error_at(a->offset, strformat("key 'general.alignment' is %lld, expected a non-zero "
                                           "power of two",
                                           (long long)v.i));
  uint64_t align = is_signed(v.type) ? uint64_t(v.i) : v.u;
  if (align == 0 || (align & (align - 1)) != 0)
    return c.error_at(a->offset, strformat("key 'general.alignment' is %llu, expected a non-zero "
                                           "power of two",
                                           ull(align)));
  return align;
}

// A tensor's dimension count and dimensions (at `dims_at`), into ti.dims and
// ti.n_elements.
status read_dims(cursor &c, const std::string &what, uint64_t dims_at, gguf_tensor_info &ti) {
  uint32_t n_dims;
  if (!c.read(n_dims))
    return c.error_at(dims_at, what + ": file ends inside the dimension count");
  if (n_dims == 0 || n_dims > max_dims)
    return c.error_at(
        dims_at, strformat("%s: %u dimensions, expected 1 to %u", what.c_str(), n_dims, max_dims));
  uint64_t n_elements = 1;
  for (uint32_t d = 0; d < n_dims; ++d) {
    const uint64_t at = c.pos();
    uint64_t ne;
    if (!c.read(ne))
      return c.error_at(at, what + ": file ends inside the dimensions");
    if (ne == 0 || ne > uint64_t(std::numeric_limits<int64_t>::max()))
      return c.error_at(at, strformat("%s: dimension %u is %llu, expected 1 to 2^63-1",
                                      what.c_str(), d, ull(ne)));
    if (mul_overflows(n_elements, ne, n_elements))
      return c.error_at(at, strformat("%s: the element count overflows 64 bits at dimension %u "
                                      "(%llu)",
                                      what.c_str(), d, ull(ne)));
    ti.dims.push_back(int64_t(ne));
  }
  if (n_elements > uint64_t(std::numeric_limits<int64_t>::max()))
    return c.error_at(dims_at, strformat("%s: %llu elements is more than int64 can count",
                                         what.c_str(), ull(n_elements)));
  ti.n_elements = n_elements;
  return status::ok();
}

// Tensor info `t`: name, dimensions, type and data offset (a multiple of
// `alignment`), with the byte size the type and shape give.
status read_tensor_info(cursor &c, uint64_t t, uint64_t alignment, gguf_tensor_info &ti) {
  ti.info_offset = c.pos();
  SMEPILOT_RT_RETURN_IF_ERROR(c.read_string(ti.name, strformat("the name of tensor %llu", ull(t))));
  const std::string what = "tensor " + quoted(ti.name);
  const uint64_t dims_at = c.pos();
  SMEPILOT_RT_RETURN_IF_ERROR(read_dims(c, what, dims_at, ti));
  const uint64_t type_at = c.pos();
  uint32_t type_id;
  if (!c.read(type_id))
    return c.error_at(type_at, what + ": file ends inside the tensor type");
  const ggml_type_traits *traits = ggml_traits(type_id);
  if (!traits)
    return c.error_at(type_at, strformat("%s: unknown ggml type id %u", what.c_str(), type_id));
  ti.type = ggml_type(type_id);
  if (uint64_t(ti.dims[0]) % traits->block_size != 0)
    return c.error_at(dims_at, strformat("%s: ne[0] = %lld is not a multiple of the %s block "
                                         "size %u",
                                         what.c_str(), (long long)ti.dims[0], traits->name,
                                         traits->block_size));
  uint64_t n_bytes = uint64_t(ti.dims[0]) / traits->block_size;
  bool overflow = mul_overflows(n_bytes, traits->type_size, n_bytes);
  for (size_t d = 1; d < ti.dims.size() && !overflow; ++d)
    overflow = mul_overflows(n_bytes, uint64_t(ti.dims[d]), n_bytes);
  if (overflow)
    return c.error_at(dims_at,
                      strformat("%s: the byte size of %s %s overflows 64 bits", what.c_str(),
                                traits->name, gguf_dims_string(ti.dims).c_str()));
  ti.n_bytes = n_bytes;
  const uint64_t offset_at = c.pos();
  if (!c.read(ti.offset))
    return c.error_at(offset_at, what + ": file ends inside the data offset");
  if (ti.offset % alignment != 0)
    return c.error_at(offset_at, strformat("%s: data offset %llu is not a multiple of the "
                                           "alignment %llu",
                                           what.c_str(), ull(ti.offset), ull(alignment)));
  return status::ok();
}

// The data section starts at the first multiple of `alignment` after the
// tensor infos (the cursor's position). Points each tensor at its data, which
// must lie inside the image; returns the data section's offset.
result<uint64_t> place_tensor_data(const cursor &c, uint64_t alignment,
                                   std::vector<gguf_tensor_info> &tensors) {
  const uint64_t end_of_infos = c.pos();
  uint64_t padded;
  if (add_overflows(end_of_infos, alignment - 1, padded))
    return c.error_at(end_of_infos, strformat("alignment %llu overflows the data section offset",
                                              ull(alignment)));
  const uint64_t data_offset = padded / alignment * alignment;
  for (gguf_tensor_info &ti : tensors) {
    uint64_t begin, end;
    if (add_overflows(data_offset, ti.offset, begin) || add_overflows(begin, ti.n_bytes, end))
      return c.error_at(ti.info_offset,
                        strformat("tensor %s: data offset %llu + %llu bytes from the data "
                                  "section at %llu overflows 64 bits",
                                  quoted(ti.name).c_str(), ull(ti.offset), ull(ti.n_bytes),
                                  ull(data_offset)));
    if (end > c.size())
      return c.error_at(ti.info_offset,
                        strformat("tensor %s: data [%llu, %llu) is past the end of the file "
                                  "(size %llu)",
                                  quoted(ti.name).c_str(), ull(begin), ull(end), ull(c.size())));
    ti.data = c.base() + begin;
  }
  return data_offset;
}

// No two tensors may share bytes.
status check_no_overlap(const cursor &c, uint64_t data_offset,
                        const std::vector<gguf_tensor_info> &tensors) {
  std::vector<const gguf_tensor_info *> by_offset;
  by_offset.reserve(tensors.size());
  for (const gguf_tensor_info &ti : tensors)
    by_offset.push_back(&ti);
  std::sort(
      by_offset.begin(), by_offset.end(),
      [](const gguf_tensor_info *a, const gguf_tensor_info *b) { return a->offset < b->offset; });
  for (size_t i = 1; i < by_offset.size(); ++i) {
    const gguf_tensor_info &a = *by_offset[i - 1], &b = *by_offset[i];
    if (a.offset + a.n_bytes > b.offset)
      return c.error_at(b.info_offset,
                        strformat("tensor %s: data [%llu, %llu) overlaps tensor %s [%llu, %llu)",
                                  quoted(b.name).c_str(), ull(data_offset + b.offset),
                                  ull(data_offset + b.offset + b.n_bytes), quoted(a.name).c_str(),
                                  ull(data_offset + a.offset),
                                  ull(data_offset + a.offset + a.n_bytes)));
  }
  return status::ok();
}

} // namespace

status gguf_file::parse() {
  cursor c(path_, base_, size_);
  kvs_.clear();
  tensors_.clear();
  kv_index_.clear();
  tensor_index_.clear();

  result<gguf_header> header = read_header(c);
  if (!header)
    return header.take_error();
  version_ = header->version;

  kvs_.reserve(size_t(header->n_kv));
  kv_index_.reserve(size_t(header->n_kv));
  for (uint64_t k = 0; k < header->n_kv; ++k) {
    gguf_kv kv;
    SMEPILOT_RT_RETURN_IF_ERROR(read_kv(c, k, kv));
    auto [it, inserted] = kv_index_.emplace(kv.key, kvs_.size());
    if (!inserted)
      return c.error_at(kv.offset, strformat("key %s appears twice (first at offset %llu)",
                                             quoted(kv.key).c_str(), ull(kvs_[it->second].offset)));
    kvs_.push_back(kv);
  }

  result<uint64_t> alignment = read_alignment(c, find("general.alignment"));
  if (!alignment)
    return alignment.take_error();
  alignment_ = *alignment;

  tensors_.reserve(size_t(header->n_tensors));
  tensor_index_.reserve(size_t(header->n_tensors));
  for (uint64_t t = 0; t < header->n_tensors; ++t) {
    gguf_tensor_info ti;
    SMEPILOT_RT_RETURN_IF_ERROR(read_tensor_info(c, t, alignment_, ti));
    auto [it, inserted] = tensor_index_.emplace(ti.name, tensors_.size());
    if (!inserted)
      return c.error_at(ti.info_offset,
                        strformat("tensor %s appears twice (first at offset %llu)",
                                  quoted(ti.name).c_str(), ull(tensors_[it->second].info_offset)));
    tensors_.push_back(std::move(ti));
  }

  result<uint64_t> data_offset = place_tensor_data(c, alignment_, tensors_);
  if (!data_offset)
    return data_offset.take_error();
  data_offset_ = *data_offset;
  return check_no_overlap(c, data_offset_, tensors_);
}

// --- lookups and typed accessors ------------------------------------------------

const gguf_kv *gguf_file::find(std::string_view key) const {
  auto it = kv_index_.find(key);
  return it == kv_index_.end() ? nullptr : &kvs_[it->second];
}

const gguf_tensor_info *gguf_file::find_tensor(std::string_view name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

namespace {

status missing_key(const std::string &path, std::string_view key) {
  return status::error(strformat("%s: key %s not found", path.c_str(), quoted(key).c_str()));
}

status wrong_type(const std::string &path, const gguf_kv &kv, const char *expected) {
  std::string got = gguf_type_name(kv.value.type);
  if (kv.value.type == gguf_type::array)
    got = std::string("array of ") + gguf_type_name(kv.value.array_type);
  return status::error(strformat("%s: offset %llu: key %s has type %s, expected %s", path.c_str(),
                                 ull(kv.offset), quoted(kv.key).c_str(), got.c_str(), expected));
}

} // namespace

result<std::string_view> gguf_file::get_string(std::string_view key) const {
  const gguf_kv *kv = find(key);
  if (!kv)
    return missing_key(path_, key);
  if (kv->value.type != gguf_type::string)
    return wrong_type(path_, *kv, "string");
  return kv->value.str;
}

result<uint64_t> gguf_file::get_uint(std::string_view key) const {
  const gguf_kv *kv = find(key);
  if (!kv)
    return missing_key(path_, key);
  if (!is_integer(kv->value.type))
    return wrong_type(path_, *kv, "an unsigned integer");
  if (is_signed(kv->value.type)) {
    if (kv->value.i < 0)
      return status::error(strformat("%s: offset %llu: key %s is %lld, expected a non-negative "
                                     "integer",
                                     path_.c_str(), ull(kv->offset), quoted(key).c_str(),
                                     (long long)kv->value.i));
    return uint64_t(kv->value.i);
  }
  return kv->value.u;
}

result<int64_t> gguf_file::get_int(std::string_view key) const {
  const gguf_kv *kv = find(key);
  if (!kv)
    return missing_key(path_, key);
  if (!is_integer(kv->value.type))
    return wrong_type(path_, *kv, "an integer");
  if (is_signed(kv->value.type))
    return kv->value.i;
  if (kv->value.u > uint64_t(std::numeric_limits<int64_t>::max()))
    return status::error(strformat("%s: offset %llu: key %s is %llu, too large for int64",
                                   path_.c_str(), ull(kv->offset), quoted(key).c_str(),
                                   ull(kv->value.u)));
  return int64_t(kv->value.u);
}

result<double> gguf_file::get_float(std::string_view key) const {
  const gguf_kv *kv = find(key);
  if (!kv)
    return missing_key(path_, key);
  if (kv->value.type != gguf_type::float32 && kv->value.type != gguf_type::float64)
    return wrong_type(path_, *kv, "float32 or float64");
  return kv->value.f;
}

result<bool> gguf_file::get_bool(std::string_view key) const {
  const gguf_kv *kv = find(key);
  if (!kv)
    return missing_key(path_, key);
  if (kv->value.type != gguf_type::boolean)
    return wrong_type(path_, *kv, "bool");
  return kv->value.b;
}

std::vector<gguf_value> gguf_file::array_elements(const gguf_value &array,
                                                  uint64_t max_count) const {
  std::vector<gguf_value> out;
  if (array.type != gguf_type::array)
    return out;
  const uint64_t n = std::min(array.array_count, max_count);
  out.reserve(size_t(n));
  // The array was validated by parse(): every element lies inside the image.
  const uint8_t *p = base_ + array.array_offset;
  for (uint64_t i = 0; i < n; ++i) {
    gguf_value v;
    v.type = array.array_type;
    if (array.array_type == gguf_type::string) {
      uint64_t len = load<uint64_t>(p);
      v.str = std::string_view(reinterpret_cast<const char *>(p + 8), size_t(len));
      p += 8 + len;
    } else {
      decode_scalar(array.array_type, p, v);
      p += gguf_scalar_size(array.array_type);
    }
    out.push_back(v);
  }
  return out;
}

result<std::vector<std::string_view>> gguf_file::get_string_array(std::string_view key) const {
  const gguf_kv *kv = find(key);
  if (!kv)
    return missing_key(path_, key);
  if (kv->value.type != gguf_type::array || kv->value.array_type != gguf_type::string)
    return wrong_type(path_, *kv, "array of string");
  std::vector<std::string_view> out;
  out.reserve(size_t(kv->value.array_count));
  const uint8_t *p = base_ + kv->value.array_offset;
  for (uint64_t i = 0; i < kv->value.array_count; ++i) {
    uint64_t len = load<uint64_t>(p);
    out.emplace_back(reinterpret_cast<const char *>(p + 8), size_t(len));
    p += 8 + len;
  }
  return out;
}

result<std::vector<float>> gguf_file::get_f32_array(std::string_view key) const {
  const gguf_kv *kv = find(key);
  if (!kv)
    return missing_key(path_, key);
  const gguf_type et = kv->value.array_type;
  if (kv->value.type != gguf_type::array || (et != gguf_type::float32 && et != gguf_type::float64))
    return wrong_type(path_, *kv, "array of float32");
  std::vector<float> out(size_t(kv->value.array_count));
  const uint8_t *p = base_ + kv->value.array_offset;
  for (size_t i = 0; i < out.size(); ++i)
    out[i] = et == gguf_type::float32 ? load<float>(p + 4 * i) : float(load<double>(p + 8 * i));
  return out;
}

result<std::vector<int64_t>> gguf_file::get_int_array(std::string_view key) const {
  const gguf_kv *kv = find(key);
  if (!kv)
    return missing_key(path_, key);
  const gguf_type et = kv->value.array_type;
  if (kv->value.type != gguf_type::array || !is_integer(et))
    return wrong_type(path_, *kv, "array of integers");
  std::vector<int64_t> out(size_t(kv->value.array_count));
  const uint8_t *p = base_ + kv->value.array_offset;
  const uint64_t size = gguf_scalar_size(et);
  for (size_t i = 0; i < out.size(); ++i) {
    gguf_value v;
    decode_scalar(et, p + i * size, v);
    if (is_signed(et)) {
      out[i] = v.i;
    } else if (v.u > uint64_t(std::numeric_limits<int64_t>::max())) {
      return status::error(strformat("%s: offset %llu: key %s: element %zu is %llu, too large for "
                                     "int64",
                                     path_.c_str(), ull(kv->offset), quoted(key).c_str(), i,
                                     ull(v.u)));
    } else {
      out[i] = int64_t(v.u);
    }
  }
  return out;
}

} // namespace smepilot::rt
