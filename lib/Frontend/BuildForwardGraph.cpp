//===- BuildForwardGraph.cpp - model description → train dialect ---------===//
//
// One builder per family, each a transcription of the reference model:
// nanoGPT's model.py for gpt, Hugging Face's LlamaForCausalLM for llama. The
// parameter names, [out, in] layouts and initialisations are theirs, so that
// checkpoints load into PyTorch untouched; dropout is left out (0 in
// pretraining).
//
//===----------------------------------------------------------------------===//

#include "fp8c/Frontend/BuildForwardGraph.h"

#include "fp8c/Dialect/Train/IR/TrainOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/SourceMgr.h"

#include <cmath>

using namespace mlir;
using namespace fp8c;
using train::InitKind;

//===----------------------------------------------------------------------===//
// train.config
//===----------------------------------------------------------------------===//

DictionaryAttr fp8c::buildTrainConfigAttr(MLIRContext *context, const ModelConfig &config) {
  Builder b(context);
  auto i64 = [&](int64_t v) { return b.getI64IntegerAttr(v); };
  auto f64 = [&](double v) { return b.getF64FloatAttr(v); };
  auto str = [&](StringRef v) { return b.getStringAttr(v); };

  const ModelSection &m = config.model;
  SmallVector<NamedAttribute> model = {
      b.getNamedAttr("family", str(stringifyModelFamily(m.family))),
      b.getNamedAttr("vocab_size", i64(m.vocabSize)),
      b.getNamedAttr("seq_len", i64(m.seqLen)),
      b.getNamedAttr("d_model", i64(m.dModel)),
      b.getNamedAttr("n_layers", i64(m.nLayers)),
      b.getNamedAttr("ffn_dim", i64(m.ffnDim))};
  if (m.family != ModelFamily::MLP)
    model.append({b.getNamedAttr("n_heads", i64(m.nHeads)),
                  b.getNamedAttr("n_kv_heads", i64(m.nKVHeads)),
                  b.getNamedAttr("norm_eps", f64(m.normEps))});
  if (m.family != ModelFamily::Llama)
    model.push_back(b.getNamedAttr("bias", b.getBoolAttr(m.bias)));
  if (m.family == ModelFamily::GPT)
    model.push_back(b.getNamedAttr("tie_embeddings", b.getBoolAttr(m.tieEmbeddings)));
  // Only when set, so that the programs of exact-GELU models stay as they were.
  if (m.family == ModelFamily::GPT && m.geluTanh)
    model.push_back(b.getNamedAttr("gelu", str("tanh")));
  if (m.family == ModelFamily::Llama)
    model.push_back(b.getNamedAttr("rope_theta", f64(m.ropeTheta)));

  const TrainSection &t = config.train;
  const OptimizerSection &o = t.optimizer;
  SmallVector<NamedAttribute> optimizer = {
      b.getNamedAttr("name", str(stringifyOptimizerKind(o.name))), b.getNamedAttr("lr", f64(o.lr))};
  if (o.name == OptimizerKind::AdamW)
    optimizer.append({b.getNamedAttr("beta1", f64(o.beta1)), b.getNamedAttr("beta2", f64(o.beta2)),
                      b.getNamedAttr("eps", f64(o.eps))});
  else
    optimizer.push_back(b.getNamedAttr("momentum", f64(o.momentum)));
  optimizer.append({b.getNamedAttr("weight_decay", f64(o.weightDecay)),
                    b.getNamedAttr("grad_clip", f64(o.gradClip))});

  const LRScheduleSection &l = t.lrSchedule;
  SmallVector<NamedAttribute> schedule = {
      b.getNamedAttr("kind", str(stringifyLRScheduleKind(l.kind))),
      b.getNamedAttr("warmup_steps", i64(l.warmupSteps))};
  if (l.kind == LRScheduleKind::Cosine)
    schedule.append(
        {b.getNamedAttr("total_steps", i64(l.totalSteps)), b.getNamedAttr("min_lr", f64(l.minLR))});

  const FP8Section &f = config.fp8;
  SmallVector<NamedAttribute> fp8 = {b.getNamedAttr("enabled", b.getBoolAttr(f.enabled)),
                                     b.getNamedAttr("recipe", str(stringifyFP8Recipe(f.recipe))),
                                     b.getNamedAttr("format", str(stringifyFP8Format(f.format))),
                                     b.getNamedAttr("margin", i64(f.margin))};
  if (f.recipe == FP8Recipe::Delayed)
    fp8.append(
        {b.getNamedAttr("amax_history_len", i64(f.amaxHistoryLen)),
         b.getNamedAttr("amax_compute_algo", str(stringifyAmaxComputeAlgo(f.amaxComputeAlgo))),
         b.getNamedAttr("interval", i64(f.interval))});
  SmallVector<Attribute> filters =
      llvm::map_to_vector(f.filterFQNs, [&](const std::string &s) -> Attribute { return str(s); });
  fp8.append({b.getNamedAttr("power_of_2_scales", b.getBoolAttr(f.powerOf2Scales)),
              b.getNamedAttr("filter_fqns", b.getArrayAttr(filters)),
              b.getNamedAttr("first_layer_bf16", b.getBoolAttr(f.firstLayerBF16)),
              b.getNamedAttr("last_layer_bf16", b.getBoolAttr(f.lastLayerBF16)),
              b.getNamedAttr("auto_filter", str(stringifyAutoFilter(f.autoFilter))),
              b.getNamedAttr("device", str(stringifyDevice(f.device)))});
  if (f.autoFilter == AutoFilter::Roofline)
    fp8.push_back(b.getNamedAttr("threshold", f64(f.threshold)));
  SmallVector<Attribute> overrides;
  for (const FP8Override &ov : f.overrides) {
    SmallVector<NamedAttribute> entry = {b.getNamedAttr("match", str(ov.match))};
    for (auto [name, value] :
         {std::pair<StringRef, std::optional<GemmPrecision>>{"forward", ov.forward},
          {"dgrad", ov.dgrad},
          {"wgrad", ov.wgrad}})
      if (value)
        entry.push_back(b.getNamedAttr(name, str(stringifyGemmPrecision(*value))));
    overrides.push_back(b.getDictionaryAttr(entry));
  }
  fp8.push_back(b.getNamedAttr("overrides", b.getArrayAttr(overrides)));

  SmallVector<NamedAttribute> top = {
      b.getNamedAttr("model", b.getDictionaryAttr(model)),
      b.getNamedAttr("batch_size", i64(t.batchSize)),
      b.getNamedAttr("grad_accum_steps", i64(t.gradAccumSteps)),
      b.getNamedAttr("precision", str(stringifyPrecision(t.precision))),
      b.getNamedAttr("optimizer", b.getDictionaryAttr(optimizer)),
      b.getNamedAttr("lr_schedule", b.getDictionaryAttr(schedule)),
      b.getNamedAttr("init", b.getDictionaryAttr({b.getNamedAttr("std", f64(t.init.std)),
                                                  b.getNamedAttr("seed", i64(t.init.seed))})),
      b.getNamedAttr("fp8", b.getDictionaryAttr(fp8)),
  };
  // Only a written value: programs without the key stay as they were.
  if (t.lossChunkTokens)
    top.push_back(b.getNamedAttr("loss_chunk_tokens", i64(*t.lossChunkTokens)));
  // Only written keys: programs without them stay as they were.
  if (t.memoryBudget > 0)
    top.push_back(b.getNamedAttr("memory_budget", i64(t.memoryBudget)));
  if (!t.recompute.empty())
    top.push_back(b.getNamedAttr("recompute", str(t.recompute)));
  // Only a written section: single-process programs stay as they were.
  const DistributedSection &d = config.distributed;
  if (d.present) {
    SmallVector<NamedAttribute> distributed = {
        b.getNamedAttr("strategy", str(stringifyDistributedStrategy(d.strategy))),
        b.getNamedAttr("world_size", i64(d.worldSize))};
    // Written keys only (docs/distributed.md gives the defaults).
    if (d.nodes)
      distributed.append({b.getNamedAttr("nodes", i64(*d.nodes)),
                          b.getNamedAttr("gpus_per_node", i64(*d.gpusPerNode))});
    if (d.bucketMB)
      distributed.push_back(b.getNamedAttr("bucket_mb", f64(*d.bucketMB)));
    if (d.fp8AllGather)
      distributed.push_back(b.getNamedAttr("fp8_all_gather", str(*d.fp8AllGather)));
    if (d.reshardAfterForward)
      distributed.push_back(
          b.getNamedAttr("reshard_after_forward", b.getBoolAttr(*d.reshardAfterForward)));
    top.push_back(b.getNamedAttr("distributed", b.getDictionaryAttr(distributed)));
  }
  return b.getDictionaryAttr(top);
}

