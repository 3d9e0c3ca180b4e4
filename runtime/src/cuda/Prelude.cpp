//===- Prelude.cpp - The CUDA prelude's text ------------------------------===//
//
// The device code lives in Prelude.cuh, a CUDA file; the build embeds its
// text (EmbedPrelude.cmake generates PreludeSource.inc, adjacent raw string
// literals) so the runtime needs no file at run time.
//
//===----------------------------------------------------------------------===//

#include "KernelCodegenImpl.h"

namespace fp8rt::cuda::detail {

const char *preludeSource() {
  static const char kText[] =
#include "PreludeSource.inc"
      ;
  return kText;
}

} // namespace fp8rt::cuda::detail
