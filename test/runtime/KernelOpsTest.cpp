//===- KernelOpsTest.cpp - Checks and CPU semantics of kernel ops ---------===//
//
// checkKernelOp: every op family accepts the types its ODS definition
// allows and names what is wrong otherwise. runKernelOp: results against
// references computed here, independently of fp8rt:
//  - float formulas in double loops;
//  - bf16 / FP8 rounding by searching the format's representable values
//    (decoded from their bit fields) for the nearest, ties to even;
//  - f16 through the compiler's _Float16;
//  - the optimizer and schedule by their hand formulas.
//
//===----------------------------------------------------------------------===//

#include "fp8rt/cpu/KernelOps.h"
#include "fp8rt/ops/KernelOpTable.h"

#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

using namespace fp8rt;
using cpu::Value;
using ops::checkKernelOp;

namespace {

//===----------------------------------------------------------------------===//
// Builders
//===----------------------------------------------------------------------===//

TensorType T(DType d, std::vector<int64_t> shape = {}) { return TensorType{d, std::move(shape)}; }

Attr num(double v) {
  Attr a;
  a.kind = Attr::Kind::Float;
  a.f = v;
  a.i = int64_t(v);
  return a;
}
Attr integer(int64_t v) {
  Attr a;
  a.kind = Attr::Kind::Int;
  a.i = v;
  a.f = double(v);
  return a;
}
Attr flag() {
  Attr a;
  a.kind = Attr::Kind::Bool;
  a.b = true;
  return a;
}
Attr str(const std::string &s) {
  Attr a;
  a.kind = Attr::Kind::String;
  a.s = s;
  return a;
}
Attr arr(std::vector<double> v) {
  Attr a;
  a.kind = Attr::Kind::Array;
  a.array = std::move(v);
  return a;
}

KernelOp makeOp(const std::string &name, size_t numOperands, std::vector<TensorType> results,
                std::vector<std::pair<std::string, Attr>> attrs = {}) {
  KernelOp op;
  op.op = name;
  for (size_t i = 0; i < numOperands; ++i)
    op.operands.push_back(uint32_t(i));
  op.results = std::move(results);
  op.attrs = std::move(attrs);
  return op;
}

int64_t count(const TensorType &t) {
  int64_t n = 1;
  for (int64_t d : t.shape)
    n *= d;
  return n;
}

Value fval(TensorType t, std::vector<float> data) {
  Value v;
  v.type = std::move(t);
  v.f = std::move(data);
  EXPECT_EQ(int64_t(v.f.size()), count(v.type));
  return v;
}
Value ival(TensorType t, std::vector<int64_t> data) {
  Value v;
  v.type = std::move(t);
  v.i = std::move(data);
  EXPECT_EQ(int64_t(v.i.size()), count(v.type));
  return v;
}

std::vector<TensorType> typesOf(const std::vector<Value> &values) {
  std::vector<TensorType> types;
  for (const Value &v : values)
    types.push_back(v.type);
  return types;
}

/// Checks, then runs; fails the test on an error.
std::vector<Value> run(const KernelOp &op, const std::vector<Value> &operands) {
  std::vector<Value> results;
  Status check = checkKernelOp(op, typesOf(operands));
  EXPECT_TRUE(check.ok()) << check.toString();
  if (!check.ok())
    return results;
  std::vector<const Value *> ptrs;
  for (const Value &v : operands)
    ptrs.push_back(&v);
  Status s = cpu::runKernelOp(op, ptrs, results);
  EXPECT_TRUE(s.ok()) << s.toString();
  return results;
}

/// The message of a failed check (the test fails if it passed).
std::string checkError(const KernelOp &op, const std::vector<TensorType> &types) {
  Status s = checkKernelOp(op, types);
  EXPECT_FALSE(s.ok()) << op.op << " was accepted";
  return s.message();
}

std::vector<float> randomFloats(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (float &x : v)
    x = dist(rng);
  return v;
}

//===----------------------------------------------------------------------===//
// Independent rounding references
//===----------------------------------------------------------------------===//

/// A small binary float format: `man` mantissa bits, exponent bias, and its
/// finite values (nonnegative codes), decoded from the bit fields.
struct Format {
  int man, expBits, bias;
  bool ieeeInf; ///< top exponent is inf/NaN (E5M2, bf16, f16); else E4M3FN
};
constexpr Format kE4M3{3, 4, 7, false};
constexpr Format kE5M2{2, 5, 15, true};
constexpr Format kBf16{7, 8, 127, true};

double decodeRef(const Format &f, uint32_t code) { // nonnegative code
  const uint32_t e = code >> f.man, m = code & ((1u << f.man) - 1);
  if (e == 0)
    return std::ldexp(double(m), 1 - f.bias - f.man);
  return std::ldexp(1.0 + std::ldexp(double(m), -f.man), int(e) - f.bias);
}

/// Largest finite nonnegative code.
uint32_t maxCodeRef(const Format &f) {
  const uint32_t topExp = (1u << f.expBits) - 1;
  if (f.ieeeInf)
    return (topExp << f.man) - 1;
  return (topExp << f.man) | ((1u << f.man) - 2); // E4M3FN: S.1111.111 is NaN
}

/// x rounded to nearest (ties to the even code), saturating to the largest
/// finite value (`saturate`) or overflowing to inf.
double roundRef(const Format &f, double x, bool saturate) {
  if (std::isnan(x))
    return x;
  const double a = std::fabs(x);
  const uint32_t maxCode = maxCodeRef(f);
  const double maxValue = decodeRef(f, maxCode);
  double r;
  if (a >= maxValue) {
    // Beyond the largest finite value: the would-be next value is
    // maxValue + ulp; halfway and above rounds to it (inf) unless saturating.
    const double ulp = maxValue - decodeRef(f, maxCode - 1);
    r = (saturate || a < maxValue + ulp / 2) ? maxValue : INFINITY;
  } else {
    // Binary search the codes (values increase with the code).
    uint32_t lo = 0, hi = maxCode;
    while (hi - lo > 1) {
      const uint32_t mid = (lo + hi) / 2;
      (decodeRef(f, mid) <= a ? lo : hi) = mid;
    }
    const double dl = a - decodeRef(f, lo), dh = decodeRef(f, hi) - a;
    r = dl < dh ? decodeRef(f, lo)
        : dh < dl ? decodeRef(f, hi)
                  : decodeRef(f, (lo & 1) == 0 ? lo : hi);
  }
  return std::signbit(x) ? -r : r;
}

double bf16Ref(double x) { return roundRef(kBf16, x, false); }
double e4m3Ref(double x) { return roundRef(kE4M3, x, true); }
double e5m2Ref(double x) { return roundRef(kE5M2, x, true); }

/// |got - want| within `ulps` units of bf16 at want.
void expectNearBf16(float got, double want, double ulps, const std::string &what,
                    double absolute = 0.0) {
  EXPECT_EQ(bf16Ref(got), double(got)) << what << ": " << got << " is not a bf16 number";
  const double ulp = std::ldexp(1.0, std::ilogb(std::fabs(want) + 1e-30) - 7);
  EXPECT_LE(std::fabs(double(got) - want), ulps * ulp + absolute) << what << ": got " << got
                                                       << ", want " << want;
}

//===----------------------------------------------------------------------===//
// Dispatch and generic checks
//===----------------------------------------------------------------------===//

TEST(KernelOpsCheck, UnsupportedOp) {
  Status s = checkKernelOp(makeOp("train.frobnicate", 0, {}), {});
  EXPECT_EQ(s.code(), StatusCode::kUnimplemented);
  EXPECT_EQ(s.message(), "unsupported kernel op 'train.frobnicate'");
}

TEST(KernelOpsCheck, ZeroDimensionAndRank) {
  auto op = makeOp("train.gelu", 1, {T(DType::F32, {0})});
  EXPECT_EQ(checkError(op, {T(DType::F32, {0})}),
            "train.gelu: operand 0 has shape [0]: every dimension must be >= 1");
  auto deep = makeOp("train.gelu", 1, {T(DType::F32, std::vector<int64_t>(9, 1))});
  EXPECT_EQ(checkError(deep, {T(DType::F32, std::vector<int64_t>(9, 1))}),
            "train.gelu: operand 0 has rank 9, at most 8 is supported");
}

TEST(KernelOpsCheck, ResultsMustMatch) {
  auto op = makeOp("train.gelu", 1, {T(DType::F32, {4})});
  EXPECT_EQ(checkError(op, {T(DType::BF16, {4})}),
            "train.gelu: result 0 is declared f32[4], expected bf16[4]");
  auto two = makeOp("train.gelu", 1, {T(DType::BF16, {4}), T(DType::BF16, {4})});
  EXPECT_EQ(checkError(two, {T(DType::BF16, {4})}),
            "train.gelu: produces 1 result, the program declares 2");
  auto ints = makeOp("train.gelu", 1, {T(DType::I32, {4})});
  EXPECT_EQ(checkError(ints, {T(DType::I32, {4})}),
            "train.gelu: input must be a float tensor (f32, bf16 or f16), got i32[4]");
}

//===----------------------------------------------------------------------===//
// Norms
//===----------------------------------------------------------------------===//

TEST(KernelOpsCheck, LayerNorm) {
  const auto x = T(DType::BF16, {4, 8}), w = T(DType::BF16, {8});
  auto op = makeOp("train.layer_norm", 3, {x}, {{"eps", num(1e-5)}});
  EXPECT_TRUE(checkKernelOp(op, {x, w, w}).ok());
  EXPECT_TRUE(checkKernelOp(op, {x, w}).ok()); // no bias
  EXPECT_EQ(checkError(op, {x, T(DType::BF16, {7}), w}),
            "train.layer_norm: weight has shape [7], expected [8]");
  EXPECT_EQ(checkError(op, {x, w, T(DType::F32, {8})}),
            "train.layer_norm: expects one element type: input is bf16, bias is f32");
  EXPECT_EQ(checkError(op, {x}), "train.layer_norm: expected 2 to 3 operands, got 1");
  auto noEps = makeOp("train.layer_norm", 3, {x});
  EXPECT_EQ(checkError(noEps, {x, w, w}), "train.layer_norm: attribute 'eps' is missing");
  auto zeroEps = makeOp("train.layer_norm", 3, {x}, {{"eps", num(0)}});
  EXPECT_EQ(checkError(zeroEps, {x, w, w}),
            "train.layer_norm: 'eps' must be positive, got 0.000000");
  auto strEps = makeOp("train.layer_norm", 3, {x}, {{"eps", str("small")}});
  EXPECT_EQ(checkError(strEps, {x, w, w}),
            "train.layer_norm: attribute 'eps' must be a number, got a string");
  // An integral eps may come as a JSON integer.
  auto intEps = makeOp("train.layer_norm", 3, {x}, {{"eps", integer(1)}});
  EXPECT_TRUE(checkKernelOp(intEps, {x, w, w}).ok());

  auto grad = makeOp("train.layer_norm_grad", 3, {x, w, w}, {{"eps", num(1e-5)}});
  EXPECT_TRUE(checkKernelOp(grad, {x, x, w}).ok());
  auto gradTwo = makeOp("train.layer_norm_grad", 3, {x, w}, {{"eps", num(1e-5)}});
  EXPECT_EQ(checkError(gradTwo, {x, x, w}),
            "train.layer_norm_grad: produces 3 results, the program declares 2");
  auto rms = makeOp("train.rms_norm", 2, {x}, {{"eps", num(1e-5)}});
  EXPECT_EQ(checkError(rms, {x, w, w}), "train.rms_norm: expected 2 operands, got 3");
}

TEST(KernelOpsRun, LayerNormBf16AgainstDouble) {
  const int64_t rows = 3, d = 16;
  auto round = [](std::vector<float> v) {
    for (float &x : v)
      x = float(bf16Ref(x));
    return v;
  };
  Value x = fval(T(DType::BF16, {rows, d}), round(randomFloats(rows * d, 1, 2.0f)));
  Value w = fval(T(DType::BF16, {d}), round(randomFloats(d, 2)));
  Value b = fval(T(DType::BF16, {d}), round(randomFloats(d, 3)));
  const double eps = 1e-5;
  auto out = run(makeOp("train.layer_norm", 3, {x.type}, {{"eps", num(eps)}}), {x, w, b});
  ASSERT_EQ(out.size(), 1u);
  for (int64_t r = 0; r < rows; ++r) {
    double mean = 0, var = 0;
    for (int64_t j = 0; j < d; ++j)
      mean += x.f[r * d + j];
    mean /= d;
    for (int64_t j = 0; j < d; ++j)
      var += (x.f[r * d + j] - mean) * (x.f[r * d + j] - mean);
    var /= d;
    for (int64_t j = 0; j < d; ++j) {
      const double want = (x.f[r * d + j] - mean) / std::sqrt(var + eps) * w.f[j] + b.f[j];
      expectNearBf16(out[0].f[r * d + j], want, 1.0, "layer_norm");
    }
  }
}

TEST(KernelOpsRun, RmsNormGradF32AgainstDouble) {
  const int64_t rows = 2, d = 8;
  Value dy = fval(T(DType::F32, {rows, d}), randomFloats(rows * d, 4));
  Value x = fval(T(DType::F32, {rows, d}), randomFloats(rows * d, 5));
  Value w = fval(T(DType::F32, {d}), randomFloats(d, 6));
  const double eps = 1e-6;
  auto out = run(makeOp("train.rms_norm_grad", 3, {x.type, w.type}, {{"eps", num(eps)}}),
                 {dy, x, w});
  ASSERT_EQ(out.size(), 2u);
  std::vector<double> dw(d, 0.0);
  for (int64_t r = 0; r < rows; ++r) {
    double ms = 0;
    for (int64_t j = 0; j < d; ++j)
      ms += double(x.f[r * d + j]) * x.f[r * d + j];
    const double rinv = 1.0 / std::sqrt(ms / d + eps);
    double gx = 0;
    for (int64_t j = 0; j < d; ++j)
      gx += double(dy.f[r * d + j]) * w.f[j] * x.f[r * d + j] * rinv;
    gx /= d;
    for (int64_t j = 0; j < d; ++j) {
      const double xh = x.f[r * d + j] * rinv, g = double(dy.f[r * d + j]) * w.f[j];
      EXPECT_NEAR(out[0].f[r * d + j], rinv * (g - xh * gx), 1e-5);
      dw[j] += dy.f[r * d + j] * xh;
    }
  }
  for (int64_t j = 0; j < d; ++j)
    EXPECT_NEAR(out[1].f[j], dw[j], 1e-5);
}

//===----------------------------------------------------------------------===//
// Layers
//===----------------------------------------------------------------------===//

TEST(KernelOpsCheck, Embedding) {
  const auto table = T(DType::BF16, {10, 4}), ids = T(DType::I32, {2, 3});
  auto op = makeOp("train.embedding", 2, {T(DType::BF16, {2, 3, 4})});
  EXPECT_TRUE(checkKernelOp(op, {table, ids}).ok());
  EXPECT_TRUE(checkKernelOp(op, {table, T(DType::I64, {2, 3})}).ok());
  EXPECT_EQ(checkError(op, {table, T(DType::F32, {2, 3})}),
            "train.embedding: indices must be an index tensor (i32 or i64), got f32[2, 3]");
  EXPECT_EQ(checkError(op, {T(DType::BF16, {10, 5}), ids}),
            "train.embedding: result 0 is declared bf16[2, 3, 4], expected bf16[2, 3, 5]");
  auto grad = makeOp("train.embedding_grad", 2, {table});
  EXPECT_TRUE(checkKernelOp(grad, {T(DType::BF16, {2, 3, 4}), ids}).ok());
  EXPECT_EQ(checkError(grad, {T(DType::BF16, {2, 4, 4}), ids}),
            "train.embedding_grad: grad has shape [2, 4, 4], expected [2, 3, 4]");
}

TEST(KernelOpsRun, EmbeddingAndGrad) {
  Value table = fval(T(DType::F32, {5, 3}), randomFloats(15, 7));
  Value ids = ival(T(DType::I32, {4}), {4, 0, 4, 2});
  auto out = run(makeOp("train.embedding", 2, {T(DType::F32, {4, 3})}), {table, ids});
  ASSERT_EQ(out.size(), 1u);
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 3; ++j)
      EXPECT_EQ(out[0].f[i * 3 + j], table.f[ids.i[i] * 3 + j]);

