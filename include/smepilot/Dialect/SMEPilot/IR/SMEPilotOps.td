//===- SMEPilotOps.td - smepilot operations -----------------*- tablegen -*-===//
//
// Decisions live in attributes on upstream ops. The operations: the dispatch
// table that dispatch formation leaves in place of a phase function, and
// `dot4_u8s8`, the int8 dot product smepilot-tile-cpu emits where no
// upstream vector op expresses it.
//
//===----------------------------------------------------------------------===//

#ifndef SMEPILOT_OPS_TD
#define SMEPILOT_OPS_TD

include "smepilot/Dialect/SMEPilot/IR/SMEPilotAttrs.td"
include "mlir/IR/OpBase.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def SMEPilot_DispatchTableOp : Op<SMEPilot_Dialect, "dispatch_table", [Symbol]> {
  let summary = "The dispatch table of one phase (runtime/include/smepilot_rt/abi.h)";
  let description = [{
    What smepilot-form-dispatches makes of a phase function: the kernels it
    outlined and how the runtime walks them. smepilot-emit-dispatch-tables
    turns it into the constant global `smepilot_table_<sym_name>` laid out as
    `smepilot_rt_dispatch_table` once the kernels are LLVM functions.

    - `kernels`: the kernel functions, `(bindings: !llvm.ptr, constants:
      !llvm.ptr, tile_begin: i64, tile_end: i64)`.
    - `n_constants`: the phase's run-time scalars (its index arguments, in
      order); `n_arguments`: its memref arguments, buffers [0, n_arguments).
    - `buffers`: one `#smepilot.buffer` per buffer, arguments first, then
      temporaries.
    - `dispatches`: one `#smepilot.dispatch` per dispatch, in an order that
      respects their dependencies (each depends on earlier ones only).
    - `chunk`, `last_row_only`: what the compiled model's phase list says of
      the phase (tokens per call; logits of the last position only).

    The verifier checks the parts against each other: every index names a
    kernel, buffer, constant or earlier dispatch of this table; the load
    table (`smepilot.load`) has no constants, no chunk and fixed sizes.

    Example:
    ```mlir
    smepilot.dispatch_table @forward_c1 {kernels = [@forward_c1_k0],
      n_arguments = 1 : i64, n_constants = 1 : i64,
      buffers = [#smepilot.buffer<name = "x", size = <64>>,
                 #smepilot.buffer<name = "tmp0", size = <0 + 16 * c0>>],
      dispatches = [#smepilot.dispatch<name = "forward_c1_d0:scf.forall",
        kernel = 0, tiles = <8>, bindings = [<0, read>, <1, write>],
        deps = []>]}
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name,
                       FlatSymbolRefArrayAttr:$kernels,
                       I64Attr:$n_constants,
                       I64Attr:$n_arguments,
                       TypedArrayAttrBase<SMEPilot_BufferAttr,
                                          "buffers">:$buffers,
                       TypedArrayAttrBase<SMEPilot_DispatchAttr,
                                          "dispatches">:$dispatches,
                       OptionalAttr<I64Attr>:$chunk,
                       UnitAttr:$last_row_only);
  let assemblyFormat = "$sym_name attr-dict";
  let extraClassDeclaration = [{
    auto getBufferList() { return getBuffers().getAsRange<BufferAttr>(); }
    auto getDispatchList() {
      return getDispatches().getAsRange<DispatchAttr>();
    }
    /// Whether this is the load table (abi.h), run once at load.
    bool isLoadTable() { return (*this)->hasAttr(kLoadTableAttr); }
  }];
  let hasVerifier = 1;
}

def SMEPilot_Dot4U8S8Op : Op<SMEPilot_Dialect, "dot4_u8s8",
                              [Pure, AllTypesMatch<["acc", "result"]>,
                               AllTypesMatch<["lhs", "rhs"]>]> {
  let summary = "Per 32-bit lane: acc + the sum of 4 products of unsigned "
                "by signed bytes";
  let description = [{
    `result[i] = acc[i] + sum_{j<4} zext(lhs[4i+j]) * sext(rhs[4i+j])`, in
    i32 without saturation: x86 `vpdpbusd` (AVX512-VNNI; 128 and 256 bits
    with AVX512VL). MLIR's x86vector int8 dot (`x86vector.avx.dot.i8`) is
    `vpdpbssd` (signed by signed, AVX-VNNI-INT8), which AVX512-VNNI CPUs lack.
    smepilot-tile-cpu emits it for int8 dot contractions (`int8-dot`); being
    pure, it passes through bufferization, and smepilot-lower-x86-dot makes
    it the LLVM intrinsic before the conversion to LLVM.

    ```mlir
    %r = smepilot.dot4_u8s8 %acc, %u, %s : vector<32xi8> into vector<8xi32>
    ```
  }];
  let arguments = (ins VectorOfRankAndType<[1], [I32]>:$acc,
                       VectorOfRankAndType<[1], [I8]>:$lhs,
                       VectorOfRankAndType<[1], [I8]>:$rhs);
  let results = (outs VectorOfRankAndType<[1], [I32]>:$result);
  let assemblyFormat =
      "$acc `,` $lhs `,` $rhs attr-dict `:` type($lhs) `into` type($acc)";
  let hasVerifier = 1;
}

#endif // SMEPILOT_OPS_TD
