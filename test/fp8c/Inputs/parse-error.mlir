func.func @f(%x: tensor<4x4xbf16>) -> tensor<4x4xbf16> {
  %y = train.gelu %x approximate sigmoid : tensor<4x4xbf16>
  return %y : tensor<4x4xbf16>
}