  Value g = fval(T(DType::F32, {4, 3}), randomFloats(12, 8));
  auto dt = run(makeOp("train.embedding_grad", 2, {T(DType::F32, {5, 3})}), {g, ids});
  ASSERT_EQ(dt.size(), 1u);
  for (int v = 0; v < 5; ++v)
    for (int j = 0; j < 3; ++j) {
      double want = 0;
      for (int i = 0; i < 4; ++i)
        if (ids.i[i] == v)
          want += g.f[i * 3 + j];
      EXPECT_NEAR(dt[0].f[v * 3 + j], want, 1e-6);
    }

  // A token id outside the vocabulary is a data error, not a crash.
  Value bad = ival(T(DType::I32, {4}), {4, 0, 5, 2});
  std::vector<Value> results;
  Status s = cpu::runKernelOp(makeOp("train.embedding", 2, {T(DType::F32, {4, 3})}),
                              {&table, &bad}, results);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "train.embedding: id 5 at position 2 is outside [0, 5)");
}

TEST(KernelOpsCheck, MatmulAndLinear) {
  auto mm = makeOp("train.matmul", 2, {T(DType::BF16, {3, 5})}, {{"transpose_rhs", flag()}});
  EXPECT_TRUE(checkKernelOp(mm, {T(DType::BF16, {3, 4}), T(DType::BF16, {5, 4})}).ok());
  EXPECT_EQ(checkError(mm, {T(DType::BF16, {3, 4}), T(DType::BF16, {5, 6})}),
            "train.matmul: contraction dimensions differ: lhs [3, 4] has K = 4, rhs [5, 6] "
            "(transposed) has K = 6");
  auto lin = makeOp("train.linear", 3, {T(DType::BF16, {2, 3, 5})});
  EXPECT_EQ(checkError(lin, {T(DType::BF16, {2, 3, 4}), T(DType::BF16, {5, 4}),
                             T(DType::BF16, {4})}),
            "train.linear: bias has shape [4], expected [5]");
  auto bmm = makeOp("train.batch_matmul", 2, {T(DType::F32, {2, 3, 3})});
  EXPECT_EQ(checkError(bmm, {T(DType::F32, {2, 3, 4}), T(DType::F32, {3, 4, 3})}),
            "train.batch_matmul: batch dimensions differ: [2, 3, 4] and [3, 4, 3]");
}

