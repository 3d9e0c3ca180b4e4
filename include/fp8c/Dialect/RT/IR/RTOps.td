//===- RTOps.td - the rt dialect: what the runtime executes -*- tablegen -*-===//
//
// A skeleton: buffers in one arena, kernels, GEMMs and copies. The lowering
// (`fp8-lower-to-rt`) and the program translation fill in kernel bodies and host
// steps.
//
//===----------------------------------------------------------------------===//

#ifndef FP8C_DIALECT_RT_IR_RTOPS_TD
#define FP8C_DIALECT_RT_IR_RTOPS_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def RT_Dialect : Dialect {
  let name = "rt";
  let cppNamespace = "::fp8c::rt";
  let summary = "Runtime-level program: one arena, kernels, GEMMs, copies";
  let description = [{
    The `rt` dialect is the last IR before the program file: every tensor has
    become a `memref` view at a fixed byte offset of one arena (the static
    memory plan), and the step is a sequence of kernel launches, cuBLASLt-level
    GEMMs and copies that both the CUDA and the CPU backend execute.
  }];
  let useDefaultTypePrinterParser = 1;
  let useDefaultAttributePrinterParser = 1;
  let extraClassDeclaration = [{
    /// Every buffer offset is a multiple of this many bytes (cuBLASLt and
    /// 16-byte vector loads are happy with far less; 256 B matches cudaMalloc).
    static constexpr int64_t kBufferAlignment = 256;
  }];
}

def RT_ArenaType : TypeDef<RT_Dialect, "Arena"> {
  let mnemonic = "arena";
  let summary = "the one device allocation a program's buffers live in";
}

def RT_Epilogue : I32EnumAttr<"Epilogue", "GEMM epilogue", [
    I32EnumAttrCase<"none", 0>,
    I32EnumAttrCase<"bias", 1>,
    I32EnumAttrCase<"gelu", 2>,
    I32EnumAttrCase<"bias_gelu", 3>
  ]> {
  let cppNamespace = "::fp8c::rt";
  let genSpecializedAttr = 0;
}
def RT_EpilogueAttr : EnumAttr<RT_Dialect, RT_Epilogue, "epilogue">;

def RT_Role : I32EnumAttr<"Role", "what a buffer holds (docs/program-format.md)", [
    I32EnumAttrCase<"param", 0>,
    I32EnumAttrCase<"optimizer", 1>,
    I32EnumAttrCase<"fp8_state", 2>,
    I32EnumAttrCase<"grad_accum", 3>,
    I32EnumAttrCase<"constant", 4>,
    I32EnumAttrCase<"input", 5>,
    I32EnumAttrCase<"output", 6>,
    I32EnumAttrCase<"metric", 7>,
    I32EnumAttrCase<"grad", 8>,
    I32EnumAttrCase<"scratch", 9>
  ]> {
  let cppNamespace = "::fp8c::rt";
  let genSpecializedAttr = 0;
}
def RT_RoleAttr : EnumAttr<RT_Dialect, RT_Role, "role">;

def RT_Init : I32EnumAttr<"Init", "how the loader initialises a persistent buffer", [
    I32EnumAttrCase<"zeros", 0>,
    I32EnumAttrCase<"ones", 1>,
    I32EnumAttrCase<"normal", 2>
  ]> {
  let cppNamespace = "::fp8c::rt";
  let genSpecializedAttr = 0;
}
def RT_InitAttr : EnumAttr<RT_Dialect, RT_Init, "init">;

def RT_ScaleMode : I32EnumAttr<"ScaleMode", "granularity of an FP8 GEMM operand's scales", [
    I32EnumAttrCase<"tensorwise", 0>,
    I32EnumAttrCase<"rowwise", 1>,
    I32EnumAttrCase<"block_1x128", 2>,
    I32EnumAttrCase<"block_128x128", 3>
  ]> {
  let cppNamespace = "::fp8c::rt";
  let genSpecializedAttr = 0;
}
def RT_ScaleModeAttr : EnumAttr<RT_Dialect, RT_ScaleMode, "scale_mode">;

