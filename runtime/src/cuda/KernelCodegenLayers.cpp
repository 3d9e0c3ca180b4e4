//===- KernelCodegenLayers.cpp - CUDA for kernel ops of their own phase ----===//
//
// The CUDA column of the kernel-op table for norms, attention, embeddings, losses, small GEMMs:
// each op one or more launches calling the prelude's templates
// (KernelCodegenImpl.h, docs/cuda-backend.md).
//
//===----------------------------------------------------------------------===//

#include "KernelCodegenImpl.h"

#include <cinttypes>

namespace fp8rt::cuda::detail {
namespace {

using ops::OpId;

/// train.reduce_sum: one thread per column, in order.
Status reduceSum(const KernelEmit &e) {
  const int64_t inner = e.op.results[0].numElements(), outer = e.elems(e.op.operands[0]) / inner;
  e.addEntry(e.what + ": one thread per column, in order",
             fmt("  reduceSumColumns<%s, %s>(%s, %s, %s, %s);\n", e.inDt(0), e.outDt(0),
                 e.in(0).c_str(), num(outer).c_str(), num(inner).c_str(), e.out(0).c_str()),
             gridFor(uint64_t(inner), kBlock), kBlock);
  return Status::success();
}

/// train.global_norm: partial sums of squares of every tensor, then their sum in a fixed order.
Status globalNorm(const KernelEmit &e) {
  string cases;
  uint64_t total = 0;
  uint32_t maxParts = 1;
  vector<uint32_t> parts;
  for (size_t k = 0; k < e.op.operands.size(); ++k) {
    const uint32_t p =
        std::min<uint32_t>(256, gridFor(uint64_t(e.elems(e.op.operands[k])), kBlock * 16));
    parts.push_back(p);
    maxParts = std::max(maxParts, p);
  }
  const uint64_t partial = e.allocScratch(8 * 256 * e.op.operands.size());
  for (size_t k = 0; k < e.op.operands.size(); ++k) {
    cases += fmt("  case %zu: if (blockIdx.x < %u) sumSquaresPartial<%s>(%s, %s, blockIdx.x, %u, "
                 "partial + %" PRIu64 " + blockIdx.x); break; // %s\n",
                 k, parts[k], e.inDt(k), e.in(k).c_str(), num(e.elems(e.op.operands[k])).c_str(),
                 parts[k], total, e.describe(e.op.operands[k]).c_str());
    total += parts[k];
  }
  e.addEntry("train.global_norm, phase 1: partial sums of squares (blockIdx.y: the tensor)",
             fmt("  double *partial = reinterpret_cast<double *>(scratch + %s);\n"
                 "  switch (blockIdx.y) {\n%s  }\n",
                 num(int64_t(partial)).c_str(), cases.c_str()),
             maxParts, kBlock);
  e.launches.back().grid[1] = uint32_t(e.op.operands.size());
  e.addEntry("train.global_norm, phase 2: the partials in a fixed order, square root",
             fmt("  globalNormFinal(reinterpret_cast<const double *>(scratch + %s), %" PRIu64
                 ", %s);\n",
                 num(int64_t(partial)).c_str(), total, e.out(0).c_str()),
             1, 1024);
  return Status::success();
}

/// train.softmax_cross_entropy(_grad): one block per row, then the mean (or the coefficient first).
Status crossEntropy(const KernelEmit &e) {
  const int64_t vocab = e.types[e.op.operands[0]].shape.back();
  const int64_t n = e.elems(e.op.operands[1]);
  const Attr *ignore = e.op.attr("ignore_index");
  const string ig = ignore ? "true, " + num(ignore->i) : "false, 0LL";
  if (e.id == OpId::TrainSoftmaxCrossEntropy) {
    const uint64_t loss = e.allocScratch(uint64_t(n) * 4),
                   counted = e.allocScratch(uint64_t(n) * 4);
    e.addEntry(
        e.what + ", phase 1: one block per row",
        fmt("  crossEntropyRows<%s, %s>(%s, %s, %s, %s, %s, reinterpret_cast<float *>(scratch + "
            "%s), reinterpret_cast<int *>(scratch + %s));\n",
            e.inDt(0), e.inDt(1), e.in(0).c_str(), e.in(1).c_str(), num(n).c_str(),
            num(vocab).c_str(), ig.c_str(), num(int64_t(loss)).c_str(),
            num(int64_t(counted)).c_str()),
        gridFor(uint64_t(n), 1), kBlock);
    e.addEntry(e.what + ", phase 2: the mean over counted rows",
               fmt("  crossEntropyFinal(reinterpret_cast<const float *>(scratch + %s), "
                   "reinterpret_cast<const int *>(scratch + %s), %s, %s);\n",
                   num(int64_t(loss)).c_str(), num(int64_t(counted)).c_str(), num(n).c_str(),
                   e.out(0).c_str()),
               1, 1024);
    return Status::success();
  }
  const uint64_t coef = e.allocScratch(4);
  e.addEntry(
      e.what + ", phase 1: loss_grad / counted rows",
      fmt("  crossEntropyCoef<%s>(%s, %s, %s, %s, reinterpret_cast<float *>(scratch + %s));\n",
          e.inDt(1), e.in(1).c_str(), num(n).c_str(), ig.c_str(), e.in(2).c_str(),
          num(int64_t(coef)).c_str()),
      1, 1024);
  e.addEntry(
      e.what + ", phase 2: one block per row",
      fmt("  crossEntropyGradRows<%s, %s, %s>(%s, %s, %s, %s, %s, reinterpret_cast<const float "
          "*>(scratch + %s), %s);\n",
          e.inDt(0), e.inDt(1), e.outDt(0), e.in(0).c_str(), e.in(1).c_str(), num(n).c_str(),
          num(vocab).c_str(), ig.c_str(), num(int64_t(coef)).c_str(), e.out(0).c_str()),
      gridFor(uint64_t(n), 1), kBlock);
  return Status::success();
}

/// train.layer_norm / train.rms_norm: one block per row.
Status norm(const KernelEmit &e) {
  const int64_t d = e.types[e.op.operands[0]].shape.back(), rows = e.elems(e.op.operands[0]) / d;
  const uint32_t block = d > 128 ? kBlock : 128;
  const string eps = doubleLit(attrF(e.op, "eps"));
  if (e.id == OpId::TrainLayerNorm) {
    const bool bias = e.op.operands.size() == 3;
    e.addEntry(e.what + ": one block per row",
               fmt("  layerNormRows<%s, %s, %s, %s>(%s, %s, %s, %s, %s, %s, %s, %s);\n", e.inDt(0),
                   e.inDt(1), bias ? e.inDt(2) : "F32", e.outDt(0), e.in(0).c_str(),
                   e.in(1).c_str(), bias ? e.in(2).c_str() : "nullptr", bias ? "true" : "false",
                   num(rows).c_str(), num(d).c_str(), eps.c_str(), e.out(0).c_str()),
               gridFor(uint64_t(rows), 1), block);
  } else {
    e.addEntry(e.what + ": one block per row",
               fmt("  rmsNormRows<%s, %s, %s>(%s, %s, %s, %s, %s, %s);\n", e.inDt(0), e.inDt(1),
                   e.outDt(0), e.in(0).c_str(), e.in(1).c_str(), num(rows).c_str(), num(d).c_str(),
                   eps.c_str(), e.out(0).c_str()),
               gridFor(uint64_t(rows), 1), block);
  }
  return Status::success();
}

/// train.layer_norm_grad / train.rms_norm_grad: rows, then weight (and bias) columns.
Status normGrad(const KernelEmit &e) {
  const bool layer = e.id == OpId::TrainLayerNormGrad;
  const int64_t d = e.types[e.op.operands[1]].shape.back(), rows = e.elems(e.op.operands[1]) / d;
  const uint32_t block = d > 128 ? kBlock : 128;
  const uint64_t stats = e.allocScratch(uint64_t(rows) * 16);
  e.addEntry(e.what + ", phase 1: input gradient, one block per row",
             fmt("  normGradRows<%s, %s, %s, %s>(%s, %s, %s, %s, %s, %s, %s, %s, "
                 "reinterpret_cast<double *>(scratch + %s));\n",
                 e.inDt(0), e.inDt(1), e.inDt(2), e.outDt(0), e.in(0).c_str(), e.in(1).c_str(),
                 e.in(2).c_str(), num(rows).c_str(), num(d).c_str(),
                 doubleLit(attrF(e.op, "eps")).c_str(), layer ? "true" : "false", e.out(0).c_str(),
                 num(int64_t(stats)).c_str()),
             gridFor(uint64_t(rows), 1), block);
  e.addEntry(e.what + ", phase 2: weight" + (layer ? " and bias" : "") +
                 " gradients, one thread per column",
             fmt("  normGradColumns<%s, %s, %s>(%s, %s, reinterpret_cast<const double *>(scratch + "
                 "%s), %s, %s, %s, %s);\n",
                 e.inDt(0), e.inDt(1), e.outDt(1), e.in(0).c_str(), e.in(1).c_str(),
                 num(int64_t(stats)).c_str(), num(rows).c_str(), num(d).c_str(), e.out(1).c_str(),
                 layer ? e.out(2).c_str() : "nullptr"),
             gridFor(uint64_t(d), kBlock), kBlock);
  return Status::success();
}

/// train.embedding: one thread per element.
Status embedding(const KernelEmit &e) {
  const int64_t vocab = e.types[e.op.operands[0]].shape[0],
                dim = e.types[e.op.operands[0]].shape[1];
  const int64_t n = e.elems(e.op.operands[1]);
  e.addEntry(e.what + ": one thread per element",
             fmt("  embeddingRows<%s, %s, %s>(%s, %s, %s, %s, %s, %s);\n", e.inDt(0), e.inDt(1),
                 e.outDt(0), e.in(0).c_str(), num(vocab).c_str(), num(dim).c_str(), e.in(1).c_str(),
                 num(n).c_str(), e.out(0).c_str()),
             gridFor(uint64_t(n * dim), kBlock), kBlock);
  return Status::success();
}

/// train.embedding_grad: positions sorted by id, then each table row summed in order.
Status embeddingGrad(const KernelEmit &e) {
  const int64_t vocab = e.op.results[0].shape[0], dim = e.op.results[0].shape[1];
  const int64_t n = e.elems(e.op.operands[1]);
  const uint64_t start = e.allocScratch(uint64_t(vocab + 1) * 4),
                 cursor = e.allocScratch(uint64_t(vocab) * 4),
                 order = e.allocScratch(uint64_t(n) * 4);
  e.addEntry(e.what + ", phase 1: positions sorted by id (one block, integer counts)",
             fmt("  embeddingGradSort<%s>(%s, %s, %s, reinterpret_cast<int *>(scratch + %s), "
                 "reinterpret_cast<int *>(scratch + %s), reinterpret_cast<int *>(scratch + %s));\n",
                 e.inDt(1), e.in(1).c_str(), num(n).c_str(), num(vocab).c_str(),
                 num(int64_t(start)).c_str(), num(int64_t(cursor)).c_str(),
                 num(int64_t(order)).c_str()),
             1, 1024);
  e.addEntry(
      e.what + ", phase 2: one thread per table element, its rows in order",
      fmt("  embeddingGradRows<%s, %s>(%s, %s, %s, reinterpret_cast<const int *>(scratch + %s), "
          "reinterpret_cast<const int *>(scratch + %s), %s);\n",
          e.inDt(0), e.outDt(0), e.in(0).c_str(), num(vocab).c_str(), num(dim).c_str(),
          num(int64_t(start)).c_str(), num(int64_t(order)).c_str(), e.out(0).c_str()),
      gridFor(uint64_t(vocab * dim), kBlock), kBlock);
  return Status::success();
}

/// The --emit=cuda note on a tensor-core attention launch: static shared memory per block and
/// the blocks per SM that ptxas's register counts (CUDA 13) and shared memory allow
/// (docs/cuda-backend.md has the table).
string flashBudget(int64_t sharedBytes, int sm90, int sm89) {
  return fmt("; %s bytes of static shared memory per block, 128 threads; %d blocks per SM on "
             "sm_90, %d on sm_89",
             std::to_string(sharedBytes).c_str(), sm90, sm89);
}

/// train.attention_grad at head dims 64 and 128: FlashAttention-2's backward on tensor cores,
/// deterministic (each gradient element written once, no atomics).
Status flashAttentionGrad(const KernelEmit &e, int64_t D, const string &shape, const string &rope,
                          const string &qrs, const string &krs, uint64_t stats) {
  const vector<int64_t> &q = e.types[e.op.operands[1]].shape;
  const int64_t heads = attrI(e.op, "n_heads"), kvHeads = attrI(e.op, "n_kv_heads");
  const int64_t B = q[0], T = q[1], tiles = (T + 63) / 64;
  const string hd = std::to_string(D),
               st = fmt("reinterpret_cast<float *>(scratch + %s)", num(int64_t(stats)).c_str());
  const uint32_t qBlocks = uint32_t(std::min<int64_t>(B * heads * tiles, 1 << 20));
  e.addEntry(e.what +
                 fmt(", phase 1 on tensor cores (head dim %s): the forward again per (batch, "
                     "head, 64 query rows), 4 warps x 16 rows, keeping each row's max, 1/sum "
                     "and D = rowsum(dO * O)",
                     hd.c_str()) +
                 flashBudget((D == 64 ? 2 : 1) * 4 * 64 * (D + 8), D == 64 ? 4 : 3, 2),
             fmt("  flashAttentionBackwardStats<%s, %s, %s>(%s, %s, %s, %s, %s, %s);\n", hd.c_str(),
                 e.inDt(0), e.inDt(3), shape.c_str(), e.in(0).c_str(), qrs.c_str(), krs.c_str(),
                 e.in(3).c_str(), st.c_str()),
             qBlocks, 128);
  e.addEntry(e.what +
                 ", phase 2 on tensor cores: dK and dV per (batch, kv head, 64 key rows), "
                 "the group's query heads and query tiles in order; P and dS recomputed from "
                 "the row statistics" +
                 flashBudget(4 * 64 * (D + 8) + 768, D == 64 ? 4 : 3, D == 64 ? 4 : 2),
             fmt("  flashAttentionBackwardKeyValue<%s, %s, %s, %s>(%s, %s, %s, %s, %s, %s, %s, %s, "
                 "%s);\n",
                 hd.c_str(), e.inDt(0), e.inDt(3), e.outDt(1), shape.c_str(), e.in(0).c_str(),
                 qrs.c_str(), krs.c_str(), e.in(3).c_str(), st.c_str(), rope.c_str(),
                 e.out(1).c_str(), e.out(2).c_str()),
             uint32_t(std::min<int64_t>(B * kvHeads * tiles, 1 << 20)), 128);
  e.addEntry(e.what +
                 ", phase 3 on tensor cores: dQ per (batch, head, 64 query rows), the key "
                 "tiles in order" +
                 flashBudget(4 * 64 * (D + 8), D == 64 ? 3 : 2, D == 64 ? 3 : 2),
             fmt("  flashAttentionBackwardQuery<%s, %s, %s, %s>(%s, %s, %s, %s, %s, %s, %s, %s);\n",
                 hd.c_str(), e.inDt(0), e.inDt(3), e.outDt(0), shape.c_str(), e.in(0).c_str(),
                 qrs.c_str(), krs.c_str(), e.in(3).c_str(), st.c_str(), rope.c_str(),
                 e.out(0).c_str()),
             qBlocks, 128);
  return Status::success();
}

/// train.attention(_grad): query and key with RoPE applied (f32, or bf16 for the tensor-core
/// kernels), then the tensor-core kernels or one block per row.
Status attention(const KernelEmit &e) {
  const bool grad = e.id == OpId::TrainAttentionGrad;
  const size_t qi = grad ? 1 : 0;
  const vector<int64_t> &q = e.types[e.op.operands[qi]].shape;
  const int64_t heads = attrI(e.op, "n_heads"), kvHeads = attrI(e.op, "n_kv_heads");
  const int64_t B = q[0], T = q[1], D = q[2] / heads;
  const Attr *theta = e.op.attr("rope_theta");
  const string rope = theta ? "true, " + doubleLit(theta->f) : "false, 0.0";
  // The tensor-core kernels read q' and k' in bf16 (16-byte tile loads): the rotation in f32,
  // rounded once, as the f32 copy would be rounded when loaded.
  const bool flash = D == 64 || D == 128;
  const uint64_t qr = e.allocScratch(uint64_t(B * T * heads * D) * (flash ? 2 : 4)),
                 kr = e.allocScratch(uint64_t(B * T * kvHeads * D) * (flash ? 2 : 4));
  const string shape = fmt("AttentionShape{%s, %s, %s, %s, %s, %s}", num(B).c_str(), num(T).c_str(),
                           num(heads).c_str(), num(kvHeads).c_str(), num(D).c_str(),
                           attrB(e.op, "causal") ? "true" : "false");
  for (int which = 0; which < 2; ++which) {
    const int64_t h = which == 0 ? heads : kvHeads;
    const int64_t work = B * T * h * (theta ? D / 2 : D);
    e.addEntry(
        e.what + (which == 0 ? ", query" : ", key") + (flash ? " in bf16" : " in f32") +
            (theta ? " with RoPE" : ""),
        fmt(flash ? "  ropeCopyBf16<%s>(%s, %s, %s, %s, %s, %s, scratch + %s);\n"
                  : "  ropeCopy<%s>(%s, %s, %s, %s, %s, %s, reinterpret_cast<float *>(scratch + "
                    "%s));\n",
            e.inDt(qi + size_t(which)), e.in(qi + size_t(which)).c_str(), num(B).c_str(),
            num(T).c_str(), num(h).c_str(), num(D).c_str(), rope.c_str(),
            num(int64_t(which == 0 ? qr : kr)).c_str()),
        gridFor(uint64_t(work), kBlock), kBlock);
  }
  const uint32_t block = D > 64 ? 128 : 64;
  const string qrs = fmt(flash ? "scratch + %s" : "reinterpret_cast<const float *>(scratch + %s)",
                         num(int64_t(qr)).c_str());
  const string krs = fmt(flash ? "scratch + %s" : "reinterpret_cast<const float *>(scratch + %s)",
                         num(int64_t(kr)).c_str());
  if (!grad && flash) {
    const int64_t tiles = (T + 63) / 64;
    e.addEntry(e.what +
                   fmt(": FlashAttention-2 on tensor cores (head dim %s): one block of 4 warps "
                       "per (batch, head, 64 query rows), 16 rows per warp; 64-key K/V tiles "
                       "in bf16 in shared memory by cp.async (%s), S = QK^T and O = PV on "
                       "mma.sync m16n8k16 bf16 -> f32, online softmax in f32%s",
                       std::to_string(D).c_str(), D == 64 ? "double-buffered" : "single-buffered",
                       attrB(e.op, "causal") ? ", key tiles after the diagonal skipped" : "") +
                   flashBudget((D == 64 ? 2 : 1) * 4 * 64 * (D + 8), D == 64 ? 4 : 3, 2),
               fmt("  flashAttentionForward<%s, %s, %s>(%s, %s, %s, %s, %s);\n",
                   std::to_string(D).c_str(), e.inDt(2), e.outDt(0), shape.c_str(), qrs.c_str(),
                   krs.c_str(), e.in(2).c_str(), e.out(0).c_str()),
               uint32_t(std::min<int64_t>(B * heads * tiles, 1 << 20)), 128);
    return Status::success();
  }
  if (!grad) {
    e.addEntry(e.what + ": one block per (batch, head, query row) (head dim " + std::to_string(D) +
                   ": the tensor-core kernel takes 64 and 128)",
               fmt("  attentionForward<%s, %s>(%s, %s, %s, %s, %s);\n", e.inDt(2), e.outDt(0),
                   shape.c_str(), qrs.c_str(), krs.c_str(), e.in(2).c_str(), e.out(0).c_str()),
               uint32_t(std::min<int64_t>(B * heads * T, 1 << 20)), block, 1, uint32_t(T * 4));
    return Status::success();
  }
  const uint64_t stats = e.allocScratch(uint64_t(B * heads * T) * 12);
  if (flash)
    return flashAttentionGrad(e, D, shape, rope, qrs, krs, stats);
  e.addEntry(e.what + ", query gradient: one block per (batch, head, query row) (head dim " +
                 std::to_string(D) + ": the tensor-core kernels take 64 and 128)",
             fmt("  attentionBackwardQuery<%s, %s, %s>(%s, %s, %s, %s, %s, %s, %s, "
                 "reinterpret_cast<float *>(scratch + %s));\n",
                 e.inDt(0), e.inDt(3), e.outDt(0), shape.c_str(), e.in(0).c_str(), qrs.c_str(),
                 krs.c_str(), e.in(3).c_str(), rope.c_str(), e.out(0).c_str(),
                 num(int64_t(stats)).c_str()),
             uint32_t(std::min<int64_t>(B * heads * T, 1 << 20)), block, 1,
             uint32_t((2 * T + D) * 4));
  e.addEntry(
      e.what + ", key and value gradients: one block per (batch, kv head, key row)",
      fmt("  attentionBackwardKeyValue<%s, %s, %s>(%s, %s, %s, %s, %s, reinterpret_cast<const "
          "float *>(scratch + %s), %s, %s, %s);\n",
          e.inDt(0), e.inDt(3), e.outDt(1), shape.c_str(), e.in(0).c_str(), qrs.c_str(),
          krs.c_str(), e.in(3).c_str(), num(int64_t(stats)).c_str(), rope.c_str(), e.out(1).c_str(),
          e.out(2).c_str()),
      uint32_t(std::min<int64_t>(B * kvHeads * T, 1 << 20)), block, 1,
      uint32_t((2 * T + 2 * D) * 4));
  return Status::success();
}

/// train.matmul, train.batch_matmul, train.linear: one thread per result element.
Status matmul(const KernelEmit &e) {
  const vector<int64_t> &lhs = e.types[e.op.operands[0]].shape,
                        &rhs = e.types[e.op.operands[1]].shape;
  int64_t M, N, K, batch = 1;
  bool tA = false, tB = true;
  if (e.id == OpId::TrainLinear) {
    K = lhs.back();
    M = e.elems(e.op.operands[0]) / K;
    N = rhs[0];
  } else {
    tA = attrB(e.op, "transpose_lhs");
    tB = attrB(e.op, "transpose_rhs");
    const size_t r = lhs.size();
    M = tA ? lhs[r - 1] : lhs[r - 2];
    K = tA ? lhs[r - 2] : lhs[r - 1];
    N = tB ? rhs[r - 2] : rhs[r - 1];
    batch = e.op.results[0].numElements() / (M * N);
  }
  const bool bias = e.op.operands.size() == 3;
  e.addEntry(e.what + ": one thread per result element, f32 accumulation",
             fmt("  gemmSimple<%s, %s, %s, %s>(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s);\n",
                 e.inDt(0), e.inDt(1), bias ? e.inDt(2) : "F32", e.outDt(0), e.in(0).c_str(),
                 e.in(1).c_str(), bias ? e.in(2).c_str() : "nullptr", e.out(0).c_str(),
                 num(batch).c_str(), num(M).c_str(), num(N).c_str(), num(K).c_str(),
                 tA ? "true" : "false", tB ? "true" : "false"),
             gridFor(uint64_t(batch * M * N), kBlock), kBlock);
  return Status::success();
}

} // namespace

const OpEmitter emitTrainReduceSum{nullptr, reduceSum};
const OpEmitter emitTrainGlobalNorm{nullptr, globalNorm};
const OpEmitter emitTrainSoftmaxCrossEntropy{nullptr, crossEntropy};
const OpEmitter emitTrainSoftmaxCrossEntropyGrad{nullptr, crossEntropy};
const OpEmitter emitTrainLayerNorm{nullptr, norm};
const OpEmitter emitTrainRmsNorm{nullptr, norm};
const OpEmitter emitTrainLayerNormGrad{nullptr, normGrad};
const OpEmitter emitTrainRmsNormGrad{nullptr, normGrad};
const OpEmitter emitTrainEmbedding{nullptr, embedding};
const OpEmitter emitTrainEmbeddingGrad{nullptr, embeddingGrad};
const OpEmitter emitTrainAttention{nullptr, attention};
const OpEmitter emitTrainAttentionGrad{nullptr, attention};
const OpEmitter emitTrainMatmul{nullptr, matmul};
const OpEmitter emitTrainBatchMatmul{nullptr, matmul};
const OpEmitter emitTrainLinear{nullptr, matmul};

} // namespace fp8rt::cuda::detail
