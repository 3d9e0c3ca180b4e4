//===- Passes.h - conversions between fp8c's levels -------------*- C++ -*-===//

#ifndef FP8C_CONVERSION_PASSES_H
#define FP8C_CONVERSION_PASSES_H

#include "fp8c/Conversion/LowerToRT/LowerToRT.h"

namespace fp8c {

#define GEN_PASS_REGISTRATION
#include "fp8c/Conversion/Passes.h.inc"

} // namespace fp8c

#endif // FP8C_CONVERSION_PASSES_H
