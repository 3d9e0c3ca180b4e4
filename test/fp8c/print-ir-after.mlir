// --mlir-print-ir-after=<pass> shows that pass alone. (The block returns hidden
// states, not a loss, so it stops at the forward stage.)
// RUN: fp8c %examples/llama-block.mlir --emit=forward --mlir-print-ir-after=cse -o /dev/null 2>&1 | FileCheck %s

// CHECK-NOT: IR Dump After Canonicalizer
// CHECK: IR Dump After CSE (cse)
// CHECK-LABEL: func.func @forward
// CHECK: train.attention {{.*}} {causal, n_heads = 8 : i64, n_kv_heads = 2 : i64, rope_theta = 1.000000e+04 : f64}
// CHECK-NOT: IR Dump After
