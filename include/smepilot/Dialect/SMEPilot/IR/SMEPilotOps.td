//===- SMEPilotOps.td - smepilot operations -----------------*- tablegen -*-===//
//
// The dialect has no operations yet: its decisions live in attributes on
// upstream ops. Dispatch formation will add ops here.
//
//===----------------------------------------------------------------------===//

#ifndef SMEPILOT_OPS_TD
#define SMEPILOT_OPS_TD

include "smepilot/Dialect/SMEPilot/IR/SMEPilotAttrs.td"

#endif // SMEPILOT_OPS_TD