TEST(KernelOpsRun, MatmulVariantsAgainstDouble) {
  const int64_t m = 3, k = 4, n = 5;
  Value a = fval(T(DType::F32, {k, m}), randomFloats(k * m, 9)); // transposed lhs
  Value b = fval(T(DType::F32, {k, n}), randomFloats(k * n, 10));
  auto out = run(makeOp("train.matmul", 2, {T(DType::F32, {m, n})},
                        {{"transpose_lhs", flag()}}),
                 {a, b});
  ASSERT_EQ(out.size(), 1u);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double want = 0;
      for (int64_t p = 0; p < k; ++p)
        want += double(a.f[p * m + i]) * b.f[p * n + j];
      EXPECT_NEAR(out[0].f[i * n + j], want, 1e-5);
    }

  // linear on bf16 with bias: x [2, 2, k] . W[n, k]^T + b, one rounding.
  auto bf = [](std::vector<float> v) {
    for (float &x : v)
      x = float(bf16Ref(x));
    return v;
  };
  Value x = fval(T(DType::BF16, {2, 2, k}), bf(randomFloats(4 * k, 11)));
  Value w = fval(T(DType::BF16, {n, k}), bf(randomFloats(n * k, 12)));
  Value bias = fval(T(DType::BF16, {n}), bf(randomFloats(n, 13)));
  auto y = run(makeOp("train.linear", 3, {T(DType::BF16, {2, 2, n})}), {x, w, bias});
  ASSERT_EQ(y.size(), 1u);
  for (int64_t r = 0; r < 4; ++r)
    for (int64_t o = 0; o < n; ++o) {
      double want = bias.f[o];
      for (int64_t p = 0; p < k; ++p)
        want += double(x.f[r * k + p]) * w.f[o * k + p];
      expectNearBf16(y[0].f[r * n + o], want, 1.0, "linear", 1e-5);
    }

  // batch_matmul with transpose_rhs over two batches.
  Value p = fval(T(DType::F32, {2, m, k}), randomFloats(2 * m * k, 14));
  Value q = fval(T(DType::F32, {2, n, k}), randomFloats(2 * n * k, 15));
  auto z = run(makeOp("train.batch_matmul", 2, {T(DType::F32, {2, m, n})},
                      {{"transpose_rhs", flag()}}),
               {p, q});
  ASSERT_EQ(z.size(), 1u);
  for (int64_t bt = 0; bt < 2; ++bt)
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double want = 0;
        for (int64_t c = 0; c < k; ++c)
          want += double(p.f[(bt * m + i) * k + c]) * q.f[(bt * n + j) * k + c];
        EXPECT_NEAR(z[0].f[(bt * m + i) * n + j], want, 1e-5);
      }
}

TEST(KernelOpsCheck, Attention) {
  const auto q = T(DType::BF16, {2, 4, 8}), kv = T(DType::BF16, {2, 4, 4});
  auto op = makeOp("train.attention", 3, {q},
                   {{"n_heads", integer(4)}, {"n_kv_heads", integer(2)}, {"causal", flag()}});
  EXPECT_TRUE(checkKernelOp(op, {q, kv, kv}).ok());
  auto bad = makeOp("train.attention", 3, {q},
                    {{"n_heads", integer(4)}, {"n_kv_heads", integer(3)}});
  EXPECT_EQ(checkError(bad, {q, kv, kv}),
            "train.attention: n_kv_heads (3) must divide n_heads (4)");
  auto rope = makeOp("train.attention", 3, {T(DType::BF16, {2, 4, 4})},
                     {{"n_heads", integer(4)}, {"n_kv_heads", integer(4)},
                      {"rope_theta", num(10000)}});
  const auto odd = T(DType::BF16, {2, 4, 4}); // head_dim 1
  EXPECT_EQ(checkError(rope, {odd, odd, odd}),
            "train.attention: rotary embeddings need an even head_dim, got 1");
  auto grad = makeOp("train.attention_grad", 4, {q, kv, kv},
                     {{"n_heads", integer(4)}, {"n_kv_heads", integer(2)}});
  EXPECT_TRUE(checkKernelOp(grad, {q, q, kv, kv}).ok());
  EXPECT_EQ(checkError(grad, {q, q, kv, q}),
            "train.attention_grad: value has shape [2, 4, 8], expected [2, 4, 4]");
}

TEST(KernelOpsRun, CausalAttentionAgainstDouble) {
  // One batch, two heads sharing one kv head, head_dim 2, seq 3.
  const int64_t t = 3, h = 2, hd = 2;
  Value q = fval(T(DType::F32, {1, t, h * hd}), randomFloats(t * h * hd, 16));
  Value k = fval(T(DType::F32, {1, t, hd}), randomFloats(t * hd, 17));
  Value v = fval(T(DType::F32, {1, t, hd}), randomFloats(t * hd, 18));
  auto out = run(makeOp("train.attention", 3, {q.type},
                        {{"n_heads", integer(h)}, {"n_kv_heads", integer(1)},
                         {"causal", flag()}}),
                 {q, k, v});
  ASSERT_EQ(out.size(), 1u);
  for (int64_t head = 0; head < h; ++head)
    for (int64_t i = 0; i < t; ++i) {
      std::vector<double> s(size_t(i + 1));
      double mx = -INFINITY, sum = 0;
      for (int64_t j = 0; j <= i; ++j) {
        double dot = 0;
        for (int64_t c = 0; c < hd; ++c)
          dot += double(q.f[i * h * hd + head * hd + c]) * k.f[j * hd + c];
        s[size_t(j)] = dot / std::sqrt(double(hd));
        mx = std::max(mx, s[size_t(j)]);
      }
      for (double &x : s)
        sum += (x = std::exp(x - mx));
      for (int64_t c = 0; c < hd; ++c) {
        double want = 0;
        for (int64_t j = 0; j <= i; ++j)
          want += s[size_t(j)] / sum * v.f[j * hd + c];
        EXPECT_NEAR(out[0].f[i * h * hd + head * hd + c], want, 1e-5);
      }
    }
}

//===----------------------------------------------------------------------===//
// Pointwise, shape, loss
//===----------------------------------------------------------------------===//

TEST(KernelOpsRun, PointwiseBf16) {
  auto bf = [](std::vector<float> v) {
    for (float &x : v)
      x = float(bf16Ref(x));
    return v;
  };
  const auto type = T(DType::BF16, {64});
  Value x = fval(type, bf(randomFloats(64, 19, 2.0f)));
  Value y = fval(type, bf(randomFloats(64, 20, 2.0f)));
  auto gelu = run(makeOp("train.gelu", 1, {type}, {{"approximate", str("none")}}), {x});
  auto silu = run(makeOp("train.silu", 1, {type}), {x});
  auto swiglu = run(makeOp("train.swiglu", 2, {type}), {x, y});
  auto add = run(makeOp("train.add", 2, {type}), {x, y});
  ASSERT_EQ(gelu.size() + silu.size() + swiglu.size() + add.size(), 4u);
  for (size_t i = 0; i < 64; ++i) {
    const double a = x.f[i], b = y.f[i];
    expectNearBf16(gelu[0].f[i], a * 0.5 * (1 + std::erf(a / std::sqrt(2.0))), 1, "gelu");
    const double sig = 1 / (1 + std::exp(-a));
    expectNearBf16(silu[0].f[i], a * sig, 1, "silu");
    expectNearBf16(swiglu[0].f[i], a * sig * b, 1, "swiglu");
    // One f32 add rounded once more to bf16: exactly the bf16 rounding of
    // the f32 sum.
    EXPECT_EQ(double(add[0].f[i]), bf16Ref(float(a + b)));
  }
  auto mismatch = makeOp("train.add", 2, {type});
  EXPECT_EQ(checkError(mismatch, {type, T(DType::BF16, {63})}),
            "train.add: operands must have one type: lhs is bf16[64], rhs is bf16[63]");
  auto badApprox = makeOp("train.gelu", 1, {type}, {{"approximate", str("erf")}});
  EXPECT_EQ(checkError(badApprox, {type}),
            "train.gelu: attribute 'approximate' is 'erf', expected 'none' or 'tanh'");
}

TEST(KernelOpsRun, ConvertRoundsToNearestEven) {
  // bf16 has 8 significant bits: 1 + 2^-8 is a tie (to 1), 1 + 3·2^-8 a tie
  // (to 1 + 2^-6), and 1 + 2^-8 + 2^-20 rounds up.
  std::vector<float> xs = {1.0f + 0x1p-8f, 1.0f + 3 * 0x1p-8f, 1.0f + 0x1p-8f + 0x1p-20f,
                           -3.3e38f, 1e-40f, 65520.0f, 65519.0f, 1e-8f, -2.9802322e-08f};
  Value x = fval(T(DType::F32, {int64_t(xs.size())}), xs);
  auto bf = run(makeOp("train.convert", 1, {T(DType::BF16, {int64_t(xs.size())})}), {x});
  auto hf = run(makeOp("train.convert", 1, {T(DType::F16, {int64_t(xs.size())})}), {x});
  ASSERT_EQ(bf.size() + hf.size(), 2u);
  for (size_t i = 0; i < xs.size(); ++i) {
    EXPECT_EQ(double(bf[0].f[i]), bf16Ref(xs[i])) << xs[i];
    EXPECT_EQ(hf[0].f[i], float(_Float16(xs[i]))) << xs[i];
  }
  EXPECT_EQ(bf[0].f[0], 1.0f);
  EXPECT_EQ(bf[0].f[1], 1.0f + 0x1p-6f);
  EXPECT_EQ(bf[0].f[2], 1.0f + 0x1p-7f);
}

