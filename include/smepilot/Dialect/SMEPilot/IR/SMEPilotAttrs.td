//===- SMEPilotAttrs.td - smepilot attributes ---------------*- tablegen -*-===//

#ifndef SMEPILOT_ATTRS_TD
#define SMEPILOT_ATTRS_TD

include "smepilot/Dialect/SMEPilot/IR/SMEPilotDialect.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

//===----------------------------------------------------------------------===//
// Parameters
//===----------------------------------------------------------------------===//

// A double printed in its shortest round-tripping form.
def SMEPilot_F64Param : AttrParameter<"::mlir::smepilot::F64", "a floating-point number"> {
  let parser = "::mlir::smepilot::detail::parseF64($_parser)";
  let printer = "::mlir::smepilot::detail::printF64($_printer, $_self)";
}

//===----------------------------------------------------------------------===//
// Execution mode
//===----------------------------------------------------------------------===//

def SMEPilot_ExecMode : I32EnumAttr<"ExecMode", "which units execute an operator", [
    I32EnumAttrCase<"cpu", 0>,
    I32EnumAttrCase<"sme", 1>,
    I32EnumAttrCase<"collab", 2>
  ]> {
  let cppNamespace = "::mlir::smepilot";
  let genSpecializedAttr = 0;
}

def SMEPilot_ExecModeAttr : EnumAttr<SMEPilot_Dialect, SMEPilot_ExecMode, "mode"> {
  let summary = "execution mode of an operator: cpu, sme or collab";
  let description = [{
    `cpu`: vector cores only. `sme`: the matrix unit(s) only (streaming mode,
    ZA tiles). `collab`: the operator's tile space is split between
    matrix-unit and vector-core workers.

    Example: `#smepilot.mode<collab>`
  }];
  let assemblyFormat = "`<` $value `>`";
}

class SMEPilot_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<SMEPilot_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

//===----------------------------------------------------------------------===//
// Peaks
//===----------------------------------------------------------------------===//

def SMEPilot_PeaksAttr : SMEPilot_Attr<"Peaks", "peaks"> {
  let summary = "FLOP per cycle of one compute unit, per element type";
  let description = [{
    Peak floating-point (or integer) operations per cycle of one vector core
    or one matrix unit for each input element type; a multiply-add counts as
    two. Zero means the unit cannot compute on that type.

    Example: `#smepilot.peaks<f32 = 32, f16 = 64, bf16 = 64, i8 = 128>`
  }];
  let parameters = (ins
    SMEPilot_F64Param:$f32,
    SMEPilot_F64Param:$f16,
    SMEPilot_F64Param:$bf16,
    SMEPilot_F64Param:$i8
  );
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Peak FLOP/cycle for inputs of `elementType`: f32/f16/bf16/i8 directly;
    /// other integer types use i8's rate, f64 none. 0 when unsupported.
    double forType(::mlir::Type elementType) const;
  }];
}

//===----------------------------------------------------------------------===//
// Target (hardware profile)
//===----------------------------------------------------------------------===//

def SMEPilot_TargetAttr : SMEPilot_Attr<"Target", "target"> {
  let summary = "hardware profile of the machine a module is compiled for";
  let description = [{
    Attached to the module as `smepilot.target`. Every compiler decision is a
    function of these numbers, so lit tests give the same result on any host.

    - `vector_cores`, `vector_bits`, `vector_ghz`, `vector_flops`: the vector
      cores that compiled CPU kernels run on, their register width, clock and
      FLOP/cycle per core.
    - `vector_bw_gbps`: memory bandwidth all vector cores together can draw.
    - `matrix_units`, `matrix_ghz`, `matrix_flops`: matrix units (SME units,
      or AMX tiles units: one per core), their clock, FLOP/cycle per unit.
      `matrix_units = 0` means none: every operator then runs on the CPU.
    - `matrix_bw_gbps`: bandwidth the matrix units together can draw.
    - `svl_bits`: streaming vector length (SME) or tile row width (AMX).
    - `mem_bw_gbps`: the memory system's total, shared when both draw at once.
    - `llc_bytes`: last-level cache size; `sync_overhead_us`: fixed cost of
      splitting one operator across both kinds of worker.
  }];
  let parameters = (ins
    StringRefParameter<"profile name">:$name,
    StringRefParameter<"ISA (aarch64, x86_64)">:$arch,
    StringRefParameter<"target features (+sve,+sme2,...)">:$features,
    "uint32_t":$vector_cores,
    "uint32_t":$vector_bits,
    SMEPilot_F64Param:$vector_ghz,
    "PeaksAttr":$vector_flops,
    SMEPilot_F64Param:$vector_bw_gbps,
    "uint32_t":$matrix_units,
    SMEPilot_F64Param:$matrix_ghz,
    "PeaksAttr":$matrix_flops,
    SMEPilot_F64Param:$matrix_bw_gbps,
    "uint32_t":$svl_bits,
    SMEPilot_F64Param:$mem_bw_gbps,
    "uint64_t":$llc_bytes,
    SMEPilot_F64Param:$sync_overhead_us
  );
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// The name of the module attribute holding the target.
    static constexpr ::llvm::StringLiteral kAttrName = "smepilot.target";
    /// Whether the profile has a usable matrix unit.
    bool hasMatrixUnit() const { return getMatrixUnits() > 0; }
    /// The target attached to `module`, or null.
    static TargetAttr lookup(::mlir::Operation *op);
  }];
}

