// RUN: fp8-opt %s -split-input-file -verify-diagnostics

// Every diagnostic of lib/Dialect/RT/IR/RTOps.cpp, matched in full, plus a few
// ODS constraint errors.

//===----------------------------------------------------------------------===//
// rt.arena, rt.buffer
//===----------------------------------------------------------------------===//

func.func @negative_arena() {
  // expected-error @+1 {{'rt.arena' op arena size must be >= 0, got -256}}
  %arena = rt.arena size -256 : !rt.arena
  return
}

// -----

func.func @unaligned_offset() {
  %arena = rt.arena size 65536 : !rt.arena
  // expected-error @+1 {{'rt.buffer' op offset 128 is not a non-negative multiple of 256 bytes}}
  %x = rt.buffer %arena[128] : memref<64xf32>
  return
}

// -----

func.func @negative_offset(%arena: !rt.arena) {
  // expected-error @+1 {{'rt.buffer' op offset -256 is not a non-negative multiple of 256 bytes}}
  %x = rt.buffer %arena[-256] : memref<64xf32>
  return
}

// -----

func.func @buffer_past_arena_end() {
  %arena = rt.arena size 4096 : !rt.arena
  // 64x16xf32 is 4096 bytes: at offset 256 it ends 256 bytes past the arena.
  // expected-error @+1 {{'rt.buffer' op buffer [256, 4352) lies outside the arena of 4096 bytes}}
  %x = rt.buffer %arena[256] : memref<64x16xf32>
  return
}

// -----

func.func @buffer_offset_past_arena_end() {
  %arena = rt.arena size 0 : !rt.arena
  // expected-error @+1 {{'rt.buffer' op buffer [256, 256) lies outside the arena of 0 bytes}}
  %x = rt.buffer %arena[256] : memref<0xf32>
  return
}

// -----

// offset + size overflows int64_t: it must not wrap around into the arena.
func.func @buffer_end_overflows() {
  %arena = rt.arena size 1024 : !rt.arena
  // expected-error @+1 {{'rt.buffer' op buffer [9223372036854775552, 9223372036854776576) lies outside the arena of 1024 bytes}}
  %x = rt.buffer %arena[9223372036854775552] : memref<256xf32>
  return
}

// -----

// 2^61 x 4 x 1 byte = 2^63 bytes: the size itself does not fit in int64_t.
func.func @buffer_size_overflows() {
  %arena = rt.arena size 1024 : !rt.arena
  // expected-error @+1 {{'rt.buffer' op buffer 'memref<2305843009213693952x4xi8>' spans more than 2^63 - 1 bytes}}
  %x = rt.buffer %arena[0] : memref<2305843009213693952x4xi8>
  return
}

// -----

func.func @dynamic_buffer(%arena: !rt.arena) {
  // expected-error @+1 {{'rt.buffer' op buffer must be a static, dense row-major memref, got 'memref<?x64xf32>'}}
  %x = rt.buffer %arena[0] : memref<?x64xf32>
  return
}

// -----

func.func @strided_buffer(%arena: !rt.arena) {
  // expected-error @+1 {{'rt.buffer' op buffer must be a static, dense row-major memref, got 'memref<64x64xf32, strided<[128, 1]>>'}}
  %x = rt.buffer %arena[0] : memref<64x64xf32, strided<[128, 1]>>
  return
}

// -----

//===----------------------------------------------------------------------===//
// rt.kernel
//===----------------------------------------------------------------------===//

func.func @kernel_name_starts_with_digit(%x: memref<64xf32>) {
  // expected-error @+1 {{'rt.kernel' op kernel name '0_gelu' is not a C identifier}}
  rt.kernel "0_gelu" outs(%x : memref<64xf32>) {
    %z = arith.constant dense<0.0> : tensor<64xf32>
    rt.yield %z : tensor<64xf32>
  }
  return
}

// -----

func.func @kernel_name_with_dot(%x: memref<64xf32>) {
  // expected-error @+1 {{'rt.kernel' op kernel name 'mlp.gelu' is not a C identifier}}
  rt.kernel "mlp.gelu" outs(%x : memref<64xf32>) {
    %z = arith.constant dense<0.0> : tensor<64xf32>
    rt.yield %z : tensor<64xf32>
  }
  return
}

// -----

func.func @kernel_name_empty(%x: memref<64xf32>) {
  // expected-error @+1 {{'rt.kernel' op kernel name '' is not a C identifier}}
  rt.kernel "" outs(%x : memref<64xf32>) {
    %z = arith.constant dense<0.0> : tensor<64xf32>
    rt.yield %z : tensor<64xf32>
  }
  return
}

// -----

// The custom form cannot spell an empty `outs`; the generic form can.
func.func @kernel_without_outputs(%x: memref<64xf32>) {
  // expected-error @+1 {{'rt.kernel' op a kernel must write at least one output buffer}}
  "rt.kernel"(%x) <{name = "sink", operandSegmentSizes = array<i32: 1, 0>}> ({
  ^bb0(%a: tensor<64xf32>):
    "rt.yield"() : () -> ()
  }) : (memref<64xf32>) -> ()
  return
}

