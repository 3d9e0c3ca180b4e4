//===- KernelCodegenPointwise.cpp - CUDA for the pointwise kernel ops -----===//
//
// The CUDA column of the kernel-op table for the ops a pointwise phase
// computes one element at a time: each emitter appends the statements that
// compute its results for element `i` in registers, every float result
// rounded to its dtype as the CPU does (KernelCodegenImpl.h,
// docs/cuda-backend.md).
//
//===----------------------------------------------------------------------===//

#include "KernelCodegenImpl.h"

#include <map>

namespace fp8rt::cuda::detail {
namespace {

//===----------------------------------------------------------------------===//
// train
//===----------------------------------------------------------------------===//

bool tanhApprox(const PointwiseEmit &p) { return attrS(p.op, "approximate", "tanh") == "tanh"; }

Status gelu(const PointwiseEmit &p) {
  p.out += p.rounded(0, fmt("gelu(%s, %s)", p.a(0).c_str(), tanhApprox(p) ? "true" : "false"));
  return Status::success();
}

Status geluGrad(const PointwiseEmit &p) {
  p.out += p.rounded(0, fmt("geluGrad(%s, %s, %s)", p.a(0).c_str(), p.a(1).c_str(),
                            tanhApprox(p) ? "true" : "false"));
  return Status::success();
}

Status silu(const PointwiseEmit &p) {
  p.out += p.rounded(0, "silu(" + p.a(0) + ")");
  return Status::success();
}

Status siluGrad(const PointwiseEmit &p) {
  p.out += p.rounded(0, "siluGrad(" + p.a(0) + ", " + p.a(1) + ")");
  return Status::success();
}

Status relu2(const PointwiseEmit &p) {
  p.out += p.rounded(0, "relu2(" + p.a(0) + ")");
  return Status::success();
}

Status relu2Grad(const PointwiseEmit &p) {
  p.out += p.rounded(0, "relu2Grad(" + p.a(0) + ", " + p.a(1) + ")");
  return Status::success();
}

Status swiglu(const PointwiseEmit &p) {
  p.out += p.rounded(0, "swiglu(" + p.a(0) + ", " + p.a(1) + ")");
  return Status::success();
}

Status swigluGrad(const PointwiseEmit &p) {
  p.out += "      { float dgate, dup;\n        swigluGrad(" + p.a(0) + ", " + p.a(1) + ", " +
           p.a(2) + ", dgate, dup);\n  " + p.rounded(0, "dgate") + "  " + p.rounded(1, "dup") +
           "      }\n";
  return Status::success();
}

/// train.add and arith.addf.
Status add(const PointwiseEmit &p) {
  p.out += p.rounded(0, "__fadd_rn(" + p.a(0) + ", " + p.a(1) + ")");
  return Status::success();
}

/// train.mul, train.mul_scalar and arith.mulf.
Status mul(const PointwiseEmit &p) {
  p.out += p.rounded(0, "__fmul_rn(" + p.a(0) + ", " + p.a(1) + ")");
  return Status::success();
}

Status convert(const PointwiseEmit &p) {
  p.out += p.rounded(0, p.a(0));
  return Status::success();
}

Status reshape(const PointwiseEmit &p) {
  if (isInteger(p.inT()))
    p.out += "      " + p.res(0) + " = " + p.a(0) + ";\n";
  else
    p.out += p.rounded(0, p.a(0));
  return Status::success();
}

Status adamwUpdate(const PointwiseEmit &p) {
  const KernelOp &op = p.op;
  p.out += fmt("      adamw(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s);\n", p.a(0).c_str(),
               p.a(1).c_str(), p.a(2).c_str(), p.a(3).c_str(), p.a(4).c_str(), p.a(5).c_str(),
               doubleLit(attrF(op, "beta1")).c_str(), doubleLit(attrF(op, "beta2")).c_str(),
               doubleLit(attrF(op, "eps")).c_str(), doubleLit(attrF(op, "weight_decay")).c_str(),
               p.res(0).c_str(), p.res(1).c_str(), p.res(2).c_str());
  return Status::success();
}

Status sgdUpdate(const PointwiseEmit &p) {
  const KernelOp &op = p.op;
  const bool buffer = op.operands.size() == 4;
  p.out +=
      fmt("      { float newBuffer = 0.0f;\n        sgd(%s, %s, %s, %s, %s, %s, %s, newBuffer);\n",
          p.a(0).c_str(), p.a(1).c_str(), buffer ? p.a(3).c_str() : "0.0f", p.a(2).c_str(),
          doubleLit(attrF(op, "momentum")).c_str(), doubleLit(attrF(op, "weight_decay")).c_str(),
          p.res(0).c_str());
  if (buffer)
    p.out += "        " + p.res(1) + " = newBuffer;\n";
  p.out += "      }\n";
  return Status::success();
}

Status clipCoef(const PointwiseEmit &p) {
  p.out += p.rounded(
      0, fmt("clipCoef(%s, %s)", p.a(0).c_str(), doubleLit(attrF(p.op, "max_norm")).c_str()));
  return Status::success();
}

Status lrSchedule(const PointwiseEmit &p) {
  const KernelOp &op = p.op;
  p.out += p.rounded(
      0, fmt("lrSchedule(%s, %s, %s, %s, %s, %s)", p.a(0).c_str(),
             attrS(op, "kind") == "cosine" ? "true" : "false", doubleLit(attrF(op, "lr")).c_str(),
             num(attrI(op, "warmup_steps")).c_str(), num(attrI(op, "total_steps")).c_str(),
             doubleLit(attrF(op, "min_lr")).c_str()));
  return Status::success();
}

//===----------------------------------------------------------------------===//
// fp8
//===----------------------------------------------------------------------===//

Status computeScale(const PointwiseEmit &p) {
  const KernelOp &op = p.op;
  DType f = DType::F8E4M3;
  parseDType(attrS(op, "fp8_type", "f8e4m3"), f);
  const float mx = f == DType::F8E5M2 ? 57344.0f : 448.0f;
  p.out +=
      p.rounded(0, fmt("computeScale(%s, %s, %d, %s, %s)", p.a(0).c_str(), floatLit(mx).c_str(),
                       int(std::min<int64_t>(attrI(op, "margin", 0), 4096)),
                       attrB(op, "power_of_2") ? "true" : "false",
                       op.operands.size() == 2 ? p.a(1).c_str() : "1.0f"));
  return Status::success();
}

Status quantize(const PointwiseEmit &p) {
  p.out += fmt("      %s = quantize<%s>(%s, %s);\n", p.res(0).c_str(), p.rdt(0), p.a(0).c_str(),
               p.a(1).c_str());
  return Status::success();
}

Status dequantize(const PointwiseEmit &p) {
  p.out +=
      p.rounded(0, fmt("dequantize<%s>(%s, %s)", dtCode(p.inT()), p.a(0).c_str(), p.a(1).c_str()));
  return Status::success();
}

//===----------------------------------------------------------------------===//
// arith
//===----------------------------------------------------------------------===//

Status constant(const PointwiseEmit &p) {
  const Attr *value = p.op.attr("value");
  const TensorType &t = p.op.results[0];
  if (!value)
    return p.g.error("arith.constant without a value");
  if (value->kind == Attr::Kind::Array) {
    // A table in the entry: element i of the constant.
    string table;
    for (size_t k = 0; k < value->array.size(); ++k) {
      if (k)
        table += ", ";
      table +=
          isInteger(t.dtype) ? num(int64_t(value->array[k])) : floatLit(float(value->array[k]));
    }
    p.out += fmt("      { const %s table[] = {%s};\n  ", isInteger(t.dtype) ? "i64" : "float",
                 table.c_str());
    if (isInteger(t.dtype))
      p.out += fmt("      %s = wrapTo<%s>(u64(table[i]));\n      }\n", p.res(0).c_str(), p.rdt(0));
    else
      p.out += p.rounded(0, "table[i]") + "      }\n";
  } else if (isInteger(t.dtype)) {
    const int64_t v = value->kind == Attr::Kind::Bool ? (value->b ? 1 : 0) : value->i;
    p.out += fmt("      %s = wrapTo<%s>(u64(%s));\n", p.res(0).c_str(), p.rdt(0), num(v).c_str());
  } else {
    p.out += p.rounded(0, floatLit(float(value->f)));
  }
  return Status::success();
}

/// arith.addi, subi, muli: in u64, wrapped to the type.
Status intArith(const PointwiseEmit &p, const char *o) {
  const DType inT = p.inT();
  p.out += fmt("      %s = wrapTo<%s>(u64(asSigned<%s>(%s)) %s u64(asSigned<%s>(%s)));\n",
               p.res(0).c_str(), dtCode(inT), dtCode(inT), p.a(0).c_str(), o, dtCode(inT),
               p.a(1).c_str());
  return Status::success();
}
Status addi(const PointwiseEmit &p) { return intArith(p, "+"); }
Status subi(const PointwiseEmit &p) { return intArith(p, "-"); }
Status muli(const PointwiseEmit &p) { return intArith(p, "*"); }

/// arith.divsi and remsi.
Status divsi(const PointwiseEmit &p, bool remainder) {
  const DType inT = p.inT();
  p.out += fmt("      %s = divsi<%s>(asSigned<%s>(%s), asSigned<%s>(%s), %s);\n", p.res(0).c_str(),
               dtCode(inT), dtCode(inT), p.a(0).c_str(), dtCode(inT), p.a(1).c_str(),
               remainder ? "true" : "false");
  return Status::success();
}
Status divsi(const PointwiseEmit &p) { return divsi(p, false); }
Status remsi(const PointwiseEmit &p) { return divsi(p, true); }

Status cmpi(const PointwiseEmit &p) {
  const DType inT = p.inT();
  const string pred = attrS(p.op, "predicate");
  static const std::map<string, std::pair<bool, const char *>> kPred = {
      {"eq", {true, "=="}},  {"ne", {true, "!="}},  {"slt", {true, "<"}},  {"sle", {true, "<="}},
      {"sgt", {true, ">"}},  {"sge", {true, ">="}}, {"ult", {false, "<"}}, {"ule", {false, "<="}},
      {"ugt", {false, ">"}}, {"uge", {false, ">="}}};
  auto it = kPred.find(pred);
  if (it == kPred.end())
    return p.g.error("arith.cmpi: unknown predicate '" + pred + "'");
  const char *conv = it->second.first ? "asSigned" : "asUnsigned";
  p.out += fmt("      %s = (%s<%s>(%s) %s %s<%s>(%s)) ? 1 : 0;\n", p.res(0).c_str(), conv,
               dtCode(inT), p.a(0).c_str(), it->second.second, conv, dtCode(inT), p.a(1).c_str());
  return Status::success();
}

Status select(const PointwiseEmit &p) {
  const bool isInt = isInteger(p.op.results[0].dtype);
  const string pick =
      fmt("(%s & 1) != 0 ? %s : %s", p.a(0).c_str(), p.a(1).c_str(), p.a(2).c_str());
  if (isInt)
    p.out += "      " + p.res(0) + " = " + pick + ";\n";
  else
    p.out += p.rounded(0, pick);
  return Status::success();
}

/// arith.extsi and trunci.
Status intCast(const PointwiseEmit &p) {
  p.out += fmt("      %s = wrapTo<%s>(u64(asSigned<%s>(%s)));\n", p.res(0).c_str(), p.rdt(0),
               dtCode(p.inT()), p.a(0).c_str());
  return Status::success();
}

Status sitofp(const PointwiseEmit &p) {
  const DType inT = p.inT();
  if (p.op.results[0].dtype == DType::F32)
    p.out += fmt("      %s = __ll2float_rn(asSigned<%s>(%s));\n", p.res(0).c_str(), dtCode(inT),
                 p.a(0).c_str());
  else
    p.out +=
        p.rounded(0, fmt("int64ToFloatRoundToOdd(asSigned<%s>(%s))", dtCode(inT), p.a(0).c_str()));
  return Status::success();
}

Status subf(const PointwiseEmit &p) {
  p.out += p.rounded(0, "__fsub_rn(" + p.a(0) + ", " + p.a(1) + ")");
  return Status::success();
}

Status divf(const PointwiseEmit &p) {
  p.out += p.rounded(0, "__fdiv_rn(" + p.a(0) + ", " + p.a(1) + ")");
  return Status::success();
}

} // namespace

const OpEmitter emitTrainGelu{gelu};
const OpEmitter emitTrainGeluGrad{geluGrad};
const OpEmitter emitTrainSilu{silu};
const OpEmitter emitTrainSiluGrad{siluGrad};
const OpEmitter emitTrainRelu2{relu2};
const OpEmitter emitTrainRelu2Grad{relu2Grad};
const OpEmitter emitTrainSwiglu{swiglu};
const OpEmitter emitTrainSwigluGrad{swigluGrad};
const OpEmitter emitTrainAdd{add};
const OpEmitter emitTrainMul{mul};
const OpEmitter emitTrainMulScalar{mul};
const OpEmitter emitTrainConvert{convert};
const OpEmitter emitTrainReshape{reshape};
const OpEmitter emitTrainClipCoef{clipCoef};
const OpEmitter emitTrainLrSchedule{lrSchedule};
const OpEmitter emitTrainAdamwUpdate{adamwUpdate};
const OpEmitter emitTrainSgdUpdate{sgdUpdate};

const OpEmitter emitFp8ComputeScale{computeScale};
const OpEmitter emitFp8Quantize{quantize, nullptr, /*scaleOperand=*/true};
const OpEmitter emitFp8Dequantize{dequantize, nullptr, /*scaleOperand=*/true};

const OpEmitter emitArithConstant{constant};
const OpEmitter emitArithAddi{addi};
const OpEmitter emitArithSubi{subi};
const OpEmitter emitArithMuli{muli};
const OpEmitter emitArithDivsi{divsi};
const OpEmitter emitArithRemsi{remsi};
const OpEmitter emitArithCmpi{cmpi};
const OpEmitter emitArithSelect{select};
const OpEmitter emitArithExtsi{intCast};
const OpEmitter emitArithTrunci{intCast};
const OpEmitter emitArithSitofp{sitofp};
const OpEmitter emitArithAddf{add};
const OpEmitter emitArithSubf{subf};
const OpEmitter emitArithMulf{mul};
const OpEmitter emitArithDivf{divf};

} // namespace fp8rt::cuda::detail