//===----------------------------------------------------------------------===//
// Decision record
//===----------------------------------------------------------------------===//

def SMEPilot_DecisionAttr : SMEPilot_Attr<"Decision", "decision"> {
  let summary = "the Roofline numbers behind an operator's execution mode";
  let description = [{
    Written on each linalg op by `smepilot-roofline-annotate` as
    `smepilot.decision`, read by the passes that tile, partition and form
    dispatches for the chosen mode.

    - `kind`: the op (`matmul`, `batch_matmul`, `matvec`, `generic`, ...);
      `shape_class`: `gemm`, `gemv`, `elementwise`, `reduction`, `fill`,
      `softmax`, `gather`, `other`.
    - `elem`: the element type the FLOPs are computed on.
    - `flops`, `weight_bytes`, `act_bytes`: work and compulsory traffic;
      weights are operands reaching a function argument marked
      `smepilot.weight` or a constant, everything else is activation.
    - `intensity`: FLOP per byte.
    - `cpu_us`, `sme_us`, `collab_us`: predicted time on each choice;
      negative when the choice is impossible (no matrix unit, not a
      contraction, an element type the unit lacks).
    - `sme_fraction`: share of the op's tiles given to the matrix unit
      (1 for sme, 0 for cpu, in between for collab).
    - `bound`: what limits the chosen unit, `compute` or `memory`.
    - `vectorization`: `full`, `reduction`, `gather` or `scalar`.
    - `reason`: `roofline`, `forced`, or `near-boundary` (a variant of an
      op smepilot-partition-collab split because the other unit's predicted
      time is close; the op runs as decided); `assumed`: the assumptions made
      for dynamic sizes (e.g. `d0=128`), empty when every size was static.
  }];
  let parameters = (ins
    StringRefParameter<"op kind">:$kind,
    StringRefParameter<"shape class">:$shape_class,
    "::mlir::Type":$elem,
    "ExecMode":$mode,
    "uint64_t":$flops,
    "uint64_t":$weight_bytes,
    "uint64_t":$act_bytes,
    SMEPilot_F64Param:$intensity,
    SMEPilot_F64Param:$cpu_us,
    SMEPilot_F64Param:$sme_us,
    SMEPilot_F64Param:$collab_us,
    SMEPilot_F64Param:$sme_fraction,
    StringRefParameter<"cpu | sme bound">:$bound,
    StringRefParameter<"vectorization class">:$vectorization,
    StringRefParameter<"roofline | forced | near-boundary">:$reason,
    StringRefParameter<"assumptions for dynamic sizes">:$assumed
  );
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// The name of the op attribute holding the decision.
    static constexpr ::llvm::StringLiteral kAttrName = "smepilot.decision";
    uint64_t getTotalBytes() const { return getWeightBytes() + getActBytes(); }
  }];
}

//===----------------------------------------------------------------------===//
// Layout
//===----------------------------------------------------------------------===//

