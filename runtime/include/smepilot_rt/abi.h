/* SMEPilot runtime ABI: dispatch tables.
 *
 * This is the only contract between compiled code (JIT or AOT objects) and the
 * runtime. The compiler (lib/, smepilot-form-dispatches) mirrors these layouts
 * and never links the runtime; the runtime (dispatch.h) reads a table and walks
 * it on its thread pool. Plain C99 and C++, fixed-width types, no enums in
 * layouts (their size is implementation-defined), every struct naturally
 * aligned with no implicit padding on LP64 (asserted at the end of the file).
 *
 * One table describes one phase of a model (a prefill chunk, a decode step):
 *
 *   phase(arguments..., constants...) =
 *     for each dispatch d, in table order (or any order respecting deps):
 *       for a split of [0, tile_count(d)) into ranges r, on any workers:
 *         kernels[kernel for r](bindings of d, constants, r.begin, r.end)
 *
 * Kernels -----------------------------------------------------------------
 *
 *   void kernel(void *const *bindings, const int64_t *constants,
 *               int64_t tile_begin, int64_t tile_end);
 *
 *   bindings   pointers into the buffers the dispatch uses (each buffer's base
 *              plus its binding's offset), in the order of its binding range
 *              (smepilot_rt_dispatch.bindings_begin/count).
 *   constants  the phase's run-time constants (table.n_constants of them, e.g.
 *              the position and the chunk length), the same for every kernel.
 *   [tile_begin, tile_end)
 *              the tiles of the dispatch's iteration space this call computes;
 *              0 <= tile_begin < tile_end <= tile count. What a tile is (a
 *              block of output rows, one head, one KV block...) is the
 *              kernel's own business.
 *   A kernel's result must not depend on how the tiles are split into calls:
 *   every tile is computed by exactly one call, calls for disjoint ranges run
 *   concurrently, and a kernel never reduces across tiles. That makes results
 *   independent of the thread count by construction. Kernels return nothing
 *   and must not fail (errors are the compiler's or the validator's to find).
 *   Kernels are self-contained: an SME variant enters streaming mode and
 *   takes a new ZA state itself and leaves both before it returns (Linux
 *   clears PSTATE.SM on every syscall, futex waits included, so no state
 *   could be kept between calls anyway). A runtime may therefore call any
 *   kernel from any thread, one thread may alternate SME and CPU calls, and
 *   it may run calls of different dispatches at the same time as long as
 *   the deps (below) are respected.
 *
 * Extents (smepilot_rt_extent) ----------------------------------------------
 *
 *   value = base + scale * constants[constant], or just base when
 *   constant == SMEPILOT_RT_NO_CONSTANT (-1). Used for tile counts and
 *   temporary sizes; a value that is negative or overflows at run time is an
 *   error of the run naming the dispatch or buffer.
 *
 * Buffers (smepilot_rt_buffer) -------------------------------------------
 *
 *   buffers[0, n_arguments) are the phase's arguments, in the order the caller
 *   passes their base pointers (weights, KV cache, tokens, logits...); the
 *   caller owns them. buffers[n_arguments, n_buffers) are temporaries: the
 *   executor allocates them (in an arena kept across runs) with
 *     size      bytes, an extent (may depend on a constant);
 *     alignment a power of two, or 0; the executor uses at least
 *               SMEPILOT_RT_MIN_ALIGNMENT (64) bytes.
 *   For an argument, size is the number of bytes the dispatches access (0:
 *   unknown), informational only (the caller passes bare pointers), and
 *   alignment is the alignment the kernels assume (0: none).
 *   type      for a weight argument (a GGUF tensor name, below), the type
 *             it is passed in: SMEPILOT_RT_TYPE_F32 (0), or the tensor's
 *             own GGUF type (F16, BF16, Q8_0, Q4_0: its bytes as stored in
 *             the file, bound in place); 0 for every other buffer.
 *   Temporaries are uninitialised at the start of every run and do not keep
 *   their contents from one run to the next.
 *
 * Dispatches (smepilot_rt_dispatch) ---------------------------------------
 *
 *   cpu_kernel   index into kernels: the vector-core variant. Always present.
 *   sme_kernel   index into kernels: the matrix-unit (SME) variant, or
 *                SMEPILOT_RT_NO_KERNEL. Required in modes sme and collab.
 *   mode         SMEPILOT_RT_MODE_CPU / _SME / _COLLAB, numbered as the
 *                compiler's #smepilot.mode (cpu = 0, sme = 1, collab = 2).
 *                cpu: every tile runs the CPU variant on vector-core workers.
 *                sme: every tile runs the SME variant on matrix-unit workers.
 *                collab: tiles [0, split) run the SME variant, tiles
 *                [split, tile_count) the CPU variant, concurrently, with
 *                  split = floor(tile_count * sme_share / 65536)
 *                rounded down to a multiple of tile_granule. The SME part is
 *                the regular leading region; the CPU part holds the irregular
 *                tail (so sme_share 65536 gives the CPU only the
 *                tile_count % tile_granule tail tiles).
 *   sme_share    parts per 65536 (SMEPILOT_RT_SHARE_ONE) of the tiles given to
 *                the SME variant in collab mode; 0..65536. Ignored otherwise.
 *   tile_granule the SME range of a collab split is a multiple of this many
 *                tiles (e.g. the tiles covering one streaming vector length);
 *                >= 1 in every mode.
 *   tile_count   an extent: the number of tiles of the iteration space.
 *   bindings_begin, bindings_count
 *                the range of the table's bindings array this dispatch uses.
 *   deps_begin, deps_count
 *                the range of the table's deps array: indices of the earlier
 *                dispatches (strictly smaller index, so the graph is acyclic)
 *                whose results this one needs. Every hazard on a buffer
 *                (read after write, write after read, write after write,
 *                judged by the binding access flags) between two dispatches
 *                must be ordered by a chain of deps, and a temporary bound
 *                read-only must have been written by an earlier dispatch (a
 *                read-write binding may read back what its own kernel wrote);
 *                the validator checks both.
 *                The deps, not the table order, are what a scheduler that
 *                overlaps dispatches (SME QK^T of one head while the vector
 *                cores run the softmax of the previous one) must respect.
 *
 * Bindings (smepilot_rt_binding) ------------------------------------------
 *
 *   buffer  index into buffers.
 *   access  SMEPILOT_RT_ACCESS_READ | SMEPILOT_RT_ACCESS_WRITE (at least one).
 *   offset  bytes from the buffer's base to what the kernel's bindings[j]
 *           points at, >= 0 and, when the buffer's size is fixed and not 0,
 *           below it (since v5). What makes the layers' K/V cache kernels
 *           one kernel: each dispatch binds its layer's slice of the cache
 *           instead of the kernel computing the layer's fixed offset.
 *
 * The table (smepilot_rt_dispatch_table) -----------------------------------
 *
 *   abi_version  SMEPILOT_RT_ABI_VERSION of the header the producer used; the
 *                runtime accepts exactly its own version.
 *   phase_name   for diagnostics (e.g. "decode", "prefill_c32"); may be NULL.
 *   n_constants, n_arguments, and the kernels / buffers / dispatches /
 *   bindings / deps arrays with their lengths (a pointer may be NULL only when
 *   its length is 0). kernels holds function pointers, all non-NULL.
 *   All reserved fields are zero.
 *
 * Names (smepilot_rt_buffer.name, smepilot_rt_dispatch.name) are optional
 * (NULL) and only used in messages, traces and profiles. A dispatch name
 * ending in "@<stage>" marks a stage of a pipelined computation (the
 * compiler's attention pipeline: "@attn.qk.h0", "@attn.softmax.h0",
 * "@attn.pv.h0", ...); -v counts them.
 *
 * Compiled models (smepilot_rt_compiled_model) ---------------------------
 *
 *   Every phase one build of a model produced, so that a runtime can drive a
 *   compiled model it knows nothing else about. Exported by the compiled code
 *   as the global
 *     const smepilot_rt_compiled_model smepilot_compiled_model;
 *   phases       n_phases entries: the phase name, its chunk (tokens per
 *                call), whether it writes the logits of the last position
 *                only, and its table.
 *   target       what the code was compiled for ("host", "sme-sve", ...).
 *   load         the load table, or NULL (below).
 *   A phase of a language model binds its argument buffers by name:
 *     "tokens"    int32 [chunk] token ids;
 *     a GGUF tensor name ("blk.0.attn_q.weight", ...): that tensor in its
 *                 GGUF layout, in the buffer's type: F32 (the runtime
 *                 converts the tensor if the file holds another type) or
 *                 the file's own type, which must then match (the same name
 *                 may appear twice, e.g. tied embeddings);
 *     "k_cache", "v_cache"  F32 [n_layer, n_head_kv, n_ctx, head_dim], updated
 *                 in place;
 *     "k_cache_kmajor"  instead of "k_cache": the K cache K-major, F32
 *                 [n_layer, n_head_kv, head_dim, n_ctx] (the matrix unit's
 *                 QK^T reads K^T in place; since v4). Every phase of a model
 *                 binds the same one of the two;
 *     "logits"    F32 [chunk or 1, n_vocab], written;
 *     a packed buffer: a name the load table writes (below), read-only;
 *   and takes one constant, the position of its first token. Argument sizes
 *   are exact (bytes), so a runtime can check them against the file.
 *
 * The load table (smepilot_rt_compiled_model.load) -------------------------
 *
 *   Work that depends on the weights alone (the K-major copies of the weights
 *   the SME outer products read, "packed once at load"; or on nothing, a
 *   constant table), moved out of the phases by the compiler. A dispatch table like any other, with
 * no constants (n_constants = 0). The runtime runs it exactly once, after binding the weights and
 * before any phase runs. Its arguments are weights         GGUF tensor names, as in the phases,
 * bound read-only; packed buffers  every argument the load table writes: the runtime allocates each
 * (its exact size in bytes, aligned to at least SMEPILOT_RT_MIN_ALIGNMENT and to its alignment
 *                     field, zero-filled) once, and every phase that names
 *                     it binds the same memory, read-only (a phase may not
 *                     assume a larger alignment than the load table gives).
 *   Packed names are the compiler's (e.g. "pack0(blk.0.attn_q.weight)"),
 *   unique within the model; no phase writes one, and a weight only the load
 *   table reads need not be kept once it has run.
 *
 * The explanation (optional) ---------------------------------------------
 *
 *   const char smepilot_explain[];
 *   A NUL-terminated JSON document (schema version 1, written by the
 *   compiler's smepilot-export-explain) saying, per dispatch of every
 *   table, what the compiler decided: the builder ops its kernels compute
 *   with their Roofline decisions, the layout changes they make, the mode
 *   and the buffers. Only `smepilot-run --explain` reads it (docs/explain.md);
 *   a runtime that does not need it ignores it, and a model without it runs
 *   the same.
 *
 * How the tables are produced: the compiler outlines each linalg op (or fused
 * group) into kernel functions with the signature above and emits the table as
 * constant data next to them, as the global
 *   const smepilot_rt_dispatch_table smepilot_table_<phase>;
 * The JIT looks that symbol up in the compiled module; an AOT object carries
 * it as relocated read-only data. The runtime validates it once
 * (smepilot::rt::dispatch_program::create) and then runs it per step.
 */
