// RUN: rm -rf %t && mkdir -p %t
// RUN: smepilot-opt %S/../Examples/llama3.2-3b-decode.mlir --smepilot-roofline-annotate=profile=apple-m4 --smepilot-roofline-report=output=%t/decode -o /dev/null
// RUN: FileCheck %s --check-prefix=TXT < %t/decode.txt
// RUN: FileCheck %s --check-prefix=CSV < %t/decode.csv
// RUN: FileCheck %s --check-prefix=JSON < %t/decode.json
// RUN: FileCheck %s --check-prefix=SVG < %t/decode.svg
// RUN: smepilot-opt %S/../Examples/llama3.2-3b-decode.mlir --smepilot-roofline-annotate=profile=apple-m4 --smepilot-roofline-report -o /dev/null | FileCheck %s --check-prefix=TXT
// RUN: not smepilot-opt %S/../Examples/llama3.2-3b-decode.mlir --smepilot-roofline-report -o /dev/null 2>&1 | FileCheck %s --check-prefix=NOTARGET
// RUN: not smepilot-opt %S/../Examples/llama3.2-3b-decode.mlir --smepilot-roofline-annotate=profile=apple-m4 --smepilot-roofline-report=output=%t/missing-dir/r -o /dev/null 2>&1 | FileCheck %s --check-prefix=NODIR
/// Output files (docs/tools.md): a report file that would replace a
/// directory or the input is refused, and the input stays as it was; a
/// stdout that fails is an error; no temporary is left behind.
// RUN: mkdir -p %t/dir.txt
// RUN: not smepilot-opt %S/../Examples/llama3.2-3b-decode.mlir --smepilot-roofline-annotate=profile=apple-m4 --smepilot-roofline-report=output=%t/dir -o /dev/null 2>&1 | FileCheck %s --check-prefix=NOTREGULAR
// RUN: cp %S/../Examples/llama3.2-3b-decode.mlir %t/in.txt
// RUN: not smepilot-opt %t/in.txt --smepilot-roofline-annotate=profile=apple-m4 --smepilot-roofline-report=output=%t/in -o /dev/null 2>&1 | FileCheck %s --check-prefix=INPUT
// RUN: diff %S/../Examples/llama3.2-3b-decode.mlir %t/in.txt
// RUN: not smepilot-opt %S/../Examples/llama3.2-3b-decode.mlir --smepilot-roofline-annotate=profile=apple-m4 --smepilot-roofline-report -o /dev/null > /dev/full 2> %t/full.err
// RUN: FileCheck %s --check-prefix=FULL < %t/full.err
// RUN: ls %t | FileCheck %s --check-prefix=NOTEMP

/// The table: a header naming the profile, one row per op, totals and the
/// model's assumptions.
// TXT: SMEPilot Roofline report, profile 'apple-m4' (aarch64, 4 vector cores, 1 matrix unit(s), SVL 512
// TXT: # op             class        elem          flops        bytes     flop/B     cpu_us     sme_us  collab_us mode
// TXT: 4 matmul         gemv         bf16       18874368
// TXT-SAME: collab
// TXT: softmax        softmax      f32
// TXT: ops: 37 (cpu 30, sme 0, collab 7)
// TXT: predicted time: {{[0-9.]+}} us with these modes, {{[0-9.]+}} us all on the vector cores (x1.{{[0-9]+}})
// TXT: model assumptions:
// TXT: predictions, not measurements

// CSV: index,function,location,kind,shape_class,elem,flops,weight_bytes,act_bytes,intensity,cpu_us,sme_us,collab_us,mode,sme_fraction,bound,vectorization,reason,assumed
// CSV: 4,llama3_2_3b_decode_layer,llama3.2-3b-decode.mlir:{{[0-9]+}},matmul,gemv,bf16,18874368,18874368,30720,

// JSON: "assumptions": [
// JSON: "ops": [
// JSON: "kind": "fill"
// JSON: "kind": "matmul"
// JSON: "mode": "collab"
// JSON: "profile": "apple-m4"

/// The chart: an SVG with one roof per unit and element type, and the ops.
// SVG: <svg xmlns="http://www.w3.org/2000/svg"
// SVG: Roofline: apple-m4 (predicted)
// SVG-DAG: CPU bf16:
// SVG-DAG: SME bf16:
// SVG-DAG: CPU f32:
// SVG-DAG: CPU+SME bf16:
// SVG: <circle class="op"
// SVG: </svg>

// NOTARGET: error: smepilot-roofline-report: the module has no 'smepilot.target': run smepilot-roofline-annotate first
// NODIR: error: smepilot-roofline-report: cannot write '{{.*}}missing-dir/r.txt'
// NOTREGULAR: error: smepilot-roofline-report: cannot write '{{.*}}dir.txt': is a directory, not a regular file
// INPUT: error: smepilot-roofline-report: cannot write '{{.*}}in.txt': is the input file {{.*}}in.txt; refusing to overwrite it
// FULL: error: smepilot-roofline-report: cannot write to standard output: No space left on device
// NOTEMP-NOT: .tmp-
// NOTEMP: decode.txt
// NOTEMP-NOT: .tmp-
