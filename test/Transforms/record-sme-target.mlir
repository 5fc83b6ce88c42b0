// RUN: smepilot-opt %s --smepilot-record-sme-target | FileCheck %s --check-prefix=DEFAULT
// RUN: smepilot-opt %s --smepilot-record-sme-target=target=sme2-nosve | FileCheck %s --check-prefix=NOSVE
// RUN: smepilot-opt %s --smepilot-record-sme-target=target=sme2-nosve --smepilot-record-sme-target=target=sme-sve | FileCheck %s --check-prefix=DEFAULT
// RUN: not smepilot-opt %s --smepilot-record-sme-target=target=sme3 2>&1 | FileCheck %s --check-prefix=BADTARGET

/// The target becomes a string attribute of the module (sme-sve by default);
/// a later run replaces it. The IR itself is not changed.
// DEFAULT: module attributes {smepilot.sme_target = "sme-sve"}
// DEFAULT-NEXT: func.func @f(%{{.*}}: f32) -> f32
// DEFAULT-NEXT: return
// NOSVE: module attributes {smepilot.sme_target = "sme2-nosve"}
// NOSVE-NEXT: func.func @f(

/// The option only takes the known targets.
// BADTARGET: for the --target option: Cannot find option named 'sme3'!
func.func @f(%x: f32) -> f32 {
  return %x : f32
}