TEST(KernelOpsRun, TransposeSliceReshapeReduce) {
  const int64_t a = 2, b = 3, c = 4;
  std::vector<float> data(size_t(a * b * c));
  for (size_t i = 0; i < data.size(); ++i)
    data[i] = float(i);
  Value x = fval(T(DType::F32, {a, b, c}), data);
  auto tr = run(makeOp("train.transpose", 1, {T(DType::F32, {c, a, b})},
                       {{"permutation", arr({2, 0, 1})}}),
                {x});
  ASSERT_EQ(tr.size(), 1u);
  for (int64_t i = 0; i < c; ++i)
    for (int64_t j = 0; j < a; ++j)
      for (int64_t k = 0; k < b; ++k)
        EXPECT_EQ(tr[0].f[(i * a + j) * b + k], data[size_t((j * b + k) * c + i)]);
  EXPECT_EQ(checkError(makeOp("train.transpose", 1, {T(DType::F32, {c, a, b})},
                              {{"permutation", arr({2, 0, 0})}}),
                       {x.type}),
            "train.transpose: permutation [2, 0, 0] is not a permutation of 0..2");

  Value ids = ival(T(DType::I64, {a, b, c}), std::vector<int64_t>(data.begin(), data.end()));
  auto sl = run(makeOp("train.slice", 1, {T(DType::I64, {a, 2, c})},
                       {{"dim", integer(1)}, {"offset", integer(1)}, {"size", integer(2)}}),
                {ids});
  ASSERT_EQ(sl.size(), 1u);
  for (int64_t i = 0; i < a; ++i)
    for (int64_t j = 0; j < 2; ++j)
      for (int64_t k = 0; k < c; ++k)
        EXPECT_EQ(sl[0].i[size_t((i * 2 + j) * c + k)], (i * b + j + 1) * c + k);
  EXPECT_EQ(checkError(makeOp("train.slice", 1, {T(DType::I64, {a, 3, c})},
                              {{"dim", integer(1)}, {"offset", integer(1)},
                               {"size", integer(3)}}),
                       {ids.type}),
            "train.slice: range [1, 1 + 3) does not fit in dimension 1 of size 3");

  Value g = fval(T(DType::F32, {a, 1, c}), randomFloats(size_t(a * c), 21));
  auto sg = run(makeOp("train.slice_grad", 1, {T(DType::F32, {a, b, c})},
                       {{"dim", integer(1)}, {"offset", integer(2)}}),
                {g});
  ASSERT_EQ(sg.size(), 1u);
  for (int64_t i = 0; i < a; ++i)
    for (int64_t j = 0; j < b; ++j)
      for (int64_t k = 0; k < c; ++k)
        EXPECT_EQ(sg[0].f[size_t((i * b + j) * c + k)], j == 2 ? g.f[size_t(i * c + k)] : 0.0f);

  auto rs = run(makeOp("train.reshape", 1, {T(DType::F32, {a * b, c})}), {x});
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0].f, data);
  EXPECT_EQ(checkError(makeOp("train.reshape", 1, {T(DType::F32, {5, 5})}), {x.type}),
            "train.reshape: cannot reshape [2, 3, 4] (24 elements) to [5, 5] (25 elements)");

  auto sum = run(makeOp("train.reduce_sum", 1, {T(DType::F32, {c})}), {x});
  ASSERT_EQ(sum.size(), 1u);
  for (int64_t k = 0; k < c; ++k) {
    double want = 0;
    for (int64_t r = 0; r < a * b; ++r)
      want += data[size_t(r * c + k)];
    EXPECT_EQ(double(sum[0].f[k]), want);
  }
  EXPECT_EQ(checkError(makeOp("train.reduce_sum", 1, {T(DType::F32, {b})}), {x.type}),
            "train.reduce_sum: result shape [3] is not a trailing part of the input shape "
            "[2, 3, 4]");
}

TEST(KernelOpsRun, CrossEntropyAndGrad) {
  const int64_t n = 3, v = 5;
  Value logits = fval(T(DType::F32, {n, v}), randomFloats(n * v, 22, 3.0f));
  Value targets = ival(T(DType::I64, {n}), {4, -100, 0});
  auto loss = run(makeOp("train.softmax_cross_entropy", 2, {T(DType::F32)},
                         {{"ignore_index", integer(-100)}}),
                  {logits, targets});
  Value one = fval(T(DType::F32), {1.0f});
  auto grad = run(makeOp("train.softmax_cross_entropy_grad", 3, {logits.type},
                         {{"ignore_index", integer(-100)}}),
                  {logits, targets, one});
  ASSERT_EQ(loss.size() + grad.size(), 2u);
  double total = 0;
  for (int64_t i = 0; i < n; ++i) {
    double mx = -INFINITY, sum = 0;
    for (int64_t j = 0; j < v; ++j)
      mx = std::max(mx, double(logits.f[i * v + j]));
    for (int64_t j = 0; j < v; ++j)
      sum += std::exp(logits.f[i * v + j] - mx);
    for (int64_t j = 0; j < v; ++j) {
      const double p = std::exp(logits.f[i * v + j] - mx) / sum;
      const double want =
          targets.i[i] == -100 ? 0.0 : (p - (j == targets.i[i] ? 1.0 : 0.0)) / 2.0;
      EXPECT_NEAR(grad[0].f[i * v + j], want, 1e-6);
    }
    if (targets.i[i] != -100)
      total += std::log(sum) + mx - logits.f[i * v + targets.i[i]];
  }
  EXPECT_NEAR(loss[0].f[0], total / 2.0, 1e-5);
  EXPECT_EQ(checkError(makeOp("train.softmax_cross_entropy", 2, {T(DType::F32)}),
                       {logits.type, T(DType::I64, {4})}),
            "train.softmax_cross_entropy: targets has shape [4], expected [3]");
}

//===----------------------------------------------------------------------===//
// Optimizer
//===----------------------------------------------------------------------===//

constexpr double kPi = 3.14159265358979323846;

TEST(KernelOpsRun, LrScheduleCosineAgainstFormula) {
  const double lr = 6e-4, minLr = 6e-5;
  const int64_t warmup = 10, total = 100;
  auto op = makeOp("train.lr_schedule", 1, {T(DType::F32)},
                   {{"kind", str("cosine")},
                    {"lr", num(lr)},
                    {"warmup_steps", integer(warmup)},
                    {"total_steps", integer(total)},
                    {"min_lr", num(minLr)}});
  for (int64_t step : {1, 5, 10, 11, 12, 50, 100, 101, 102, 500}) {
    Value s = ival(T(DType::I64), {step});
    auto out = run(op, {s});
    ASSERT_EQ(out.size(), 1u);
    const double it = double(step - 1);
    double want;
    if (it < warmup)
      want = lr * (it + 1) / (warmup + 1);
    else if (it > total)
      want = minLr;
    else
      want = minLr + 0.5 * (1 + std::cos(kPi * (it - warmup) / (total - warmup))) * (lr - minLr);
    EXPECT_NEAR(out[0].f[0], want, want * 1.2e-7) << "step " << step;
  }
  auto constant = makeOp("train.lr_schedule", 1, {T(DType::F32)},
                         {{"kind", str("constant")}, {"lr", num(lr)}, {"min_lr", num(1e-5)}});
  Value s = ival(T(DType::I64), {3});
  EXPECT_FALSE(checkKernelOp(constant, {s.type}).ok());
  EXPECT_EQ(checkError(op, {T(DType::I32)}),
            "train.lr_schedule: step must be an i64 scalar (i64[]), got i32[]");
}