def RT_Reduction : I32EnumAttr<"Reduction", "how an all-reduce combines the ranks' values", [
    I32EnumAttrCase<"sum", 0>,
    I32EnumAttrCase<"avg", 1>,
    I32EnumAttrCase<"max", 2>
  ]> {
  let cppNamespace = "::fp8c::rt";
  let genSpecializedAttr = 0;
}
def RT_ReductionAttr : EnumAttr<RT_Dialect, RT_Reduction, "reduction">;

// i1 is stored as one byte per element (the program file calls it i8).
def RT_Buffer : MemRefOf<[F32, BF16, F16, F8E4M3FN, F8E5M2, I32, I64, I8, I1]>;
def RT_ScalarBuffer : MemRefRankOf<[F32], [0]>;
def RT_ScaleBuffer : MemRefOf<[F32]>;

class RT_Op<string mnemonic, list<Trait> traits = []> : Op<RT_Dialect, mnemonic, traits>;

def RT_ArenaOp : RT_Op<"arena", [Pure]> {
  let summary = "declares the arena and its size in bytes";
  let description = [{
    Example:

    ```mlir
    %arena = rt.arena size 1048576 : !rt.arena
    ```
  }];
  let arguments = (ins I64Attr:$size);
  let results = (outs RT_ArenaType:$result);
  let assemblyFormat = "`size` $size attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def RT_BufferOp : RT_Op<"buffer", [Pure]> {
  let summary = "a statically shaped view at a byte offset of the arena";
  let description = [{
    The offset is a multiple of 256 bytes and the view lies inside the arena.
    Views are dense, row-major and statically shaped; several views may share
    bytes (the memory plan reuses ranges, a reshape is a second view).

    The optional attributes are what the program file's buffer table carries
    (docs/program-format.md): `name`, `role` (scratch when absent), and for
    the persistent roles (`param`, `optimizer`, `fp8_state`, `grad_accum`)
    the loader's `init` (`zeros`, `ones`, `normal` with `init_std`). A
    `constant` buffer carries its `data`, of the buffer's shape and element
    type. `shard_of` (zero1, fsdp: persistent roles only) gives the full shape
    of the tensor whose 1-D shard for this rank the buffer holds
    (docs/distributed.md "The shard rule").

    Example:

    ```mlir
    %x = rt.buffer %arena[256] : memref<64x64xbf16>
    %w = rt.buffer %arena[0] {name = "h.0.weight", role = #rt<role param>,
                              init = #rt<init normal>, init_std = 2.000000e-02 : f64}
        : memref<64xf32>
    %c = rt.buffer %arena[512] {name = "constant.0", role = #rt<role constant>,
                                data = dense<[0, 1, 2, 3]> : tensor<4xi32>} : memref<4xi32>
    ```
  }];
  let arguments = (ins RT_ArenaType:$arena, I64Attr:$offset,
                       OptionalAttr<StrAttr>:$name, OptionalAttr<RT_RoleAttr>:$role,
                       OptionalAttr<RT_InitAttr>:$init, OptionalAttr<F64Attr>:$init_std,
                       OptionalAttr<ElementsAttr>:$data,
                       OptionalAttr<DenseI64ArrayAttr>:$shard_of);
  let results = (outs RT_Buffer:$result);
  let assemblyFormat = "$arena `[` $offset `]` attr-dict `:` type($result)";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// Bytes the view covers.
    int64_t getSizeInBytes();
    /// The role, scratch when the attribute is absent.
    Role getRoleOrScratch() { return getRole().value_or(Role::scratch); }

  private:
    ::mlir::LogicalResult verifyBufferAttributes();
  public:
  }];
}

