// RUN: fp8-opt %s -cse -canonicalize -split-input-file | FileCheck %s

// rt.kernel, rt.gemm and rt.copy read their input buffers and write their
// output buffers (test/unit/FP8DialectTest.cpp checks each operand's effect).
// They have no results, but writing keeps them alive, and two identical
// launches are two writes: CSE merges neither, while it does merge the pure
// buffer views they use.

// CHECK-LABEL: func.func @identical_writes_stay(
func.func @identical_writes_stay() {
  // CHECK: %[[A:.*]] = rt.arena
  // CHECK-NEXT: %[[X:.*]] = rt.buffer %[[A]][0] : memref<64x64xbf16>
  // CHECK-NEXT: %[[Y:.*]] = rt.buffer %[[A]][8192] : memref<64x64xbf16>
  // CHECK-NEXT: rt.kernel "gelu_0" ins(%[[X]] : {{.*}}) outs(%[[Y]] : {{.*}})
  // CHECK: rt.kernel "gelu_0" ins(%[[X]] : {{.*}}) outs(%[[Y]] : {{.*}})
  // CHECK: rt.gemm %[[X]], %[[X]] -> %[[Y]]
  // CHECK-NEXT: rt.gemm %[[X]], %[[X]] -> %[[Y]]
  // CHECK-NEXT: rt.copy %[[X]], %[[Y]]
  // CHECK-NEXT: rt.copy %[[X]], %[[Y]]
  // CHECK-NEXT: return
  %arena = rt.arena size 16384 : !rt.arena
  %x = rt.buffer %arena[0] : memref<64x64xbf16>
  %y = rt.buffer %arena[8192] : memref<64x64xbf16>
  %x2 = rt.buffer %arena[0] : memref<64x64xbf16>
  %y2 = rt.buffer %arena[8192] : memref<64x64xbf16>
  rt.kernel "gelu_0" ins(%x : memref<64x64xbf16>) outs(%y : memref<64x64xbf16>) {
  ^bb0(%a: tensor<64x64xbf16>):
    %g = train.gelu %a approximate none : tensor<64x64xbf16>
    rt.yield %g : tensor<64x64xbf16>
  }
  rt.kernel "gelu_0" ins(%x2 : memref<64x64xbf16>) outs(%y2 : memref<64x64xbf16>) {
  ^bb0(%a: tensor<64x64xbf16>):
    %g = train.gelu %a approximate none : tensor<64x64xbf16>
    rt.yield %g : tensor<64x64xbf16>
  }
  rt.gemm %x, %x -> %y : memref<64x64xbf16>, memref<64x64xbf16>, memref<64x64xbf16>
  rt.gemm %x2, %x2 -> %y2 : memref<64x64xbf16>, memref<64x64xbf16>, memref<64x64xbf16>
  rt.copy %x, %y : memref<64x64xbf16>, memref<64x64xbf16>
  rt.copy %x2, %y2 : memref<64x64xbf16>, memref<64x64xbf16>
  return
}

// -----

// Views nobody uses are dead; the ops that write through views are not, even
// when nothing reads what they write.
// CHECK-LABEL: func.func @writes_are_not_dead(
func.func @writes_are_not_dead() {
  // CHECK: %[[A:.*]] = rt.arena
  // CHECK-NEXT: %[[S:.*]] = rt.buffer %[[A]][0] : memref<f32>
  // CHECK-NEXT: %[[T:.*]] = rt.buffer %[[A]][256] : memref<f32>
  // CHECK-NEXT: rt.kernel "zero" outs(%[[S]] : memref<f32>)
  // CHECK: rt.copy %[[S]], %[[T]]
  // CHECK-NEXT: return
  %arena = rt.arena size 1024 : !rt.arena
  %s = rt.buffer %arena[0] : memref<f32>
  %t = rt.buffer %arena[256] : memref<f32>
  %unused = rt.buffer %arena[512] : memref<f32>
  rt.kernel "zero" outs(%s : memref<f32>) {
    %z = arith.constant dense<0.0> : tensor<f32>
    rt.yield %z : tensor<f32>
  }
  rt.copy %s, %t : memref<f32>, memref<f32>
  return
}