TEST(KernelOpsRun, AdamWAgainstFormula) {
  const int64_t n = 6;
  Value p = fval(T(DType::F32, {n}), randomFloats(n, 23));
  Value g = fval(T(DType::F32, {n}), randomFloats(n, 24));
  Value m = fval(T(DType::F32, {n}), randomFloats(n, 25, 0.1f));
  std::vector<float> vInit = randomFloats(n, 26, 0.1f);
  for (float &x : vInit)
    x = x * x;
  Value v = fval(T(DType::F32, {n}), vInit);
  Value lr = fval(T(DType::F32), {1e-3f});
  Value step = ival(T(DType::I64), {7});
  const double b1 = 0.9, b2 = 0.95, eps = 1e-8, wd = 0.1;
  auto op = makeOp("train.adamw_update", 6, {p.type, p.type, p.type},
                   {{"beta1", num(b1)}, {"beta2", num(b2)}, {"eps", num(eps)},
                    {"weight_decay", num(wd)}});
  auto out = run(op, {p, g, m, v, lr, step});
  ASSERT_EQ(out.size(), 3u);
  for (int64_t i = 0; i < n; ++i) {
    const double mi = b1 * m.f[i] + (1 - b1) * g.f[i];
    const double vi = b2 * v.f[i] + (1 - b2) * double(g.f[i]) * g.f[i];
    const double lrv = double(lr.f[0]);
    const double pi = p.f[i] * (1 - lrv * wd) -
                      lrv * (mi / (1 - std::pow(b1, 7))) /
                          (std::sqrt(vi / (1 - std::pow(b2, 7))) + eps);
    EXPECT_NEAR(out[0].f[i], pi, 1e-6 * std::fabs(pi) + 1e-9);
    EXPECT_NEAR(out[1].f[i], mi, 1e-6 * std::fabs(mi) + 1e-9);
    EXPECT_NEAR(out[2].f[i], vi, 1e-6 * std::fabs(vi) + 1e-12);
  }
  auto badBeta = makeOp("train.adamw_update", 6, {p.type, p.type, p.type},
                        {{"beta1", num(1.0)}, {"beta2", num(b2)}, {"eps", num(eps)},
                         {"weight_decay", num(wd)}});
  EXPECT_EQ(checkError(badBeta, typesOf({p, g, m, v, lr, step})),
            "train.adamw_update: 'beta1' must be in [0, 1), got 1.000000");
  Value gb = fval(T(DType::BF16, {n}), std::vector<float>(n, 0.0f));
  EXPECT_EQ(checkError(op, typesOf({p, gb, m, v, lr, step})),
            "train.adamw_update: grad must be f32 (master weights and optimizer state are "
            "f32), got bf16[6]");
}

TEST(KernelOpsRun, SgdGlobalNormClip) {
  Value p = fval(T(DType::F32, {3}), {1.0f, -2.0f, 0.5f});
  Value g = fval(T(DType::F32, {3}), {0.5f, 0.25f, -1.0f});
  Value buf = fval(T(DType::F32, {3}), {0.1f, 0.2f, 0.3f});
  Value lr = fval(T(DType::F32), {0.1f});
  auto op = makeOp("train.sgd_update", 4, {p.type, p.type},
                   {{"momentum", num(0.9)}, {"weight_decay", num(0.01)}});
  auto out = run(op, {p, g, lr, buf});
  ASSERT_EQ(out.size(), 2u);
  for (int i = 0; i < 3; ++i) {
    const double gi = g.f[i] + 0.01 * p.f[i];
    const double bi = 0.9 * buf.f[i] + gi;
    EXPECT_NEAR(out[1].f[i], bi, 1e-6);
    EXPECT_NEAR(out[0].f[i], p.f[i] - double(lr.f[0]) * bi, 1e-6);
  }
  auto noBuffer = makeOp("train.sgd_update", 3, {p.type}, {{"momentum", num(0.9)},
                                                           {"weight_decay", num(0)}});
  EXPECT_EQ(checkError(noBuffer, {p.type, g.type, lr.type}),
            "train.sgd_update: 'momentum' > 0 needs a momentum buffer");

  auto norm = run(makeOp("train.global_norm", 2, {T(DType::F32)}), {p, g});
  ASSERT_EQ(norm.size(), 1u);
  double sq = 0;
  for (int i = 0; i < 3; ++i)
    sq += double(p.f[i]) * p.f[i] + double(g.f[i]) * g.f[i];
  EXPECT_EQ(norm[0].f[0], float(std::sqrt(sq)));
  auto clip = run(makeOp("train.clip_coef", 1, {T(DType::F32)}, {{"max_norm", num(1.0)}}),
                  {norm[0]});
  ASSERT_EQ(clip.size(), 1u);
  EXPECT_NEAR(clip[0].f[0], 1.0 / (std::sqrt(sq) + 1e-6), 1e-7);
  Value scale = clip[0];
  auto scaled = run(makeOp("train.mul_scalar", 2, {g.type}), {g, scale});
  ASSERT_EQ(scaled.size(), 1u);
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(scaled[0].f[i], g.f[i] * scale.f[0]);
}

//===----------------------------------------------------------------------===//
// FP8
//===----------------------------------------------------------------------===//

TEST(KernelOpsRun, AmaxRowwiseColumnwiseBlockwise) {
  const int64_t rows = 4, cols = 256;
  std::vector<float> data = randomFloats(size_t(rows * cols), 27, 3.0f);
  data[size_t(1 * cols + 200)] = -50.0f; // row 1, column 200, block 1
  Value x = fval(T(DType::F32, {rows, cols}), data);

  auto tensorwise = run(makeOp("fp8.amax", 1, {T(DType::F32)},
                               {{"recipe", str("tensorwise")}, {"fused_into_producer", flag()}}),
                        {x});
  auto rowwise = run(makeOp("fp8.amax", 1, {T(DType::F32, {rows, 1})},
                            {{"recipe", str("rowwise")}}),
                     {x});
  auto columnwise = run(makeOp("fp8.amax", 1, {T(DType::F32, {cols, 1})},
                               {{"recipe", str("rowwise")}, {"transposed", flag()}}),
                        {x});
  auto blocks = run(makeOp("fp8.amax", 1, {T(DType::F32, {rows, 2})},
                           {{"recipe", str("blockwise")}, {"block", arr({1, 128})}}),
                    {x});
  ASSERT_EQ(tensorwise.size() + rowwise.size() + columnwise.size() + blocks.size(), 4u);
  EXPECT_EQ(tensorwise[0].f[0], 50.0f);
  for (int64_t r = 0; r < rows; ++r) {
    float want = 0, b0 = 0, b1 = 0;
    for (int64_t c = 0; c < cols; ++c) {
      want = std::max(want, std::fabs(data[size_t(r * cols + c)]));
      (c < 128 ? b0 : b1) = std::max(c < 128 ? b0 : b1, std::fabs(data[size_t(r * cols + c)]));
    }
    EXPECT_EQ(rowwise[0].f[r], want);
    EXPECT_EQ(blocks[0].f[r * 2], b0);
    EXPECT_EQ(blocks[0].f[r * 2 + 1], b1);
  }
  for (int64_t c = 0; c < cols; ++c) {
    float want = 0;
    for (int64_t r = 0; r < rows; ++r)
      want = std::max(want, std::fabs(data[size_t(r * cols + c)]));
    EXPECT_EQ(columnwise[0].f[c], want);
  }
  // Columnwise amax with 1x128 groups of the transposed [256, 4] operand
  // needs 4 to be a multiple of 128.
  EXPECT_EQ(checkError(makeOp("fp8.amax", 1, {T(DType::F32, {cols, 1})},
                              {{"recipe", str("blockwise")},
                               {"block", arr({1, 128})},
                               {"transposed", flag()}}),
                       {x.type}),
            "fp8.amax: transposed input: blockwise scaling with block [1, 128] needs dimension "
            "1 (size 4) to be a multiple of 128");
  EXPECT_EQ(checkError(makeOp("fp8.amax", 1, {T(DType::F32, {rows, 1})},
                              {{"recipe", str("blockwise")}}),
                       {x.type}),
            "fp8.amax: input: blockwise scaling needs a block ([1, 128] or [128, 128])");
  // NaN propagates.
  data[5] = NAN;
  Value withNan = fval(T(DType::F32, {rows, cols}), data);
  auto nan = run(makeOp("fp8.amax", 1, {T(DType::F32, {rows, 1})}, {{"recipe", str("rowwise")}}),
                 {withNan});
  ASSERT_EQ(nan.size(), 1u);
  EXPECT_TRUE(std::isnan(nan[0].f[0]));
  EXPECT_FALSE(std::isnan(nan[0].f[1]));
}

TEST(KernelOpsRun, ComputeScaleEdgeCases) {
  Value amax = fval(T(DType::F32, {6}), {2.0f, 0.0f, INFINITY, NAN, 3.0f, 1e-40f});
  Value prev = fval(T(DType::F32, {6}), {5.0f, 7.0f, 9.0f, 11.0f, 13.0f, 15.0f});
  auto noPrev = run(makeOp("fp8.compute_scale", 1, {amax.type}, {{"fp8_type", str("f8e4m3")}}),
                    {amax});
  auto withPrev = run(makeOp("fp8.compute_scale", 2, {amax.type},
                             {{"fp8_type", str("f8e5m2")}, {"margin", integer(1)}}),
                      {amax, prev});
  auto pow2 = run(makeOp("fp8.compute_scale", 1, {amax.type},
                         {{"fp8_type", str("f8e4m3")}, {"power_of_2", flag()}}),
                  {amax});
  ASSERT_EQ(noPrev.size() + withPrev.size() + pow2.size(), 3u);
  // 448 / amax; tiny or non-finite amax: 1 (no previous) or the previous.
  const std::vector<float> wantNoPrev = {224.0f, 1.0f, 1.0f, 1.0f, float(448.0 / 3.0), 1.0f};
  const std::vector<float> wantPrev = {float(57344.0 / 4), 7.0f, 9.0f, 11.0f,
                                       float(57344.0 / 6), 15.0f};
  const std::vector<float> wantPow2 = {128.0f, 1.0f, 1.0f, 1.0f, 128.0f, 1.0f};
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(noPrev[0].f[i], wantNoPrev[i]) << i;
    EXPECT_EQ(withPrev[0].f[i], wantPrev[i]) << i;
    EXPECT_EQ(pow2[0].f[i], wantPow2[i]) << i;
  }
  EXPECT_EQ(checkError(makeOp("fp8.compute_scale", 1, {amax.type}, {{"fp8_type", str("bf16")}}),
                       {amax.type}),
            "fp8.compute_scale: fp8_type must be f8e4m3 or f8e5m2, got bf16");
  EXPECT_EQ(checkError(makeOp("fp8.compute_scale", 1, {amax.type},
                              {{"fp8_type", str("f8e4m3")}, {"margin", integer(-1)}}),
                       {amax.type}),
            "fp8.compute_scale: margin must be >= 0, got -1");
}