//===----------------------------------------------------------------------===//
// The forward graph
//===----------------------------------------------------------------------===//

namespace {

/// Emits the graph of one model into `@forward`. Parameters are declared at the
/// top of the function in the order the computation first uses them; master
/// weights are f32 and, in bf16, converted right where they are used.
class GraphBuilder {
public:
  GraphBuilder(const ModelConfig &config, func::FuncOp func, Location baseLoc)
      : config(config), m(config.model), baseLoc(baseLoc), ctx(func.getContext()), b(ctx),
        block(&func.getBody().front()) {
    f32 = b.getF32Type();
    act = config.train.precision == Precision::BF16 ? Type(b.getBF16Type()) : Type(f32);
    batch = config.train.batchSize;
    seq = m.seqLen;
    b.setInsertionPointToEnd(block);
  }

  /// Returns the loss.
  Value build(Value tokens, Value targets) {
    switch (m.family) {
    case ModelFamily::GPT:
      return buildGPT(tokens, targets);
    case ModelFamily::Llama:
      return buildLlama(tokens, targets);
    case ModelFamily::MLP:
      return buildMLP(tokens, targets);
    }
    llvm_unreachable("unknown family");
  }

private:
  //===--------------------------------------------------------------------===//
  // Helpers
  //===--------------------------------------------------------------------===//

