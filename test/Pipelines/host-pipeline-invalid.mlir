// RUN: not smepilot-opt %s --smepilot-host-pipeline=stop-after=nowhere 2>&1 | FileCheck %s

/// An unknown stage name is an error that lists the stages.
// CHECK: smepilot-host-pipeline: unknown stop-after stage 'nowhere' (stages: annotate, decompose, fuse, dispatch-regions, vectorize, approximate-math, bufferize, dispatch, lower-to-llvm)
func.func @f() {
  return
}
