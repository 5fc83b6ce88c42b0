// Test helper: dispatch tables (abi.h) built by hand, in vectors, with
// hand-written C++ kernels standing in for compiled ones. Shared by the
// dispatch executor's tests and the compiled engine's.
#pragma once

#include "smepilot_rt/abi.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace smepilot::rt::test_tables {

constexpr smepilot_rt_extent fixed(int64_t v) { return {v, 0, SMEPILOT_RT_NO_CONSTANT, 0}; }
constexpr smepilot_rt_extent scaled(int32_t constant, int64_t scale, int64_t base = 0) {
  return {base, scale, constant, 0};
}
constexpr smepilot_rt_binding rd(uint32_t b) { return {b, SMEPILOT_RT_ACCESS_READ, 0}; }
constexpr smepilot_rt_binding wr(uint32_t b) { return {b, SMEPILOT_RT_ACCESS_WRITE, 0}; }
constexpr smepilot_rt_binding rw(uint32_t b) { return {b, SMEPILOT_RT_ACCESS_READ_WRITE, 0}; }
/// `binding`, `offset` bytes into its buffer.
constexpr smepilot_rt_binding at(smepilot_rt_binding binding, int64_t offset) {
  binding.offset = offset;
  return binding;
}

/// Builds a table in vectors; table() points into them, so the builder must
/// outlive any program created from it.
struct table_builder {
  std::string phase = "test";
  uint32_t n_constants = 0;
  uint32_t n_arguments = 0;
  std::vector<smepilot_rt_kernel_fn> kernels;
  std::vector<smepilot_rt_buffer> buffers;
  std::vector<smepilot_rt_dispatch> dispatches;
  std::vector<smepilot_rt_binding> bindings;
  std::vector<uint32_t> deps;
  smepilot_rt_dispatch_table t{};

  uint32_t kernel(smepilot_rt_kernel_fn fn) {
    kernels.push_back(fn);
    return uint32_t(kernels.size() - 1);
  }
  /// An argument of unknown size; arguments come before temporaries.
  uint32_t argument(const char *name) {
    EXPECT_EQ(buffers.size(), n_arguments) << "arguments come before temporaries";
    buffers.push_back({name, fixed(0), 0, 0});
    return n_arguments++;
  }
  uint32_t temporary(const char *name, smepilot_rt_extent size, uint32_t alignment = 0) {
    buffers.push_back({name, size, alignment, 0});
    return uint32_t(buffers.size() - 1);
  }
  /// A buffer of `bytes`; which buffers are arguments is n_arguments, set by
  /// the caller (for tables that put arguments in any order).
  uint32_t buffer(const char *name, int64_t bytes) {
    buffers.push_back({name, fixed(bytes), 0, 0});
    return uint32_t(buffers.size() - 1);
  }
  /// The argument named `name` (the first), or fails the test.
  smepilot_rt_buffer &arg(const std::string &name) {
    for (uint32_t a = 0; a < n_arguments; ++a)
      if (buffers[a].name && name == buffers[a].name)
        return buffers[a];
    ADD_FAILURE() << "no argument " << name;
    return buffers[0];
  }
  uint32_t dispatch(const char *name, uint32_t cpu, smepilot_rt_extent tiles,
                    std::initializer_list<smepilot_rt_binding> binds,
                    std::initializer_list<uint32_t> dep_list = {},
                    uint32_t mode = SMEPILOT_RT_MODE_CPU, uint32_t sme = SMEPILOT_RT_NO_KERNEL,
                    uint32_t share = 0, int64_t granule = 1) {
    smepilot_rt_dispatch d{};
    d.name = name;
    d.cpu_kernel = cpu;
    d.sme_kernel = sme;
    d.mode = mode;
    d.sme_share = share;
    d.tile_granule = granule;
    d.tile_count = tiles;
    d.bindings_begin = uint32_t(bindings.size());
    d.bindings_count = uint32_t(binds.size());
    bindings.insert(bindings.end(), binds);
    d.deps_begin = uint32_t(deps.size());
    d.deps_count = uint32_t(dep_list.size());
    deps.insert(deps.end(), dep_list);
    dispatches.push_back(d);
    return uint32_t(dispatches.size() - 1);
  }
  const smepilot_rt_dispatch_table *table() {
    t.abi_version = SMEPILOT_RT_ABI_VERSION;
    t.n_constants = n_constants;
    t.phase_name = phase.c_str();
    t.n_kernels = uint32_t(kernels.size());
    t.n_arguments = n_arguments;
    t.kernels = kernels.data();
    t.n_buffers = uint32_t(buffers.size());
    t.n_dispatches = uint32_t(dispatches.size());
    t.buffers = buffers.data();
    t.dispatches = dispatches.data();
    t.n_bindings = uint32_t(bindings.size());
    t.n_deps = uint32_t(deps.size());
    t.bindings = bindings.data();
    t.deps = deps.data();
    return &t;
  }
};

} // namespace smepilot::rt::test_tables
