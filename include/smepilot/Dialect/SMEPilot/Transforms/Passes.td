//===- Passes.td - smepilot passes --------------------------*- tablegen -*-===//

#ifndef SMEPILOT_TRANSFORMS_PASSES_TD
#define SMEPILOT_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def RooflineAnnotate : Pass<"smepilot-roofline-annotate", "ModuleOp"> {
  let summary = "Choose cpu, sme or collab for every operator with the Roofline model";
  let description = [{
    For every linalg operator (structured ops, linalg.softmax, linalg.pack and
    linalg.unpack) computes FLOPs, compulsory bytes (weights and activations
    apart), arithmetic intensity and vectorizability, predicts the time on the
    vector cores, on the matrix unit and split between both, and writes the
    result as `smepilot.decision = #smepilot.decision<...>` on the op. The
    pass only writes attributes; tiling, partitioning and dispatch formation
    consume them.

    The machine is `profile` (a built-in name such as `apple-m4`, or a path to
    a .json profile), which is then attached to the module as
    `smepilot.target`; without `profile` the module's existing
    `smepilot.target` is used. Nothing is read from the host.

    Before:
    ```mlir
    %0 = linalg.matmul ins(%a, %w : tensor<128x3072xbf16>, tensor<3072x3072xbf16>)
                       outs(%c : tensor<128x3072xf32>) -> tensor<128x3072xf32>
    ```
    After (profile=apple-m4):
    ```mlir
    %0 = linalg.matmul {smepilot.decision = #smepilot.decision<kind = "matmul",
           shape_class = "gemm", elem = bf16, mode = collab, ...>} ins(...) ...
    ```

    Dynamic sizes are assumed to be `dynamic-size` and the assumption is
    recorded in the decision. `force-mode` forces a mode on every op that can
    run in it; `force-kind=matmul:sme` forces it on every op of a kind (an
    error where impossible). `explain` emits a remark per op with the numbers
    behind the choice.
  }];
  let options = [
    Option<"profile", "profile", "std::string", /*default=*/"\"\"",
           "Hardware profile: a built-in name or a path to a .json file "
           "(default: the module's smepilot.target)">,
    Option<"dynamicSize", "dynamic-size", "int64_t", /*default=*/"128",
           "Size assumed for dynamic dimensions (0: refuse dynamic shapes)">,
    Option<"forceMode", "force-mode", "::mlir::smepilot::ForceMode",
           /*default=*/"::mlir::smepilot::ForceMode::none",
           "Force a mode on every op that can run in that mode",
           [{::llvm::cl::values(
             clEnumValN(::mlir::smepilot::ForceMode::none, "none",
                        "The Roofline model's choice (default)"),
             clEnumValN(::mlir::smepilot::ForceMode::cpu, "cpu",
                        "The vector cores"),
             clEnumValN(::mlir::smepilot::ForceMode::sme, "sme",
                        "The matrix unit"),
             clEnumValN(::mlir::smepilot::ForceMode::collab, "collab",
                        "Both, the tile space split between them"))}]>,
    ListOption<"forceKind", "force-kind", "std::string",
               "Force a mode per op kind, as kind:mode (e.g. matmul:sme)">,
    Option<"explain", "explain", "bool", /*default=*/"false",
           "Emit a remark per op with the numbers behind its mode">,
    Option<"annotateLayouts", "annotate-layouts", "bool", /*default=*/"false",
           "Also write smepilot.operand_layouts: the packed layout each "
           "operand needs on the chosen unit">
  ];
  let dependentDialects = ["::mlir::smepilot::SMEPilotDialect"];
}

def RecordSMETarget : Pass<"smepilot-record-sme-target", "ModuleOp"> {
  let summary = "Record the SME target on the module for the object emitter";
  let description = [{
    Writes `target` as the module attribute `smepilot.sme_target`, a string,
    replacing any earlier one. The target does not change the IR: the object
    emitter (lib/Codegen/AOTCompile.cpp) reads the attribute to choose the
    CPU features when it is not given a target itself. Part of
    smepilot-sme-pipeline's lower-sme stage.

    Before:
    ```mlir
    module { ... }
    ```
    After (target=sme2-nosve):
    ```mlir
    module attributes {smepilot.sme_target = "sme2-nosve"} { ... }
    ```
  }];
  let options = [
    Option<"target", "target", "::mlir::smepilot::SMETarget",
           /*default=*/"::mlir::smepilot::SMETarget::sme_sve",
           "The SME target",
           [{::llvm::cl::values(
             clEnumValN(::mlir::smepilot::SMETarget::sme_sve, "sme-sve",
                        "+sve,+sme,+bf16 (runs under QEMU)"),
             clEnumValN(::mlir::smepilot::SMETarget::sme2_nosve, "sme2-nosve",
                        "+sme2 without +sve (Apple M4 style)"))}]>
  ];
}

