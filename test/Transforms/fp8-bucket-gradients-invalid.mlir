// fp8-bucket-gradients delays a bucket's collectives to its last one; a gradient
// average read before that point cannot be delayed: a located error, not a
// reordering that would break dominance.
// RUN: not fp8-opt %s --fp8-bucket-gradients 2>&1 | FileCheck %s
module attributes {train.config = {distributed = {strategy = "ddp", world_size = 2 : i64}}} {
  func.func @train_step(%a: tensor<256xf32>, %b: tensor<64xf32>) -> tensor<f32> {
    %g0 = train.add %a, %a : tensor<256xf32>
    // CHECK: fp8-bucket-gradients-invalid.mlir:[[@LINE+1]]:11: error: fp8-bucket-gradients: cannot delay this collective to the end of its bucket: it is read before
    %r0 = train.all_reduce %g0 reduction avg world_size 2 : tensor<256xf32>
    // CHECK: fp8-bucket-gradients-invalid.mlir:[[@LINE+1]]:12: note: read here
    %use = train.add %r0, %a : tensor<256xf32>
    %g1 = train.add %b, %b : tensor<64xf32>
    %r1 = train.all_reduce %g1 reduction avg world_size 2 : tensor<64xf32>
    %n = train.global_norm %use, %r1 : (tensor<256xf32>, tensor<64xf32>) -> tensor<f32>
    return %n : tensor<f32>
  }
}

// A hand-written train.config whose topology does not multiply to world_size.
// RUN: sed -e 's/world_size = 2 : i64}}/world_size = 2 : i64, nodes = 3 : i64, gpus_per_node = 1 : i64}}/' %s | not fp8-opt --fp8-bucket-gradients 2>&1 | FileCheck %s --check-prefix=TOPOLOGY
// TOPOLOGY: error: train.config: distributed.nodes (3) x gpus_per_node (1) must be world_size (2)
