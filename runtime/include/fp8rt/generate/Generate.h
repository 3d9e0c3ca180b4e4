//===- Generate.h - Sampling text from a trained program --------*- C++ -*-===//
//
// `fp8-run PROGRAM --generate`: the program's logits_step (eval_step's
// forward returning the logits of one position per sequence, docs/autodiff.md)
// over a window of the compiled sequence length, one new token per call, the
// logits of the window's last token, sampled as nanoGPT's
// sample.py (Sampler.h). docs/runtime.md ("Generation") describes the
// window, the byte-level rule and the output.
//
//===----------------------------------------------------------------------===//

#ifndef FP8RT_GENERATE_GENERATE_H
#define FP8RT_GENERATE_GENERATE_H

#include "fp8rt/Backend.h"
#include "fp8rt/Program.h"
#include "fp8rt/Status.h"
#include "fp8rt/generate/Sampler.h"

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace fp8rt {

struct GenerateOptions {
  /// The checkpoint whose parameters (and delayed-scaling state, when the
  /// program has some and the file holds it) are loaded. Required.
  std::string initFromPath;
  /// The prompt as bytes (byte-level vocabularies only) ...
  std::string promptText;
  /// ... or as token ids (any vocabulary); exactly one of the two is used.
  std::vector<int64_t> promptIds;
  bool promptIsIds = false;
  int64_t maxNewTokens = 200;
  /// temperature >= 0 (0: greedy); topK in [1, vocab_size] or 0 (no top-k).
  SamplerSettings sampler;
  uint64_t seed = 1; ///< seed of the draws (Rng)
};

/// Byte-level vocabularies (vocab_size <= 256: `fp8-run --prepare` and the
/// synthetic corpus use 256) take the prompt as text and print text.
bool isByteLevel(const Program &program);

/// The prompt as token ids, checked against the vocabulary, and the other
/// options (temperature, top-k against the vocabulary). Errors name the flag.
StatusOr<std::vector<int64_t>> checkGenerateOptions(const Program &program,
                                                    const GenerateOptions &options);

/// logits_step's input `rows` for the logits at `position` of the window in
/// each of `batch` sequences: b x seqLen + position (the flat row of the
/// forward's [batch x seq_len, d_model] hidden states).
std::vector<int32_t> logitsRows(int64_t batch, int64_t seqLen, int64_t position);

/// Checks `rows`: element b must be a row of sequence b, in
/// [b x seqLen, (b + 1) x seqLen). The error names the element and the range.
Status checkLogitsRows(const std::vector<int32_t> &rows, int64_t seqLen);

/// Loads the program and the checkpoint into `backend` (which must not have
/// loaded anything yet), then appends options.maxNewTokens tokens to the
/// prompt. `text` receives the prompt and each new token as it comes (bytes
/// for a byte-level vocabulary, else ids separated by spaces) and a final
/// newline; `log` receives notes (a prompt longer than the window, the
/// checkpoint). Returns the whole sequence, prompt first.
StatusOr<std::vector<int64_t>> generate(const Program &program, Backend &backend,
                                        const GenerateOptions &options, std::ostream &text,
                                        std::ostream &log);

} // namespace fp8rt

#endif // FP8RT_GENERATE_GENERATE_H