  Location locOf(StringRef layer) { return NameLoc::get(b.getStringAttr(layer), baseLoc); }

  RankedTensorType tensor(ArrayRef<int64_t> shape, Type element) {
    return RankedTensorType::get(shape, element);
  }
  /// `[B, T, width]` activations.
  RankedTensorType activation(int64_t width) { return tensor({batch, seq, width}, act); }

  /// Declares a parameter after the previous one and returns it in the
  /// activation type.
  Value param(StringRef name, ArrayRef<int64_t> shape, InitKind init, double std = 0) {
    OpBuilder::InsertionGuard guard(b);
    if (lastParam)
      b.setInsertionPointAfter(lastParam);
    else
      b.setInsertionPointToStart(block);
    FloatAttr stdAttr = init == InitKind::normal ? b.getF64FloatAttr(std) : FloatAttr();
    auto op = train::ParamOp::create(b, locOf(name), tensor(shape, f32), name, init, stdAttr);
    lastParam = op;
    return op.getResult();
  }

  Value weight(StringRef name, ArrayRef<int64_t> shape, double std) {
    return use(param(name, shape, InitKind::normal, std));
  }
  Value ones(StringRef name, int64_t size) { return use(param(name, {size}, InitKind::ones)); }
  Value zeros(StringRef name, int64_t size) { return use(param(name, {size}, InitKind::zeros)); }

  /// The value of a master weight in the activation precision, converted once.
  Value use(Value master) {
    if (act == f32)
      return master;
    Value &converted = convertedParams[master];
    if (!converted) {
      auto type = cast<RankedTensorType>(master.getType());
      converted = train::ConvertOp::create(b, master.getLoc(), type.clone(act), master);
    }
    return converted;
  }

  double initStd() const { return config.train.init.std; }

  Value linear(StringRef layer, Value x, Value w, Value bias = nullptr) {
    auto wType = cast<RankedTensorType>(w.getType());
    auto xType = cast<RankedTensorType>(x.getType());
    SmallVector<int64_t> shape(xType.getShape().drop_back());
    shape.push_back(wType.getDimSize(0));
    return train::LinearOp::create(b, locOf(layer), tensor(shape, act), x, w, bias,
                                   b.getStringAttr(layer));
  }

  /// A `torch.nn.Linear(in, out)` named `layer`: weight `[out, in]`, optional bias.
  Value linearLayer(StringRef layer, Value x, int64_t in, int64_t out, bool bias, double std) {
    Value w = weight((layer + ".weight").str(), {out, in}, std);
    Value bv = bias ? zeros((layer + ".bias").str(), out) : Value();
    return linear(layer, x, w, bv);
  }

  Value add(StringRef layer, Value lhs, Value rhs) {
    return train::AddOp::create(b, locOf(layer), lhs, rhs);
  }

  /// nn.GELU() in nanoGPT: the exact (erf) form; GPT-2's tanh form when asked.
  Value gelu(StringRef layer, Value x, bool tanh = false) {
    return train::GeluOp::create(
        b, locOf(layer), x, tanh ? train::GeluApproximation::tanh : train::GeluApproximation::none);
  }

  Value embedding(StringRef layer, Value table, Value indices) {
    auto t = cast<RankedTensorType>(table.getType());
    return train::EmbeddingOp::create(b, locOf(layer), tensor({batch, seq, t.getDimSize(1)}, act),
                                      table, indices);
  }

  Value layerNorm(StringRef layer, Value x, bool bias) {
    Value w = ones((layer + ".weight").str(), m.dModel);
    Value bv = bias ? zeros((layer + ".bias").str(), m.dModel) : Value();
    return train::LayerNormOp::create(b, locOf(layer), x.getType(), x, w, bv,
                                      b.getF64FloatAttr(m.normEps));
  }

