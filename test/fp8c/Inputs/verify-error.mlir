func.func @f(%x: tensor<8x64x100xbf16>, %kv: tensor<8x64x100xbf16>) -> tensor<8x64x100xbf16> {
  %o = train.attention %x, %kv, %kv {n_heads = 12 : i64, n_kv_heads = 12 : i64, causal}
      : (tensor<8x64x100xbf16>, tensor<8x64x100xbf16>, tensor<8x64x100xbf16>) -> tensor<8x64x100xbf16>
  return %o : tensor<8x64x100xbf16>
}