def RT_KernelOp : RT_Op<"kernel", [AttrSizedOperandSegments, SingleBlock,
                                   IsolatedFromAbove]> {
  let summary = "a generated kernel launch over arena buffers";
  let description = [{
    `name` becomes the CUDA function name, so it must be a C identifier. The body
    is the kernel's structured op list, from which the CUDA source and the CPU
    interpreter are both derived: its block has one `tensor` argument per input
    buffer (same shape and element type) and ends in `rt.yield` with one value
    per output buffer (same shape and element type). The ops in between are
    `train`, `fp8` and `arith` ops with value semantics: a kernel reads all its
    inputs before it writes any output, so an output may be an input's buffer.

    Memory effects: it reads its `ins` buffers and writes its `outs` buffers,
    nothing else (the body has value semantics). Two identical launches are
    never merged, and a launch is never dead: it writes.

    Example:

    ```mlir
    rt.kernel "gelu_0" ins(%x : memref<512x3072xbf16>) outs(%y : memref<512x3072xbf16>) {
    ^bb0(%a: tensor<512x3072xbf16>):
      %g = train.gelu %a approximate none : tensor<512x3072xbf16>
      rt.yield %g : tensor<512x3072xbf16>
    }
    ```
  }];
  let arguments = (ins StrAttr:$name,
                       Arg<Variadic<RT_Buffer>, "buffers the kernel reads", [MemRead]>:$inputs,
                       Arg<Variadic<RT_Buffer>, "buffers the kernel writes", [MemWrite]>:$outputs);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    $name (`ins` `(` $inputs^ `:` type($inputs) `)`)? `outs` `(` $outputs `:` type($outputs) `)`
    $body attr-dict
  }];
  let hasVerifier = 1;
}

def RT_FusionOp : RT_Op<"fusion", [SingleBlock, IsolatedFromAbove]> {
  let summary = "ops grouped into one future kernel, still on tensors";
  let description = [{
    `fp8-fuse-kernels` groups pointwise and reduction chains into `rt.fusion`
    ops; `fp8-lower-to-rt` turns each into one `rt.kernel`. The region is
    isolated from above: its block arguments are the fusion's operands, and
    `rt.yield` gives its results. `name` becomes the kernel's name (a C
    identifier).

    Example:

    ```mlir
    %y, %amax = rt.fusion "gelu_amax_3" (%x) : (tensor<512x3072xbf16>) -> (tensor<512x3072xbf16>, tensor<f32>) {
    ^bb0(%a: tensor<512x3072xbf16>):
      %g = train.gelu %a approximate none : tensor<512x3072xbf16>
      %m = fp8.amax %g recipe tensorwise : tensor<512x3072xbf16> -> tensor<f32>
      rt.yield %g, %m : tensor<512x3072xbf16>, tensor<f32>
    }
    ```
  }];
  let arguments = (ins StrAttr:$name, Variadic<AnyRankedTensor>:$inputs);
  let results = (outs Variadic<AnyRankedTensor>:$results);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    $name `(` $inputs `)` attr-dict `:` functional-type($inputs, $results) $body
  }];
  let hasVerifier = 1;
}

def RT_YieldOp : RT_Op<"yield", [Pure, Terminator,
                                 ParentOneOf<["KernelOp", "FusionOp"]>]> {
  let summary = "the values a kernel or fusion body produces";
  let description = [{
    Example:

    ```mlir
    rt.yield %g, %m : tensor<512x3072xbf16>, tensor<f32>
    ```
  }];
  let arguments = (ins Variadic<AnyRankedTensor>:$values);
  let assemblyFormat = "($values^ `:` type($values))? attr-dict";
}

