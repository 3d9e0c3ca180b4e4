//===- ModelSection.cpp - the `model` section and its family defaults -----===//
//
// Which keys are valid depends on the family (mlp, gpt, llama); ffn_dim
// defaults by family (GPT-2: 4·d, Llama: 2/3 of 4·d rounded up to 256), and
// the head counts must divide the width.
//
//===----------------------------------------------------------------------===//

#include "ConfigSection.h"

using namespace fp8c;
using namespace fp8c::frontend;

void ConfigParser::parseModel(const YNode &node, SMLoc keyLoc) {
  if (node.kind == YNode::Kind::Mapping && node.find("hf_config"))
    return parseHfModel(node, keyLoc);
  Section s(diags, node, "model", keyLoc);
  if (!s.isMapping())
    return;
  ModelSection &m = config.model;
  // Which keys are valid depends on the family: without one, stop here.
  if (!s.readEnum<ModelFamily>("family", familyChoices, m.family, /*required=*/true))
    return;
  bool gpt = m.family == ModelFamily::GPT, llama = m.family == ModelFamily::Llama,
       mlp = m.family == ModelFamily::MLP;
  llvm::SmallVector<StringRef> keys = {"family", "vocab_size", "seq_len", "d_model", "n_layers"};
  if (!mlp)
    keys.push_back("n_heads");
  if (llama)
    keys.push_back("n_kv_heads");
  keys.append({"ffn_dim", "mlp_ratio"});
  if (!mlp)
    keys.push_back("norm_eps");
  if (!llama)
    keys.push_back("bias");
  if (gpt)
    keys.append({"tie_embeddings", "gelu"});
  if (llama)
    keys.push_back("rope_theta");
  StringRef familyName = stringifyModelFamily(m.family);
  s.checkKeys(keys, [&](StringRef key) -> std::string {
    static const std::pair<StringRef, StringRef> owners[] = {{"n_heads", "gpt and llama"},
                                                             {"n_kv_heads", "llama"},
                                                             {"norm_eps", "gpt and llama"},
                                                             {"bias", "gpt and mlp"},
                                                             {"tie_embeddings", "gpt"},
                                                             {"rope_theta", "llama"},
                                                             {"gelu", "gpt"}};
    for (const auto &[k, families] : owners)
      if (k == key)
        return ("only used by family " + families + ", not '" + familyName + "'").str();
    return "";
  });

  unsigned errorsBefore = diags.getNumErrors();
  s.readInt("vocab_size", 1, limits::maxVocabSize, m.vocabSize, /*required=*/true);
  s.readInt("seq_len", 1, limits::maxSeqLen, m.seqLen, /*required=*/true);
  s.readInt("d_model", 1, limits::maxDModel, m.dModel, /*required=*/true);
  s.readInt("n_layers", 1, limits::maxLayers, m.nLayers, /*required=*/true);
  if (!mlp)
    s.readInt("n_heads", 1, limits::maxDModel, m.nHeads, /*required=*/true);
  bool hasKVHeads = llama && s.readInt("n_kv_heads", 1, limits::maxDModel, m.nKVHeads);
  bool hasFFN = s.readInt("ffn_dim", 1, limits::maxFFNDim, m.ffnDim);
  double ratio = 0;
  bool hasRatio = s.readNumber("mlp_ratio", Range::between(0, 1024, true, false), ratio);
  if (!mlp)
    s.readNumber("norm_eps", Range::between(0, 1, true, true), m.normEps);
  m.bias = !llama;
  if (!llama)
    s.readBool("bias", m.bias);
  m.tieEmbeddings = gpt;
  if (gpt) {
    s.readBool("tie_embeddings", m.tieEmbeddings);
    s.readEnum<bool>("gelu", geluChoices, m.geluTanh);
  }
  if (llama)
    s.readNumber("rope_theta", Range::above(0), m.ropeTheta);
  if (diags.getNumErrors() != errorsBefore)
    return;

  // Derived values and consistency, each reported at the key to change.
  if (s.has("ffn_dim") && s.has("mlp_ratio")) {
    s.error("mlp_ratio", "set either ffn_dim or mlp_ratio, not both");
    return;
  }
  if (hasRatio) {
    double ffn = ratio * static_cast<double>(m.dModel);
    if (std::abs(ffn - std::round(ffn)) > 1e-6 * ffn) {
      s.error("mlp_ratio", "mlp_ratio * d_model = " + formatNumber(ffn) +
                               " must be a whole number (or set ffn_dim)");
      return;
    }
    m.ffnDim = static_cast<int64_t>(std::round(ffn));
    if (m.ffnDim < 1 || m.ffnDim > limits::maxFFNDim) {
      s.error("mlp_ratio", "mlp_ratio * d_model = " + Twine(m.ffnDim) + " must be in [1, " +
                               Twine(limits::maxFFNDim) + "]");
      return;
    }
  } else if (!hasFFN) {
    // GPT-2: 4·d. Llama (Meta's reference): 2/3 of 4·d, rounded up to a multiple of 256.
    m.ffnDim = llama ? (8 * m.dModel / 3 + 255) / 256 * 256 : 4 * m.dModel;
  }
  if (mlp)
    return;
  if (m.dModel % m.nHeads != 0) {
    s.error("n_heads", "must divide d_model (" + Twine(m.dModel) + "), got " + Twine(m.nHeads));
    return;
  }
  if (!hasKVHeads)
    m.nKVHeads = m.nHeads;
  if (m.nHeads % m.nKVHeads != 0) {
    s.error("n_kv_heads",
            "must divide n_heads (" + Twine(m.nHeads) + "), got " + Twine(m.nKVHeads));
    return;
  }
  if (llama && m.headDim() % 2 != 0)
    s.error("n_heads", "head dimension d_model / n_heads = " + Twine(m.headDim()) +
                           " must be even for rotary embeddings");
}