TEST(KernelOpsRun, QuantizeBitPatternsAndDequantize) {
  // Values that exercise ties, subnormals and saturation of both formats.
  std::vector<float> xs = {0.0f,     -0.0f,   1.0f,      1.0625f, 1.1875f, -3.5f, 448.0f,
                           464.0f,   1000.0f, -1e9f,     0.001f,  0.00390625f, 2.9e-3f,
                           57344.0f, 61439.0f, 61440.0f, 7e-6f,   1.5e-5f, 240.0f, 3.0f};
  const int64_t n = int64_t(xs.size());
  Value x = fval(T(DType::F32, {n}), xs);
  for (float scale : {1.0f, 0.5f, 3.0f}) {
    Value s = fval(T(DType::F32), {scale});
    auto e4 = run(makeOp("fp8.quantize", 2, {T(DType::F8E4M3, {n})},
                         {{"recipe", str("tensorwise")}}),
                  {x, s});
    auto e5 = run(makeOp("fp8.quantize", 2, {T(DType::F8E5M2, {n})},
                         {{"recipe", str("delayed")}}),
                  {x, s});
    ASSERT_EQ(e4.size() + e5.size(), 2u);
    for (int64_t i = 0; i < n; ++i) {
      const float scaled = xs[size_t(i)] * scale; // f32 product, as the kernel
      EXPECT_EQ(double(e4[0].f[i]), e4m3Ref(scaled)) << xs[size_t(i)] << " * " << scale;
      EXPECT_EQ(double(e5[0].f[i]), e5m2Ref(scaled)) << xs[size_t(i)] << " * " << scale;
      EXPECT_EQ(std::signbit(e4[0].f[i]), std::signbit(scaled));
    }
    // Dequantize divides by the scale (f32 division), then rounds to bf16.
    auto dq = run(makeOp("fp8.dequantize", 2, {T(DType::BF16, {n})},
                         {{"recipe", str("tensorwise")}}),
                  {e4[0], s});
    ASSERT_EQ(dq.size(), 1u);
    for (int64_t i = 0; i < n; ++i)
      EXPECT_EQ(double(dq[0].f[i]), bf16Ref(e4[0].f[i] / scale));
  }
  // The codes as bytes: storeValue writes the FP8 encoding.
  Value s = fval(T(DType::F32), {1.0f});
  Value few = fval(T(DType::F32, {4}), {1.0f, -448.0f, 1000.0f, 0.001953125f});
  auto q = run(makeOp("fp8.quantize", 2, {T(DType::F8E4M3, {4})},
                      {{"recipe", str("tensorwise")}}),
               {few, s});
  ASSERT_EQ(q.size(), 1u);
  uint8_t bytes[4];
  cpu::storeValue(q[0], bytes);
  EXPECT_EQ(bytes[0], 0x38); // 1.0
  EXPECT_EQ(bytes[1], 0xFE); // -448
  EXPECT_EQ(bytes[2], 0x7E); // saturated to 448
  EXPECT_EQ(bytes[3], 0x01); // smallest subnormal, 2^-9
  EXPECT_EQ(checkError(makeOp("fp8.quantize", 2, {T(DType::BF16, {4})},
                              {{"recipe", str("tensorwise")}}),
                       {few.type, s.type}),
            "fp8.quantize: result must be an FP8 tensor (f8e4m3 or f8e5m2), got bf16[4]");
}

TEST(KernelOpsRun, QuantizeRowwiseAndBlockScales) {
  const int64_t rows = 2, cols = 256;
  std::vector<float> data = randomFloats(size_t(rows * cols), 28, 4.0f);
  Value x = fval(T(DType::BF16, {rows, cols}), [&] {
    for (float &v : data)
      v = float(bf16Ref(v));
    return data;
  }());
  Value rowScales = fval(T(DType::F32, {rows, 1}), {10.0f, 0.25f});
  Value blockScales = fval(T(DType::F32, {rows, 2}), {1.0f, 2.0f, 4.0f, 8.0f});
  auto row = run(makeOp("fp8.quantize", 2, {T(DType::F8E4M3, {rows, cols})},
                        {{"recipe", str("rowwise")}}),
                 {x, rowScales});
  auto block = run(makeOp("fp8.quantize", 2, {T(DType::F8E5M2, {rows, cols})},
                          {{"recipe", str("blockwise")}, {"block", arr({1, 128})}}),
                   {x, blockScales});
  ASSERT_EQ(row.size() + block.size(), 2u);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      const float v = data[size_t(r * cols + c)];
      EXPECT_EQ(double(row[0].f[r * cols + c]), e4m3Ref(v * rowScales.f[r]));
      EXPECT_EQ(double(block[0].f[r * cols + c]),
                e5m2Ref(v * blockScales.f[size_t(r * 2 + c / 128)]));
    }
  EXPECT_EQ(checkError(makeOp("fp8.quantize", 2, {T(DType::F8E4M3, {rows, cols})},
                              {{"recipe", str("rowwise")}}),
                       {x.type, T(DType::F32, {rows})}),
            "fp8.quantize: scale has shape [2], but rowwise scaling of input [2, 256] needs "
            "[2, 1]");
}

TEST(KernelOpsRun, CastTranspose) {
  const int64_t rows = 128, cols = 256;
  std::vector<float> data = randomFloats(size_t(rows * cols), 29, 2.0f);
  Value x = fval(T(DType::F32, {rows, cols}), data);
  // Tensorwise: the transposed copy is the codes transposed.
  Value s = fval(T(DType::F32), {7.0f});
  auto tw = run(makeOp("fp8.cast_transpose", 2,
                       {T(DType::F8E4M3, {rows, cols}), T(DType::F8E4M3, {cols, rows})},
                       {{"recipe", str("tensorwise")}}),
                {x, s});
  ASSERT_EQ(tw.size(), 2u);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) {
      const double want = e4m3Ref(data[size_t(i * cols + j)] * 7.0f);
      EXPECT_EQ(double(tw[0].f[i * cols + j]), want);
      EXPECT_EQ(double(tw[1].f[j * rows + i]), want);
    }
  // Rowwise: the transposed copy has its own scales, one per column of x.
  Value rs = fval(T(DType::F32, {rows, 1}), std::vector<float>(size_t(rows), 2.0f));
  std::vector<float> colScales(static_cast<size_t>(cols));
  for (int64_t j = 0; j < cols; ++j)
    colScales[size_t(j)] = float(j % 7 + 1);
  Value ts = fval(T(DType::F32, {cols, 1}), colScales);
  auto op = makeOp("fp8.cast_transpose", 3,
                   {T(DType::F8E5M2, {rows, cols}), T(DType::F8E5M2, {cols, rows})},
                   {{"recipe", str("rowwise")}});
  auto rw = run(op, {x, rs, ts});
  ASSERT_EQ(rw.size(), 2u);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) {
      const float v = data[size_t(i * cols + j)];
      EXPECT_EQ(double(rw[0].f[i * cols + j]), e5m2Ref(v * 2.0f));
      EXPECT_EQ(double(rw[1].f[j * rows + i]), e5m2Ref(v * colScales[size_t(j)]));
    }
  EXPECT_EQ(checkError(op, {x.type, rs.type}),
            "fp8.cast_transpose: rowwise scaling groups other elements once transposed: "
            "'transposed_scale' is required");
  auto mixed = makeOp("fp8.cast_transpose", 2,
                      {T(DType::F8E4M3, {rows, cols}), T(DType::F8E5M2, {cols, rows})},
                      {{"recipe", str("tensorwise")}});
  EXPECT_EQ(checkError(mixed, {x.type, s.type}),
            "fp8.cast_transpose: result 1 (transposed) is declared f8e5m2[256, 128], expected "
            "f8e4m3[256, 128]");
  // 128x128 blocks: the transposed copy uses the transposed block scales.
  Value bs = fval(T(DType::F32, {1, 2}), {3.0f, 0.5f});
  auto bw = run(makeOp("fp8.cast_transpose", 2,
                       {T(DType::F8E4M3, {rows, cols}), T(DType::F8E4M3, {cols, rows})},
                       {{"recipe", str("blockwise")}, {"block", arr({128, 128})}}),
                {x, bs});
  ASSERT_EQ(bw.size(), 2u);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) {
      const double want = e4m3Ref(data[size_t(i * cols + j)] * bs.f[size_t(j / 128)]);
      EXPECT_EQ(double(bw[0].f[i * cols + j]), want);
      EXPECT_EQ(double(bw[1].f[j * rows + i]), want);
    }
}