// -----

func.func @kernel_dynamic_input(%x: memref<?xf32>, %y: memref<64xf32>) {
  // expected-error @+1 {{'rt.kernel' op kernel operand must be a static, dense row-major memref, got 'memref<?xf32>'}}
  rt.kernel "k" ins(%x : memref<?xf32>) outs(%y : memref<64xf32>) {
  ^bb0(%a: tensor<?xf32>):
    %z = arith.constant dense<0.0> : tensor<64xf32>
    rt.yield %z : tensor<64xf32>
  }
  return
}

// -----

func.func @kernel_strided_output(%x: memref<64xf32>, %y: memref<64xf32, strided<[2]>>) {
  // expected-error @+1 {{'rt.kernel' op kernel operand must be a static, dense row-major memref, got 'memref<64xf32, strided<[2]>>'}}
  rt.kernel "k" ins(%x : memref<64xf32>) outs(%y : memref<64xf32, strided<[2]>>) {
  ^bb0(%a: tensor<64xf32>):
    rt.yield %a : tensor<64xf32>
  }
  return
}

// -----

func.func @kernel_body_argument_count(%x: memref<64xf32>, %y: memref<64xf32>) {
  // expected-error @+1 {{'rt.kernel' op body has 0 arguments, expected one per input buffer (1)}}
  rt.kernel "k" ins(%x : memref<64xf32>) outs(%y : memref<64xf32>) {
    %z = arith.constant dense<0.0> : tensor<64xf32>
    rt.yield %z : tensor<64xf32>
  }
  return
}

// -----

func.func @kernel_body_argument_type(%x: memref<64xbf16>, %y: memref<64xf32>) {
  // expected-error @+1 {{'rt.kernel' op body argument #0 has type 'tensor<64xf32>', expected 'tensor<64xbf16>'}}
  rt.kernel "k" ins(%x : memref<64xbf16>) outs(%y : memref<64xf32>) {
  ^bb0(%a: tensor<64xf32>):
    rt.yield %a : tensor<64xf32>
  }
  return
}

// -----

func.func @kernel_yield_count(%x: memref<64xf32>, %y: memref<64xf32>) {
  // expected-error @+1 {{'rt.kernel' op rt.yield gives 2 values, expected one per output buffer (1)}}
  rt.kernel "k" ins(%x : memref<64xf32>) outs(%y : memref<64xf32>) {
  ^bb0(%a: tensor<64xf32>):
    rt.yield %a, %a : tensor<64xf32>, tensor<64xf32>
  }
  return
}

// -----

func.func @kernel_yield_type(%x: memref<64xf32>, %y: memref<64xbf16>) {
  // expected-error @+1 {{'rt.kernel' op rt.yield value #0 has type 'tensor<64xf32>', expected 'tensor<64xbf16>'}}
  rt.kernel "k" ins(%x : memref<64xf32>) outs(%y : memref<64xbf16>) {
  ^bb0(%a: tensor<64xf32>):
    rt.yield %a : tensor<64xf32>
  }
  return
}

// -----

func.func @kernel_body_uses_outer_value(%x: memref<64xf32>, %y: memref<64xf32>) {
  %c = arith.constant dense<0.0> : tensor<64xf32>
  // expected-note @+1 {{required by region isolation constraints}}
  rt.kernel "k" ins(%x : memref<64xf32>) outs(%y : memref<64xf32>) {
  ^bb0(%a: tensor<64xf32>):
    // expected-error @+1 {{'rt.yield' op using value defined outside the region}}
    rt.yield %c : tensor<64xf32>
  }
  return
}

// -----

//===----------------------------------------------------------------------===//
// rt.fusion
//===----------------------------------------------------------------------===//

func.func @fusion_name(%x: tensor<64xf32>) -> tensor<64xf32> {
  // expected-error @+1 {{'rt.fusion' op fusion name 'a-b' is not a C identifier}}
  %r = rt.fusion "a-b" (%x) : (tensor<64xf32>) -> tensor<64xf32> {
  ^bb0(%a: tensor<64xf32>):
    rt.yield %a : tensor<64xf32>
  }
  return %r : tensor<64xf32>
}

// -----

func.func @fusion_without_results(%x: tensor<64xf32>) {
  // expected-error @+1 {{'rt.fusion' op a fusion must produce at least one result}}
  rt.fusion "f" (%x) : (tensor<64xf32>) -> () {
  ^bb0(%a: tensor<64xf32>):
    rt.yield
  }
  return
}

// -----

func.func @fusion_argument_type(%x: tensor<64xf32>) -> tensor<64xf32> {
  // expected-error @+1 {{'rt.fusion' op body argument #0 has type 'tensor<64xbf16>', expected 'tensor<64xf32>'}}
  %r = rt.fusion "f" (%x) : (tensor<64xf32>) -> tensor<64xf32> {
  ^bb0(%a: tensor<64xbf16>):
    %c = train.convert %a : tensor<64xbf16> -> tensor<64xf32>
    rt.yield %c : tensor<64xf32>
  }
  return %r : tensor<64xf32>
}

