//===- TrainDialect.h - the train dialect -----------------------*- C++ -*-===//

#ifndef FP8C_DIALECT_TRAIN_IR_TRAINDIALECT_H
#define FP8C_DIALECT_TRAIN_IR_TRAINDIALECT_H

#include "mlir/IR/Dialect.h"

#include "fp8c/Dialect/Train/IR/TrainDialect.h.inc"

#endif // FP8C_DIALECT_TRAIN_IR_TRAINDIALECT_H