def SMEPilot_LayoutAttr : SMEPilot_Attr<"Layout", "layout"> {
  let summary = "a packed tensor layout: tiled dimensions, tile sizes, order";
  let description = [{
    Describes a packed layout in linalg.pack's terms: dimensions
    `inner_dims_pos` are tiled by `inner_tiles` (a size in brackets, `[4]`,
    is scalable: multiplied by vscale, as SME tiles are), and the outer
    (tile-index) dimensions are ordered by `outer_dims_perm` (identity when
    absent). An empty `inner_dims_pos` is the plain row-major layout.

    Example, a weight matrix [K, N] packed for 16-wide column panels, panel
    index first: `#smepilot.layout<inner_dims_pos = [1], inner_tiles = [16],
    outer_dims_perm = [1, 0]>`; an SME operand tiled by the streaming vector
    length: `#smepilot.layout<inner_dims_pos = [0], inner_tiles = [[4]]>`.
  }];
  let parameters = (ins
    ArrayRefParameter<"int64_t", "tiled dimensions">:$inner_dims_pos,
    ArrayRefParameter<"int64_t", "tile sizes">:$inner_tiles,
    ArrayRefParameter<"bool", "whether each tile scales with vscale">:$scalable_tiles,
    ArrayRefParameter<"int64_t", "order of the outer dimensions">:$outer_dims_perm
  );
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Whether this is the plain (unpacked) layout.
    bool isIdentity() const {
      return getInnerDimsPos().empty() && getOuterDimsPerm().empty();
    }
  }];
}

//===----------------------------------------------------------------------===//
// Dispatch tables
//===----------------------------------------------------------------------===//
//
// The parts of `smepilot.dispatch_table` (SMEPilotOps.td), one attribute per
// struct of runtime/include/smepilot_rt/abi.h: smepilot-form-dispatches makes
// them, smepilot-hoist-load-time rewrites them, the op's verifier checks them
// against each other and smepilot-emit-dispatch-tables lays them out as the
// ABI's structs. Indices (buffers, kernels, dependencies) are positions in the
// table's own lists.

def SMEPilot_Access : I32BitEnumAttr<"Access",
    "how a dispatch accesses a bound buffer", [
    I32BitEnumAttrCaseNone<"none">,
    I32BitEnumAttrCaseBit<"read", 0>,
    I32BitEnumAttrCaseBit<"write", 1>
  ]> {
  let cppNamespace = "::mlir::smepilot";
  let genSpecializedAttr = 0;
  let separator = "|";
}

// A list printed in square brackets, so that it can stand anywhere in a
// struct of parameters.
class SMEPilot_ListParam<string element, string desc>
    : ArrayRefParameter<element, desc> {
  let parser = "::mlir::smepilot::detail::parseList<" # element # ">($_parser)";
  let printer = "::mlir::smepilot::detail::printList($_printer, $_self)";
}

