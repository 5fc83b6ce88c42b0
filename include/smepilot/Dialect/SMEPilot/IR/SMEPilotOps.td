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
    - `buffers`: one dictionary per buffer, `{name, size = [base, scale,
      constant], alignment}` (size in bytes, `base + scale * constants[c]`,
      c = -1 for a fixed size); arguments first, then temporaries.
    - `dispatches`: one dictionary per dispatch, in execution order: `{name,
      kernel, mode, tiles = [base, scale, constant], bindings = [buffer,
      access, ...], deps = [dispatch, ...]}` with access 1 = read, 2 = write,
      3 = both.

    Example:
    ```mlir
    smepilot.dispatch_table @forward_c1 {kernels = [@forward_c1_k0],
      n_arguments = 3 : i64, n_constants = 1 : i64, buffers = [...],
      dispatches = [{kernel = 0 : i64, tiles = array<i64: 8, 0, -1>, ...} ]}
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name,
                       FlatSymbolRefArrayAttr:$kernels,
                       I64Attr:$n_constants,
                       I64Attr:$n_arguments,
                       DictArrayAttr:$buffers,
                       DictArrayAttr:$dispatches);
  let assemblyFormat = "$sym_name attr-dict";
  let hasVerifier = 1;
}

#endif // SMEPILOT_OPS_TD