  Value rmsNorm(StringRef layer, Value x) {
    Value w = ones((layer + ".weight").str(), m.dModel);
    return train::RMSNormOp::create(b, locOf(layer), x.getType(), x, w,
                                    b.getF64FloatAttr(m.normEps));
  }

  Value slice(StringRef layer, Value x, int64_t offset, int64_t size) {
    auto type = cast<RankedTensorType>(x.getType());
    SmallVector<int64_t> shape(type.getShape());
    int64_t dim = type.getRank() - 1;
    shape[dim] = size;
    return train::SliceOp::create(b, locOf(layer), tensor(shape, type.getElementType()), x,
                                  b.getI64IntegerAttr(dim), b.getI64IntegerAttr(offset),
                                  b.getI64IntegerAttr(size));
  }

  Value attention(StringRef layer, Value q, Value k, Value v, FloatAttr ropeTheta) {
    return train::AttentionOp::create(b, locOf(layer), q.getType(), q, k, v,
                                      b.getI64IntegerAttr(m.nHeads),
                                      b.getI64IntegerAttr(m.nKVHeads), b.getUnitAttr(), ropeTheta);
  }

  Value loss(Value logits, Value targets) {
    return train::SoftmaxCrossEntropyOp::create(b, locOf("loss"), tensor({}, f32), logits, targets,
                                                IntegerAttr());
  }

  static std::string layerName(StringRef prefix, int64_t index, StringRef suffix = "") {
    std::string name = (prefix + "." + Twine(index)).str();
    if (!suffix.empty())
      name += ("." + suffix).str();
    return name;
  }

  //===--------------------------------------------------------------------===//
  // Families
  //===--------------------------------------------------------------------===//

  /// nanoGPT's GPT: learned positions, pre-LayerNorm blocks, fused qkv.
  Value buildGPT(Value tokens, Value targets) {
    int64_t d = m.dModel;
    double std = initStd();
    // GPT-2 scales the residual projections by 1/sqrt(2·n_layers).
    double projStd = std / std::sqrt(2.0 * static_cast<double>(m.nLayers));

    Value wte = weight("transformer.wte.weight", {m.vocabSize, d}, std);
    Value wpe = weight("transformer.wpe.weight", {seq, d}, std);
    Value x = embedding("transformer.wte", wte, tokens);
    // Positions 0..T-1 for every sequence of the batch.
    SmallVector<int32_t> positions;
    positions.reserve(batch * seq);
    for (int64_t i = 0; i < batch; ++i)
      for (int64_t p = 0; p < seq; ++p)
        positions.push_back(static_cast<int32_t>(p));
    auto positionType = tensor({batch, seq}, b.getI32Type());
    Value positionIds = arith::ConstantOp::create(
        b, locOf("transformer.wpe"),
        DenseElementsAttr::get(positionType, ArrayRef<int32_t>(positions)));
    x = add("transformer.wpe", x, embedding("transformer.wpe", wpe, positionIds));

    for (int64_t i = 0; i < m.nLayers; ++i) {
      std::string h = layerName("transformer.h", i);
      Value n1 = layerNorm(h + ".ln_1", x, m.bias);
      Value qkv = linearLayer(h + ".attn.c_attn", n1, d, 3 * d, m.bias, std);
      std::string attnName = h + ".attn";
      Value q = slice(attnName, qkv, 0, d);
      Value k = slice(attnName, qkv, d, d);
      Value v = slice(attnName, qkv, 2 * d, d);
      Value a = attention(attnName, q, k, v, FloatAttr());
      x = add(h, x, linearLayer(h + ".attn.c_proj", a, d, d, m.bias, projStd));

      Value n2 = layerNorm(h + ".ln_2", x, m.bias);
      Value fc = linearLayer(h + ".mlp.c_fc", n2, d, m.ffnDim, m.bias, std);
      Value g = gelu(h + ".mlp.gelu", fc, m.geluTanh);
      x = add(h, x, linearLayer(h + ".mlp.c_proj", g, m.ffnDim, d, m.bias, projStd));
    }
    x = layerNorm("transformer.ln_f", x, m.bias);
    Value head = m.tieEmbeddings ? wte : weight("lm_head.weight", {m.vocabSize, d}, std);
    return loss(linear("lm_head", x, head), targets);
  }

