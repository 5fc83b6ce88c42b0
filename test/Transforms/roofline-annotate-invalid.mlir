// RUN: smepilot-opt %s -split-input-file -verify-diagnostics --smepilot-roofline-annotate=profile=apple-m4
// RUN: not smepilot-opt %s -split-input-file --smepilot-roofline-annotate="profile=apple-m4 dynamic-size=0" 2>&1 | FileCheck %s --check-prefix=NODYN
// RUN: not smepilot-opt %s --smepilot-roofline-annotate=profile=apple-m9 2>&1 | FileCheck %s --check-prefix=BADPROFILE
// RUN: not smepilot-opt %s --smepilot-roofline-annotate=profile=%S/Inputs/bad-profile.json 2>&1 | FileCheck %s --check-prefix=BADFILE
// RUN: not smepilot-opt %s --smepilot-roofline-annotate="profile=apple-m4 force-mode=gpu" 2>&1 | FileCheck %s --check-prefix=BADMODE
// RUN: %python -c 'print("[" * 100000 + "]" * 100000)' > %t.deep.json
// RUN: not smepilot-opt %s --smepilot-roofline-annotate=profile=%t.deep.json 2>&1 | FileCheck %s --check-prefix=DEEP
// RUN: %python -c 'print("{\"a\": " * 65 + "1" + "}" * 65)' > %t.deep65.json
// RUN: not smepilot-opt %s --smepilot-roofline-annotate=profile=%t.deep65.json 2>&1 | FileCheck %s --check-prefix=DEEP65
// RUN: %python -c 'print("{\"a\": " * 64 + "1" + "}" * 64)' > %t.deep64.json
// RUN: not smepilot-opt %s --smepilot-roofline-annotate=profile=%t.deep64.json 2>&1 | FileCheck %s --check-prefix=DEEP64
// RUN: not smepilot-opt %s -split-input-file --smepilot-roofline-annotate="profile=host-x86 force-kind=matmul:sme" 2>&1 | FileCheck %s --check-prefix=NOUNIT

// BADPROFILE: error: smepilot-roofline-annotate: unknown hardware profile 'apple-m9' (built-in profiles: apple-m4, host-x86, phone-c1-sme2, xeon6-amx; or give a path to a .json profile)
// BADFILE: error: smepilot-roofline-annotate: {{.*}}bad-profile.json: field 'vector.ghz': expected a number
// BADMODE: for the --force-mode option: Cannot find option named 'gpu'!
/// JSON nested deeper than 64 levels is refused before it is parsed (the
/// parser recurses once per level: 100000 levels overflowed the stack); 64
/// levels pass to the field checks.
// DEEP: error: smepilot-roofline-annotate: {{.*}}deep.json: invalid JSON: arrays and objects nest deeper than 64 levels (at byte offset 64)
// DEEP65: error: smepilot-roofline-annotate: {{.*}}deep65.json: invalid JSON: arrays and objects nest deeper than 64 levels (at byte offset 384)
// DEEP64: error: smepilot-roofline-annotate: {{.*}}deep64.json: field 'name': missing
// NOUNIT: error: smepilot-roofline-annotate: cannot force mode sme: target 'host-x86' has no matrix unit

/// A payload op the model has no cost for.
func.func @unknown_payload(%a: tensor<8xf32>, %o: tensor<8xf32>) -> tensor<8xf32> {
  // expected-error @+1 {{'linalg.generic' op cannot be costed: payload op 'func.call' has no known cost}}
  %0 = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>],
                       iterator_types = ["parallel"]}
      ins(%a : tensor<8xf32>) outs(%o : tensor<8xf32>) {
  ^bb0(%x: f32, %y: f32):
    %r = func.call @opaque(%x) : (f32) -> f32
    linalg.yield %r : f32
  } -> tensor<8xf32>
  return %0 : tensor<8xf32>
}
func.func private @opaque(f32) -> f32

// -----

/// Complex numbers have no size in the model.
func.func @complex_elems(%a: tensor<8xcomplex<f32>>, %o: tensor<8xcomplex<f32>>) -> tensor<8xcomplex<f32>> {
  // expected-error @+1 {{'linalg.copy' op cannot be costed: element type 'complex<f32>' has no size the Roofline model knows}}
  %0 = linalg.copy ins(%a : tensor<8xcomplex<f32>>) outs(%o : tensor<8xcomplex<f32>>) -> tensor<8xcomplex<f32>>
  return %0 : tensor<8xcomplex<f32>>
}

// -----

/// With dynamic-size=0 dynamic shapes are refused (checked by the NODYN run;
/// this run assumes 128 and passes).
// NODYN: error: 'linalg.matmul' op cannot be costed: loop dimension d0 is dynamic and no size may be assumed (dynamic-size=0)
func.func @dynamic(%a: tensor<?x64xf32>, %b: tensor<64x128xf32>,
                   %c: tensor<?x128xf32>) -> tensor<?x128xf32> {
  %0 = linalg.matmul ins(%a, %b : tensor<?x64xf32>, tensor<64x128xf32>)
                     outs(%c : tensor<?x128xf32>) -> tensor<?x128xf32>
  return %0 : tensor<?x128xf32>
}
