// What the graph builder cannot express is rejected with a message and a
// failing exit code, before any IR is printed.
//
// RUN: not smepilot-build-model --preset=qwen3moe-tiny --n-expert-used=9 2>&1 | FileCheck %s --check-prefix=TOPK
// RUN: not smepilot-build-model --preset=qwen3moe-tiny --n-ff-expert=0 2>&1 | FileCheck %s --check-prefix=FFE
// RUN: not smepilot-build-model --preset=qwen3-tiny --n-expert=4 2>&1 | FileCheck %s --check-prefix=DENSE
// RUN: not smepilot-build-model --preset=qwen3moe-tiny --expert-gating=relu 2>&1 | FileCheck %s --check-prefix=GATING
// RUN: not smepilot-build-model --preset=stories260k --arch=gpt2 2>&1 | FileCheck %s --check-prefix=ARCH
// RUN: not smepilot-build-model --preset=stories260k --n-head-kv=3 2>&1 | FileCheck %s --check-prefix=GQA
// RUN: not smepilot-build-model --preset=stories260k --rope-dim=7 2>&1 | FileCheck %s --check-prefix=ODD
// RUN: not smepilot-build-model --preset=stories260k --rope-dim=4 2>&1 | FileCheck %s --check-prefix=PARTIAL
// RUN: not smepilot-build-model --preset=stories260k --n-ff=0 2>&1 | FileCheck %s --check-prefix=ZERO
// RUN: not smepilot-build-model --preset=stories260k --chunk-sizes=1,32 --n-ctx=16 2>&1 | FileCheck %s --check-prefix=CHUNK
// RUN: not smepilot-build-model --preset=stories260k --chunk-sizes=4,4 2>&1 | FileCheck %s --check-prefix=TWICE
// RUN: not smepilot-build-model --preset=stories260k --rope-theta=0 2>&1 | FileCheck %s --check-prefix=THETA
// RUN: not smepilot-build-model --preset=llama4 2>&1 | FileCheck %s --check-prefix=PRESET

// TOPK: error: n_expert_used = 9 > n_expert = 8
// TOPK-NOT: func.func
// FFE: error: n_ff_expert = 0: must be positive
// DENSE: error: n_expert = 4 in a 'qwen3' model: only qwen3moe has experts
// GATING: error: --expert-gating=relu: expected softmax or sigmoid
// ARCH: error: unknown architecture 'gpt2' (the graph builder supports llama, qwen3, qwen3moe)
// GQA: error: n_head = 8 is not a multiple of n_head_kv = 3 (grouped-query attention)
// ODD: error: rope_dim = 7: RoPE rotates pairs, the size must be even
// PARTIAL: error: rope_dim = 4 != head_dim = 8: partial rotary embeddings are not supported by the graph builder yet
// PARTIAL-NOT: func.func
// ZERO: error: n_ff = 0: must be positive
// CHUNK: error: chunk size 32 is outside [1, n_ctx = 16]
// TWICE: error: chunk size 4 is listed twice
// THETA: error: rope_theta = 0{{.*}}: must be positive and finite
// PRESET: error: unknown preset 'llama4' (expected one of stories260k, qwen3-tiny, llama3-tiny, qwen3moe-tiny)
