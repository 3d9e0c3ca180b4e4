//===- CompileModel.cpp - a model description to a program, in-process ----===//

#include "fp8c/Compiler/CompileModel.h"

#include "fp8c/Frontend/BuildForwardGraph.h"
#include "fp8c/Pipelines/Pipelines.h"
#include "fp8c/Target/ProgramFile.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

std::optional<std::string> fp8c::compileModelToProgram(llvm::StringRef yaml,
                                                       llvm::StringRef bufferName) {
  mlir::DialectRegistry registry;
  registerAllDialects(registry);
  mlir::MLIRContext context(registry);
  context.loadAllAvailableDialects();
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(llvm::MemoryBuffer::getMemBufferCopy(yaml, bufferName),
                               llvm::SMLoc());
  mlir::SourceMgrDiagnosticHandler diagnostics(sourceMgr, &context);
  mlir::OwningOpRef<mlir::ModuleOp> module = importModelDescription(sourceMgr, &context);
  if (!module)
    return std::nullopt;
  mlir::PassManager pm(&context);
  buildPipelineUpTo(pm, getStages().back());
  if (mlir::failed(pm.run(*module)))
    return std::nullopt;
  std::string text;
  llvm::raw_string_ostream os(text);
  if (mlir::failed(writeProgramFile(*module, os)))
    return std::nullopt;
  return text;
}
