// fp8-bucket-gradients (docs/distributed.md, "Buckets"): the gradient averages, in
// the order backward produces them, grouped into buckets of at least bucket_mb MiB
// (the last one smaller), each marked `bucket k` and moved to just before the last
// of its bucket (right after the producer of its last gradient). The loss average
// after the optimizer is no gradient: left alone.
// RUN: fp8-opt %s --fp8-bucket-gradients | FileCheck %s
// One bucket holds everything with the default 25 MiB:
// RUN: sed -e 's/bucket_mb = 1.0e-03 : f64, //' %s | fp8-opt --fp8-bucket-gradients | FileCheck %s --check-prefix=DEFAULT
// The pass option overrides train.config; a second run changes nothing:
// RUN: fp8-opt %s --fp8-bucket-gradients=bucket-mb=1.0 | FileCheck %s --check-prefix=DEFAULT
// RUN: fp8-opt %s --fp8-bucket-gradients --fp8-bucket-gradients | FileCheck %s
// The bucket is carried to rt.all_reduce and the program's all_reduce instruction
// (format version 5); the loss average has none:
// RUN: fp8c %examples/gpt-tiny.yaml --world-size=2 --emit=rt | FileCheck %s --check-prefix=RT
// RUN: fp8c %examples/gpt-tiny.yaml --world-size=2 -o - | FileCheck %s --check-prefix=PROGRAM
// fsdp and world_size 1 are left unchanged:
// RUN: sed -e 's/"ddp"/"fsdp"/' %s | fp8-opt --fp8-bucket-gradients | FileCheck %s --check-prefix=NONE
// RUN: sed -e 's/world_size = 2 : i64}}/world_size = 1 : i64}}/' %s | fp8-opt --fp8-bucket-gradients | FileCheck %s --check-prefix=NONE

// bucket_mb = 0.001 MiB = 1048 bytes: g0 (1024 bytes) + g1 (256) close bucket 0;
// g2 (1024) + g3 (1024) close bucket 1; g4 (256) is the smaller last bucket.
module attributes {train.config = {distributed = {strategy = "ddp", bucket_mb = 1.0e-03 : f64, world_size = 2 : i64}}} {
  // CHECK-LABEL: func.func @train_step(
  func.func @train_step(%a: tensor<256xf32>, %b: tensor<64xf32>, %l: tensor<f32>)
      -> (tensor<f32>, tensor<f32>) {
    // CHECK: %[[G0:.*]] = train.add %{{.*}}, %{{.*}} : tensor<256xf32>
    // CHECK-NEXT: %[[G1:.*]] = train.add %{{.*}}, %{{.*}} : tensor<64xf32>
    // CHECK-NEXT: %[[R0:.*]] = train.all_reduce %[[G0]] reduction avg world_size 2 bucket 0 : tensor<256xf32>
    // CHECK-NEXT: %[[R1:.*]] = train.all_reduce %[[G1]] reduction avg world_size 2 bucket 0 : tensor<64xf32>
    // CHECK-NEXT: %[[G2:.*]] = train.add %[[G0]], %{{.*}} : tensor<256xf32>
    // CHECK-NEXT: %[[G3:.*]] = train.add %[[G2]], %{{.*}} : tensor<256xf32>
    // CHECK-NEXT: %[[R2:.*]] = train.all_reduce %[[G2]] reduction avg world_size 2 bucket 1 : tensor<256xf32>
    // CHECK-NEXT: %[[R3:.*]] = train.all_reduce %[[G3]] reduction avg world_size 2 bucket 1 : tensor<256xf32>
    // CHECK-NEXT: %[[G4:.*]] = train.add %[[G1]], %{{.*}} : tensor<64xf32>
    // CHECK-NEXT: %[[R4:.*]] = train.all_reduce %[[G4]] reduction avg world_size 2 bucket 2 : tensor<64xf32>
    // CHECK-NEXT: train.global_norm %[[R0]], %[[R1]], %[[R2]], %[[R3]], %[[R4]]
    // CHECK: train.all_reduce %{{.*}} reduction avg world_size 2 : tensor<f32>
    %g0 = train.add %a, %a : tensor<256xf32>
    %r0 = train.all_reduce %g0 reduction avg world_size 2 : tensor<256xf32>
    %g1 = train.add %b, %b : tensor<64xf32>
    %r1 = train.all_reduce %g1 reduction avg world_size 2 : tensor<64xf32>
    %g2 = train.add %g0, %a : tensor<256xf32>
    %r2 = train.all_reduce %g2 reduction avg world_size 2 : tensor<256xf32>
    %g3 = train.add %g2, %a : tensor<256xf32>
    %r3 = train.all_reduce %g3 reduction avg world_size 2 : tensor<256xf32>
    %g4 = train.add %g1, %b : tensor<64xf32>
    %r4 = train.all_reduce %g4 reduction avg world_size 2 : tensor<64xf32>
    %n = train.global_norm %r0, %r1, %r2, %r3, %r4
        : (tensor<256xf32>, tensor<64xf32>, tensor<256xf32>, tensor<256xf32>, tensor<64xf32>) -> tensor<f32>
    %loss = train.all_reduce %l reduction avg world_size 2 : tensor<f32>
    return %loss, %n : tensor<f32>, tensor<f32>
  }
}

// DEFAULT-LABEL: func.func @train_step(
// DEFAULT-COUNT-4: train.add
// DEFAULT-NEXT: %[[G4:.*]] = train.add %{{.*}}, %{{.*}} : tensor<64xf32>
// DEFAULT-COUNT-4: train.all_reduce %{{.*}} reduction avg world_size 2 bucket 0 :
// DEFAULT-NEXT: train.all_reduce %[[G4]] reduction avg world_size 2 bucket 0 : tensor<64xf32>
// DEFAULT-NEXT: train.global_norm

// NONE-LABEL: func.func @train_step(
// NONE-NOT: bucket

// RT-LABEL: func.func @train_step(
// RT: rt.all_reduce %{{.*}}, %{{.*}} reduction avg world_size 2 bucket 0 : memref<128xf32>, memref<128xf32>
// RT: rt.all_reduce %{{.*}}, %{{.*}} reduction avg world_size 2 : memref<f32>, memref<f32>

// PROGRAM: "bucket": 0,
// PROGRAM-NEXT: "kind": "all_reduce",
// PROGRAM-NEXT: "reduction": "avg",
