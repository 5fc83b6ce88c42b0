// SMEPilot runtime: dispatch table validation and execution (see dispatch.h
// for the contract and the schedule, abi.h for the table).
#include "smepilot_rt/dispatch.h"

#include "smepilot_rt/dispatch_trace.h"

#include "strformat.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <utility>

namespace smepilot::rt {

namespace {

std::atomic<size_t> g_default_inline_bytes{kInlineBytes};

bool is_power_of_two(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

/// The value of an extent for `constants`, or false on overflow.
bool eval_extent(const smepilot_rt_extent &e, const int64_t *constants, int64_t *out) {
  if (e.constant == SMEPILOT_RT_NO_CONSTANT) {
    *out = e.base;
    return true;
  }
  int64_t product = 0;
  if (__builtin_mul_overflow(e.scale, constants[e.constant], &product))
    return false;
  return !__builtin_add_overflow(e.base, product, out);
}

std::string quoted_name(const char *name) {
  return name ? strformat(" ('%s')", name) : std::string();
}

/// Bit sets of "transitively depends on", one row per dispatch.
class reach_matrix {
public:
  explicit reach_matrix(size_t n) : words_((n + 63) / 64), bits_(n * words_, 0) {}
  bool get(size_t from, size_t to) const {
    return (bits_[from * words_ + to / 64] >> (to % 64)) & 1;
  }
  /// Row `from` |= row `dep` | {dep}.
  void add_dep(size_t from, size_t dep) {
    uint64_t *dst = &bits_[from * words_];
    const uint64_t *src = &bits_[dep * words_];
    for (size_t w = 0; w < words_; ++w)
      dst[w] |= src[w];
    dst[dep / 64] |= uint64_t(1) << (dep % 64);
  }

private:
  size_t words_;
  std::vector<uint64_t> bits_;
};

/// The reach matrix of a table whose deps are valid (point backwards).
reach_matrix build_reach(const smepilot_rt_dispatch_table &t) {
  reach_matrix reach(t.n_dispatches);
  for (uint32_t d = 0; d < t.n_dispatches; ++d) {
    const smepilot_rt_dispatch &dp = t.dispatches[d];
    for (uint32_t j = 0; j < dp.deps_count; ++j)
      reach.add_dep(d, t.deps[dp.deps_begin + j]);
  }
  return reach;
}

/// Per temporary, the dispatches binding it, once each, in table order. In a
/// valid table the first one writes it (a temporary is never read before it
/// is written) and every later one is ordered after that write by the deps
/// (they conflict with it).
std::vector<std::vector<uint32_t>> temporary_accesses(const smepilot_rt_dispatch_table &t) {
  std::vector<std::vector<uint32_t>> accesses(t.n_buffers - t.n_arguments);
  for (uint32_t d = 0; d < t.n_dispatches; ++d) {
    const smepilot_rt_dispatch &dp = t.dispatches[d];
    for (uint32_t i = 0; i < dp.bindings_count; ++i) {
      const uint32_t b = t.bindings[dp.bindings_begin + i].buffer;
      if (b < t.n_arguments)
        continue;
      std::vector<uint32_t> &a = accesses[b - t.n_arguments];
      if (a.empty() || a.back() != d)
        a.push_back(d);
    }
  }
  return accesses;
}

/// The first access of `a` that does not happen-before the first write of
/// `b` (the first dispatch binding b), or -1 when all do.
int64_t access_not_before(const reach_matrix &reach, const std::vector<uint32_t> &a,
                          const std::vector<uint32_t> &b) {
  for (uint32_t x : a)
    if (!reach.get(b.front(), x)) // also when x is that dispatch itself
      return x;
  return -1;
}

/// True when `a` and `b` may share bytes: one's accesses all happen-before
/// the other's first write. A temporary nothing binds shares with anything.
bool may_share(const reach_matrix &reach, const std::vector<uint32_t> &a,
               const std::vector<uint32_t> &b) {
  return a.empty() || b.empty() || access_not_before(reach, a, b) < 0 ||
         access_not_before(reach, b, a) < 0;
}

class table_validator {
public:
  explicit table_validator(const smepilot_rt_dispatch_table &t, std::string phase)
      : t_(t), phase_(std::move(phase)) {}

  status validate();

private:
  status error(const std::string &message) const {
    return status::error("dispatch table '" + phase_ + "': " + message);
  }
  std::string dispatch_label(uint32_t i) const {
    return strformat("dispatch %u", i) + quoted_name(t_.dispatches[i].name);
  }
  std::string buffer_label(uint32_t i) const {
    return strformat("buffer %u", i) + quoted_name(t_.buffers[i].name);
  }
  status check_extent(const smepilot_rt_extent &e, const std::string &what);
  status check_hazards();

  const smepilot_rt_dispatch_table &t_;
  std::string phase_;
};

status table_validator::check_extent(const smepilot_rt_extent &e, const std::string &what) {
  if (e.reserved != 0)
    return error(
        strformat("%s: reserved field of the extent is %u, expected 0", what.c_str(), e.reserved));
  if (e.constant == SMEPILOT_RT_NO_CONSTANT) {
    if (e.base < 0)
      return error(strformat("%s is a fixed %lld, expected >= 0", what.c_str(), (long long)e.base));
    return status::ok();
  }
  if (e.constant < 0 || uint32_t(e.constant) >= t_.n_constants)
    return error(
        strformat("%s uses constant %d, but the table has %u constants (or -1 for a fixed value)",
                  what.c_str(), e.constant, t_.n_constants));
  return status::ok();
}

status table_validator::validate() {
  if (t_.abi_version != SMEPILOT_RT_ABI_VERSION)
    return error(strformat("ABI version %u, but this runtime implements version %u", t_.abi_version,
                           SMEPILOT_RT_ABI_VERSION));
  struct array_check {
    const char *name;
    uint32_t n;
    const void *ptr;
  };
  for (const array_check &a : {array_check{"kernels", t_.n_kernels, t_.kernels},
                               array_check{"buffers", t_.n_buffers, t_.buffers},
                               array_check{"dispatches", t_.n_dispatches, t_.dispatches},
                               array_check{"bindings", t_.n_bindings, t_.bindings},
                               array_check{"deps", t_.n_deps, t_.deps}})
    if (a.n != 0 && a.ptr == nullptr)
      return error(strformat("%s array is null but its length is %u", a.name, a.n));
  if (t_.n_arguments > t_.n_buffers)
    return error(strformat("%u arguments, but only %u buffers (arguments are the first buffers)",
                           t_.n_arguments, t_.n_buffers));
  for (uint32_t k = 0; k < t_.n_kernels; ++k)
    if (t_.kernels[k] == nullptr)
      return error(strformat("kernel %u is null", k));

  for (uint32_t b = 0; b < t_.n_buffers; ++b) {
    const smepilot_rt_buffer &buf = t_.buffers[b];
    const std::string label = buffer_label(b);
    // Argument types are the binder's to check (compiled_engine.cpp).
    if (b >= t_.n_arguments && buf.type != SMEPILOT_RT_TYPE_F32)
      return error(strformat("%s: a temporary has type %u, expected 0", label.c_str(), buf.type));
    if (buf.alignment != 0 && !is_power_of_two(buf.alignment))
      return error(
          strformat("%s: alignment %u is not a power of two", label.c_str(), buf.alignment));
    if (buf.alignment > (1u << 16))
      return error(
          strformat("%s: alignment %u is larger than 65536", label.c_str(), buf.alignment));
    SMEPILOT_RT_RETURN_IF_ERROR(check_extent(buf.size, label + " size"));
  }

  for (uint32_t i = 0; i < t_.n_bindings; ++i) {
    const smepilot_rt_binding &bd = t_.bindings[i];
    if (bd.buffer >= t_.n_buffers)
      return error(strformat("binding %u names buffer %u, but the table has %u buffers", i,
                             bd.buffer, t_.n_buffers));
    if (bd.access == 0 || (bd.access & ~SMEPILOT_RT_ACCESS_READ_WRITE) != 0)
      return error(strformat("binding %u (%s): access %u, expected read (1), write (2) or both (3)",
                             i, buffer_label(bd.buffer).c_str(), bd.access));
    const smepilot_rt_extent &size = t_.buffers[bd.buffer].size;
    const bool fixed_size = size.constant == SMEPILOT_RT_NO_CONSTANT && size.base > 0;
    if (bd.offset < 0 || (fixed_size && bd.offset >= size.base))
      return error(
          strformat("binding %u (%s): offset %lld bytes, outside the buffer%s", i,
                    buffer_label(bd.buffer).c_str(), (long long)bd.offset,
                    fixed_size ? strformat(" of %lld bytes", (long long)size.base).c_str() : ""));
  }
  for (uint32_t i = 0; i < t_.n_deps; ++i)
    if (t_.deps[i] >= t_.n_dispatches)
      return error(
          strformat("dependency entry %u names dispatch %u, but the table has %u dispatches", i,
                    t_.deps[i], t_.n_dispatches));

  for (uint32_t d = 0; d < t_.n_dispatches; ++d) {
    const smepilot_rt_dispatch &dp = t_.dispatches[d];
    const std::string label = dispatch_label(d);
    const char *l = label.c_str();
    if (dp.cpu_kernel >= t_.n_kernels)
      return error(strformat("%s: CPU kernel index %u is out of range (the table has %u kernels)",
                             l, dp.cpu_kernel, t_.n_kernels));
    if (dp.sme_kernel != SMEPILOT_RT_NO_KERNEL && dp.sme_kernel >= t_.n_kernels)
      return error(strformat("%s: SME kernel index %u is out of range (the table has %u kernels)",
                             l, dp.sme_kernel, t_.n_kernels));
    if (dp.mode > SMEPILOT_RT_MODE_COLLAB)
      return error(strformat("%s: mode %u, expected cpu (0), sme (1) or collab (2)", l, dp.mode));
    if (dp.mode != SMEPILOT_RT_MODE_CPU && dp.sme_kernel == SMEPILOT_RT_NO_KERNEL)
      return error(strformat("%s: mode %s needs an SME kernel, but the dispatch has none", l,
                             dp.mode == SMEPILOT_RT_MODE_SME ? "sme" : "collab"));
    if (dp.sme_share > SMEPILOT_RT_SHARE_ONE)
      return error(strformat("%s: sme_share %u is above 65536 (all tiles)", l, dp.sme_share));
    if (dp.tile_granule < 1)
      return error(
          strformat("%s: tile_granule %lld, expected >= 1", l, (long long)dp.tile_granule));
    SMEPILOT_RT_RETURN_IF_ERROR(check_extent(dp.tile_count, label + " tile count"));
    if (uint64_t(dp.bindings_begin) + dp.bindings_count > t_.n_bindings)
      return error(strformat(
          "%s: bindings [%u, %llu) are outside the table's %u bindings", l, dp.bindings_begin,
          (unsigned long long)dp.bindings_begin + dp.bindings_count, t_.n_bindings));
    if (uint64_t(dp.deps_begin) + dp.deps_count > t_.n_deps)
      return error(
          strformat("%s: dependencies [%u, %llu) are outside the table's %u dependency entries", l,
                    dp.deps_begin, (unsigned long long)dp.deps_begin + dp.deps_count, t_.n_deps));
    for (uint32_t j = 0; j < dp.deps_count; ++j) {
      uint32_t dep = t_.deps[dp.deps_begin + j];
      if (dep >= d)
        return error(strformat("%s depends on dispatch %u, which is not earlier in the table "
                               "(dependencies must point backwards)",
                               l, dep));
    }
  }
  return check_hazards();
}

/// Every conflicting pair of accesses to one buffer (at least one a write)
/// by two dispatches must be ordered by the dependencies: the later one must
/// transitively depend on the earlier. A temporary bound read-only must have
/// been written by an earlier dispatch. Costs n_dispatches^2 / 8 bytes of reachability bits, once.
status table_validator::check_hazards() {
  const uint32_t n = t_.n_dispatches;
  reach_matrix reach(n);
  std::vector<int64_t> last_writer(t_.n_buffers, -1);
  std::vector<std::vector<uint32_t>> readers(t_.n_buffers); // since the last write
  for (uint32_t d = 0; d < n; ++d) {
    const smepilot_rt_dispatch &dp = t_.dispatches[d];
    for (uint32_t j = 0; j < dp.deps_count; ++j)
      reach.add_dep(d, t_.deps[dp.deps_begin + j]);
    const smepilot_rt_binding *bds = t_.bindings + dp.bindings_begin;
    for (uint32_t j = 0; j < dp.bindings_count; ++j) {
      const uint32_t b = bds[j].buffer;
      const int64_t w = last_writer[b];
      // Read-only: it can only see uninitialised bytes. Read-write is allowed:
      // the kernel may read back only what it wrote itself (a loop carrying
      // a buffer, such as the MoE top-k filling its id list token by token).
      if (w < 0 && b >= t_.n_arguments && bds[j].access == SMEPILOT_RT_ACCESS_READ)
        return error(strformat("%s reads %s, a temporary no earlier dispatch writes "
                               "(temporaries start uninitialised)",
                               dispatch_label(d).c_str(), buffer_label(b).c_str()));
      if (w >= 0 && w != d && !reach.get(d, uint32_t(w)))
        return error(strformat("%s %s %s, which %s writes, without depending on it",
                               dispatch_label(d).c_str(),
                               (bds[j].access & SMEPILOT_RT_ACCESS_READ) ? "reads" : "writes",
                               buffer_label(b).c_str(), dispatch_label(uint32_t(w)).c_str()));
      if (bds[j].access & SMEPILOT_RT_ACCESS_WRITE)
        for (uint32_t r : readers[b])
          if (r != d && !reach.get(d, r))
            return error(strformat("%s writes %s, which %s reads, without depending on it",
                                   dispatch_label(d).c_str(), buffer_label(b).c_str(),
                                   dispatch_label(r).c_str()));
    }
    for (uint32_t j = 0; j < dp.bindings_count; ++j)
      if (bds[j].access & SMEPILOT_RT_ACCESS_WRITE) {
        last_writer[bds[j].buffer] = d;
        readers[bds[j].buffer].clear();
      }
    for (uint32_t j = 0; j < dp.bindings_count; ++j) {
      const uint32_t b = bds[j].buffer;
      if (last_writer[b] != d && (readers[b].empty() || readers[b].back() != d))
        readers[b].push_back(d);
    }
  }
  return status::ok();
}

} // namespace

int64_t collab_split(int64_t tile_count, uint32_t sme_share, int64_t tile_granule) {
  if (tile_count <= 0)
    return 0;
  sme_share = std::min(sme_share, SMEPILOT_RT_SHARE_ONE);
  // floor(n * s / 2^16) with n = q * 2^16 + r: q * s + floor(r * s / 2^16),
  // where q * s <= n and r * s < 2^32, so nothing overflows.
  const int64_t q = tile_count >> 16, r = tile_count & 0xFFFF;
  int64_t split = q * int64_t(sme_share) + ((r * int64_t(sme_share)) >> 16);
  if (tile_granule > 1)
    split -= split % tile_granule;
  return split;
}

bool has_two_variants(const smepilot_rt_dispatch &dp) {
  return dp.sme_kernel != SMEPILOT_RT_NO_KERNEL && dp.sme_kernel != dp.cpu_kernel;
}

bool has_two_variant_dispatch(const smepilot_rt_dispatch_table &table) {
  for (uint32_t d = 0; d < table.n_dispatches && table.dispatches; ++d)
    if (has_two_variants(table.dispatches[d]))
      return true;
  return false;
}

worker_split split_workers(int n_threads, int sme_workers) {
  n_threads = std::max(1, n_threads);
  worker_split s;
  s.matrix = std::clamp(sme_workers, 0, n_threads - 1);
  s.vector = n_threads - s.matrix;
  return s;
}

mode_counts count_modes(const smepilot_rt_dispatch_table &table) {
  mode_counts c;
  for (uint32_t d = 0; d < table.n_dispatches && table.dispatches; ++d) {
    const char *name = table.dispatches[d].name;
    if (name && std::strstr(name, "@attn.") != nullptr)
      ++c.pipelined;
    switch (table.dispatches[d].mode) {
    case SMEPILOT_RT_MODE_SME:
      ++c.sme;
      break;
    case SMEPILOT_RT_MODE_COLLAB:
      ++c.collab;
      break;
    default:
      ++c.cpu;
      break;
    }
  }
  return c;
}

status check_temporary_placement(const smepilot_rt_dispatch_table &t,
                                 std::span<const size_t> offsets, std::span<const size_t> sizes) {
  const uint32_t n_temps = t.n_buffers - t.n_arguments;
  const std::string phase = t.phase_name ? t.phase_name : "(unnamed)";
  if (offsets.size() != n_temps || sizes.size() != n_temps)
    return status::error(strformat("dispatch table '%s': a placement of %zu offsets and %zu sizes "
                                   "for %u temporaries",
                                   phase.c_str(), offsets.size(), sizes.size(), n_temps));
  const reach_matrix reach = build_reach(t);
  const std::vector<std::vector<uint32_t>> accesses = temporary_accesses(t);
  auto label = [&](uint32_t temp) {
    const uint32_t b = t.n_arguments + temp;
    return strformat("buffer %u", b) + quoted_name(t.buffers[b].name);
  };
  for (uint32_t a = 0; a < n_temps; ++a)
    for (uint32_t b = a + 1; b < n_temps; ++b) {
      if (sizes[a] == 0 || sizes[b] == 0 || accesses[a].empty() || accesses[b].empty())
        continue;
      if (offsets[a] + sizes[a] <= offsets[b] || offsets[b] + sizes[b] <= offsets[a])
        continue;
      if (may_share(reach, accesses[a], accesses[b]))
        continue;
      // Neither order holds: name one access of each that is not ordered.
      const int64_t x = access_not_before(reach, accesses[a], accesses[b]);
      return status::error(strformat(
          "dispatch table '%s': %s [%zu, %zu) and %s [%zu, %zu) share bytes, but dispatch "
          "%lld%s (accessing the first) is not ordered by deps before dispatch %u%s (writing the "
          "second first), nor the other way round",
          phase.c_str(), label(a).c_str(), offsets[a], offsets[a] + sizes[a], label(b).c_str(),
          offsets[b], offsets[b] + sizes[b], (long long)x,
          quoted_name(t.dispatches[x].name).c_str(), accesses[b].front(),
          quoted_name(t.dispatches[accesses[b].front()].name).c_str()));
    }
  return status::ok();
}

void dispatch_program::arena_deleter::operator()(std::byte *p) const { std::free(p); }

dispatch_program::dispatch_program(const smepilot_rt_dispatch_table *table)
    : table_(table), phase_name_(table->phase_name ? table->phase_name : "(unnamed)"),
      inline_bytes_(g_default_inline_bytes.load(std::memory_order_relaxed)),
      buffer_ptrs_(table->n_buffers, nullptr), binding_ptrs_(table->n_bindings, nullptr),
      temp_offsets_(table->n_buffers - table->n_arguments, 0), tile_counts_(table->n_dispatches, 0),
      buffer_sizes_(table->n_buffers, -1), binders_(table->n_buffers, 0),
      sched_(std::make_unique<scheduler>()) {
  const uint32_t n = table->n_dispatches;
  for (uint32_t i = 0; i < table->n_bindings; ++i)
    ++binders_[table->bindings[i].buffer];
  // The dependents of each dispatch, for counting down when it finishes.
  dependents_begin_.assign(n + 1, 0);
  for (uint32_t i = 0; i < table->n_deps; ++i)
    ++dependents_begin_[table->deps[i] + 1];
  for (uint32_t d = 0; d < n; ++d)
    dependents_begin_[d + 1] += dependents_begin_[d];
  dependents_.resize(table->n_deps);
  std::vector<uint32_t> fill(dependents_begin_.begin(), dependents_begin_.end() - 1);
  for (uint32_t d = 0; d < n; ++d) {
    const smepilot_rt_dispatch &dp = table->dispatches[d];
    for (uint32_t j = 0; j < dp.deps_count; ++j)
      dependents_[fill[table->deps[dp.deps_begin + j]]++] = d;
  }
  work_bytes_.assign(n, 0.0);
  plans_.resize(n);
  for (uint32_t d = 0; d < n; ++d)
    plans_[d] = {table->dispatches[d].mode, table->dispatches[d].sme_share};
  sched_->pending_deps.resize(n);
  sched_->ranges_left.resize(n);
  sched_->small.resize(n);

  // Which temporaries may share bytes: by the deps (see dispatch.h), with the
  // reachability bits of the whole table (n^2 / 8 bytes, once).
  const uint32_t n_temps = table->n_buffers - table->n_arguments;
  const std::vector<std::vector<uint32_t>> accesses = temporary_accesses(*table);
  const reach_matrix reach = build_reach(*table);
  // A one-worker run goes in table order, where lives by table order (first
  // to last dispatch binding the temporary) are exact and share more.
  temp_overlaps_.resize(n_temps);
  temp_overlaps_in_order_.resize(n_temps);
  for (uint32_t a = 0; a < n_temps; ++a)
    for (uint32_t b = a + 1; b < n_temps; ++b) {
      if (!may_share(reach, accesses[a], accesses[b])) {
        temp_overlaps_[a].push_back(b);
        temp_overlaps_[b].push_back(a);
      }
      const std::vector<uint32_t> &x = accesses[a], &y = accesses[b];
      if (!x.empty() && !y.empty() && x.front() <= y.back() && y.front() <= x.back()) {
        temp_overlaps_in_order_[a].push_back(b);
        temp_overlaps_in_order_[b].push_back(a);
      }
    }
  temp_sizes_.assign(n_temps, 0);
  temp_seq_offsets_.assign(n_temps, 0);
  temp_bound_.resize(n_temps);
  for (uint32_t t = 0; t < n_temps; ++t)
    temp_bound_[t] = !accesses[t].empty();
  temp_order_.resize(n_temps);
  temp_placed_.assign(n_temps, 0);
}

size_t dispatch_program::place_temporaries(bool in_table_order) {
  const uint32_t n_temps = uint32_t(temp_sizes_.size());
  const smepilot_rt_buffer *temps = table_->buffers + table_->n_arguments;
  for (uint32_t t = 0; t < n_temps; ++t)
    temp_order_[t] = t;
  // Largest first (then by index, so the layout is the same every run for the
  // same sizes): big buffers claim the low offsets, small ones fill the gaps.
  std::sort(temp_order_.begin(), temp_order_.end(), [&](uint32_t a, uint32_t b) {
    return temp_sizes_[a] != temp_sizes_[b] ? temp_sizes_[a] > temp_sizes_[b] : a < b;
  });
  std::fill(temp_placed_.begin(), temp_placed_.end(), 0);
  size_t end = 0;
  for (uint32_t t : temp_order_) {
    if (!temp_bound_[t]) { // never touched: takes no bytes
      temp_offsets_[t] = 0;
      continue;
    }
    const size_t align = std::max<size_t>(SMEPILOT_RT_MIN_ALIGNMENT, temps[t].alignment);
    // The ranges taken by placed temporaries it may not share with, by
    // offset; the lowest aligned gap that fits.
    busy_.clear();
    for (uint32_t o : (in_table_order ? temp_overlaps_in_order_ : temp_overlaps_)[t])
      if (temp_placed_[o] && temp_sizes_[o] > 0)
        busy_.push_back({temp_offsets_[o], temp_offsets_[o] + temp_sizes_[o]});
    std::sort(busy_.begin(), busy_.end());
    size_t offset = 0;
    for (const auto &[begin, stop] : busy_) {
      if (offset + temp_sizes_[t] <= begin)
        break;
      offset = std::max(offset, (stop + align - 1) / align * align);
    }
    temp_offsets_[t] = offset;
    temp_placed_[t] = 1;
    end = std::max(end, offset + temp_sizes_[t]);
  }
  return end;
}

void dispatch_program::set_default_inline_bytes(size_t bytes) {
  g_default_inline_bytes.store(bytes, std::memory_order_relaxed);
}

dispatch_program::dispatch_program(dispatch_program &&) noexcept = default;
dispatch_program &dispatch_program::operator=(dispatch_program &&) noexcept = default;
dispatch_program::~dispatch_program() = default;

result<dispatch_program> dispatch_program::create(const smepilot_rt_dispatch_table *table) {
  if (table == nullptr)
    return status::error("dispatch table: null table");
  std::string phase = table->phase_name ? table->phase_name : "(unnamed)";
  SMEPILOT_RT_RETURN_IF_ERROR(table_validator(*table, phase).validate());
  return dispatch_program(table);
}

status dispatch_program::ensure_arena(size_t bytes) {
  if (bytes <= arena_bytes_ && arena_)
    return status::ok();
  // Every temporary offset is a multiple of its alignment, which is at most
  // 65536 (validated); aligning the base to the largest one used is enough.
  size_t align = SMEPILOT_RT_MIN_ALIGNMENT;
  for (uint32_t b = table_->n_arguments; b < table_->n_buffers; ++b)
    align = std::max<size_t>(align, table_->buffers[b].alignment);
  const size_t rounded = (bytes + align - 1) / align * align;
  arena_.reset(); // free first: the old contents need not survive
  arena_bytes_ = 0;
  void *p = std::aligned_alloc(align, rounded);
  if (p == nullptr)
    return status::error(strformat("dispatch table '%s': cannot allocate %zu bytes for temporaries",
                                   phase_name_.c_str(), rounded));
  arena_.reset(static_cast<std::byte *>(p));
  arena_bytes_ = rounded;
  ++arena_allocations_;
  return status::ok();
}
status dispatch_program::run(thread_pool &pool, std::span<void *const> arguments,
                             std::span<const int64_t> constants) {
  const smepilot_rt_dispatch_table &t = *table_;
  const char *phase = phase_name_.c_str();
  if (arguments.size() != t.n_arguments)
    return status::error(strformat("dispatch table '%s': %zu arguments given, expected %u", phase,
                                   arguments.size(), t.n_arguments));
  if (constants.size() != t.n_constants)
    return status::error(strformat("dispatch table '%s': %zu constants given, expected %u", phase,
                                   constants.size(), t.n_constants));
  for (uint32_t a = 0; a < t.n_arguments; ++a) {
    if (arguments[a] == nullptr)
      return status::error(strformat("dispatch table '%s': argument %u%s is null", phase, a,
                                     quoted_name(t.buffers[a].name).c_str()));
    buffer_ptrs_[a] = arguments[a];
    // For the work proxy only: an argument whose size does not evaluate
    // counts as unknown (large).
    int64_t size = 0;
    buffer_sizes_[a] =
        eval_extent(t.buffers[a].size, constants.data(), &size) && size >= 0 ? size : -1;
  }

  if (timing_)
    for (size_t d = 0; d < t.n_dispatches; ++d) {
      std::atomic<int64_t> *c = timing_counters_.get() + d * kTimingCounters;
      for (size_t i = 0; i < 4; ++i)
        c[i].store(0, std::memory_order_relaxed);
      c[4].store(INT64_MAX, std::memory_order_relaxed);
      c[5].store(INT64_MIN, std::memory_order_relaxed);
    }

  // Tile counts and the temporaries' layout for these constants.
  for (uint32_t d = 0; d < t.n_dispatches; ++d) {
    int64_t n = 0;
    const bool fits = eval_extent(t.dispatches[d].tile_count, constants.data(), &n);
    if (!fits || n < 0)
      return status::error(
          strformat("dispatch table '%s': dispatch %u%s: tile count %s for these constants", phase,
                    d, quoted_name(t.dispatches[d].name).c_str(),
                    fits ? strformat("is %lld", (long long)n).c_str() : "overflows"));
    tile_counts_[d] = n;
  }
  size_t unshared = 0;
  for (uint32_t b = t.n_arguments; b < t.n_buffers; ++b) {
    const smepilot_rt_buffer &buf = t.buffers[b];
    int64_t size = 0;
    const bool fits = eval_extent(buf.size, constants.data(), &size);
    if (!fits || size < 0 || uint64_t(size) > (uint64_t(1) << 48))
      return status::error(strformat(
          "dispatch table '%s': buffer %u%s: size %s for these constants", phase, b,
          quoted_name(buf.name).c_str(),
          fits ? strformat("%lld bytes is out of range", (long long)size).c_str() : "overflows"));
    const size_t align = std::max<size_t>(SMEPILOT_RT_MIN_ALIGNMENT, buf.alignment);
    unshared = (unshared + align - 1) / align * align;
    temp_seq_offsets_[b - t.n_arguments] = unshared;
    unshared += size_t(size);
    if (unshared > (size_t(1) << 48))
      return status::error(strformat(
          "dispatch table '%s': temporaries need more than 2^48 bytes for these constants", phase));
    temp_sizes_[b - t.n_arguments] = size_t(size);
    buffer_sizes_[b] = size;
  }
  // An in-order run (dispatch.h) goes through the table in order, so
  // table-order lives are exact; a pool job follows the deps.
  const bool all_small = classify_dispatches();
  const int n_threads = pool.n_threads();
  const int outer_worker = thread_pool::current_worker();
  const bool in_order = n_threads == 1 || outer_worker >= 0 || all_small;
  last_in_order_ = in_order;
  size_t total = place_temporaries(in_order);
  if (total > unshared) { // alignment gaps made sharing cost bytes: one each
    temp_offsets_ = temp_seq_offsets_;
    total = unshared;
  }
  last_packed_bytes_ = total;
  last_unshared_bytes_ = unshared;
  if (t.n_buffers > t.n_arguments) {
    SMEPILOT_RT_RETURN_IF_ERROR(ensure_arena(std::max<size_t>(total, 1)));
    for (uint32_t b = t.n_arguments; b < t.n_buffers; ++b)
      buffer_ptrs_[b] = arena_.get() + temp_offsets_[b - t.n_arguments];
  }
  for (uint32_t i = 0; i < t.n_bindings; ++i)
    binding_ptrs_[i] =
        static_cast<char *>(buffer_ptrs_[t.bindings[i].buffer]) + t.bindings[i].offset;

  if (t.n_dispatches == 0)
    return status::ok();

  scheduler &s = *sched_;
  s.workers = split_workers(n_threads, sme_workers_);
  s.constants = constants.data();
  if (trace_)
    trace_->reserve_workers(n_threads);
  if (in_order) {
    // The table order respects every dep; no queues, no job.
    const int id = outer_worker >= 0 ? outer_worker : 0;
    for (uint32_t d = 0; d < t.n_dispatches; ++d)
      for_each_range(d, s.workers, true, [&](const range_item &item) { call_kernel(item, id); });
    return status::ok();
  }

  // Schedule by the deps (dispatch.h): size the queues for every range of
  // the run, make the dispatches without deps ready, and run one pool job.
  const int lanes_used = s.workers.matrix > 0 ? 2 : 1;
  size_t lane_ranges[2] = {0, 0};
  for (uint32_t d = 0; d < t.n_dispatches; ++d)
    for_each_range(d, s.workers, s.small[d] != 0, [&](const range_item &item) {
      ++lane_ranges[item.sme && lanes_used == 2 ? 1 : 0];
    });
  for (int lane = 0; lane < 2; ++lane) {
    if (lane_ranges[lane] > UINT32_MAX)
      return status::error(strformat("dispatch table '%s': %zu ranges in one run, at most %u",
                                     phase, lane_ranges[lane], UINT32_MAX));
    if (s.queue[lane].size() < lane_ranges[lane])
      s.queue[lane].resize(lane_ranges[lane]);
    s.tail[lane] = s.unpublished[lane] = 0;
  }
  if (s.inline_ranges.size() < size_t(n_threads))
    s.inline_ranges.resize(size_t(n_threads));
  for (std::vector<range_item> &list : s.inline_ranges)
    list.clear();
  s.pool = &pool;
  uint64_t remaining = 0;
  {
    std::lock_guard<std::mutex> lock(s.mutex);
    s.job_running = false;
    s.finished = 0;
    for (uint32_t d = 0; d < t.n_dispatches; ++d) {
      s.pending_deps[d] = t.dispatches[d].deps_count;
      s.ranges_left[d] = 0;
    }
    for (uint32_t d = 0; d < t.n_dispatches; ++d)
      if (t.dispatches[d].deps_count == 0)
        make_ready(d, 0);
    remaining = t.n_dispatches - s.finished;
    if (remaining == 0) // nothing but empty dispatches
      return status::ok();
    // Published by run_job itself; later ones by publish_queued.
    s.job_running = true;
    s.unpublished[0] = s.unpublished[1] = 0;
  }
  pool.run_job(&dispatch_program::run_queued_item, &dispatch_program::start_job, this, remaining,
               s.workers.matrix, s.tail[0], s.tail[1]);
  return status::ok();
}

bool dispatch_program::classify_dispatches() {
  const smepilot_rt_dispatch_table &t = *table_;
  bool all_small = true;
  for (uint32_t d = 0; d < t.n_dispatches; ++d) {
    const smepilot_rt_dispatch &dp = t.dispatches[d];
    double bytes = 0;
    for (uint32_t j = 0; j < dp.bindings_count; ++j) {
      const uint32_t b = t.bindings[dp.bindings_begin + j].buffer;
      bytes += buffer_sizes_[b] < 0 ? 1e30 : double(buffer_sizes_[b]) / double(binders_[b]);
    }
    work_bytes_[d] = bytes;
    const placement where = plans_[d].where;
    const bool small =
        where == placement::whole || (where == placement::by_size && bytes < double(inline_bytes_));
    sched_->small[d] = small ? 1 : 0;
    all_small = all_small && small;
  }
  return all_small;
}

template <typename F>
void dispatch_program::for_each_range(uint32_t d, const worker_split &workers, bool whole,
                                      F &&emit) const {
  const smepilot_rt_dispatch &dp = table_->dispatches[d];
  const dispatch_plan &plan = plans_[d];
  const int64_t n = tile_counts_[d];
  int64_t split = 0;
  if (plan.mode == SMEPILOT_RT_MODE_SME)
    split = n;
  else if (plan.mode == SMEPILOT_RT_MODE_COLLAB)
    split = collab_split(n, plan.sme_share, dp.tile_granule);
  const int64_t n_workers = workers.matrix + workers.vector;
  const int64_t sme_ranges = whole ? 1 : std::max(1, workers.matrix);
  if (split > 0) {
    // sme_ranges parts of whole granules (the last may be partial).
    const int64_t g = dp.tile_granule;
    const int64_t units = split / g + (split % g != 0 ? 1 : 0);
    const int64_t r = std::min(sme_ranges, units), per = units / r, rem = units % r;
    for (int64_t i = 0, unit = 0; i < r; ++i) {
      const int64_t count = per + (i < rem ? 1 : 0);
      const int64_t end = unit + count == units ? split : (unit + count) * g;
      emit(range_item{d, true, unit * g, end});
      unit += count;
    }
  }
  if (split < n) {
    // Balanced contiguous ranges: the first `rem` get one tile more.
    const int64_t m = n - split;
    const int64_t parts =
        whole ? 1
              : kRangesPerWorker *
                    (split > 0 ? std::max<int64_t>(1, n_workers - sme_ranges) : n_workers);
    const int64_t r = std::min(m, parts);
    const int64_t per = m / r, rem = m % r;
    for (int64_t i = 0, begin = split; i < r; ++i) {
      const int64_t end = begin + per + (i < rem ? 1 : 0);
      emit(range_item{d, false, begin, end});
      begin = end;
    }
  }
}

uint32_t dispatch_program::make_ready(uint32_t first, int worker_id) {
  scheduler &s = *sched_;
  const bool two_lanes = s.workers.matrix > 0;
  const bool matrix_unit = worker_id < s.workers.matrix;
  uint32_t finished = 0;
  s.ready_scratch.clear();
  s.ready_scratch.push_back(first);
  while (!s.ready_scratch.empty()) {
    const uint32_t d = s.ready_scratch.back();
    s.ready_scratch.pop_back();
    const bool small = s.small[d] != 0;
    uint32_t ranges = 0;
    for_each_range(d, s.workers, small, [&](const range_item &item) {
      ++ranges;
      // An SME range with matrix-unit workers runs on one of them only.
      const bool sme_lane = item.sme && two_lanes;
      if (small && (!sme_lane || matrix_unit)) {
        s.inline_ranges[size_t(worker_id)].push_back(item);
        return;
      }
      const int lane = sme_lane ? 1 : 0;
      s.queue[lane][s.tail[lane]++] = item;
      ++s.unpublished[lane];
    });
    if (ranges > 0) {
      s.ranges_left[d] = ranges;
      continue;
    }
    // No tiles: finished as soon as it is ready.
    ++s.finished;
    ++finished;
    for (uint32_t i = dependents_begin_[d]; i < dependents_begin_[d + 1]; ++i)
      if (--s.pending_deps[dependents_[i]] == 0)
        s.ready_scratch.push_back(dependents_[i]);
  }
  return finished;
}

uint32_t dispatch_program::finish_range(const range_item &item, int worker_id) {
  scheduler &s = *sched_;
  const uint32_t d = item.dispatch;
  if (--s.ranges_left[d] != 0)
    return 0;
  ++s.finished;
  uint32_t finished = 1;
  for (uint32_t i = dependents_begin_[d]; i < dependents_begin_[d + 1]; ++i)
    if (--s.pending_deps[dependents_[i]] == 0)
      finished += make_ready(dependents_[i], worker_id);
  return finished;
}

void dispatch_program::publish_queued() {
  scheduler &s = *sched_;
  if (!s.job_running)
    return;
  for (int lane = 0; lane < 2; ++lane)
    if (s.unpublished[lane] > 0) {
      s.pool->publish(lane, s.unpublished[lane]);
      s.unpublished[lane] = 0;
    }
}

uint64_t dispatch_program::finish_and_run_inline(range_item item, int worker_id) {
  scheduler &s = *sched_;
  std::vector<range_item> &mine = s.inline_ranges[size_t(worker_id)];
  uint64_t finished = 0;
  for (;;) {
    bool more = false;
    {
      std::lock_guard<std::mutex> lock(s.mutex);
      finished += finish_range(item, worker_id);
      publish_queued();
      if (!mine.empty()) {
        item = mine.back();
        mine.pop_back();
        more = true;
      }
    }
    // Nothing of the program may be touched past here when nothing is left
    // and `finished` is zero: another worker may end the run meanwhile.
    if (!more)
      return finished;
    call_kernel(item, worker_id);
  }
}

uint64_t dispatch_program::run_queued_item(void *self, int lane, uint32_t index, int worker_id) {
  dispatch_program &p = *static_cast<dispatch_program *>(self);
  const range_item item = p.sched_->queue[lane][index];
  p.call_kernel(item, worker_id);
  return p.finish_and_run_inline(item, worker_id);
}

uint64_t dispatch_program::start_job(void *self) {
  // The caller's inline ranges from making the roots ready (run()).
  dispatch_program &p = *static_cast<dispatch_program *>(self);
  scheduler &s = *p.sched_;
  std::vector<range_item> &mine = s.inline_ranges[0];
  uint64_t finished = 0;
  while (!mine.empty()) {
    const range_item item = mine.back();
    mine.pop_back();
    p.call_kernel(item, 0);
    finished += p.finish_and_run_inline(item, 0);
  }
  return finished;
}

void dispatch_program::call_kernel(const range_item &item, int worker_id) const {
  const smepilot_rt_dispatch &dp = table_->dispatches[item.dispatch];
  const smepilot_rt_kernel_fn fn = table_->kernels[item.sme ? dp.sme_kernel : dp.cpu_kernel];
  void *const *bindings = binding_ptrs_.data() + dp.bindings_begin;
  const bool timed = timing_ && timed_[item.dispatch] != 0;
  if (timed && !trace_) {
    const int64_t start = clock_ns_();
    fn(bindings, sched_->constants, item.begin, item.end);
    add_timing(item, start, clock_ns_());
    return;
  }
  if (!trace_) {
    fn(bindings, sched_->constants, item.begin, item.end);
    return;
  }
  trace_event e;
  e.phase = table_->phase_name;
  e.name = dp.name;
  e.dispatch = item.dispatch;
  e.sme = item.sme;
  e.worker = worker_id;
  e.tile_begin = item.begin;
  e.tile_end = item.end;
  e.start_ns = trace_clock_ns();
  fn(bindings, sched_->constants, item.begin, item.end);
  e.end_ns = trace_clock_ns();
  trace_->record(e);
  if (timed)
    add_timing(item, e.start_ns, e.end_ns);
}

void dispatch_program::add_timing(const range_item &item, int64_t start_ns, int64_t end_ns) const {
  std::atomic<int64_t> *c = timing_counters_.get() + size_t(item.dispatch) * kTimingCounters;
  c[item.sme ? 0 : 1].fetch_add(end_ns - start_ns, std::memory_order_relaxed);
  c[item.sme ? 2 : 3].fetch_add(item.end - item.begin, std::memory_order_relaxed);
  // The span: the earliest start and the latest end of the run's calls.
  int64_t first = c[4].load(std::memory_order_relaxed);
  while (start_ns < first &&
         !c[4].compare_exchange_weak(first, start_ns, std::memory_order_relaxed)) {
  }
  int64_t last = c[5].load(std::memory_order_relaxed);
  while (end_ns > last && !c[5].compare_exchange_weak(last, end_ns, std::memory_order_relaxed)) {
  }
}

status dispatch_program::set_plan(uint32_t d, dispatch_plan plan) {
  const smepilot_rt_dispatch_table &t = *table_;
  if (d >= t.n_dispatches)
    return status::error(strformat("dispatch table '%s': no dispatch %u (it has %u)",
                                   phase_name_.c_str(), d, t.n_dispatches));
  const smepilot_rt_dispatch &dp = t.dispatches[d];
  const std::string where = strformat("dispatch table '%s': dispatch %u%s", phase_name_.c_str(), d,
                                      quoted_name(dp.name).c_str());
  if (plan.mode > SMEPILOT_RT_MODE_COLLAB)
    return status::error(strformat("%s: plan mode %u, expected cpu (0), sme (1) or collab (2)",
                                   where.c_str(), plan.mode));
  if (plan.mode != SMEPILOT_RT_MODE_CPU && dp.sme_kernel == SMEPILOT_RT_NO_KERNEL)
    return status::error(strformat("%s: plan %s, but it has no SME variant", where.c_str(),
                                   plan.mode == SMEPILOT_RT_MODE_SME ? "sme" : "collab"));
  if (plan.sme_share > SMEPILOT_RT_SHARE_ONE)
    return status::error(
        strformat("%s: sme_share %u is above 65536", where.c_str(), plan.sme_share));
  if (plan.where > placement::spread)
    return status::error(
        strformat("%s: placement %u, expected by_size (0), whole (1) or spread (2)", where.c_str(),
                  unsigned(plan.where)));
  plans_[d] = plan;
  return status::ok();
}

void dispatch_program::set_timing(bool on, int64_t (*clock_ns)(), std::span<const uint8_t> timed) {
  timing_ = on;
  clock_ns_ = clock_ns ? clock_ns : &trace_clock_ns;
  const uint32_t n = table_->n_dispatches;
  timed_.assign(n, 0);
  for (uint32_t d = 0; d < n; ++d)
    timed_[d] = timed.empty() ? (has_two_variants(table_->dispatches[d]) ? 1 : 0)
                              : (d < timed.size() && timed[d] ? 1 : 0);
  if (on && !timing_counters_) {
    const size_t count = size_t(n) * kTimingCounters;
    timing_counters_ = std::make_unique<std::atomic<int64_t>[]>(count);
    for (size_t i = 0; i < count; ++i)
      timing_counters_[i].store(0, std::memory_order_relaxed);
  }
}

std::span<const dispatch_timing> dispatch_program::last_run_timing() const {
  if (!timing_ || !timing_counters_)
    return {};
  timing_copy_.resize(table_->n_dispatches);
  for (uint32_t d = 0; d < table_->n_dispatches; ++d) {
    const std::atomic<int64_t> *c = timing_counters_.get() + size_t(d) * kTimingCounters;
    dispatch_timing &out = timing_copy_[d];
    out.sme_ns = c[0].load(std::memory_order_relaxed);
    out.cpu_ns = c[1].load(std::memory_order_relaxed);
    out.sme_tiles = c[2].load(std::memory_order_relaxed);
    out.cpu_tiles = c[3].load(std::memory_order_relaxed);
    const int64_t first = c[4].load(std::memory_order_relaxed);
    const int64_t last = c[5].load(std::memory_order_relaxed);
    out.span_ns = last >= first ? last - first : 0;
    out.whole = last_in_order_ || sched_->small[d] != 0;
  }
  return timing_copy_;
}

worker_split dispatch_program::last_run_workers() const { return sched_->workers; }

} // namespace smepilot::rt