#ifndef SMEPILOT_RT_ABI_H
#define SMEPILOT_RT_ABI_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped on every incompatible change of a layout or a meaning below. */
#define SMEPILOT_RT_ABI_VERSION 5u

#define SMEPILOT_RT_NO_KERNEL UINT32_C(0xFFFFFFFF)
#define SMEPILOT_RT_NO_CONSTANT INT32_C(-1)

#define SMEPILOT_RT_MODE_CPU UINT32_C(0)
#define SMEPILOT_RT_MODE_SME UINT32_C(1)
#define SMEPILOT_RT_MODE_COLLAB UINT32_C(2)

#define SMEPILOT_RT_ACCESS_READ UINT32_C(1)
#define SMEPILOT_RT_ACCESS_WRITE UINT32_C(2)
#define SMEPILOT_RT_ACCESS_READ_WRITE UINT32_C(3)

/* sme_share of a dispatch that gives every regular tile to the SME variant. */
#define SMEPILOT_RT_SHARE_ONE UINT32_C(65536)

/* The type a weight argument is passed in: GGML's type ids, as in GGUF. */
#define SMEPILOT_RT_TYPE_F32 UINT32_C(0)
#define SMEPILOT_RT_TYPE_F16 UINT32_C(1)
#define SMEPILOT_RT_TYPE_Q4_0 UINT32_C(2)
#define SMEPILOT_RT_TYPE_Q8_0 UINT32_C(8)
#define SMEPILOT_RT_TYPE_BF16 UINT32_C(30)