def SMEPilot_ExtentAttr : SMEPilot_Attr<"Extent", "extent"> {
  let summary = "a count that is fixed or linear in one run-time constant";
  let description = [{
    `base + scale * constants[constant]` (abi.h's `smepilot_rt_extent`): the
    size in bytes of a buffer or the tile count of a dispatch. `constant` is
    an index into the table's run-time constants, or -1 for a fixed count
    (then `scale` is 0).

    Examples: `#smepilot.extent<64>` (fixed), `#smepilot.extent<0 + 256 * c0>`
    (256 bytes per unit of constant 0, e.g. per token of a chunk).
  }];
  let parameters = (ins "int64_t":$base, "int64_t":$scale, "int64_t":$constant);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let builders = [
    AttrBuilder<(ins "int64_t":$base), [{
      return $_get($_ctxt, base, 0, -1);
    }]>
  ];
  let extraClassDeclaration = [{
    /// Whether the count does not depend on a run-time constant.
    bool isFixed() const { return getConstant() < 0; }
  }];
}

def SMEPilot_BufferAttr : SMEPilot_Attr<"Buffer", "buffer"> {
  let summary = "a buffer of a dispatch table: an argument or a temporary";
  let description = [{
    abi.h's `smepilot_rt_buffer`. The table's first `n_arguments` buffers are
    bound by name by the runtime (activations, the KV cache, weights, packed
    buffers of the load table); the rest are temporaries in its arena.

    - `name`: the name the runtime binds an argument by (`argN` / `tmpN` when
      there is none to give).
    - `size`: bytes, an extent.
    - `alignment`: bytes the kernels assume (0: the runtime's default).
    - `weight`: an argument the compiler may treat as fixed for the whole
      run (marked `smepilot.weight`): what smepilot-hoist-load-time moves work
      on into the load table. Not part of the ABI.
    - `ggml_type`: for a weight argument, the GGUF tensor type it is passed
      in (GGML's type id: 0 F32, 1 F16, 2 Q4_0, 8 Q8_0, 30 BF16; from the
      argument's `smepilot.ggml_type`), abi.h's `smepilot_rt_buffer.type`:
      the runtime binds the tensor's own bytes for it, or an F32 copy for 0.
      0 for every other buffer.

    Example: `#smepilot.buffer<name = "blk.0.attn_q.weight", size = <256>,
    weight = true>`
  }];
  let parameters = (ins
    StringRefParameter<"the name the runtime binds it by">:$name,
    "ExtentAttr":$size,
    DefaultValuedParameter<"int64_t", "0", "alignment in bytes">:$alignment,
    DefaultValuedParameter<"bool", "false", "a weight">:$weight,
    DefaultValuedParameter<"int64_t", "0", "GGML type id of a weight">:$ggml_type
  );
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def SMEPilot_BindingAttr : SMEPilot_Attr<"Binding", "binding"> {
  let summary = "a buffer a dispatch binds, and how it accesses it";
  let description = [{
    abi.h's `smepilot_rt_binding`: the kernel's bindings[j] points `offset`
    bytes into buffer `buffer` of the table (its base when 0, the default,
    not printed); `access` says whether the kernel reads it, writes it or
    both, which is what the table's dependencies (and the runtime's
    placement of temporaries) follow from.

    Example: `#smepilot.binding<2, read|write>`,
    `#smepilot.binding<7, read, offset 1048576>`
  }];
  let parameters = (ins "int64_t":$buffer,
                        EnumParameter<SMEPilot_Access>:$access,
                        DefaultValuedParameter<"int64_t", "0">:$offset);
  let builders = [
    AttrBuilder<(ins "int64_t":$buffer, "::mlir::smepilot::Access":$access),
      [{ return $_get($_ctxt, buffer, access, 0); }]>
  ];
  let assemblyFormat =
      "`<` $buffer `,` $access (`,` `offset` $offset^)? `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    bool reads() const { return bitEnumContainsAll(getAccess(), Access::read); }
    bool writes() const {
      return bitEnumContainsAll(getAccess(), Access::write);
    }
  }];
}

def SMEPilot_DispatchAttr : SMEPilot_Attr<"Dispatch", "dispatch"> {
  let summary = "one dispatch of a dispatch table";
  let description = [{
    abi.h's `smepilot_rt_dispatch`: a kernel run over a tile space.

    - `name`: `<phase>_d<i>:<op>`, for traces and errors.
    - `kernel`: the kernel (index into the table's kernels) the vector cores
      run; `sme_kernel`: the matrix unit's variant, or -1 for none.
    - `mode`: `cpu`, `sme` (one call of the SME kernel for all tiles) or
      `collab` (the tiles split by `sme_share`, parts per 65536, rounded to a
      multiple of `tile_granule` tiles).
    - `tiles`: the tile count, an extent.
    - `bindings`: the buffers its kernels bind, in the kernels' binding order.
    - `deps`: earlier dispatches that must be done before it starts, in
      increasing order.
    - `reads_state`: whether its kernel reads a run-time constant or a global
      the phase may write: work that may differ between runs, which
      smepilot-hoist-load-time never moves to load time. Not part of the ABI.

    Example: `#smepilot.dispatch<name = "c1_d0:linalg.fill", kernel = 0,
    tiles = <1>, bindings = [<1, write>], deps = []>`
  }];
  let parameters = (ins
    StringRefParameter<"name">:$name,
    "int64_t":$kernel,
    DefaultValuedParameter<"int64_t", "-1", "SME kernel">:$sme_kernel,
    DefaultValuedParameter<"::mlir::smepilot::ExecMode", "::mlir::smepilot::ExecMode::cpu", "mode">:$mode,
    DefaultValuedParameter<"int64_t", "0", "SME parts per 65536">:$sme_share,
    DefaultValuedParameter<"int64_t", "1", "SME tile multiple">:$tile_granule,
    "ExtentAttr":$tiles,
    SMEPilot_ListParam<"::mlir::smepilot::BindingAttr", "bindings">:$bindings,
    SMEPilot_ListParam<"int64_t", "dependencies">:$deps,
    DefaultValuedParameter<"bool", "false", "reads run state">:$reads_state
  );
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

#endif // SMEPILOT_ATTRS_TD
