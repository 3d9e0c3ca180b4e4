//===- TokenData.h - nanoGPT-style token files and batches -----*- C++ -*-===//
//
// A token file is what nanoGPT's prepare.py writes: a flat array of
// little-endian unsigned integers, uint16 by default (`np.uint16`), uint32 for
// vocabularies above 65536, with no header (`train.bin`, `val.bin`).
//
// `TokenFile::open` maps the file read-only and validates it once (empty,
// size not a multiple of the token width, fewer than seq_len + 1 tokens, any
// token >= vocab_size); every error names the file. Batches are then read
// without further checks:
//
//   getBatch        random windows exactly as nanoGPT's get_batch:
//                   i ~ uniform[0, N - T), x = data[i : i+T],
//                   y = data[i+1 : i+1+T], one i per row, drawn in row order
//                   with Rng::uniform (fp8rt/Rng.h)
//   getSequential   evaluation: row r of batch b is window j = b * B + r,
//                   x = data[j*T : j*T+T], y = data[j*T+1 : j*T+T+1]; the
//                   windows tile the file without overlap and the tail that
//                   does not fill a whole batch is not used
//
// docs/runtime.md ("Data") describes the formats, every message and the PRNG.
//
//===----------------------------------------------------------------------===//

#ifndef FP8RT_DATA_TOKENDATA_H
#define FP8RT_DATA_TOKENDATA_H

#include "fp8rt/Rng.h"
#include "fp8rt/Status.h"
#include "fp8rt/data/Batch.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace fp8rt {

/// Bytes per token in a token file.
enum class TokenWidth : uint8_t { U16 = 2, U32 = 4 };

/// "uint16" or "uint32".
const char *tokenWidthName(TokenWidth w);
/// 2 or 4.
inline size_t tokenWidthBytes(TokenWidth w) { return static_cast<size_t>(w); }
/// The width nanoGPT-style preparation uses for a vocabulary: uint16 when
/// every token fits (vocab_size <= 65536), else uint32.
TokenWidth defaultTokenWidth(int64_t vocabSize);

/// Tokens [begin, end) of a token file: the windows of a batch lie inside it
/// (the trainer's training part and held-out tail of one file).
struct TokenRange {
  int64_t begin = 0;
  int64_t end = 0;
  int64_t size() const { return end - begin; }
};

/// A validated, read-only, memory-mapped token file. Move-only.
class TokenFile {
public:
  /// Opens and validates `path` for a model with `vocabSize` tokens and
  /// sequences of `seqLen` (both > 0). Errors (exact text in docs/runtime.md):
  ///   data file P: cannot open: <strerror>
  ///   data file P is not a regular file
  ///   data file P is empty
  ///   data file P has N bytes, not a multiple of the uint16 token size (2 bytes)
  ///   data file P holds N tokens, shorter than one sequence of seq_len+1 = M
  ///   data file P: token at position I is V, not below vocab_size W
  static StatusOr<TokenFile> open(const std::string &path, TokenWidth width, int64_t vocabSize,
                                  int64_t seqLen);

  TokenFile(TokenFile &&other) noexcept;
  TokenFile &operator=(TokenFile &&other) noexcept;
  TokenFile(const TokenFile &) = delete;
  TokenFile &operator=(const TokenFile &) = delete;
  ~TokenFile();

  const std::string &path() const { return path_; }
  TokenWidth width() const { return width_; }
  int64_t vocabSize() const { return vocabSize_; }
  int64_t seqLen() const { return seqLen_; }
  /// Number of tokens in the file (>= seqLen() + 1).
  int64_t numTokens() const { return numTokens_; }
  /// Token `i`, 0 <= i < numTokens() (not checked).
  uint32_t token(int64_t i) const;

  /// nanoGPT's get_batch: `batchSize` random windows of `seqLen` + 1 tokens
  /// (see the file comment). Errors on batchSize or seqLen <= 0 and on a
  /// seqLen longer than open() validated the file for (same message as open).
  Status getBatch(Rng &rng, int64_t batchSize, int64_t seqLen, Batch &out) const;
  StatusOr<Batch> getBatch(Rng &rng, int64_t batchSize, int64_t seqLen) const;
  /// getBatch over the tokens of `range` only (N = range.size(), offsets from
  /// range.begin): the same draws as getBatch on a file holding just them.
  Status getBatch(Rng &rng, TokenRange range, int64_t batchSize, int64_t seqLen, Batch &out) const;

  /// Number of whole evaluation batches: floor(floor((N - 1) / T) / B), 0 for
  /// a non-positive batchSize or seqLen.
  int64_t numSequentialBatches(int64_t batchSize, int64_t seqLen) const;
  int64_t numSequentialBatches(TokenRange range, int64_t batchSize, int64_t seqLen) const;
  /// Evaluation batch `index` (0 <= index < numSequentialBatches), see the
  /// file comment. Errors on a bad size or index.
  Status getSequentialBatch(int64_t index, int64_t batchSize, int64_t seqLen, Batch &out) const;
  /// getSequentialBatch over the tokens of `range` only.
  Status getSequentialBatch(TokenRange range, int64_t index, int64_t batchSize, int64_t seqLen,
                            Batch &out) const;
  /// All of the file's tokens.
  TokenRange all() const { return {0, numTokens_}; }

private:
  TokenFile() = default;
  void release();

  std::string path_;
  TokenWidth width_ = TokenWidth::U16;
  int64_t vocabSize_ = 0;
  int64_t seqLen_ = 0;
  int64_t numTokens_ = 0;
  const unsigned char *data_ = nullptr; // the mapping
  size_t mappedBytes_ = 0;
};

/// Writes `tokens` as a token file of `width` (little-endian), through a
/// temporary file in the same directory renamed over `path`. Errors when a
/// token does not fit the width or on any I/O failure.
Status writeTokenFile(const std::string &path, const std::vector<uint32_t> &tokens,
                      TokenWidth width);

/// Byte-level tokenization (vocabulary 256): every byte of `textPath` becomes
/// one uint16 token, written to `outPath` through a temporary file and a
/// rename. Returns the number of tokens written. Errors on an empty or
/// unreadable input and on any write failure.
StatusOr<int64_t> prepareByteTokens(const std::string &textPath, const std::string &outPath);

} // namespace fp8rt

#endif // FP8RT_DATA_TOKENDATA_H