/* The executor aligns every temporary to at least this many bytes. */
#define SMEPILOT_RT_MIN_ALIGNMENT UINT32_C(64)

typedef void (*smepilot_rt_kernel_fn)(void *const *bindings, const int64_t *constants,
                                      int64_t tile_begin, int64_t tile_end);

/* base + scale * constants[constant]; constant == SMEPILOT_RT_NO_CONSTANT: base. */
typedef struct smepilot_rt_extent {
  int64_t base;
  int64_t scale;
  int32_t constant;
  uint32_t reserved; /* 0 */
} smepilot_rt_extent;

typedef struct smepilot_rt_buffer {
  const char *name;        /* may be NULL */
  smepilot_rt_extent size; /* bytes */
  uint32_t alignment;      /* power of two or 0 */
  uint32_t type;           /* SMEPILOT_RT_TYPE_* of a weight argument; 0 otherwise */
} smepilot_rt_buffer;

typedef struct smepilot_rt_binding {
  uint32_t buffer; /* index into buffers */
  uint32_t access; /* SMEPILOT_RT_ACCESS_* */
  int64_t offset;  /* bytes from the buffer's base (v5) */
} smepilot_rt_binding;

typedef struct smepilot_rt_dispatch {
  const char *name;     /* may be NULL */
  uint32_t cpu_kernel;  /* index into kernels */
  uint32_t sme_kernel;  /* index into kernels or SMEPILOT_RT_NO_KERNEL */
  uint32_t mode;        /* SMEPILOT_RT_MODE_* */
  uint32_t sme_share;   /* collab: SME parts per 65536 of the tiles */
  int64_t tile_granule; /* >= 1 */
  smepilot_rt_extent tile_count;
  uint32_t bindings_begin;
  uint32_t bindings_count;
  uint32_t deps_begin;
  uint32_t deps_count;
} smepilot_rt_dispatch;