// -----

func.func @fusion_yield_type(%x: tensor<64xf32>) -> tensor<64xbf16> {
  // expected-error @+1 {{'rt.fusion' op rt.yield value #0 has type 'tensor<64xf32>', expected 'tensor<64xbf16>'}}
  %r = rt.fusion "f" (%x) : (tensor<64xf32>) -> tensor<64xbf16> {
  ^bb0(%a: tensor<64xf32>):
    rt.yield %a : tensor<64xf32>
  }
  return %r : tensor<64xbf16>
}

// -----

func.func @yield_outside_kernel(%x: tensor<64xf32>) {
  // expected-error @+1 {{'rt.yield' op expects parent op to be one of 'rt.kernel, rt.fusion'}}
  rt.yield %x : tensor<64xf32>
}

// -----

//===----------------------------------------------------------------------===//
// rt.gemm
//===----------------------------------------------------------------------===//

func.func @gemm_a_not_2d(%a: memref<4x256x512xbf16>, %b: memref<512x1024xbf16>, %d: memref<256x1024xbf16>) {
  // expected-error @+1 {{'rt.gemm' op A must be 2-D, got [4, 256, 512]}}
  rt.gemm %a, %b -> %d : memref<4x256x512xbf16>, memref<512x1024xbf16>, memref<256x1024xbf16>
  return
}

// -----

func.func @gemm_b_not_2d(%a: memref<256x512xbf16>, %b: memref<512xbf16>, %d: memref<256x1024xbf16>) {
  // expected-error @+1 {{'rt.gemm' op B must be 2-D, got [512]}}
  rt.gemm %a, %b -> %d : memref<256x512xbf16>, memref<512xbf16>, memref<256x1024xbf16>
  return
}

// -----

func.func @gemm_d_not_2d(%a: memref<256x512xbf16>, %b: memref<512x1024xbf16>, %d: memref<262144xbf16>) {
  // expected-error @+1 {{'rt.gemm' op D must be 2-D, got [262144]}}
  rt.gemm %a, %b -> %d : memref<256x512xbf16>, memref<512x1024xbf16>, memref<262144xbf16>
  return
}

// -----

func.func @gemm_accumulate_bf16_d(%a: memref<256x512xbf16>, %b: memref<512x1024xbf16>, %d: memref<256x1024xbf16>) {
  // expected-error @+1 {{'rt.gemm' op accumulate needs an f32 D, got 'bf16'}}
  rt.gemm %a, %b -> %d {accumulate} : memref<256x512xbf16>, memref<512x1024xbf16>, memref<256x1024xbf16>
  return
}

// -----

