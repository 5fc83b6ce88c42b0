//===- SMEPilotDialect.td - the smepilot dialect ------------*- tablegen -*-===//

#ifndef SMEPILOT_DIALECT_TD
#define SMEPILOT_DIALECT_TD

include "mlir/IR/OpBase.td"

def SMEPilot_Dialect : Dialect {
  let name = "smepilot";
  let summary = "Hardware profiles and per-operator execution decisions for SMEPilot";
  let description = [{
    The smepilot dialect carries what SMEPilot's compiler decides about a model
    graph, as attributes on ordinary linalg IR:

    - `#smepilot.target<...>` on the module: the hardware profile (vector
      cores, matrix units, peaks per element type, bandwidths). Passes read
      the machine from here, never from the host.
    - `#smepilot.decision<...>` on each linalg op: the Roofline numbers and the
      chosen execution mode (cpu, sme or collab) with the collaborative split.
    - `#smepilot.layout<...>`: a packed tensor layout (tile sizes, order) that
      layout propagation and tiling consume.
  }];
  let cppNamespace = "::mlir::smepilot";
  let useDefaultAttributePrinterParser = 1;
  let extraClassDeclaration = [{
    void registerAttributes();
  }];
}

#endif // SMEPILOT_DIALECT_TD
