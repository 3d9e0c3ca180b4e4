//===- GemmAnnotation.cpp - the `fp8.gemm` attribute of a GEMM ------------===//

#include "fp8c/Analysis/GemmAnnotation.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Diagnostics.h"

using namespace mlir;
using namespace fp8c::fp8;

DictionaryAttr GemmAnnotation::toAttr(MLIRContext *context) const {
  Builder b(context);
  NamedAttribute entries[] = {
      b.getNamedAttr("name", b.getStringAttr(name)),
      b.getNamedAttr("kind", b.getStringAttr(kind)),
      b.getNamedAttr("m", b.getI64IntegerAttr(m)),
      b.getNamedAttr("k", b.getI64IntegerAttr(k)),
      b.getNamedAttr("n", b.getI64IntegerAttr(n)),
      b.getNamedAttr("decision", b.getStringAttr(fp8 ? "fp8" : "bf16")),
      b.getNamedAttr("reason", b.getStringAttr(reason)),
      b.getNamedAttr("t_bf16_us", b.getF64FloatAttr(tBF16Us)),
      b.getNamedAttr("t_fp8_us", b.getF64FloatAttr(tFP8Us)),
      b.getNamedAttr("speedup", b.getF64FloatAttr(speedup)),
  };
  return b.getDictionaryAttr(entries);
}

FailureOr<std::optional<GemmAnnotation>> GemmAnnotation::read(Operation *op) {
  Attribute raw = op->getAttr(kGemmAttrName);
  if (!raw)
    return std::optional<GemmAnnotation>();
  auto dict = dyn_cast<DictionaryAttr>(raw);
  if (!dict)
    return op->emitError() << kGemmAttrName << ": expected a dictionary, got " << raw;

  bool ok = true;
  auto bad = [&](StringRef key, StringRef expected) {
    ok = false;
    op->emitError() << kGemmAttrName << "." << key << ": expected " << expected << ", got "
                    << dict.get(key);
  };
  auto str = [&](StringRef key, std::string &out) {
    if (auto s = dyn_cast_or_null<StringAttr>(dict.get(key)))
      out = s.getValue().str();
    else
      bad(key, "a string");
  };
  auto integer = [&](StringRef key, int64_t &out) {
    auto i = dyn_cast_or_null<IntegerAttr>(dict.get(key));
    if (i && !i.getType().isInteger(1))
      out = i.getInt();
    else
      bad(key, "an integer");
  };
  auto real = [&](StringRef key, double &out) {
    if (auto f = dyn_cast_or_null<FloatAttr>(dict.get(key)))
      out = f.getValueAsDouble();
    else
      bad(key, "a float");
  };

  GemmAnnotation a;
  std::string decision;
  str("name", a.name);
  str("kind", a.kind);
  integer("m", a.m);
  integer("k", a.k);
  integer("n", a.n);
  str("decision", decision);
  str("reason", a.reason);
  real("t_bf16_us", a.tBF16Us);
  real("t_fp8_us", a.tFP8Us);
  real("speedup", a.speedup);
  if (!ok)
    return failure();
  if (a.kind != "forward" && a.kind != "dgrad" && a.kind != "wgrad")
    bad("kind", "one of forward, dgrad, wgrad");
  if (decision != "fp8" && decision != "bf16")
    bad("decision", "fp8 or bf16");
  if (!ok)
    return failure();
  a.fp8 = decision == "fp8";
  return std::optional<GemmAnnotation>(std::move(a));
}
