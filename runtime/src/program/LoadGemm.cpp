//===- LoadGemm.cpp - The gemm instructions of a program file -------------===//
//
// A gemm's keys, then its operands' shapes and dtypes and its scales
// against the buffers they name.
//
//===----------------------------------------------------------------------===//

#include "Loader.h"

namespace fp8rt::loader {

//===----------------------------------------------------------------------===//
// GEMMs
//===----------------------------------------------------------------------===//

namespace {

/// A GEMM operand's buffer as the matrix it is read as: leading dimensions
/// flattened into rows.
struct Matrix {
  int64_t rows = 0, cols = 0;
};
Matrix asMatrix(const TensorType &t) {
  Matrix m{1, t.shape.back()};
  for (size_t i = 0; i + 1 < t.shape.size(); ++i)
    m.rows *= t.shape[i];
  return m;
}

bool isWideFloat(DType t) { return t == DType::F32 || t == DType::BF16 || t == DType::F16; }

/// The program file's names of GemmEpilogue, in its order.
const std::initializer_list<const char *> kEpilogueNames = {"none", "bias", "gelu", "bias_gelu"};
std::string epilogueName(GemmEpilogue e) { return kEpilogueNames.begin()[int(e)]; }

} // namespace

Status Loader::readGemm(const json::Value &v, const JsonPath &p, Gemm &g) const {
  FP8RT_RETURN_IF_ERROR(checkKeys(v, p,
                                  {"a gemm",
                                   {"kind", "name", "m", "n", "k", "a", "b", "d", "transpose_a",
                                    "transpose_b", "fast_accum", "epilogue"},
                                   {"bias", "a_scale", "b_scale", "d_scale", "amax_d",
                                    "a_scale_mode", "b_scale_mode", "accumulate"}}));
  FP8RT_RETURN_IF_ERROR(readString(v, p, "name", g.name));
  uint64_t dims[3];
  const char *dimKeys[3] = {"m", "n", "k"};
  for (int i = 0; i < 3; ++i)
    FP8RT_RETURN_IF_ERROR(readUint(v, p, dimKeys[i], 1, kMaxArenaBytes, dims[i]));
  g.m = int64_t(dims[0]), g.n = int64_t(dims[1]), g.k = int64_t(dims[2]);
  FP8RT_RETURN_IF_ERROR(readBufferIndex(*v.find("a"), p.key("a"), g.a));
  FP8RT_RETURN_IF_ERROR(readBufferIndex(*v.find("b"), p.key("b"), g.b));
  FP8RT_RETURN_IF_ERROR(readBufferIndex(*v.find("d"), p.key("d"), g.d));
  FP8RT_RETURN_IF_ERROR(readOptionalBufferIndex(v, p, "bias", g.bias));
  FP8RT_RETURN_IF_ERROR(readOptionalBufferIndex(v, p, "a_scale", g.aScale));
  FP8RT_RETURN_IF_ERROR(readOptionalBufferIndex(v, p, "b_scale", g.bScale));
  FP8RT_RETURN_IF_ERROR(readOptionalBufferIndex(v, p, "d_scale", g.dScale));
  FP8RT_RETURN_IF_ERROR(readOptionalBufferIndex(v, p, "amax_d", g.amaxD));
  FP8RT_RETURN_IF_ERROR(readBool(v, p, "transpose_a", g.transposeA));
  FP8RT_RETURN_IF_ERROR(readBool(v, p, "transpose_b", g.transposeB));
  FP8RT_RETURN_IF_ERROR(readBool(v, p, "fast_accum", g.fastAccum));
  if (v.find("accumulate"))
    FP8RT_RETURN_IF_ERROR(readBool(v, p, "accumulate", g.accumulate));
  int choice = 0;
  FP8RT_RETURN_IF_ERROR(readChoice(v, p, "epilogue", kEpilogueNames, choice));
  g.epilogue = static_cast<GemmEpilogue>(choice);
  const auto modes = {"tensorwise", "rowwise", "block_1x128", "block_128x128"};
  if (v.find("a_scale_mode")) {
    FP8RT_RETURN_IF_ERROR(readChoice(v, p, "a_scale_mode", modes, choice));
    g.aScaleMode = static_cast<GemmScaleMode>(choice + 1);
  }
  if (v.find("b_scale_mode")) {
    FP8RT_RETURN_IF_ERROR(readChoice(v, p, "b_scale_mode", modes, choice));
    g.bScaleMode = static_cast<GemmScaleMode>(choice + 1);
  }
  FP8RT_RETURN_IF_ERROR(checkGemmOperands(g, p));
  FP8RT_RETURN_IF_ERROR(checkGemmScale(g, p, /*isA=*/true));
  FP8RT_RETURN_IF_ERROR(checkGemmScale(g, p, /*isA=*/false));
  FP8RT_RETURN_IF_ERROR(checkGemmAccumulate(g, p));

  // The output side: bias, amax and the FP8 output scale.
  const bool hasBiasEpilogue =
      g.epilogue == GemmEpilogue::Bias || g.epilogue == GemmEpilogue::BiasGelu;
  if (hasBiasEpilogue && g.bias == Gemm::kNone)
    return fail(p, "missing key \"bias\" (epilogue \"" + epilogueName(g.epilogue) + "\" adds one)");
  if (!hasBiasEpilogue && g.bias != Gemm::kNone)
    return fail(p.key("bias"), "a bias needs the epilogue \"bias\" or \"bias_gelu\"");
  const std::vector<Buffer> &buffers = program_.buffers;
  if (g.bias != Gemm::kNone) {
    const TensorType &t = buffers[g.bias].type;
    if (!isWideFloat(t.dtype) || t.shape != std::vector<int64_t>{g.n})
      return fail(p.key("bias"), bufferDescription(g.bias) +
                                     " is not a bias of the GEMM: expected f32, bf16 "
                                     "or f16 of shape [n] = [" +
                                     num(uint64_t(g.n)) + "]");
  }
  const TensorType f32Scalar{DType::F32, {}};
  if (g.amaxD != Gemm::kNone && buffers[g.amaxD].type != f32Scalar)
    return fail(p.key("amax_d"), bufferDescription(g.amaxD) + " is not an f32 scalar");
  const bool fp8D = isFp8(buffers[g.d].type.dtype);
  if (fp8D && g.dScale == Gemm::kNone)
    return fail(p, "missing key \"d_scale\" (D is " +
                       std::string(dtypeName(buffers[g.d].type.dtype)) +
                       ", an FP8 D needs a scale)");
  if (!fp8D && g.dScale != Gemm::kNone)
    return fail(p.key("d_scale"), "only an FP8 D has a scale, D is " +
                                      std::string(dtypeName(buffers[g.d].type.dtype)));
  if (g.dScale != Gemm::kNone && buffers[g.dScale].type != f32Scalar)
    return fail(p.key("d_scale"), bufferDescription(g.dScale) + " is not an f32 scalar");
  return Status::success();
}

Status Loader::checkGemmAccumulate(const Gemm &g, const JsonPath &p) const {
  if (!g.accumulate)
    return Status::success();
  const DType d = program_.buffers[g.d].type.dtype;
  if (d != DType::F32)
    return fail(p.key("accumulate"), "D is " + bufferDescription(g.d) +
                                         ": a GEMM that accumulates needs an f32 D (found " +
                                         dtypeName(d) + ")");
  if (g.epilogue != GemmEpilogue::None)
    return fail(p.key("accumulate"), "a GEMM that accumulates into D has no epilogue, found \"" +
                                         epilogueName(g.epilogue) +
                                         "\" (add the bias or apply GELU in a kernel)");
  return Status::success();
}

Status Loader::checkGemmOperands(const Gemm &g, const JsonPath &p) const {
  const std::vector<Buffer> &buffers = program_.buffers;
  struct Operand {
    const char *key;
    uint32_t buffer;
    int64_t rows, cols; ///< expected, as stored
    const char *layout; ///< "[m, k]", for messages
  };
  const Operand operands[] = {
      {"a", g.a, g.transposeA ? g.k : g.m, g.transposeA ? g.m : g.k,
       g.transposeA ? "[k, m] (transpose_a)" : "[m, k]"},
      {"b", g.b, g.transposeB ? g.n : g.k, g.transposeB ? g.k : g.n,
       g.transposeB ? "[n, k] (transpose_b)" : "[k, n]"},
      {"d", g.d, g.m, g.n, "[m, n]"},
  };
  for (const Operand &o : operands) {
    const TensorType &t = buffers[o.buffer].type;
    const JsonPath op = p.key(o.key);
    if (t.shape.size() < 2)
      return fail(op,
                  bufferDescription(o.buffer) + " is not a matrix (a buffer of rank 2 or more)");
    if (!isWideFloat(t.dtype) && !isFp8(t.dtype))
      return fail(op, bufferDescription(o.buffer) + " is not a float buffer (f32, bf16, "
                                                    "f16, f8e4m3 or f8e5m2)");
    const Matrix m = asMatrix(t);
    if (m.rows != o.rows || m.cols != o.cols)
      return fail(op, bufferDescription(o.buffer) + " is read as a [" + std::to_string(m.rows) +
                          ", " + std::to_string(m.cols) + "] matrix, expected " + o.layout +
                          " = [" + std::to_string(o.rows) + ", " + std::to_string(o.cols) + "]");
  }
  const DType a = buffers[g.a].type.dtype, b = buffers[g.b].type.dtype;
  if (isFp8(a) != isFp8(b))
    return fail(p.key("b"), std::string("A is ") + dtypeName(a) + " and B is " + dtypeName(b) +
                                ": the operands of a GEMM are both FP8 or neither");
  if (isFp8(a)) {
    if (a == DType::F8E5M2 && b == DType::F8E5M2)
      return fail(p.key("b"), "A and B are both f8e5m2: at most one operand of an FP8 "
                              "GEMM is E5M2");
    if (g.transposeA || !g.transposeB)
      return fail(p.key(g.transposeA ? "transpose_a" : "transpose_b"),
                  std::string("FP8 GEMMs are TN (transpose_a false, transpose_b "
                              "true), found transpose_a ") +
                      (g.transposeA ? "true" : "false") + ", transpose_b " +
                      (g.transposeB ? "true" : "false"));
  }
  return Status::success();
}

Status Loader::checkGemmScale(const Gemm &g, const JsonPath &p, bool isA) const {
  const std::vector<Buffer> &buffers = program_.buffers;
  const uint32_t operand = isA ? g.a : g.b;
  const uint32_t scale = isA ? g.aScale : g.bScale;
  const GemmScaleMode mode = isA ? g.aScaleMode : g.bScaleMode;
  const std::string scaleKey = isA ? "a_scale" : "b_scale";
  const std::string modeKey = scaleKey + "_mode";
  const TensorType &t = buffers[operand].type;
  if (!isFp8(t.dtype)) {
    if (scale != Gemm::kNone)
      return fail(p.key(scaleKey),
                  "only FP8 operands have scales, " + bufferDescription(operand) + " is not FP8");
    if (mode != GemmScaleMode::None)
      return fail(p.key(modeKey), "only FP8 operands have a scale mode, " +
                                      bufferDescription(operand) + " is not FP8");
    return Status::success();
  }
  if (scale == Gemm::kNone)
    return fail(p, "missing key \"" + scaleKey + "\" (" + bufferDescription(operand) +
                       " is FP8 and needs its scales)");
  if (mode == GemmScaleMode::None)
    return fail(p, "missing key \"" + modeKey + "\" (" + bufferDescription(operand) +
                       " is FP8 and needs a scale mode)");
  const Matrix m = asMatrix(t);
  std::vector<int64_t> want;
  const char *modeName = "tensorwise";
  switch (mode) {
  case GemmScaleMode::None:
  case GemmScaleMode::Tensorwise:
    break;
  case GemmScaleMode::Rowwise:
    modeName = "rowwise";
    want = {m.rows, 1};
    break;
  case GemmScaleMode::Block1x128:
  case GemmScaleMode::Block128x128: {
    const bool square = mode == GemmScaleMode::Block128x128;
    modeName = square ? "block_128x128" : "block_1x128";
    const int64_t blockRows = square ? 128 : 1;
    if (m.rows % blockRows != 0 || m.cols % 128 != 0)
      return fail(p.key(modeKey), std::string(modeName) +
                                      " scaling needs an operand "
                                      "whose stored shape is a "
                                      "multiple of the block, found [" +
                                      std::to_string(m.rows) + ", " + std::to_string(m.cols) + "]");
    want = {m.rows / blockRows, m.cols / 128};
    break;
  }
  }
  const TensorType expectedType{DType::F32, want};
  if (buffers[scale].type != expectedType)
    return fail(p.key(scaleKey), bufferDescription(scale) + " does not fit " + modeName +
                                     " scaling of a [" + std::to_string(m.rows) + ", " +
                                     std::to_string(m.cols) + "] operand: expected " +
                                     expectedType.str());
  return Status::success();
}

} // namespace fp8rt::loader
