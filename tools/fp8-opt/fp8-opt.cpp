//===- fp8-opt.cpp - the MLIR opt tool that fp8c's lit tests drive --------===//

#include "fp8c/Pipelines/Pipelines.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  fp8c::registerAllDialects(registry);
  fp8c::registerAllPasses();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "fp8c dialects and passes\n", registry));
}