def RooflineReport : Pass<"smepilot-roofline-report", "ModuleOp"> {
  let summary = "Write the Roofline decisions as a table (text, CSV, JSON) and an SVG chart";
  let description = [{
    Reads the `smepilot.decision` attributes written by
    smepilot-roofline-annotate and the module's `smepilot.target`, and writes
    `<output>.txt` (a per-op table with totals and the model's assumptions),
    `<output>.csv`, `<output>.json` and `<output>.svg` (a log-log Roofline
    chart: each unit's roof per element type, each op plotted at its
    arithmetic intensity and predicted throughput, coloured by mode).
    With `output=-` the text table goes to stdout and nothing is written.
    Existing files are replaced only as a whole (written to a fresh temporary
    file beside them, then renamed); a path that names the input file, a
    directory or a device is an error, and so is a failed write, to a file or
    to stdout (docs/tools.md, "Output files"). The IR is not changed.
  }];
  let options = [
    Option<"output", "output", "std::string", /*default=*/"\"-\"",
           "Output path prefix, or - for the text table on stdout">
  ];
}

def SimulateSchedule : Pass<"smepilot-simulate-schedule", "ModuleOp"> {
  let summary = "Predict each phase's time as the overlapping executor would "
                "schedule it (Roofline times, list scheduling)";
  let description = [{
    A prediction, not a measurement. On linalg on tensors with decisions
    (the IR after the SME pipeline's `pipeline-attention` stage), every
    phase function (`smepilot.phase`) becomes a task graph: each top-level
    op with a decision is a task (a future dispatch), the call of a collab
    SME variant and the `scf.forall` after it one collab task, calls of
    other functions (the layers) are unrolled, and the dependencies are the
    SSA def-use edges. The graph is list-scheduled as the runtime's executor
    runs a table: a task starts when its dependencies are done, on one
    matrix-unit worker (sme tasks and the SME half of collab tasks) and a
    pool of `vector-workers` vector-core workers (cpu tasks and the CPU
    half of collab tasks), the lowest-numbered ready task first. Each task
    takes the Roofline time of its decision on its unit; the halves of a
    collab task take the Roofline collab model's times at the task's tile
    share and its join costs the profile's sync_overhead_us. While both
    units run, each is slowed by the same factor so that together they draw
    at most the memory system's bandwidth (mem_bw_gbps).

    Prints, per phase: the tasks by unit, the all-CPU prediction (every op at
    its cpu_us, one after the other, each on all vector cores), the
    scheduled time and their ratio; with `trace`, every task's start and
    end. On a module with dispatch tables (after the `dispatch` stage) it
    prints the dispatches of each table by mode instead (cpu / sme / collab,
    and how many are pipelined: a name with an `@attn.` stage). The IR is
    not changed.
  }];
  let options = [
    Option<"vectorWorkers", "vector-workers", "int64_t", /*default=*/"0",
           "Vector-core workers (0: the profile's vector_cores; with -t N "
           "and one matrix-unit worker the runtime has N-1)">,
    Option<"dispatchOverheadUs", "dispatch-overhead-us", "double",
           /*default=*/"0.0",
           "Fixed cost added to every task on its unit (microseconds)">,
    Option<"dynamicSize", "dynamic-size", "int64_t", /*default=*/"128",
           "Size assumed for dynamic dimensions of ops without a decision">,
    Option<"trace", "trace", "bool", /*default=*/"false",
           "Print every task's unit, start and end">
  ];
}

def DecomposeAggregates : Pass<"smepilot-decompose-aggregates", "func::FuncOp"> {
  let summary = "Decompose aggregated linalg ops (linalg.softmax) into linalg.generic";
  let description = [{
    Replaces every op implementing `linalg::AggregatedOpInterface` (today
    `linalg.softmax`) with its decomposition into structured ops (for softmax:
    a max reduction, `exp(x - max)`, a sum reduction and a division), so that
    tiling and vectorization see only structured ops. Ops whose decomposition
    fails are left alone (they later lower to loops). The decompositions
    build tensors: an aggregated op on buffers is an error (the pass runs
    before bufferization).
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::tensor::TensorDialect"];
}

def FuseElementwise : Pass<"smepilot-fuse-elementwise", "func::FuncOp"> {
  let summary = "Fuse elementwise producers into their consumers, but not "
                "costly ones into contractions";
  let description = [{
    Upstream's elementwise fusion (a producer with a single use is fused
    into its consumer; reshapes fold by expansion; fills and splat constants
    fold into bodies), with one exception: a producer whose body computes
    something costly (any `math` op, a division or a remainder) is not fused
    into a consumer with reduction loops. A contraction evaluates its
    operands' producers once per use of each element, and the dot-product
    schedule (smepilot-tile-cpu) reads an lhs row once per block of output
    columns: the SwiGLU fused into the down projection would compute each
    `silu` N / 4 times in prefill (40% of a 1B model's prefill). Cheap
    producers (the final RMSNorm's scale and weight, widening casts) are
    still fused.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::affine::AffineDialect",
                           "::mlir::tensor::TensorDialect"];
}

def TileCPU : Pass<"smepilot-tile-cpu", "func::FuncOp"> {
  let summary = "Tile linalg ops on tensors for the vector cores and vectorize the tiles";
  let description = [{
    For every linalg op on tensors that runs on the vector cores
    (`smepilot.decision` mode = cpu, no decision, or collab with the vector
    cores predicted faster than the matrix unit alone: collab ops run whole
    on one unit until collab partitioning exists), tiles it with `scf.for`
    and vectorizes each tile with linalg's vectorizer, using the tile sizes as
    vector sizes (masked where a tile is partial or dynamic):

    - contractions whose reduction runs along the contiguous last dimension
      of every input (projections with [out, in] weights, Q K^T, also with
      elementwise factors fused in): a dot-product schedule, 4x4 output
      blocks (1x8 for M = 1), a k loop of 16-lane loads and `vector.fma`
      into accumulators carried by `scf.for`, a masked k tail and one
      horizontal sum per output;
    - with `int8-dot`, such a contraction whose factors are each
      `scale * sitofp(q)` with q an i8 value read along k (a Q8_0 or Q4_0
      weight by activations rounded to Q8_0 blocks) and whose scales are
      constant over k and the loops inside the scales' loops: per iteration
      of the scales' loops, `vpdpbusd` (`llvm.call_intrinsic`) sums q_a * q_w
      exactly in i32 lanes (the weight side offset by +128 to be unsigned,
      the activation side's sum times 128 subtracted), then one conversion
      and one FMA by the scales' product per output;
    - with `bf16-dot`, such a contraction whose factors are each `extf` of
      a bf16 value read along k (a BF16 weight by activations rounded to
      bf16, as llama.cpp's BF16 path does), in blocks of several rows: per k
      step of 32 bf16 elements, one `x86vector.avx512.dot` (vdpbf16ps) per
      output sums products of pairs into 16 f32 lanes, neither operand
      widened (a single row, bound by the weight stream, keeps the FMAs);
    - other contractions (K-major right-hand sides such as P V): the
      innermost m, n and k dimensions get `contraction-tile-sizes`, every
      other (batch, outer m/n/k) dimension 1, vectorized to `vector.contract`;
    - everything else (elementwise, reductions, gathers, RoPE-like generics):
      the innermost loop gets `vector-width` lanes, every other loop 1.

    Masked floating-point min/max reductions (the row max of a softmax over a
    dynamic number of keys) select the reduction's identity, -inf or +inf,
    into their masked-off lanes and reduce unmasked: LLVM 22 lowers a masked
    `maximumf` reduction with -FLT_TRUE_MIN in those lanes, which is not an
    identity (the max of a row of negative numbers came out as about 0).

    Static dimensions smaller than their tile are not tiled. Ops with a static
    dimension of size 0 do nothing and are left alone. Tiles that the
    vectorizer rejects (e.g. some gathers) stay scalar linalg ops and are
    lowered to loops later: correctness first. With `report` a remark per op
    says which it was.

    Before:
    ```mlir
    %r = linalg.matmul ins(%a, %b : tensor<64x64xf32>, tensor<64x64xf32>) outs(...)
    ```
    After: `scf.for` over blocks of 4 weight rows and 4 output rows, an inner
    `scf.for` over k in steps of 16 carrying `vector<16xf32>` accumulators
    updated by `vector.fma`, then `vector.reduction <add>` per output and a
    masked write of the block.
  }];
  let options = [
    ListOption<"contractionTileSizes", "contraction-tile-sizes", "int64_t",
               "Tile (= vector) sizes of the innermost m, n, k dimensions of a "
               "contraction (default 16,16,1)">,
    Option<"vectorWidth", "vector-width", "int64_t", /*default=*/"16",
           "Lanes of the innermost loop of non-contraction ops">,
    Option<"allContractions", "all-contractions", "bool", /*default=*/"false",
           "Lay out every contraction the matrix unit can run, as "
           "smepilot-tile-sme's all-contractions runs them (tests)">,
    Option<"report", "report", "bool", /*default=*/"false",
           "Emit a remark per op: tile sizes and whether it vectorized">,
    Option<"int8Dot", "int8-dot", "bool", /*default=*/"false",
           "Dot contractions of two int8 factors (each scale * sitofp(i8)) "
           "use AVX512-VNNI vpdpbusd: the target must have avx512vnni and "
           "avx512vl">,
    Option<"bf16Dot", "bf16-dot", "bool", /*default=*/"false",
           "Dot contractions of two bf16 factors (each extf of a bf16 value) "
           "use AVX512-BF16 vdpbf16ps (x86vector.avx512.dot): the target "
           "must have avx512bf16">
  ];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::x86vector::X86VectorDialect",
                           "::mlir::smepilot::SMEPilotDialect",
                           "::mlir::vector::VectorDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::affine::AffineDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::ub::UBDialect"];
}

def TileSME : Pass<"smepilot-tile-sme", "ModuleOp"> {
  let summary = "Tile contractions for the Arm SME matrix unit (K-major operands, accumulators in ZA)";
  let description = [{
    For every contraction on tensors assigned to the matrix unit
    (`smepilot.decision` mode = sme, or collab with SME alone predicted
    faster than the vector cores; every contraction with
    `all-contractions`) with one m, n and k dimension and at most one batch
    dimension: transposes A and B into K-major layouts At[b, k, m] and
    Bt[b, k, n] (linalg.transpose; the transpose of a weight argument is marked
    `smepilot.pack_at_load`), pads K with zeros to the widening factor for
    bf16/f16 (2) and i8 (4) inputs (a dynamic K is refused), outlines the
    contraction into a private kernel function `@<caller>_sme<i>`
    (`smepilot.sme_kernel`) called in its place (looping over the batch
    dimension, if any, on 2-D slices), and tiles the kernel by
    [8] x [8] scalable elements (2 x 2 ZA tiles of 32-bit accumulators: all
    four) x the widening factor along k. Each tile is vectorized with
    scalable sizes and lowered to `vector.outerproduct`; the C tile is
    hoisted out of the k loop, so the accumulators are k-loop iter_args
    (held in ZA after lowering). It is a module pass because it creates
    functions. Ops decided sme that it cannot run (other element types than
    f32, bf16/f16 -> f32, i8 -> i32; more batch dimensions; dynamic K for
    the widening types) are errors.

    A widening contraction (bf16/f16 -> f32, i8 -> i32) gets its operands
    packed in k pairs (quadruples for i8) instead: [K/2, X, 2] collapsed to
    [K/2, 2X] (expand_shape of K, one linalg.generic that permutes and
    rounds, collapse_shape), and a kernel whose tile loops are built
    directly: 2 x 2 [4] x [4] accumulator tiles as k-loop iter_args, four
    contiguous operand loads and four `arm_sme.fmopa_2way` (`smopa_4way`)
    per step, nothing interleaved in registers.

    With `weight-type=bf16` (or `f16`), an f32 contraction whose B operand
    is a weight computes in that type, as llama.cpp does for BF16/F16
    weights: both operands are rounded to it (round to nearest even; f16
    activations beyond 65504 become infinities, as in llama.cpp's F16 path)
    in the same linalg.generic that packs them, and the kernel uses the
    2-way widening outer products accumulating in f32. The weight's generic
    reads the weight alone, so it is packed once at load (half the bytes of
    the f32 copy).

    Before:
    ```mlir
    %r = linalg.matmul indexing_maps = [(m,k), (n,k), (m,n)]
           ins(%a, %w : tensor<?x?xf32>, tensor<?x?xf32>) outs(%c : ...)
    ```
    After:
    ```mlir
    %at = linalg.transpose ins(%a ...) permutation = [1, 0]
    %wt = linalg.transpose {smepilot.pack_at_load} ins(%w ...) permutation = [1, 0]
    %r = call @f_sme0(%at, %wt, %c)
    func.func private @f_sme0(...) attributes {smepilot.sme_kernel} {
      scf.for %m step [8] { scf.for %n step [8] {
        %acc = vector.transfer_read C tile : vector<[8]x[8]xf32>
        scf.for %k iter_args(%acc) { vector.outerproduct %at_k, %wt_k, %acc }
        vector.transfer_write ...
    ```
  }];
  let options = [
    Option<"allContractions", "all-contractions", "bool", /*default=*/"false",
           "Tile every contraction of a supported type, whatever its "
           "decision (for tests)">,
    Option<"weightType", "weight-type", "::mlir::smepilot::SMEWeightType",
           /*default=*/"::mlir::smepilot::SMEWeightType::f32",
           "Element type of f32 contractions with a weight operand on SME "
           "(both operands rounded to it, f32 accumulation)",
           [{::llvm::cl::values(
             clEnumValN(::mlir::smepilot::SMEWeightType::f32, "f32",
                        "f32 outer products (the default)"),
             clEnumValN(::mlir::smepilot::SMEWeightType::bf16, "bf16",
                        "bf16 widening outer products"),
             clEnumValN(::mlir::smepilot::SMEWeightType::f16, "f16",
                        "f16 widening outer products"))}]>
  ];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::vector::VectorDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::func::FuncDialect",
                           "::mlir::affine::AffineDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::ub::UBDialect",
                           "::mlir::arm_sme::ArmSMEDialect"];
}

def PartitionCollab : Pass<"smepilot-partition-collab", "ModuleOp"> {
  let summary = "Split collab contractions between the matrix unit and the vector cores";
  let description = [{
    For every contraction whose decision is `collab` (with `force-share`,
    every contraction the matrix unit can run): one tile space over the
    output features, shared by two variants. The SME variant is a function
    `@<caller>_collab<i>` (`smepilot.collab_kernel`) that computes a
    contiguous range of tiles from K-major operands (the weight transposed
    once, at load); the vector-core variant is an `scf.forall` over the
    tiles. smepilot-form-dispatches makes the pair one dispatch of mode
    collab whose `sme_share` and `tile_granule` come from the Roofline
    split and the profile's streaming vector length (docs/sme-path.md).

    With `weight-type=bf16` (`f16`) and a weight operand, the SME variant
    reads both operands rounded to that type and packed in k pairs
    ([K/2, X, 2], collapsed to [K/2, 2X]; the weight's pack at load, half
    the bytes of an f32 K-major copy), and its loops are built here
    (`smepilot.collab_packed`): 2-way widening outer products, or for a
    decode matvec (M = 1) streaming-SVE FMLA on the pairs. The vector-core
    variant reads the stored f32 weight and the activation rounded to the
    same type (widened back), so both units compute the same products.

    With `adaptive-margin=F` (F >= 1), a contraction decided `cpu` or `sme`
    whose other unit the Roofline model predicts within F times its own time
    (max(cpu_us, sme_us) <= F * min(...)) is partitioned too, with the share
    its decision implies (0 or 65536, reason "near-boundary"): it runs as
    decided, and the runtime's adaptation (adaptive.h) can move its tiles
    to the other unit if the measured times disagree with the model. An op
    that cannot be split keeps its decision.
  }];
  let options = [
    Option<"forceShare", "force-share", "int64_t", /*default=*/"-1",
           "Partition every SME-capable contraction with this SME share, in "
           "parts per 65536 (0..65536; -1: only collab decisions, with the "
           "Roofline split)">,
    Option<"adaptiveMargin", "adaptive-margin", "double", /*default=*/"0.0",
           "Also partition every contraction decided cpu or sme whose other "
           "unit's predicted time is within this factor of its own (>= 1; "
           "0: none), with the share its decision implies (0 or 65536): "
           "both kernels emitted, so that run-time adaptation can move its "
           "tiles">,
    Option<"maxTiles", "max-tiles", "int64_t", /*default=*/"64",
           "About how many tiles the output features are split into">,
    Option<"svlBits", "svl-bits", "int64_t", /*default=*/"0",
           "Streaming vector length the granule is computed for (0: the "
           "profile's)">,
    Option<"weightType", "weight-type", "::mlir::smepilot::SMEWeightType",
           /*default=*/"::mlir::smepilot::SMEWeightType::f32",
           "Element type of the SME variant of an f32 contraction with a "
           "weight operand (as smepilot-tile-sme's option: both operands "
           "rounded to it and packed in k pairs, f32 accumulation)",
           [{::llvm::cl::values(
             clEnumValN(::mlir::smepilot::SMEWeightType::f32, "f32",
                        "f32 outer products on K-major operands (the "
                        "default)"),
             clEnumValN(::mlir::smepilot::SMEWeightType::bf16, "bf16",
                        "bf16 widening outer products on [K/2, X, 2] packs"),
             clEnumValN(::mlir::smepilot::SMEWeightType::f16, "f16",
                        "f16 widening outer products on [K/2, X, 2] packs"))}]>
  ];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::func::FuncDialect",
                           "::mlir::affine::AffineDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::vector::VectorDialect",
                           "::mlir::arm_sme::ArmSMEDialect"];
}

def PropagateLayout : Pass<"smepilot-propagate-layout", "ModuleOp"> {
  let summary = "Choose operand layouts per unit, insert the changes, and "
                "move them into producers";
  let description = [{
    Runs after the Roofline decisions, smepilot-partition-collab and
    smepilot-pipeline-attention, before smepilot-tile-sme.

    1. Choice and insertion. Every contraction the matrix unit runs alone
       (decision mode sme; a collab op's SME variant is partitioned before)
       reads its activation operands K-major (At[b, k, m], Bt[b, k, n]:
       one outer product per k step reads two contiguous rows). Each
       operand that is not gets an explicit `linalg.transpose` carrying
       `smepilot.layout` (`#smepilot.layout<outer_dims_perm = ...>`) and
       the op's indexing map is rewritten to read the K-major tensor. A
       [1, K] decode row is its own K-major [K, 1]: a reshape, not a copy.
       Weights (function arguments marked `smepilot.weight`) are left to
       smepilot-tile-sme, which packs them once, in the load table, in the
       type the kernel computes in.
    2. Propagation, on every linalg.transpose of the module (these layout
       changes, the ones smepilot-partition-collab and
       smepilot-pipeline-attention inserted, and the graph builder's own):
       - a transpose of a transpose is one transpose, or nothing when they
         are inverse (cancellation);
       - a transpose of a collapse_shape or expand_shape whose groups move
         whole becomes the reshape of a transpose (it can then meet the
         producer before the reshape);
       - a transpose of a `linalg.generic`'s result is written by the
         generic itself: its output indexing map is permuted (layout-
         transparent ops: elementwise, RoPE, norms, SwiGLU); when the
         result has other users, the generic writes both layouts (a second
         output) instead of being read twice;
       - a transpose of a weight argument is marked `smepilot.pack_at_load`
         (the load table runs it once).
    3. State. Every remaining layout change gets `smepilot.layout` and
       `smepilot.layout_reason` (why no producer writes that layout: the
       KV cache, a named contraction, a function argument); with
       `report`, a remark per function counts what was inserted, written
       by producers, cancelled, moved to load and left.

    A contraction decided sme whose operands no layout of the matrix unit
    can feed (other element types, more batch dimensions) is an error.
  }];
  let options = [
    Option<"allContractions", "all-contractions", "bool", /*default=*/"false",
           "Lay out every contraction the matrix unit can run, as "
           "smepilot-tile-sme's all-contractions runs them (tests)">,
    Option<"report", "report", "bool", /*default=*/"false",
           "A remark per function: layout changes inserted, written by "
           "producers, cancelled, moved to load, left">
  ];
  let dependentDialects = ["::mlir::tensor::TensorDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::arith::ArithDialect"];
}

def PipelineAttention : Pass<"smepilot-pipeline-attention", "ModuleOp"> {
  let summary = "Split attention into per-head QK^T / softmax / PV stages";
  let description = [{
    Attention as the graph builder emits it -- a head-batched QK^T
    contraction, head-parallel mask and softmax ops, a head-batched PV
    contraction reading the probabilities -- becomes, per KV head h and in
    program order, three stages whose ops carry `smepilot.stage`:
    `attn.qk.h<h>` (K-major copies of the head's Q and K slices and QK^T,
    decided sme), `attn.softmax.h<h>` (the mask and softmax cloned on the
    head's slices, decided cpu) and `attn.pv.h<h>` (PV, decided sme, into an
    accumulator of its own inserted into slice h of the output). Every
    per-head result gets a tensor of its own, so after bufferization no
    buffer is shared between heads and the dispatch dependencies let head
    h+1's QK^T run on the matrix unit while head h's softmax runs on the
    vector cores. Decisions are split evenly between the heads.

    Before (decisions elided):
      %s = linalg.batch_matmul ins(%q, %k : tensor<2x8x4xf32>, tensor<2x?x4xf32>) ...
      %p = <mask and softmax on tensor<2x8x?xf32>>
      %o = linalg.batch_matmul ins(%p, %v : tensor<2x8x?xf32>, tensor<2x?x4xf32>) ...
    After, for each h in {0, 1}:
      %qt = linalg.transpose ins(<slice h of %q> ...) {smepilot.stage = "attn.qk.hH"}
      %s = linalg.batch_matmul (K-major maps) ... {smepilot.stage = "attn.qk.hH"}
      ... softmax on tensor<1x8x?xf32> ... {smepilot.stage = "attn.softmax.hH"}
      %a = linalg.batch_matmul ... {smepilot.stage = "attn.pv.hH"}
      %o = tensor.insert_slice %a into %o[h, 0, 0] ...

    Applied when QK^T or PV is decided sme, or collab in a prefill phase
    (`smepilot.chunk` > 1 on the function or on every phase calling it), or
    always with `force`; anything that is not the pattern is left alone
    (docs/sme-path.md, "smepilot-pipeline-attention").
  }];
  let options = [
    Option<"force", "force", "bool", /*default=*/"false",
           "Pipeline attention whatever the decisions say (for tests)">
  ];
  let dependentDialects = ["::mlir::tensor::TensorDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::arith::ArithDialect"];
}

def LowerX86Dot : Pass<"smepilot-lower-x86-dot"> {
  let summary = "smepilot.dot4_u8s8 and x86vector.avx512.dot -> x86 intrinsics";
  let description = [{
    Rewrites every `smepilot.dot4_u8s8` into `llvm.call_intrinsic` of
    `llvm.x86.avx512.vpdpbusd.{128,256,512}` (LLVM 22's form: i32 accumulator,
    i8 vector operands), and every `x86vector.avx512.dot` (bf16 pairs) into
    `llvm.x86.avx512bf16.dpbf16ps.{128,256,512}`. Runs after bufferization, right before the
    conversion to LLVM: the intrinsic call has unknown memory effects, which
    one-shot bufferization refuses, so smepilot-tile-cpu emits the pure op.
    The target must have AVX512-VNNI (and AVX512VL below 512 bits) for the
    former, AVX512-BF16 for the latter.

    ```mlir
    %r = smepilot.dot4_u8s8 %acc, %u, %s : vector<32xi8> into vector<8xi32>
    // becomes
    %r = llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.256"(%acc, %u, %s)
           : (vector<8xi32>, vector<32xi8>, vector<32xi8>) -> vector<8xi32>
    ```
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

def ApproximateMath : Pass<"smepilot-approximate-math", "func::FuncOp"> {
  let summary = "Replace math functions by polynomial approximations (no libm calls)";
  let description = [{
    Rewrites math ops (scalar or vector) into arith-only polynomial
    approximations so that kernels do not call libm (a requirement for SME
    streaming kernels and a large speed-up for vector code): exp, expm1, log,
    log2, log1p, tanh, erf, erfc, atan, atan2, asin, acos, cbrt; sinh, cosh,
    tan, powf and friends are first expanded into those. f16/bf16 math is
    computed in f32. `math.sqrt` and `math.rsqrt` are not touched (they lower
    to the sqrt instruction). `math.sin` / `math.cos` are approximated only with
    `sin-cos` (their approximation loses accuracy for the large angles RoPE
    produces at long positions); otherwise they stay libm calls (sinf/cosf).
    Math on tensors that would be rewritten is an error (the approximations
    are built for scalars and vectors).
  }];
  let options = [
    Option<"sinCos", "sin-cos", "bool", /*default=*/"false",
           "Also approximate math.sin and math.cos">
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::vector::VectorDialect"];
}

def Bufferize : Pass<"smepilot-bufferize", "ModuleOp"> {
  let summary = "One-Shot bufferization with strided matrix-unit kernel arguments";
  let description = [{
    One-Shot Module Bufferization as `one-shot-bufferize
    bufferize-function-boundaries function-boundary-type-conversion=
    identity-layout-map` does it, with one difference: the tensor arguments
    and results of the matrix-unit kernels (functions marked
    `smepilot.sme_kernel`, outlined by smepilot-tile-sme and
    smepilot-partition-collab) bufferize to memrefs with a dynamic offset and
    dynamic outer strides, and a unit innermost stride:
    `memref<AxBxf32, strided<[?, 1], offset: ?>>`.

    With identity layouts, a slice passed to a kernel that does not start at
    offset 0 or is not contiguous (an attention head's Q or V rows, a head's
    output columns in the assembled heads, a K-major slice of a cache) is
    copied into a fresh buffer at every call, and a kernel's output slice
    copied back. Kernels only ever read and write their operands row by row
    (contiguous loads and ZA tile slices, the innermost dimension being the
    one the vector runs along), so a unit innermost stride is all they need:
    any view with that property is passed as is (a `memref.cast`), and only
    a view whose innermost dimension is strided is still copied.

    Every other function keeps identity layouts: the entry points' signatures
    are the runtime's C ABI.

    Before (tensors):
    ```mlir
    func.func private @k(%a: tensor<4x8xf32>) -> tensor<4x8xf32>
        attributes {smepilot.sme_kernel}
    %s = tensor.extract_slice %t[4, 0] [4, 8] [1, 1] : ...
    %r = call @k(%s) : ...
    ```
    After:
    ```mlir
    func.func private @k(%a: memref<4x8xf32, strided<[?, 1], offset: ?>>)
    %sv = memref.subview %m[4, 0] [4, 8] [1, 1] : ...
    %c = memref.cast %sv : ... to memref<4x8xf32, strided<[?, 1], offset: ?>>
    call @k(%c) : ...
    ```
  }];
  let options = [
    Option<"stridedKernelArgs", "strided-kernel-args", "bool", "true",
           "Strided arguments for smepilot.sme_kernel functions (false: "
           "identity layouts everywhere, as upstream one-shot-bufferize)">,
  ];
  let dependentDialects = ["::mlir::bufferization::BufferizationDialect",
                           "::mlir::memref::MemRefDialect"];
}

def DropInPlaceResults : Pass<"smepilot-drop-inplace-results", "ModuleOp"> {
  let summary = "Remove memref results that return an argument as is";
  let description = [{
    After one-shot bufferization across function boundaries, a tensor result
    that was an in-place update of an argument (a KV cache updated with
    insert_slice) is returned as that argument's memref. Upstream
    `drop-equivalent-buffer-results` removes such results only from private
    functions; this pass removes them from every function with a body,
    public entry points included, and rewrites call sites to use the
    argument. The caller of an entry point then sees its own buffer change.

    Before:
    ```mlir
    func.func @f(%cache: memref<8x16xf32>, %i: index) -> memref<8x16xf32> {
      ...
      return %cache : memref<8x16xf32>
    }
    ```
    After:
    ```mlir
    func.func @f(%cache: memref<8x16xf32>, %i: index) {
      ...
      return
    }
    ```
  }];
}

def ExpandBF16Conversions
    : Pass<"smepilot-expand-bf16-conversions", "func::FuncOp"> {
  let summary = "Expand f32 <-> bf16 conversions into integer operations";
  let description = [{
    On a CPU without a bf16 conversion instruction (x86-64 without
    AVX512-BF16, aarch64 without BF16), LLVM lowers `arith.truncf` from f32
    to bf16 to a call of `__truncsfbf2`, once per element: GCC 12's libgcc,
    which the JIT resolves calls against, has no such function (the object
    does not link), and a call per lane would be slow anyway. This pass
    rewrites f32 -> bf16 truncations (round to nearest even, NaN kept quiet)
    and bf16 -> f32 extensions as integer operations on the bits, in vectors
    as in scalars, with upstream's bf16 expansion patterns and nothing else
    of arith-expand (whose other expansions, e.g. of arith.maximumf, would
    make every kernel slower). The host pipeline runs it when its bf16-dot
    option is off, i.e. when the target has no AVX512-BF16.

    Before:
    ```mlir
    %b = arith.truncf %x : vector<16xf32> to vector<16xbf16>
    ```
    After (abridged):
    ```mlir
    %bits = arith.bitcast %x : vector<16xf32> to vector<16xi32>
    ... rounding bias, NaN select ...
    %b = arith.bitcast %hi : vector<16xi16> to vector<16xbf16>
    ```
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

def CopiesToLinalg : Pass<"smepilot-copies-to-linalg", "func::FuncOp"> {
  let summary = "Turn strided memref.copy into linalg.copy, so no runtime helper is called";
  let description = [{
    memref.copy between contiguous identity-layout buffers lowers to a
    memcpy intrinsic, but any other copy (into a subview of a KV cache, say)
    lowers to a call of `memrefCopy` from MLIR's C runner utilities: a
    library the JIT does not load, that has no aarch64 build, and that a
    streaming (SME) kernel must not call anyway. This pass rewrites those
    copies as linalg.copy, which the pipeline then lowers to loops. Copies
    between identity layouts are left alone.

    Before:
    ```mlir
    memref.copy %rows, %view : memref<1x4xf32> to memref<1x4xf32, strided<[64, 1], offset: ?>>
    ```
    After:
    ```mlir
    linalg.copy ins(%rows : memref<1x4xf32>) outs(%view : memref<1x4xf32, strided<[64, 1], offset: ?>>)
    ```
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def FormDispatchRegions : Pass<"smepilot-form-dispatch-regions", "ModuleOp"> {
  let summary = "Give every top-level linalg op of a phase a tile space (scf.forall)";
  let description = [{
    First half of dispatch formation, on tensors before tiling: every linalg
    op at the top level of a phase function (`smepilot.phase`) or of a
    function a phase calls is wrapped in a one-dimensional `scf.forall` over
    a static parallel dimension (a contraction's n, else its batch, else its
    m; the outermost parallel dimension of other ops), in tiles of about
    extent / `max-tiles` rounded up to the vectorized block. The forall's
    iterations write disjoint slices, so they may run on any workers in any
    split: after bufferization smepilot-form-dispatches turns each into a
    dispatch whose tiles are the forall's iterations. Ops with no static
    parallel dimension of extent >= 2 are left alone (one-tile dispatches).
    An op that reads only weights (arguments marked `smepilot.weight`) gets
    a `bufferization.alloc_tensor` of its own in place of a `tensor.empty`
    init, so that its result keeps its own buffer and
    smepilot-form-dispatches can move it into the load table.

    Before:
    ```mlir
    %r = linalg.generic ... ins(%x, %w : tensor<1x64xf32>, tensor<256x64xf32>)
                            outs(%o : tensor<1x256xf32>) ...
    ```
    After (max-tiles=8):
    ```mlir
    %r = scf.forall (%i) = (0) to (256) step (32) shared_outs(%s = %o) ... {
      %t = linalg.generic ... ins(%x, %w_slice : ..., tensor<32x64xf32>) ...
      scf.forall.in_parallel { tensor.parallel_insert_slice %t into %s ... }
    }
    ```
  }];
  let options = [
    Option<"maxTiles", "max-tiles", "int64_t", /*default=*/"64",
           "Aim for at most about this many tiles per op">,
    Option<"vectorWidth", "vector-width", "int64_t", /*default=*/"16",
           "Lanes of the vectorized innermost loop (tile sizes of that "
           "dimension are multiples of it)">
  ];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::affine::AffineDialect",
                           "::mlir::bufferization::BufferizationDialect"];
}

def FormDispatches : Pass<"smepilot-form-dispatches", "ModuleOp"> {
  let summary = "Outline bufferized phases into kernels and a dispatch table";
  let description = [{
    Second half of dispatch formation, on memrefs after bufferization. Each
    phase function (`smepilot.phase = "<name>"`, public, memref arguments,
    no results) becomes `smepilot.dispatch_table @<name>` and kernels
    `<name>_k<i>` with the signature of abi.h, `(bindings: !llvm.ptr,
    constants: !llvm.ptr, tile_begin: i64, tile_end: i64)`:

    - calls to single-block functions (the layer body) are inlined first;
    - the phase's memref arguments are the table's argument buffers, in
      order; its index and integer arguments the run-time constants; every
      top-level `memref.alloc` whose sizes are fixed or linear in one
      constant is a temporary (its `memref.dealloc` is dropped);
    - constants, pure scalar ops and views (subview, expand_shape, ...) of
      buffers are "free": they are re-materialized inside every kernel that
      uses them, from the binding pointers and the constants;
    - every other top-level op is work. Work ops are grouped into contiguous
      ranges such that no SSA value of a work op is used outside its range;
      a range becomes one dispatch. A range that is one `scf.forall` (from
      smepilot-form-dispatch-regions) is a tiled dispatch: tile t is the
      forall's iteration t and the kernel loops over [tile_begin, tile_end);
      any other range is a one-tile dispatch;
    - a binding's access (read, write) comes from the memory effects of the
      kernel's ops on views of that buffer (both when unknown); a dispatch
      depends on the last earlier writer of each buffer it touches and, when
      it writes, on the readers since;
    - structurally equal kernels (the same layer op in every layer) are
      emitted once.

    Each buffer and dispatch is a typed attribute (`#smepilot.buffer`,
    `#smepilot.dispatch`); argument buffers keep the phase argument's
    `smepilot.weight` mark as `weight = true`, and a dispatch whose kernel
    reads a run-time constant or a mutable global says so (`reads_state`):
    what smepilot-hoist-load-time, which runs next, decides by.

    Phase functions that break these rules (results, non-memref non-integer
    arguments, a temporary with a size that is not linear in one constant)
    are rejected with an error naming the op.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::smepilot::SMEPilotDialect"];
}

def HoistLoadTime : Pass<"smepilot-hoist-load-time", "ModuleOp"> {
  let summary = "Move work on weights alone from the phase tables into the "
                "load table";
  let description = [{
    Runs right after smepilot-form-dispatches, on its phase tables. A
    dispatch that reads only weights (buffers marked `weight` that nothing
    writes) and temporaries written by such dispatches, writes only
    fixed-size temporaries nothing else writes, has a fixed tile count and
    reads no run-time state (`reads_state`), such as the K-major weight
    copies of smepilot-tile-sme, moves into the load table,
    `smepilot.dispatch_table @load {smepilot.load}`, with no constants, which
    the runtime runs once (abi.h). The same dispatch of several phases is
    entered once. A temporary it writes that a phase still reads becomes a
    packed buffer: an argument of the load table and of the phase, named
    `pack<i>(<weight>)`. Weights nothing but load-time work reads leave the
    phase's arguments; kernels no table refers to any more are erased.

    Before (one phase):
    ```mlir
    smepilot.dispatch_table @c1 {kernels = [@c1_k0, @c1_k1], ...,
      buffers = [#smepilot.buffer<name = "w", size = <256>, weight = true>,
                 #smepilot.buffer<name = "tmp0", size = <256>>, ...],
      dispatches = [#smepilot.dispatch<name = "c1_d0:linalg.transpose",
                      kernel = 0, ..., bindings = [<0, read>, <1, write>]>,
                    #smepilot.dispatch<name = "c1_d1:func.call", kernel = 1,
                      ..., bindings = [<1, read>, ...]>]}
    ```
    After: @c1 keeps the call, binding `pack0(w)` (an argument) instead of
    the temporary, and `@load` holds the transpose from `w` to `pack0(w)`.

    A module that already has a load table is refused.
  }];
  let dependentDialects = ["::mlir::smepilot::SMEPilotDialect"];
}

def DedupKernels : Pass<"smepilot-dedup-kernels", "ModuleOp"> {
  let summary = "Keep one kernel function per structurally identical body";
  let description = [{
    Runs after smepilot-form-dispatches (and smepilot-hoist-load-time), on
    the kernels its dispatch tables name. Form-dispatches deduplicates the
    kernels of one table; the tables of a model (decode, prompt chunk, its
    last-row twin) still hold kernels that are identical function for
    function, because they share shapes (the prompt chunk and its last-row
    twin share all but the last few). This pass compares every kernel the
    tables name, across tables, by structure (same function type, same
    attributes but the name, equivalent bodies per
    mlir::OperationEquivalence, locations ignored), keeps the first of each
    group in module order, points the tables' `kernels` arrays to it and
    erases the others. Each kernel is then compiled once: less work for
    LLVM, a smaller object.

    Before:
    ```mlir
    func.func @c1_k0(...) attributes {smepilot.kernel} { BODY }
    func.func @c4_k0(...) attributes {smepilot.kernel} { BODY }
    smepilot.dispatch_table @c1 {kernels = [@c1_k0], ...}
    smepilot.dispatch_table @c4 {kernels = [@c4_k0], ...}
    ```
    After: `@c4_k0` is gone and `@c4`'s kernels are `[@c1_k0]`.

    Functions no table names (phases, helpers a kernel calls) are left
    alone, and a duplicate that something besides a table names is kept
    (the tables no longer use it).
  }];
  let statistics = [
    Statistic<"numErased", "num-erased",
              "Kernels erased as duplicates of an earlier one">
  ];
}

def ExportExplain : Pass<"smepilot-export-explain", "ModuleOp"> {
  let summary = "Export the compiler's decisions per dispatch as the "
                "`smepilot_explain` global";
  let description = [{
    Once the kernels are LLVM functions and before the dispatch tables are
    lowered (smepilot-emit-dispatch-tables), writes the external constant
    `smepilot_explain`: a NUL-terminated JSON document (schema in
    ExportExplain.cpp, version 1) listing, for every dispatch of every
    table, its mode, SME share, tile count and buffers, and the builder ops
    its kernels compute with their Roofline decisions and the layout changes
    they make. The ops are found from the provenance records
    smepilot-roofline-annotate (and the passes that insert layout changes)
    put into locations (Provenance.h), which every pass carries along: the
    pass reads what was decided, it recomputes nothing. `smepilot-run
    --explain` renders it. A module without dispatch tables is left alone; a
    module that already defines `smepilot_explain` is an error.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

def EmitDispatchTables : Pass<"smepilot-emit-dispatch-tables", "ModuleOp"> {
  let summary = "Lower smepilot.dispatch_table ops to the abi.h globals";
  let description = [{
    After the kernels are LLVM functions (convert-func-to-llvm), replaces each
    `smepilot.dispatch_table @<name>` with constant LLVM globals laid out as
    `smepilot_rt_dispatch_table` and its arrays (runtime/include/smepilot_rt/
    abi.h, whose layout this pass asserts at compile time): the table is the
    external global `smepilot_table_<name>`, the kernel, buffer, dispatch,
    binding, dependency and name arrays private globals it points to. The
    JIT looks the table up by name; an AOT object carries it as relocated
    read-only data.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

#endif // SMEPILOT_TRANSFORMS_PASSES_TD
