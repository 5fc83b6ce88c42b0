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
// CHECK-SAME: {bindings = array<i64: {{[0-9, ]+}}>, deps = array<i64{{[0-9:, ]*}}>, kernel = [[K:[0-9]+]] : i64, mode = 1 : i64, name = "forward_c1_d{{[0-9]+}}:func.call", sme_kernel = [[K]] : i64, tiles = array<i64: 1, 0, -1>}
/// The vector-core dispatches around them keep their tile spaces (no mode:
/// cpu).
// CHECK-SAME: kernel = {{[0-9]+}} : i64, name = "forward_c1_d{{[0-9]+}}:scf.forall", tiles = array<i64: 4, 0, -1>}
// CHECK-NOT: smepilot_layer_c1(
