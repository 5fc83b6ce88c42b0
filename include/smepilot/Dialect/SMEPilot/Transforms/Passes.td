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
    Option<"forceMode", "force-mode", "std::string", /*default=*/"\"\"",
           "Force cpu, sme or collab on every op that can run in that mode">,
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
    Existing files are replaced only as a whole (written to a temporary
    file, then renamed). The IR is not changed.
  }];
  let options = [
    Option<"output", "output", "std::string", /*default=*/"\"-\"",
           "Output path prefix, or - for the text table on stdout">
  ];
}

#endif // SMEPILOT_TRANSFORMS_PASSES_TD