  /// Hugging Face's LlamaForCausalLM: RMSNorm, RoPE, grouped-query attention,
  /// SwiGLU, no biases, untied head.
  Value buildLlama(Value tokens, Value targets) {
    int64_t d = m.dModel, kvWidth = m.nKVHeads * m.headDim();
    double std = initStd();
    FloatAttr theta = b.getF64FloatAttr(m.ropeTheta);

    Value x = embedding("model.embed_tokens",
                        weight("model.embed_tokens.weight", {m.vocabSize, d}, std), tokens);
    for (int64_t i = 0; i < m.nLayers; ++i) {
      std::string layer = layerName("model.layers", i);
      Value h = rmsNorm(layer + ".input_layernorm", x);
      Value q = linearLayer(layer + ".self_attn.q_proj", h, d, d, false, std);
      Value k = linearLayer(layer + ".self_attn.k_proj", h, d, kvWidth, false, std);
      Value v = linearLayer(layer + ".self_attn.v_proj", h, d, kvWidth, false, std);
      Value a = attention(layer + ".self_attn", q, k, v, theta);
      x = add(layer, x, linearLayer(layer + ".self_attn.o_proj", a, d, d, false, std));

      Value h2 = rmsNorm(layer + ".post_attention_layernorm", x);
      Value gate = linearLayer(layer + ".mlp.gate_proj", h2, d, m.ffnDim, false, std);
      Value up = linearLayer(layer + ".mlp.up_proj", h2, d, m.ffnDim, false, std);
      Value s = train::SwigluOp::create(b, locOf(layer + ".mlp"), gate, up);
      x = add(layer, x, linearLayer(layer + ".mlp.down_proj", s, m.ffnDim, d, false, std));
    }
    x = rmsNorm("model.norm", x);
    return loss(linearLayer("lm_head", x, d, m.vocabSize, false, std), targets);
  }

  /// A per-token MLP language model: embed, n_layers × (linear, GELU), head.
  Value buildMLP(Value tokens, Value targets) {
    double std = initStd();
    Value x = embedding("embed", weight("embed.weight", {m.vocabSize, m.dModel}, std), tokens);
    int64_t width = m.dModel;
    for (int64_t i = 0; i < m.nLayers; ++i) {
      std::string layer = layerName("layers", i);
      x = gelu(layer, linearLayer(layer, x, width, m.ffnDim, m.bias, std));
      width = m.ffnDim;
    }
    return loss(linearLayer("head", x, width, m.vocabSize, m.bias, std), targets);
  }

  const ModelConfig &config;
  const ModelSection &m;
  Location baseLoc;
  MLIRContext *ctx;
  OpBuilder b;
  Block *block;
  Type f32, act;
  int64_t batch, seq;
  Operation *lastParam = nullptr;
  llvm::DenseMap<Value, Value> convertedParams;
};

} // namespace

OwningOpRef<ModuleOp> fp8c::buildForwardGraph(MLIRContext *context, const ModelConfig &config,
                                              Location loc) {
  context->loadDialect<train::TrainDialect, func::FuncDialect, arith::ArithDialect>();
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  (*module)->setAttr(train::TrainDialect::getConfigAttrName(),
                     buildTrainConfigAttr(context, config));

  OpBuilder b(context);
  b.setInsertionPointToEnd(module->getBody());
  auto ids = RankedTensorType::get({config.train.batchSize, config.model.seqLen}, b.getI32Type());
  auto lossType = RankedTensorType::get({}, b.getF32Type());
  auto func = func::FuncOp::create(b, loc, train::TrainDialect::getForwardFuncName(),
                                   b.getFunctionType({ids, ids}, {lossType}));
  StringRef nameAttr = train::TrainDialect::getNameAttrName();
  func.setArgAttr(0, nameAttr, b.getStringAttr("tokens"));
  func.setArgAttr(1, nameAttr, b.getStringAttr("targets"));
  Block *entry = func.addEntryBlock();

  Value loss = GraphBuilder(config, func, loc).build(entry->getArgument(0), entry->getArgument(1));
  b.setInsertionPointToEnd(entry);
  func::ReturnOp::create(b, loc, loss);

  if (failed(verify(*module)))
    return nullptr;
  return module;
}

OwningOpRef<ModuleOp> fp8c::importModelDescription(llvm::SourceMgr &sourceMgr,
                                                   MLIRContext *context) {
  const llvm::MemoryBuffer *buffer = sourceMgr.getMemoryBuffer(sourceMgr.getMainFileID());
  std::optional<ModelConfig> config = parseModelConfig(buffer->getMemBufferRef(), sourceMgr);
  if (!config)
    return nullptr;
  Location loc = FileLineColLoc::get(context, buffer->getBufferIdentifier(), config->modelLine,
                                     config->modelColumn);
  return buildForwardGraph(context, *config, loc);
}