def RT_GemmOp : RT_Op<"gemm", [AttrSizedOperandSegments,
                               DeclareOpInterfaceMethods<MemoryEffectsOpInterface>]> {
  let summary = "a cuBLASLt matmul: D = op(A) · op(B) (+ bias) (→ GELU)";
  let description = [{
    Row-major operands: `A` is `[M, K]` (`[K, M]` with `transpose_a`), `B` is
    `[K, N]` (`[N, K]` with `transpose_b`), `D` is `[M, N]`; accumulation is f32.
    `name` says which GEMM of the model this is (`transformer.h.0.mlp.c_fc.forward`).
    The `bias` epilogues need a `[N]` bias buffer.

    FP8 GEMMs run in Hopper's TN layout only (`transpose_b`, not `transpose_a`)
    with M, N and K multiples of 16. Each FP8 operand needs its f32 scale buffer
    (`a_scale`, `b_scale`: the GEMM divides the operand by it) and the scale's
    granularity (`a_scale_mode`, `b_scale_mode`), which fixes the scale's shape
    from the operand's shape as stored, `[rows, cols]`: `tensorwise` `[]`,
    `rowwise` `[rows, 1]`, `block_1x128` `[rows, cols/128]`, `block_128x128`
    `[rows/128, cols/128]`. An FP8 `D` needs `d_scale`; `amax_d` receives D's
    amax from the epilogue.

    `accumulate`: `D = op(A) · op(B) + D` (cuBLASLt's `C = D`, beta = 1). The
    product is rounded to f32, then D's old value is added in f32, as a GEMM
    followed by an f32 add. Only an f32 `D`, with no `bias` or GELU epilogue
    (and so no `d_scale`); A and B may be FP8.

    Memory effects (per instance, GemmOp::getEffects): reads `a`, `b`, `bias`
    and the three scales; writes `d` and `amax_d`; reads `d` (before writing
    it) only with `accumulate`: without it there is no `C` input.

    Example:

    ```mlir
    rt.gemm %x, %w -> %y {transpose_b} : memref<512x768xbf16>, memref<3072x768xbf16>, memref<512x3072xbf16>
    rt.gemm %dy, %x -> %dw {accumulate, transpose_a}
        : memref<512x1024xbf16>, memref<512x768xbf16>, memref<1024x768xf32>
    rt.gemm %xq, %wq -> %y a_scale(%sx) b_scale(%sw)
        {name = "h.0.mlp.c_fc.forward", a_scale_mode = #rt<scale_mode rowwise>,
         b_scale_mode = #rt<scale_mode rowwise>, fast_accum, transpose_b}
        : memref<512x768xf8E4M3FN>, memref<3072x768xf8E4M3FN>, memref<512x3072xbf16>,
          memref<512x1xf32>, memref<3072x1xf32>
    ```
  }];
  // Effects: see getEffects (d is read only with accumulate).
  let arguments = (ins RT_Buffer:$a, RT_Buffer:$b, RT_Buffer:$d,
                       Optional<RT_Buffer>:$bias,
                       Optional<RT_ScaleBuffer>:$a_scale,
                       Optional<RT_ScaleBuffer>:$b_scale,
                       Optional<RT_ScalarBuffer>:$d_scale,
                       Optional<RT_ScalarBuffer>:$amax_d,
                       UnitAttr:$transpose_a, UnitAttr:$transpose_b, UnitAttr:$fast_accum,
                       DefaultValuedAttr<RT_EpilogueAttr, "Epilogue::none">:$epilogue,
                       OptionalAttr<StrAttr>:$name,
                       OptionalAttr<RT_ScaleModeAttr>:$a_scale_mode,
                       OptionalAttr<RT_ScaleModeAttr>:$b_scale_mode,
                       UnitAttr:$accumulate);
  let assemblyFormat = [{
    $a `,` $b `->` $d (`bias` `(` $bias^ `)`)?
    (`a_scale` `(` $a_scale^ `)`)? (`b_scale` `(` $b_scale^ `)`)?
    (`d_scale` `(` $d_scale^ `)`)? (`amax_d` `(` $amax_d^ `)`)?
    attr-dict `:` type(operands)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
  private:
    ::mlir::LogicalResult verifyScale(::llvm::StringRef what, ::mlir::Value scale,
                                      ScaleModeAttr mode, ::llvm::StringRef operand,
                                      ::mlir::MemRefType stored);
  public:
  }];
}

def RT_CopyOp : RT_Op<"copy"> {
  let summary = "copies one buffer into another of the same byte size";
  let description = [{
    Memory effects: reads `source`, writes `target`.

    Example:

    ```mlir
    rt.copy %a, %b : memref<64x64xf32>, memref<4096xf32>
    ```
  }];
  let arguments = (ins Arg<RT_Buffer, "", [MemRead]>:$source,
                       Arg<RT_Buffer, "", [MemWrite]>:$target);
  let assemblyFormat = "$source `,` $target attr-dict `:` type($source) `,` type($target)";
  let hasVerifier = 1;
}

def RT_AllReduceOp : RT_Op<"all_reduce"> {
  let summary = "combines one f32 buffer across the ranks of a data-parallel job";
  let description = [{
    The lowering of `train.all_reduce`: every rank sends `source`; `target`
    receives the elementwise `sum`, `avg` or `max` over the `world_size`
    ranks. An `all_reduce` instruction of the program file
    (docs/program-format.md); the CPU backend runs it through its
    communicator (MPI), docs/distributed.md. `bucket`: the gradient bucket
    of `train.all_reduce` (fp8-bucket-gradients); the all-reduces of one
    bucket are adjacent and may be sent as one message.

    Memory effects: reads `source`, writes `target`.

    Example:

    ```mlir
    rt.all_reduce %g, %r reduction avg world_size 2 : memref<512x128xf32>, memref<512x128xf32>
    ```
  }];
  let arguments = (ins Arg<MemRefOf<[F32]>, "", [MemRead]>:$source,
                       Arg<MemRefOf<[F32]>, "", [MemWrite]>:$target,
                       RT_ReductionAttr:$reduction, I64Attr:$world_size,
                       OptionalAttr<I64Attr>:$bucket);
  let assemblyFormat = [{
    $source `,` $target `reduction` `` $reduction `world_size` $world_size (`bucket` $bucket^)?
    attr-dict `:` type($source) `,` type($target)
  }];
  let hasVerifier = 1;
}


// Sharded strategies (docs/distributed.md "The shard rule"): `target` or
// `source` is the 1-D shard of c = ceil(n / world_size) elements of a full
// buffer of n elements; rank r's shard is elements [r*c, min((r+1)*c, n)),
// zero-padded to c.
def RT_ReduceScatterOp : RT_Op<"reduce_scatter"> {
  let summary = "reduces a full f32 buffer across ranks into this rank's shard";
  let description = [{
    The lowering of `train.reduce_scatter`: every rank sends its full
    `source`; rank r's `target` receives shard r of the elementwise `sum`,
    `avg` or `max` over the ranks. A `reduce_scatter` instruction of the
    program file (format version 5).

    Memory effects: reads `source`, writes `target`.

    Example:

    ```mlir
    rt.reduce_scatter %g, %s reduction avg world_size 2 : memref<3x5xf32>, memref<8xf32>
    ```
  }];
  let arguments = (ins Arg<MemRefOf<[F32]>, "", [MemRead]>:$source,
                       Arg<MemRefOf<[F32]>, "", [MemWrite]>:$target,
                       RT_ReductionAttr:$reduction, I64Attr:$world_size);
  let assemblyFormat = [{
    $source `,` $target `reduction` `` $reduction `world_size` $world_size attr-dict `:`
    type($source) `,` type($target)
  }];
  let hasVerifier = 1;
}

def RT_AllGatherOp : RT_Op<"all_gather"> {
  let summary = "gathers every rank's shard into the full buffer";
  let description = [{
    The lowering of `train.all_gather`: every rank sends its shard `source`;
    every rank's `target` receives the full tensor (padding dropped). Any
    dtype. An `all_gather` instruction of the program file (format version 5).

    Memory effects: reads `source`, writes `target`.

    Example:

    ```mlir
    rt.all_gather %s, %w world_size 2 : memref<8xbf16>, memref<3x5xbf16>
    ```
  }];
  let arguments = (ins Arg<RT_Buffer, "", [MemRead]>:$source,
                       Arg<RT_Buffer, "", [MemWrite]>:$target, I64Attr:$world_size);
  let assemblyFormat = [{
    $source `,` $target `world_size` $world_size attr-dict `:` type($source) `,` type($target)
  }];
  let hasVerifier = 1;
}

def RT_ShardOp : RT_Op<"shard"> {
  let summary = "copies this rank's shard out of a full buffer";
  let description = [{
    The lowering of `train.shard`: `target` receives this rank's shard of
    `source`, zero-padded; no communication (the rank is the runtime's). A
    `shard` instruction of the program file (format version 5).

    Memory effects: reads `source`, writes `target`.

    Example:

    ```mlir
    rt.shard %p, %s world_size 2 : memref<3x5xf32>, memref<8xf32>
    ```
  }];
  let arguments = (ins Arg<RT_Buffer, "", [MemRead]>:$source,
                       Arg<RT_Buffer, "", [MemWrite]>:$target, I64Attr:$world_size);
  let assemblyFormat = [{
    $source `,` $target `world_size` $world_size attr-dict `:` type($source) `,` type($target)
  }];
  let hasVerifier = 1;
}

#endif // FP8C_DIALECT_RT_IR_RTOPS_TD
