/* abi.h compiled as C99 (-std=c99 -Wpedantic -Werror, see CMakeLists.txt):
 * a dispatch table written the way generated code emits one, as constant data
 * next to its kernel. dispatch_test.cpp runs it. */
#include "smepilot_rt/abi.h"

#include <stddef.h>

/* out[i] = constants[0] + i for the tiles [begin, end), one float per tile. */
static void c_iota(void *const *bindings, const int64_t *constants, int64_t tile_begin,
                   int64_t tile_end) {
  float *out = (float *)bindings[0];
  int64_t i;
  for (i = tile_begin; i < tile_end; ++i)
    out[i] = (float)(constants[0] + i);
}

static const smepilot_rt_kernel_fn c_kernels[] = {c_iota};
static const smepilot_rt_buffer c_buffers[] = {
    {"out", {0, 4, 1, 0}, 4, 0},
};
static const smepilot_rt_binding c_bindings[] = {{0, SMEPILOT_RT_ACCESS_WRITE, 0}};
static const smepilot_rt_dispatch c_dispatches[] = {{
    "iota",
    0,                     /* cpu_kernel */
    SMEPILOT_RT_NO_KERNEL, /* sme_kernel */
    SMEPILOT_RT_MODE_CPU,
    0, /* sme_share */
    1, /* tile_granule */
    {0, 1, 1, 0},
    0,
    1, /* bindings */
    0,
    0, /* deps */
}};

/* constants: {offset, n}; argument 0: n floats. */
const smepilot_rt_dispatch_table smepilot_rt_test_c_table = {
    SMEPILOT_RT_ABI_VERSION,
    2,
    "c_iota",
    1,
    1,
    c_kernels,
    1,
    1,
    c_buffers,
    c_dispatches,
    1,
    0,
    c_bindings,
    NULL,
};

/* The layouts as the C compiler sees them, for comparison with C++. */
size_t smepilot_rt_test_c_layout(int which) {
  switch (which) {
  case 0:
    return sizeof(smepilot_rt_extent);
  case 1:
    return sizeof(smepilot_rt_buffer);
  case 2:
    return sizeof(smepilot_rt_binding);
  case 3:
    return sizeof(smepilot_rt_dispatch);
  case 4:
    return sizeof(smepilot_rt_dispatch_table);
  case 5:
    return offsetof(smepilot_rt_dispatch, tile_count);
  case 6:
    return offsetof(smepilot_rt_dispatch_table, dispatches);
  case 7:
    return offsetof(smepilot_rt_dispatch_table, deps);
  default:
    return 0;
  }
}
