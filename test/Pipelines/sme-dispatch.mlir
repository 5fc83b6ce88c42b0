// RUN: smepilot-build-model --preset=stories260k --chunk-sizes=1 --n-ctx=16 \
// RUN:   | smepilot-opt --smepilot-sme-pipeline="target=sme-sve all-contractions=true stop-after=dispatch" \
// RUN:   | FileCheck %s

/// On the SME path the phases become dispatch tables as on the host. The
/// SME kernels smepilot-tile-sme outlined stay functions of their own
/// (streaming mode and ZA are theirs alone) and are called from dispatch
/// kernels; a dispatch that calls one runs on the matrix unit: mode sme,
/// with its SME variant set, as one tile.
// CHECK: func.func private @smepilot_layer_c1_sme0(
// CHECK: func.func @forward_c1_k{{[0-9]+}}(
// CHECK: call @smepilot_layer_c1_sme0(
// CHECK-LABEL: smepilot.dispatch_table @forward_c1
// CHECK-SAME: #smepilot.dispatch<name = "forward_c1_d{{[0-9]+}}:func.call", kernel = [[K:[0-9]+]], sme_kernel = [[K]], mode = sme, tiles = <1>, bindings = [<{{[0-9a-z|<>, ]+}}>], deps = [{{[0-9, ]*}}]>
/// The vector-core dispatches around them keep their tile spaces (no mode:
/// cpu).
// CHECK-SAME: #smepilot.dispatch<name = "forward_c1_d{{[0-9]+}}:scf.forall", kernel = {{[0-9]+}}, tiles = <4>, bindings
// CHECK-NOT: smepilot_layer_c1(