typedef struct smepilot_rt_dispatch_table {
  uint32_t abi_version; /* SMEPILOT_RT_ABI_VERSION */
  uint32_t n_constants;
  const char *phase_name; /* may be NULL */
  uint32_t n_kernels;
  uint32_t n_arguments; /* buffers[0, n_arguments) are arguments */
  const smepilot_rt_kernel_fn *kernels;
  uint32_t n_buffers;
  uint32_t n_dispatches;
  const smepilot_rt_buffer *buffers;
  const smepilot_rt_dispatch *dispatches;
  uint32_t n_bindings;
  uint32_t n_deps;
  const smepilot_rt_binding *bindings;
  const uint32_t *deps; /* dispatch indices */
} smepilot_rt_dispatch_table;

typedef struct smepilot_rt_phase {
  const char *name;       /* e.g. "forward_c1", "forward_c32_last" */
  int64_t chunk;          /* tokens per call */
  uint32_t last_row_only; /* 1: writes the logits of the last position only */
  uint32_t reserved;      /* 0 */
  const smepilot_rt_dispatch_table *table;
} smepilot_rt_phase;

typedef struct smepilot_rt_compiled_model {
  uint32_t abi_version; /* SMEPILOT_RT_ABI_VERSION */
  uint32_t n_phases;
  const smepilot_rt_phase *phases;
  const char *target;                     /* may be NULL */
  const smepilot_rt_dispatch_table *load; /* may be NULL */
} smepilot_rt_compiled_model;

/* Layout checks (LP64 targets: x86-64 and aarch64 Linux/macOS). */
#if defined(__cplusplus)
#define SMEPILOT_RT_ABI_ASSERT(cond, name) static_assert(cond, #name)
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
#define SMEPILOT_RT_ABI_ASSERT(cond, name) _Static_assert(cond, #name)
#else
#define SMEPILOT_RT_ABI_ASSERT(cond, name)                                                         \
  typedef char smepilot_rt_abi_assert_##name[(cond) ? 1 : -1]
#endif

#if UINTPTR_MAX == UINT64_MAX
SMEPILOT_RT_ABI_ASSERT(sizeof(smepilot_rt_extent) == 24, extent_size);
SMEPILOT_RT_ABI_ASSERT(sizeof(smepilot_rt_buffer) == 40, buffer_size);
SMEPILOT_RT_ABI_ASSERT(sizeof(smepilot_rt_binding) == 16, binding_size);
SMEPILOT_RT_ABI_ASSERT(sizeof(smepilot_rt_dispatch) == 72, dispatch_size);
SMEPILOT_RT_ABI_ASSERT(sizeof(smepilot_rt_dispatch_table) == 80, table_size);
SMEPILOT_RT_ABI_ASSERT(sizeof(smepilot_rt_phase) == 32, phase_size);
SMEPILOT_RT_ABI_ASSERT(sizeof(smepilot_rt_compiled_model) == 32, compiled_model_size);
#endif

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* SMEPILOT_RT_ABI_H */