TEST(KernelOpsRun, ScaledMatmul) {
  const int64_t m = 16, n = 32, k = 48;
  // Operands: FP8 codes (decoded), produced by the reference rounding.
  auto codes = [](size_t count, uint32_t seed, double (*round)(double)) {
    std::vector<float> v = randomFloats(count, seed, 20.0f);
    for (float &x : v)
      x = float(round(x));
    return v;
  };
  Value a = fval(T(DType::F8E4M3, {m, k}), codes(size_t(m * k), 30, e4m3Ref));
  Value b = fval(T(DType::F8E5M2, {n, k}), codes(size_t(n * k), 31, e5m2Ref));
  Value sa = fval(T(DType::F32), {4.0f}), sb = fval(T(DType::F32), {0.5f});
  Value bias = fval(T(DType::BF16, {n}), [] {
    std::vector<float> v = randomFloats(size_t(32), 32);
    for (float &x : v)
      x = float(bf16Ref(x));
    return v;
  }());
  auto reference = [&](int64_t i, int64_t j) {
    double acc = 0;
    for (int64_t p = 0; p < k; ++p)
      acc += (double(a.f[i * k + p]) / 4.0) * (double(b.f[j * k + p]) / 0.5);
    return acc + bias.f[j];
  };
  auto op = makeOp("fp8.scaled_matmul", 5, {T(DType::BF16, {m, n}), T(DType::F32)},
                   {{"recipe", str("tensorwise")},
                    {"format", str("hybrid")},
                    {"fast_accum", flag()},
                    {"operandSegmentSizes", arr({1, 1, 1, 1, 0, 1})}});
  auto out = run(op, {a, b, sa, sb, bias});
  ASSERT_EQ(out.size(), 2u);
  double amax = 0;
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      const double want = reference(i, j);
      expectNearBf16(out[0].f[i * n + j], want, 1.0, "scaled_matmul", 1e-3);
      amax = std::max(amax, std::fabs(double(out[0].f[i * n + j])));
    }
  // The amax of the bf16 result as stored.
  EXPECT_EQ(double(out[1].f[0]), amax);

  // FP8 result: multiplied by result_scale and converted; the amax is the
  // f32 one, before scaling. Segments inferred from the operand ranks.
  Value sd = fval(T(DType::F32), {0.125f});
  auto fp8 = run(makeOp("fp8.scaled_matmul", 6, {T(DType::F8E4M3, {m, n}), T(DType::F32)},
                        {{"recipe", str("tensorwise")}, {"format", str("hybrid")}}),
                 {a, b, sa, sb, sd, bias});
  ASSERT_EQ(fp8.size(), 2u);
  double maxAbs = 0;
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      const double want = reference(i, j);
      maxAbs = std::max(maxAbs, std::fabs(want));
      const double got = fp8[0].f[i * n + j];
      EXPECT_EQ(got, e4m3Ref(got)) << "not an E4M3 value";
      // Within one E4M3 step (2^-3 relative) of the scaled reference.
      EXPECT_LE(std::fabs(got - e4m3Ref(want * 0.125)), std::fabs(want * 0.125) / 8 + 0x1p-9);
    }
  EXPECT_NEAR(fp8[1].f[0], maxAbs, maxAbs * 1e-5);

  // Verifier rules.
  Value b5 = fval(T(DType::F8E5M2, {n, k}), b.f);
  Value a5 = fval(T(DType::F8E5M2, {m, k}), std::vector<float>(size_t(m * k), 0.0f));
  auto plain = makeOp("fp8.scaled_matmul", 4, {T(DType::BF16, {m, n})},
                      {{"recipe", str("tensorwise")}, {"format", str("hybrid")}});
  EXPECT_EQ(checkError(plain, typesOf({a5, b5, sa, sb})),
            "fp8.scaled_matmul: f8e5m2 x f8e5m2 GEMMs are not supported by cuBLASLt; one "
            "operand must be f8e4m3");
  auto e4m3 = makeOp("fp8.scaled_matmul", 4, {T(DType::BF16, {m, n})},
                     {{"recipe", str("tensorwise")}, {"format", str("e4m3")}});
  EXPECT_EQ(checkError(e4m3, typesOf({a, b, sa, sb})),
            "fp8.scaled_matmul: format e4m3 uses f8e4m3 for every operand, got f8e4m3 and "
            "f8e5m2");
  EXPECT_EQ(checkError(plain, {T(DType::F8E4M3, {m, 40}), T(DType::F8E4M3, {n, 40}),
                               sa.type, sb.type}),
            "fp8.scaled_matmul: FP8 GEMM dimension K = 40 is not a multiple of 16");
  auto fp8NoScale = makeOp("fp8.scaled_matmul", 4, {T(DType::F8E4M3, {m, n})},
                           {{"recipe", str("tensorwise")}, {"format", str("hybrid")}});
  EXPECT_EQ(checkError(fp8NoScale, typesOf({a, b, sa, sb})),
            "fp8.scaled_matmul: an FP8 result needs 'result_scale'");
  auto badSegments = makeOp("fp8.scaled_matmul", 5, {T(DType::BF16, {m, n})},
                            {{"recipe", str("tensorwise")},
                             {"format", str("hybrid")},
                             {"operandSegmentSizes", arr({1, 1, 1, 1, 1, 1})}});
  EXPECT_EQ(checkError(badSegments, typesOf({a, b, sa, sb, bias})),
            "fp8.scaled_matmul: 'operandSegmentSizes' [1, 1, 1, 1, 1, 1] does not describe 5 "
            "operands (lhs, rhs, lhs_scale, rhs_scale, result_scale?, bias?)");
}

TEST(KernelOpsRun, ScaledMatmulBlockwise) {
  const int64_t m = 16, n = 128, k = 256;
  auto codes = [](size_t count, uint32_t seed) {
    std::vector<float> v = randomFloats(count, seed, 30.0f);
    for (float &x : v)
      x = float(e4m3Ref(x));
    return v;
  };
  Value a = fval(T(DType::F8E4M3, {m, k}), codes(size_t(m * k), 33));
  Value b = fval(T(DType::F8E4M3, {n, k}), codes(size_t(n * k), 34));
  std::vector<float> aScales(size_t(m * 2));
  for (size_t i = 0; i < aScales.size(); ++i)
    aScales[i] = float(1 << (i % 5));
  Value sa = fval(T(DType::F32, {m, 2}), aScales);
  Value sb = fval(T(DType::F32, {1, 2}), {0.5f, 8.0f});
  auto out = run(makeOp("fp8.scaled_matmul", 4, {T(DType::F32, {m, n})},
                        {{"recipe", str("blockwise")},
                         {"format", str("e4m3")},
                         {"lhs_block", arr({1, 128})},
                         {"rhs_block", arr({128, 128})}}),
                 {a, b, sa, sb});
  ASSERT_EQ(out.size(), 1u);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double want = 0;
      for (int64_t p = 0; p < k; ++p)
        want += double(a.f[i * k + p]) / aScales[size_t(i * 2 + p / 128)] *
                (double(b.f[j * k + p]) / sb.f[size_t(p / 128)]);
      EXPECT_NEAR(out[0].f[i * n + j], want, 1e-4 * (1 + std::fabs(want)));
    }
}

TEST(KernelOpsRun, AmaxHistory) {
  Value h = fval(T(DType::F32, {4}), {1.0f, 5.0f, 2.0f, 3.0f});
  Value a = fval(T(DType::F32), {0.5f});
  auto upd = run(makeOp("fp8.amax_history_update", 2, {h.type}), {h, a});
  ASSERT_EQ(upd.size(), 1u);
  EXPECT_EQ(upd[0].f, (std::vector<float>{0.5f, 1.0f, 5.0f, 2.0f}));
  auto mx = run(makeOp("fp8.amax_from_history", 1, {T(DType::F32)}, {{"algo", str("max")}}),
                {upd[0]});
  auto recent = run(makeOp("fp8.amax_from_history", 1, {T(DType::F32)},
                           {{"algo", str("most_recent")}}),
                    {upd[0]});
  ASSERT_EQ(mx.size() + recent.size(), 2u);
  EXPECT_EQ(mx[0].f[0], 5.0f);
  EXPECT_EQ(recent[0].f[0], 0.5f);
  EXPECT_EQ(checkError(makeOp("fp8.amax_history_update", 2, {h.type}),
                       {T(DType::F32, {2, 2}), a.type}),
            "fp8.amax_history_update: history must be an f32 vector, got f32[2, 2]");
}

//===----------------------------------------------------------------------===//
// arith
//===----------------------------------------------------------------------===//