func.func @gemm_accumulate_epilogue(%a: memref<256x512xbf16>, %b: memref<512x1024xbf16>, %d: memref<256x1024xf32>, %bias: memref<1024xf32>) {
  // expected-error @+1 {{'rt.gemm' op accumulate takes no epilogue, got bias}}
  rt.gemm %a, %b -> %d bias(%bias) {accumulate, epilogue = #rt<epilogue bias>} : memref<256x512xbf16>, memref<512x1024xbf16>, memref<256x1024xf32>, memref<1024xf32>
  return
}

// -----

func.func @gemm_a_dynamic(%a: memref<?x512xbf16>, %b: memref<512x1024xbf16>, %d: memref<256x1024xbf16>) {
  // expected-error @+1 {{'rt.gemm' op A must be a static, dense row-major memref, got 'memref<?x512xbf16>'}}
  rt.gemm %a, %b -> %d : memref<?x512xbf16>, memref<512x1024xbf16>, memref<256x1024xbf16>
  return
}

// -----

func.func @gemm_b_strided(%a: memref<256x512xbf16>, %b: memref<512x1024xbf16, strided<[2048, 1]>>, %d: memref<256x1024xbf16>) {
  // expected-error @+1 {{'rt.gemm' op B must be a static, dense row-major memref, got 'memref<512x1024xbf16, strided<[2048, 1]>>'}}
  rt.gemm %a, %b -> %d : memref<256x512xbf16>, memref<512x1024xbf16, strided<[2048, 1]>>, memref<256x1024xbf16>
  return
}

// -----

func.func @gemm_d_strided(%a: memref<256x512xbf16>, %b: memref<512x1024xbf16>, %d: memref<256x1024xbf16, strided<[1, 256]>>) {
  // expected-error @+1 {{'rt.gemm' op D must be a static, dense row-major memref, got 'memref<256x1024xbf16, strided<[1, 256]>>'}}
  rt.gemm %a, %b -> %d : memref<256x512xbf16>, memref<512x1024xbf16>, memref<256x1024xbf16, strided<[1, 256]>>
  return
}

// -----

func.func @gemm_k_mismatch(%a: memref<256x512xbf16>, %b: memref<1024x512xbf16>, %d: memref<256x512xbf16>) {
  // Without transpose_b, B [1024, 512] is [K, N] with K = 1024.
  // expected-error @+1 {{'rt.gemm' op A gives K = 512, B gives K = 1024}}
  rt.gemm %a, %b -> %d : memref<256x512xbf16>, memref<1024x512xbf16>, memref<256x512xbf16>
  return
}

// -----

func.func @gemm_k_mismatch_transpose_a(%a: memref<256x512xbf16>, %b: memref<512x1024xbf16>, %d: memref<512x1024xbf16>) {
  // With transpose_a, A [256, 512] is [K, M] with K = 256.
  // expected-error @+1 {{'rt.gemm' op A gives K = 256, B gives K = 512}}
  rt.gemm %a, %b -> %d {transpose_a} : memref<256x512xbf16>, memref<512x1024xbf16>, memref<512x1024xbf16>
  return
}

// -----

func.func @gemm_d_shape(%a: memref<256x512xbf16>, %b: memref<1024x512xbf16>, %d: memref<1024x256xbf16>) {
  // expected-error @+1 {{'rt.gemm' op D has shape [1024, 256], expected [256, 1024]}}
  rt.gemm %a, %b -> %d {transpose_b} : memref<256x512xbf16>, memref<1024x512xbf16>, memref<1024x256xbf16>
  return
}

// -----

func.func @gemm_mixed_fp8(%a: memref<256x512xf8E4M3FN>, %b: memref<1024x512xbf16>, %d: memref<256x1024xbf16>) {
  // expected-error @+1 {{'rt.gemm' op A and B must both be FP8 or both not, got 'f8E4M3FN' and 'bf16'}}
  rt.gemm %a, %b -> %d {transpose_b} : memref<256x512xf8E4M3FN>, memref<1024x512xbf16>, memref<256x1024xbf16>
  return
}

// -----

func.func @gemm_e5m2_e5m2(%a: memref<256x512xf8E5M2>, %b: memref<1024x512xf8E5M2>, %d: memref<256x1024xbf16>, %s: memref<f32>) {
  // expected-error @+1 {{'rt.gemm' op f8E5M2 x f8E5M2 GEMMs are not supported by cuBLASLt}}
  rt.gemm %a, %b -> %d a_scale(%s) b_scale(%s) {transpose_b} : memref<256x512xf8E5M2>, memref<1024x512xf8E5M2>, memref<256x1024xbf16>, memref<f32>, memref<f32>
  return
}

// -----

func.func @gemm_fp8_without_scales(%a: memref<256x512xf8E4M3FN>, %b: memref<1024x512xf8E4M3FN>, %d: memref<256x1024xbf16>) {
  // expected-error @+1 {{'rt.gemm' op FP8 operands need a_scale and b_scale}}
  rt.gemm %a, %b -> %d {transpose_b} : memref<256x512xf8E4M3FN>, memref<1024x512xf8E4M3FN>, memref<256x1024xbf16>
  return
}

// -----

func.func @gemm_fp8_without_b_scale(%a: memref<256x512xf8E4M3FN>, %b: memref<1024x512xf8E4M3FN>, %d: memref<256x1024xbf16>, %s: memref<f32>) {
  // expected-error @+1 {{'rt.gemm' op FP8 operands need a_scale and b_scale}}
  rt.gemm %a, %b -> %d a_scale(%s) {transpose_b} : memref<256x512xf8E4M3FN>, memref<1024x512xf8E4M3FN>, memref<256x1024xbf16>, memref<f32>
  return
}

// -----

func.func @gemm_scales_without_fp8(%a: memref<256x512xbf16>, %b: memref<1024x512xbf16>, %d: memref<256x1024xbf16>, %s: memref<f32>) {
  // expected-error @+1 {{'rt.gemm' op a_scale and b_scale are only used with FP8 operands}}
  rt.gemm %a, %b -> %d a_scale(%s) b_scale(%s) {transpose_b} : memref<256x512xbf16>, memref<1024x512xbf16>, memref<256x1024xbf16>, memref<f32>, memref<f32>
  return
}

// -----

func.func @gemm_fp8_d_without_d_scale(%a: memref<256x512xf8E4M3FN>, %b: memref<1024x512xf8E4M3FN>, %d: memref<256x1024xf8E4M3FN>, %s: memref<f32>) {
  // expected-error @+1 {{'rt.gemm' op an FP8 D needs d_scale}}
  rt.gemm %a, %b -> %d a_scale(%s) b_scale(%s) amax_d(%s) {transpose_b} : memref<256x512xf8E4M3FN>, memref<1024x512xf8E4M3FN>, memref<256x1024xf8E4M3FN>, memref<f32>, memref<f32>, memref<f32>
  return
}

// -----

func.func @gemm_d_scale_without_fp8_d(%a: memref<256x512xf8E4M3FN>, %b: memref<1024x512xf8E4M3FN>, %d: memref<256x1024xbf16>, %s: memref<f32>) {
  // expected-error @+1 {{'rt.gemm' op d_scale is only used with an FP8 D}}
  rt.gemm %a, %b -> %d a_scale(%s) b_scale(%s) d_scale(%s) {transpose_b} : memref<256x512xf8E4M3FN>, memref<1024x512xf8E4M3FN>, memref<256x1024xbf16>, memref<f32>, memref<f32>, memref<f32>
  return
}

// -----

func.func @gemm_bias_epilogue_without_bias(%a: memref<256x512xbf16>, %b: memref<1024x512xbf16>, %d: memref<256x1024xbf16>) {
  // expected-error @+1 {{'rt.gemm' op epilogue bias needs a bias buffer}}
  rt.gemm %a, %b -> %d {epilogue = #rt<epilogue bias>, transpose_b} : memref<256x512xbf16>, memref<1024x512xbf16>, memref<256x1024xbf16>
  return
}

// -----

func.func @gemm_bias_gelu_epilogue_without_bias(%a: memref<256x512xbf16>, %b: memref<1024x512xbf16>, %d: memref<256x1024xbf16>) {
  // expected-error @+1 {{'rt.gemm' op epilogue bias_gelu needs a bias buffer}}
  rt.gemm %a, %b -> %d {epilogue = #rt<epilogue bias_gelu>, transpose_b} : memref<256x512xbf16>, memref<1024x512xbf16>, memref<256x1024xbf16>
  return
}

// -----

func.func @gemm_bias_without_epilogue(%a: memref<256x512xbf16>, %b: memref<1024x512xbf16>, %d: memref<256x1024xbf16>, %bias: memref<1024xbf16>) {
  // expected-error @+1 {{'rt.gemm' op epilogue none takes no bias buffer}}
  rt.gemm %a, %b -> %d bias(%bias) {transpose_b} : memref<256x512xbf16>, memref<1024x512xbf16>, memref<256x1024xbf16>, memref<1024xbf16>
  return
}

// -----

func.func @gemm_gelu_with_bias(%a: memref<256x512xbf16>, %b: memref<1024x512xbf16>, %d: memref<256x1024xbf16>, %bias: memref<1024xbf16>) {
  // expected-error @+1 {{'rt.gemm' op epilogue gelu takes no bias buffer}}
  rt.gemm %a, %b -> %d bias(%bias) {epilogue = #rt<epilogue gelu>, transpose_b} : memref<256x512xbf16>, memref<1024x512xbf16>, memref<256x1024xbf16>, memref<1024xbf16>
  return
}

// -----

func.func @gemm_bias_shape(%a: memref<256x512xbf16>, %b: memref<1024x512xbf16>, %d: memref<256x1024xbf16>, %bias: memref<256xbf16>) {
  // The bias is per column of D: [N].
  // expected-error @+1 {{'rt.gemm' op bias has shape [256], expected [1024]}}
  rt.gemm %a, %b -> %d bias(%bias) {epilogue = #rt<epilogue bias>, transpose_b} : memref<256x512xbf16>, memref<1024x512xbf16>, memref<256x1024xbf16>, memref<256xbf16>
  return
}

// -----

func.func @gemm_bias_strided(%a: memref<256x512xbf16>, %b: memref<1024x512xbf16>, %d: memref<256x1024xbf16>, %bias: memref<1024xbf16, strided<[2]>>) {
  // expected-error @+1 {{'rt.gemm' op bias must be a static, dense row-major memref, got 'memref<1024xbf16, strided<[2]>>'}}
  rt.gemm %a, %b -> %d bias(%bias) {epilogue = #rt<epilogue bias>, transpose_b} : memref<256x512xbf16>, memref<1024x512xbf16>, memref<256x1024xbf16>, memref<1024xbf16, strided<[2]>>
  return
}

// -----

func.func @gemm_bias_dynamic(%a: memref<256x512xbf16>, %b: memref<1024x512xbf16>, %d: memref<256x1024xbf16>, %bias: memref<?xbf16>) {
  // expected-error @+1 {{'rt.gemm' op bias must be a static, dense row-major memref, got 'memref<?xbf16>'}}
  rt.gemm %a, %b -> %d bias(%bias) {epilogue = #rt<epilogue bias_gelu>, transpose_b} : memref<256x512xbf16>, memref<1024x512xbf16>, memref<256x1024xbf16>, memref<?xbf16>
  return
}

// -----

func.func @gemm_scale_with_offset(%a: memref<256x512xf8E4M3FN>, %b: memref<1024x512xf8E4M3FN>, %d: memref<256x1024xbf16>, %s: memref<f32>, %t: memref<f32, strided<[], offset: 1>>) {
  // expected-error @+1 {{'rt.gemm' op b_scale must be a static, dense row-major memref, got 'memref<f32, strided<[], offset: 1>>'}}
  rt.gemm %a, %b -> %d a_scale(%s) b_scale(%t) {transpose_b} : memref<256x512xf8E4M3FN>, memref<1024x512xf8E4M3FN>, memref<256x1024xbf16>, memref<f32>, memref<f32, strided<[], offset: 1>>
  return
}

// -----

//===----------------------------------------------------------------------===//
// rt.copy
//===----------------------------------------------------------------------===//

func.func @copy_size_mismatch(%a: memref<64x64xf32>, %b: memref<64x64xbf16>) {
  // expected-error @+1 {{'rt.copy' op source has 16384 bytes, target 8192}}
  rt.copy %a, %b : memref<64x64xf32>, memref<64x64xbf16>
  return
}

// -----

func.func @copy_dynamic_source(%a: memref<?xf32>, %b: memref<64xf32>) {
  // expected-error @+1 {{'rt.copy' op source must be a static, dense row-major memref, got 'memref<?xf32>'}}
  rt.copy %a, %b : memref<?xf32>, memref<64xf32>
  return
}

// -----

func.func @copy_strided_target(%a: memref<64xf32>, %b: memref<64xf32, strided<[2]>>) {
  // expected-error @+1 {{'rt.copy' op target must be a static, dense row-major memref, got 'memref<64xf32, strided<[2]>>'}}
  rt.copy %a, %b : memref<64xf32>, memref<64xf32, strided<[2]>>
  return
}

// -----

//===----------------------------------------------------------------------===//
// ODS constraints
//===----------------------------------------------------------------------===//

func.func @buffer_of_f64(%arena: !rt.arena) {
  // expected-error @+1 {{'rt.buffer' op result #0 must be memref of 32-bit float or bfloat16 type or 16-bit float or f8E4M3FN type or f8E5M2 type or 32-bit signless integer or 64-bit signless integer or 8-bit signless integer or 1-bit signless integer values, but got 'memref<64xf64>'}}
  %x = rt.buffer %arena[0] : memref<64xf64>
  return
}

// -----

func.func @gemm_scale_not_f32(%a: memref<256x512xf8E4M3FN>, %b: memref<1024x512xf8E4M3FN>, %d: memref<256x1024xbf16>, %s: memref<256x1xbf16>) {
  // expected-error @+1 {{'rt.gemm' op operand #3 must be memref of 32-bit float values, but got 'memref<256x1xbf16>'}}
  rt.gemm %a, %b -> %d a_scale(%s) b_scale(%s) {transpose_b} : memref<256x512xf8E4M3FN>, memref<1024x512xf8E4M3FN>, memref<256x1024xbf16>, memref<256x1xbf16>, memref<256x1xbf16>
  return
}

// -----

func.func @gemm_on_tensors(%a: tensor<256x512xbf16>, %b: tensor<512x1024xbf16>, %d: tensor<256x1024xbf16>) {
  // expected-error @+1 {{'rt.gemm' op operand #0 must be memref of 32-bit float or bfloat16 type or 16-bit float or f8E4M3FN type or f8E5M2 type or 32-bit signless integer or 64-bit signless integer or 8-bit signless integer or 1-bit signless integer values, but got 'tensor<256x512xbf16>'}}
  rt.gemm %a, %b -> %d : tensor<256x512xbf16>, tensor<512x1024xbf16>, tensor<256x1024xbf16>
  return
}

//===----------------------------------------------------------------------===//
// rt.buffer: name, role, init, init_std, data
//===----------------------------------------------------------------------===//

// -----

func.func @init_on_scratch(%arena: !rt.arena) {
  // expected-error @+1 {{'rt.buffer' op 'init' is only for the roles param, optimizer, fp8_state and grad_accum, not scratch}}
  %x = rt.buffer %arena[0] {init = #rt<init zeros>} : memref<64xf32>
  return
}

// -----

func.func @init_on_input(%arena: !rt.arena) {
  // expected-error @+1 {{'rt.buffer' op 'init' is only for the roles param, optimizer, fp8_state and grad_accum, not input}}
  %x = rt.buffer %arena[0] {name = "tokens", role = #rt<role input>, init = #rt<init zeros>} : memref<64xi32>
  return
}

// -----

func.func @normal_without_std(%arena: !rt.arena) {
  // expected-error @+1 {{'rt.buffer' op init normal needs 'init_std'}}
  %x = rt.buffer %arena[0] {name = "w", role = #rt<role param>, init = #rt<init normal>} : memref<64xf32>
  return
}

// -----

func.func @std_without_normal(%arena: !rt.arena) {
  // expected-error @+1 {{'rt.buffer' op 'init_std' is only used with init normal}}
  %x = rt.buffer %arena[0] {name = "w", role = #rt<role param>, init = #rt<init ones>, init_std = 2.0e-02 : f64} : memref<64xf32>
  return
}

// -----

func.func @negative_std(%arena: !rt.arena) {
  // expected-error @+1 {{'rt.buffer' op init_std must be finite and >= 0, got -1.000000e+00}}
  %x = rt.buffer %arena[0] {name = "w", role = #rt<role param>, init = #rt<init normal>, init_std = -1.0 : f64} : memref<64xf32>
  return
}

// -----

func.func @constant_without_data(%arena: !rt.arena) {
  // expected-error @+1 {{'rt.buffer' op role constant needs 'data'}}
  %x = rt.buffer %arena[0] {name = "constant.0", role = #rt<role constant>} : memref<4xi32>
  return
}

// -----

func.func @data_on_param(%arena: !rt.arena) {
  // expected-error @+1 {{'rt.buffer' op 'data' is only for role constant, not param}}
  %x = rt.buffer %arena[0] {name = "w", role = #rt<role param>, data = dense<0.0> : tensor<4xf32>} : memref<4xf32>
  return
}

// -----

func.func @data_wrong_shape(%arena: !rt.arena) {
  // expected-error @+1 {{'rt.buffer' op data has type 'tensor<4xi32>', expected 'tensor<2x2xi32>'}}
  %x = rt.buffer %arena[0] {name = "c", role = #rt<role constant>, data = dense<[0, 1, 2, 3]> : tensor<4xi32>} : memref<2x2xi32>
  return
}

// -----

func.func @data_wrong_element_type(%arena: !rt.arena) {
  // expected-error @+1 {{'rt.buffer' op data has type 'tensor<4xi64>', expected 'tensor<4xi32>'}}
  %x = rt.buffer %arena[0] {name = "c", role = #rt<role constant>, data = dense<[0, 1, 2, 3]> : tensor<4xi64>} : memref<4xi32>
  return
}

// -----

func.func @unknown_role(%arena: !rt.arena) {
  // expected-error @+2 {{expected ::fp8c::rt::Role to be one of: param, optimizer, fp8_state, grad_accum, constant, input, output, metric, grad, scratch}}
  // expected-error @+1 {{failed to parse RT_RoleAttr parameter 'value' which is to be a `::fp8c::rt::Role`}}
  %x = rt.buffer %arena[0] {role = #rt<role weights>} : memref<4xf32>
  return
}

//===----------------------------------------------------------------------===//
// rt.gemm: scale modes, TN layout, FP8 dimensions
//===----------------------------------------------------------------------===//

// -----

func.func @gemm_mode_without_scale(%a: memref<256x512xbf16>, %b: memref<1024x512xbf16>, %d: memref<256x1024xbf16>) {
  // expected-error @+1 {{'rt.gemm' op a_scale_mode is set but there is no a_scale}}
  rt.gemm %a, %b -> %d {transpose_b, a_scale_mode = #rt<scale_mode rowwise>} : memref<256x512xbf16>, memref<1024x512xbf16>, memref<256x1024xbf16>
  return
}

// -----

func.func @gemm_tensorwise_scale_shape(%a: memref<256x512xf8E4M3FN>, %b: memref<1024x512xf8E4M3FN>, %d: memref<256x1024xbf16>, %s: memref<256x1xf32>, %t: memref<f32>) {
  // expected-error @+1 {{'rt.gemm' op a_scale has shape [256, 1], expected [] for tensorwise scales of A [256, 512]}}
  rt.gemm %a, %b -> %d a_scale(%s) b_scale(%t) {transpose_b} : memref<256x512xf8E4M3FN>, memref<1024x512xf8E4M3FN>, memref<256x1024xbf16>, memref<256x1xf32>, memref<f32>
  return
}

// -----

func.func @gemm_rowwise_scale_shape(%a: memref<256x512xf8E4M3FN>, %b: memref<1024x512xf8E4M3FN>, %d: memref<256x1024xbf16>, %s: memref<256x1xf32>, %t: memref<512x1xf32>) {
  // expected-error @+1 {{'rt.gemm' op b_scale has shape [512, 1], expected [1024, 1] for rowwise scales of B [1024, 512]}}
  rt.gemm %a, %b -> %d a_scale(%s) b_scale(%t) {transpose_b, a_scale_mode = #rt<scale_mode rowwise>, b_scale_mode = #rt<scale_mode rowwise>} : memref<256x512xf8E4M3FN>, memref<1024x512xf8E4M3FN>, memref<256x1024xbf16>, memref<256x1xf32>, memref<512x1xf32>
  return
}

// -----

func.func @gemm_block_1x128_shape(%a: memref<256x512xf8E4M3FN>, %b: memref<1024x512xf8E4M3FN>, %d: memref<256x1024xbf16>, %s: memref<2x4xf32>, %t: memref<8x4xf32>) {
  // expected-error @+1 {{'rt.gemm' op a_scale has shape [2, 4], expected [256, 4] for block_1x128 scales of A [256, 512]}}
  rt.gemm %a, %b -> %d a_scale(%s) b_scale(%t) {transpose_b, a_scale_mode = #rt<scale_mode block_1x128>, b_scale_mode = #rt<scale_mode block_128x128>} : memref<256x512xf8E4M3FN>, memref<1024x512xf8E4M3FN>, memref<256x1024xbf16>, memref<2x4xf32>, memref<8x4xf32>
  return
}

// -----

func.func @gemm_block_128x128_shape(%a: memref<256x512xf8E4M3FN>, %b: memref<1024x512xf8E4M3FN>, %d: memref<256x1024xbf16>, %s: memref<256x4xf32>, %t: memref<1024x4xf32>) {
  // expected-error @+1 {{'rt.gemm' op b_scale has shape [1024, 4], expected [8, 4] for block_128x128 scales of B [1024, 512]}}
  rt.gemm %a, %b -> %d a_scale(%s) b_scale(%t) {transpose_b, a_scale_mode = #rt<scale_mode block_1x128>, b_scale_mode = #rt<scale_mode block_128x128>} : memref<256x512xf8E4M3FN>, memref<1024x512xf8E4M3FN>, memref<256x1024xbf16>, memref<256x4xf32>, memref<1024x4xf32>
  return
}

// -----

func.func @gemm_block_not_divisible(%a: memref<256x48xf8E4M3FN>, %b: memref<1024x48xf8E4M3FN>, %d: memref<256x1024xbf16>, %s: memref<256x1xf32>, %t: memref<f32>) {
  // expected-error @+1 {{'rt.gemm' op block_1x128 scales need A's columns to be multiples of 128, got [256, 48]}}
  rt.gemm %a, %b -> %d a_scale(%s) b_scale(%t) {transpose_b, a_scale_mode = #rt<scale_mode block_1x128>} : memref<256x48xf8E4M3FN>, memref<1024x48xf8E4M3FN>, memref<256x1024xbf16>, memref<256x1xf32>, memref<f32>
  return
}

// -----

func.func @gemm_block_128x128_rows(%a: memref<256x512xf8E4M3FN>, %b: memref<1008x512xf8E4M3FN>, %d: memref<256x1008xbf16>, %s: memref<f32>, %t: memref<8x4xf32>) {
  // expected-error @+1 {{'rt.gemm' op block_128x128 scales need B's rows and columns to be multiples of 128, got [1008, 512]}}
  rt.gemm %a, %b -> %d a_scale(%s) b_scale(%t) {transpose_b, b_scale_mode = #rt<scale_mode block_128x128>} : memref<256x512xf8E4M3FN>, memref<1008x512xf8E4M3FN>, memref<256x1008xbf16>, memref<f32>, memref<8x4xf32>
  return
}

// -----

func.func @gemm_fp8_nn(%a: memref<256x512xf8E4M3FN>, %b: memref<512x1024xf8E4M3FN>, %d: memref<256x1024xbf16>, %s: memref<f32>) {
  // expected-error @+1 {{'rt.gemm' op FP8 GEMMs must be TN (transpose_b, not transpose_a)}}
  rt.gemm %a, %b -> %d a_scale(%s) b_scale(%s) : memref<256x512xf8E4M3FN>, memref<512x1024xf8E4M3FN>, memref<256x1024xbf16>, memref<f32>, memref<f32>
  return
}

// -----

func.func @gemm_fp8_transpose_a(%a: memref<512x256xf8E4M3FN>, %b: memref<1024x512xf8E4M3FN>, %d: memref<256x1024xbf16>, %s: memref<f32>) {
  // expected-error @+1 {{'rt.gemm' op FP8 GEMMs must be TN (transpose_b, not transpose_a)}}
  rt.gemm %a, %b -> %d a_scale(%s) b_scale(%s) {transpose_a, transpose_b} : memref<512x256xf8E4M3FN>, memref<1024x512xf8E4M3FN>, memref<256x1024xbf16>, memref<f32>, memref<f32>
  return
}

// -----

func.func @gemm_fp8_dims(%a: memref<256x520xf8E4M3FN>, %b: memref<1024x520xf8E4M3FN>, %d: memref<256x1024xbf16>, %s: memref<f32>) {
  // expected-error @+1 {{'rt.gemm' op FP8 GEMM dimensions must be multiples of 16, got M = 256, N = 1024, K = 520}}
  rt.gemm %a, %b -> %d a_scale(%s) b_scale(%s) {transpose_b} : memref<256x520xf8E4M3FN>, memref<1024x520xf8E4M3FN>, memref<256x1024xbf16>, memref<f32>, memref<f32>
  return
}

// -----

func.func @all_reduce_shape(%a: memref<64x64xf32>, %b: memref<4096xf32>) {
  // expected-error @+1 {{'rt.all_reduce' op source and target must have the same shape, got 'memref<64x64xf32>' and 'memref<4096xf32>'}}
  rt.all_reduce %a, %b reduction avg world_size 2 : memref<64x64xf32>, memref<4096xf32>
  return
}

// -----

func.func @all_reduce_one_rank(%a: memref<64xf32>) {
  // expected-error @+1 {{'rt.all_reduce' op world_size must be at least 2, got 1}}
  rt.all_reduce %a, %a reduction sum world_size 1 : memref<64xf32>, memref<64xf32>
  return
}

// -----

func.func @all_gather_shard_size(%s: memref<7xbf16>, %w: memref<3x5xbf16>) {
  // expected-error @+1 {{'rt.all_gather' op the shard of 'memref<3x5xbf16>' over 2 ranks is 'memref<8xbf16>', got 'memref<7xbf16>'}}
  rt.all_gather %s, %w world_size 2 : memref<7xbf16>, memref<3x5xbf16>
  return
}
