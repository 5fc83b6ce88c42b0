//===- SMEPilotOps.td - smepilot operations -----------------*- tablegen -*-===//
//
// Decisions live in attributes on upstream ops; the only operation is the
// dispatch table that dispatch formation leaves in place of a phase function.
//
//===----------------------------------------------------------------------===//

#ifndef SMEPILOT_OPS_TD
#define SMEPILOT_OPS_TD

include "smepilot/Dialect/SMEPilot/IR/SMEPilotAttrs.td"
include "mlir/IR/OpBase.td"
include "mlir/IR/SymbolInterfaces.td"

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

#endif // SMEPILOT_OPS_TD