TEST(KernelOpsRun, ArithIntegers) {
  const auto i32 = T(DType::I32, {4});
  Value a = ival(i32, {2147483647, -7, 7, -2147483648LL});
  Value b = ival(i32, {1, 2, -2, -1});
  auto add = run(makeOp("arith.addi", 2, {i32}), {a, b});
  auto div = run(makeOp("arith.divsi", 2, {i32}), {a, b});
  auto rem = run(makeOp("arith.remsi", 2, {i32}), {a, b});
  auto mul = run(makeOp("arith.muli", 2, {i32}), {a, b});
  ASSERT_EQ(add.size() + div.size() + rem.size() + mul.size(), 4u);
  EXPECT_EQ(add[0].i, (std::vector<int64_t>{-2147483648LL, -5, 5, 2147483647}));
  EXPECT_EQ(div[0].i, (std::vector<int64_t>{2147483647, -3, -3, -2147483648LL}));
  EXPECT_EQ(rem[0].i, (std::vector<int64_t>{0, -1, 1, 0}));
  EXPECT_EQ(mul[0].i, (std::vector<int64_t>{2147483647, -14, -14, -2147483648LL}));

  Value zero = ival(i32, {1, 0, 1, 1});
  std::vector<Value> results;
  Status s = cpu::runKernelOp(makeOp("arith.divsi", 2, {i32}), {&a, &zero}, results);
  EXPECT_EQ(s.message(), "arith.divsi: division by zero at element 1");

  auto slt = run(makeOp("arith.cmpi", 2, {T(DType::I8, {4})}, {{"predicate", str("slt")}}),
                 {a, b});
  auto ult = run(makeOp("arith.cmpi", 2, {T(DType::I8, {4})}, {{"predicate", str("ult")}}),
                 {a, b});
  ASSERT_EQ(slt.size() + ult.size(), 2u);
  EXPECT_EQ(slt[0].i, (std::vector<int64_t>{0, 1, 0, 1}));
  EXPECT_EQ(ult[0].i, (std::vector<int64_t>{0, 0, 1, 1})); // negatives are huge unsigned
  EXPECT_EQ(checkError(makeOp("arith.cmpi", 2, {T(DType::I8, {4})},
                              {{"predicate", str("lt")}}),
                       {i32, i32}),
            "arith.cmpi: attribute 'predicate' is 'lt', expected 'eq', 'ne', 'slt', 'sle', "
            "'sgt', 'sge', 'ult', 'ule', 'ugt' or 'uge'");

  // i1 (i8) sign-extends to -1; trunci keeps the low bits.
  Value flags = ival(T(DType::I8, {2}), {1, 0});
  auto ext = run(makeOp("arith.extsi", 1, {T(DType::I64, {2})}), {flags});
  Value big = ival(T(DType::I64, {2}), {0x1'8000'0001LL, -1});
  auto trunc = run(makeOp("arith.trunci", 1, {T(DType::I32, {2})}), {big});
  ASSERT_EQ(ext.size() + trunc.size(), 2u);
  EXPECT_EQ(ext[0].i, (std::vector<int64_t>{-1, 0}));
  EXPECT_EQ(trunc[0].i, (std::vector<int64_t>{-2147483647LL, -1}));
  EXPECT_EQ(checkError(makeOp("arith.extsi", 1, {T(DType::I32, {2})}), {big.type}),
            "arith.extsi: result type i32 must be wider than the input type i64 (i8 stands "
            "for i1)");

  Value cond = ival(T(DType::I8), {1});
  Value x = fval(T(DType::F32, {2}), {1.5f, 2.5f}), y = fval(T(DType::F32, {2}), {-1, -2});
  auto sel = run(makeOp("arith.select", 3, {x.type}), {cond, x, y});
  ASSERT_EQ(sel.size(), 1u);
  EXPECT_EQ(sel[0].f, x.f);
}

TEST(KernelOpsRun, ArithFloatsAndConstants) {
  // sitofp rounds once to the result type: 257 is a bf16 tie (to 256),
  // 2^24 + 1 + 2^16 must not double-round through f32.
  Value ints = ival(T(DType::I64, {3}), {257, 259, (int64_t(1) << 24) + 1 + (1 << 16)});
  auto bf = run(makeOp("arith.sitofp", 1, {T(DType::BF16, {3})}), {ints});
  ASSERT_EQ(bf.size(), 1u);
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(double(bf[0].f[i]), bf16Ref(double(ints.i[size_t(i)]))) << ints.i[size_t(i)];

  Value a = fval(T(DType::F32), {1.0f}), b = fval(T(DType::F32), {3.0f});
  auto div = run(makeOp("arith.divf", 2, {a.type}), {a, b});
  ASSERT_EQ(div.size(), 1u);
  EXPECT_EQ(div[0].f[0], 1.0f / 3.0f);

  auto splat = run(makeOp("arith.constant", 0, {T(DType::BF16, {2})}, {{"value", num(0.1)}}),
                   {});
  auto array = run(makeOp("arith.constant", 0, {T(DType::I32, {3})},
                          {{"value", arr({0, -1, 2147483647})}}),
                   {});
  ASSERT_EQ(splat.size() + array.size(), 2u);
  EXPECT_EQ(double(splat[0].f[1]), bf16Ref(float(0.1)));
  EXPECT_EQ(array[0].i, (std::vector<int64_t>{0, -1, 2147483647}));
  EXPECT_EQ(checkError(makeOp("arith.constant", 0, {T(DType::I32, {2})},
                              {{"value", arr({1, 2, 3})}}),
                       {}),
            "arith.constant: attribute 'value' has 3 elements, the result i32[2] has 2");
  EXPECT_EQ(checkError(makeOp("arith.constant", 0, {T(DType::I32)}, {{"value", num(1.5)}}),
                       {}),
            "arith.constant: constant 1.500000 is not a value of i32");
}

//===----------------------------------------------------------------------===//
// loadValue / storeValue
//===----------------------------------------------------------------------===//

TEST(KernelOpsValues, LoadStoreRoundTrips) {
  // Every bf16, f16 and FP8 bit pattern survives load + store, and loads to
  // the value the bit fields say.
  for (DType t : {DType::BF16, DType::F16}) {
    std::vector<uint8_t> bytes(65536 * 2);
    for (uint32_t c = 0; c < 65536; ++c) {
      bytes[2 * c] = uint8_t(c);
      bytes[2 * c + 1] = uint8_t(c >> 8);
    }
    Value v = cpu::loadValue(T(t, {65536}), bytes.data());
    ASSERT_EQ(v.f.size(), 65536u);
    for (uint32_t c = 0; c < 65536; ++c) {
      float want;
      if (t == DType::BF16) {
        const uint32_t u = c << 16;
        std::memcpy(&want, &u, 4);
      } else {
        _Float16 h;
        const uint16_t c16 = uint16_t(c);
        std::memcpy(&h, &c16, 2);
        want = float(h);
      }
      if (std::isnan(want))
        EXPECT_TRUE(std::isnan(v.f[c])) << c;
      else
        EXPECT_EQ(v.f[c], want) << c;
    }
    std::vector<uint8_t> back(bytes.size());
    cpu::storeValue(v, back.data());
    EXPECT_EQ(back, bytes) << (t == DType::BF16 ? "bf16" : "f16");
  }
  for (DType t : {DType::F8E4M3, DType::F8E5M2}) {
    std::vector<uint8_t> bytes(256);
    for (uint32_t c = 0; c < 256; ++c)
      bytes[c] = uint8_t(c);
    Value v = cpu::loadValue(T(t, {256}), bytes.data());
    const Format &f = t == DType::F8E4M3 ? kE4M3 : kE5M2;
    for (uint32_t c = 0; c < 256; ++c) {
      const uint32_t mag = c & 0x7F;
      if (mag <= maxCodeRef(f)) {
        EXPECT_EQ(double(v.f[c]), (c & 0x80 ? -1 : 1) * decodeRef(f, mag)) << c;
      }
    }
    EXPECT_TRUE(std::isnan(v.f[0x7F]));
    if (t == DType::F8E5M2) {
      EXPECT_EQ(v.f[0x7C], INFINITY);
    }
    std::vector<uint8_t> back(256);
    cpu::storeValue(v, back.data());
    EXPECT_EQ(back, bytes);
  }
  // Integers, little-endian; i8 sign-extends.
  const uint8_t raw[8] = {0xFF, 0xFF, 0xFF, 0xFF, 0x02, 0x00, 0x00, 0x80};
  Value i32 = cpu::loadValue(T(DType::I32, {2}), raw);
  EXPECT_EQ(i32.i, (std::vector<int64_t>{-1, int64_t(int32_t(0x80000002u))}));
  Value i64 = cpu::loadValue(T(DType::I64, {1}), raw);
  EXPECT_EQ(i64.i[0], int64_t(0x80000002FFFFFFFFull));
  Value i8 = cpu::loadValue(T(DType::I8, {2}), raw + 3);
  EXPECT_EQ(i8.i, (std::vector<int64_t>{-1, 2}));
  uint8_t out[8];
  cpu::storeValue(i32, out);
  EXPECT_EQ(std::memcmp(out, raw, 8), 0);
  Value f32 = fval(T(DType::F32, {2}), {1.5f, -0.0f});
  cpu::storeValue(f32, out);
  EXPECT_EQ(cpu::loadValue(f32.type, out).f, f32.f);
}

TEST(KernelOpsRun, RunRechecksAndRejectsBadValues) {
  // runKernelOp re-runs the checks: a caller that skipped them gets an error,
  // never an out-of-bounds access.
  Value x = fval(T(DType::F32, {4}), {1, 2, 3, 4});
  Value w = fval(T(DType::F32, {3}), {1, 1, 1});
  std::vector<Value> results;
  Status s = cpu::runKernelOp(
      makeOp("train.layer_norm", 2, {x.type}, {{"eps", num(1e-5)}}), {&x, &w}, results);
  EXPECT_EQ(s.message(), "train.layer_norm: weight has shape [3], expected [4]");
  Value shortValue = x;
  shortValue.f.pop_back();
  s = cpu::runKernelOp(makeOp("train.gelu", 1, {x.type}), {&shortValue}, results);
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_TRUE(results.empty());
}

} // namespace
