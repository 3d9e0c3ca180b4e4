//===- TokenData.cpp - nanoGPT-style token files and batches -------------===//
//
// POSIX mmap of the whole file, validated once at open; tokens are decoded
// from little-endian bytes explicitly, so a big-endian host reads the same
// values (the compiler turns the byte assembly into one load on x86/ARM).
//
//===----------------------------------------------------------------------===//

#include "fp8rt/data/TokenData.h"

#include "fp8rt/support/AtomicFile.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fp8rt {

namespace {

inline uint32_t loadLE16(const unsigned char *p) { return uint32_t(p[0]) | (uint32_t(p[1]) << 8); }
inline uint32_t loadLE32(const unsigned char *p) {
  return uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16) | (uint32_t(p[3]) << 24);
}

std::string errnoText(int err) { return std::strerror(err); }

/// Closes a file descriptor on scope exit.
struct FdCloser {
  int fd;
  ~FdCloser() {
    if (fd >= 0)
      ::close(fd);
  }
};

/// The first position in [0, n) whose token is >= vocab, or -1.
template <uint32_t (*Load)(const unsigned char *), size_t W>
int64_t firstOutOfVocab(const unsigned char *data, int64_t n, uint64_t vocab) {
  // Scan in blocks with a branch-free max, so the common (valid) case
  // vectorizes; locate the exact position only when a block fails.
  constexpr int64_t kBlock = 4096;
  for (int64_t begin = 0; begin < n; begin += kBlock) {
    const int64_t end = begin + kBlock < n ? begin + kBlock : n;
    uint32_t blockMax = 0;
    for (int64_t i = begin; i < end; ++i) {
      const uint32_t v = Load(data + size_t(i) * W);
      blockMax = v > blockMax ? v : blockMax;
    }
    if (uint64_t(blockMax) >= vocab)
      for (int64_t i = begin; i < end; ++i)
        if (uint64_t(Load(data + size_t(i) * W)) >= vocab)
          return i;
  }
  return -1;
}

/// Copies tokens [start, start + count) into dst as int32.
template <uint32_t (*Load)(const unsigned char *), size_t W>
void copyTokens(const unsigned char *data, int64_t start, int64_t count, int32_t *dst) {
  const unsigned char *p = data + size_t(start) * W;
  for (int64_t i = 0; i < count; ++i)
    dst[i] = int32_t(Load(p + size_t(i) * W));
}

/// Writes x = data[start : start+T], y = data[start+1 : start+1+T] as row `row`.
void copyWindow(const unsigned char *data, TokenWidth width, int64_t start, int64_t seqLen,
                int64_t row, Batch &out) {
  int32_t *x = out.tokens.data() + row * seqLen;
  int32_t *y = out.targets.data() + row * seqLen;
  if (width == TokenWidth::U16) {
    copyTokens<loadLE16, 2>(data, start, seqLen, x);
    copyTokens<loadLE16, 2>(data, start + 1, seqLen, y);
  } else {
    copyTokens<loadLE32, 4>(data, start, seqLen, x);
    copyTokens<loadLE32, 4>(data, start + 1, seqLen, y);
  }
}

/// Whether the file's first bytes read as text: no control byte other than
/// whitespace. A token file has them (the high bytes of small token ids are 0;
/// uint32 tokens always have zero bytes), so raw text given as --data is told
/// apart before its bytes are taken for tokens.
bool startsLikeText(int fd, uint64_t fileBytes) {
  unsigned char head[4096];
  const ssize_t n = ::pread(fd, head, size_t(std::min<uint64_t>(sizeof head, fileBytes)), 0);
  if (n <= 0)
    return false;
  for (ssize_t i = 0; i < n; ++i) {
    const unsigned char c = head[i];
    if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v') || c == 0x7f)
      return false;
  }
  return true;
}

/// "data/input.txt" -> "data/input.bin", for the --prepare hint.
std::string preparedName(const std::string &path) {
  const size_t slash = path.rfind('/');
  const size_t dot = path.rfind('.');
  const bool hasExt =
      dot != std::string::npos && dot > 0 && (slash == std::string::npos || dot > slash + 1);
  std::string stem = hasExt ? path.substr(0, dot) : path;
  return stem + (hasExt && path.substr(dot) == ".bin" ? ".tokens.bin" : ".bin");
}

std::string tooShortMessage(const std::string &path, int64_t numTokens, int64_t seqLen) {
  return "data file " + path + " holds " + std::to_string(numTokens) +
         " tokens, shorter than one sequence of seq_len+1 = " + std::to_string(seqLen + 1);
}

} // namespace

const char *tokenWidthName(TokenWidth w) { return w == TokenWidth::U16 ? "uint16" : "uint32"; }

TokenWidth defaultTokenWidth(int64_t vocabSize) {
  return vocabSize <= 65536 ? TokenWidth::U16 : TokenWidth::U32;
}

//===----------------------------------------------------------------------===//
// TokenFile
//===----------------------------------------------------------------------===//

StatusOr<TokenFile> TokenFile::open(const std::string &path, TokenWidth width, int64_t vocabSize,
                                    int64_t seqLen) {
  if (vocabSize <= 0 || vocabSize > int64_t(std::numeric_limits<int32_t>::max()))
    return invalidArgumentError("vocab_size must be in [1, 2147483647], got " +
                                std::to_string(vocabSize));
  if (seqLen <= 0)
    return invalidArgumentError("seq_len must be positive, got " + std::to_string(seqLen));

  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    return Status(err == ENOENT ? StatusCode::kNotFound : StatusCode::kIoError,
                  "data file " + path + ": cannot open: " + errnoText(err));
  }
  FdCloser closer{fd};
  struct stat st;
  if (::fstat(fd, &st) != 0)
    return ioError("data file " + path + ": cannot stat: " + errnoText(errno));
  if (!S_ISREG(st.st_mode))
    return invalidArgumentError("data file " + path + " is not a regular file");

  const uint64_t bytes = uint64_t(st.st_size);
  const size_t w = tokenWidthBytes(width);
  if (bytes == 0)
    return invalidArgumentError("data file " + path + " is empty");
  if (startsLikeText(fd, bytes))
    return invalidArgumentError("data file " + path +
                                " looks like text, not tokens; run fp8-run --prepare " + path +
                                " -o " + preparedName(path) +
                                " first and train on that (--data=" + preparedName(path) + ")");
  if (bytes % w != 0)
    return dataLossError("data file " + path + " has " + std::to_string(bytes) +
                         " bytes, not a multiple of the " + tokenWidthName(width) +
                         " token size (" + std::to_string(w) + " bytes)");
  const int64_t numTokens = int64_t(bytes / w);
  if (numTokens < seqLen + 1)
    return invalidArgumentError(tooShortMessage(path, numTokens, seqLen));

  void *map = ::mmap(nullptr, size_t(bytes), PROT_READ, MAP_PRIVATE, fd, 0);
  if (map == MAP_FAILED)
    return ioError("data file " + path + ": cannot map: " + errnoText(errno));

  TokenFile file;
  file.path_ = path;
  file.width_ = width;
  file.vocabSize_ = vocabSize;
  file.seqLen_ = seqLen;
  file.numTokens_ = numTokens;
  file.data_ = static_cast<const unsigned char *>(map);
  file.mappedBytes_ = size_t(bytes);
  ::madvise(map, size_t(bytes), MADV_SEQUENTIAL);

  const int64_t bad =
      width == TokenWidth::U16
          ? firstOutOfVocab<loadLE16, 2>(file.data_, numTokens, uint64_t(vocabSize))
          : firstOutOfVocab<loadLE32, 4>(file.data_, numTokens, uint64_t(vocabSize));
  if (bad >= 0)
    return invalidArgumentError("data file " + path + ": token at position " + std::to_string(bad) +
                                " is " + std::to_string(file.token(bad)) +
                                ", not below vocab_size " + std::to_string(vocabSize));
  // Batches read windows at random offsets from now on.
  ::madvise(map, size_t(bytes), MADV_RANDOM);
  return file;
}

TokenFile::TokenFile(TokenFile &&other) noexcept { *this = std::move(other); }

TokenFile &TokenFile::operator=(TokenFile &&other) noexcept {
  if (this != &other) {
    release();
    path_ = std::move(other.path_);
    width_ = other.width_;
    vocabSize_ = other.vocabSize_;
    seqLen_ = other.seqLen_;
    numTokens_ = other.numTokens_;
    data_ = other.data_;
    mappedBytes_ = other.mappedBytes_;
    other.data_ = nullptr;
    other.mappedBytes_ = 0;
    other.numTokens_ = 0;
  }
  return *this;
}

TokenFile::~TokenFile() { release(); }

void TokenFile::release() {
  if (data_)
    ::munmap(const_cast<unsigned char *>(data_), mappedBytes_);
  data_ = nullptr;
  mappedBytes_ = 0;
}

uint32_t TokenFile::token(int64_t i) const {
  return width_ == TokenWidth::U16 ? loadLE16(data_ + size_t(i) * 2)
                                   : loadLE32(data_ + size_t(i) * 4);
}

Status TokenFile::getBatch(Rng &rng, int64_t batchSize, int64_t seqLen, Batch &out) const {
  return getBatch(rng, all(), batchSize, seqLen, out);
}

Status TokenFile::getBatch(Rng &rng, TokenRange range, int64_t batchSize, int64_t seqLen,
                           Batch &out) const {
  FP8RT_RETURN_IF_ERROR(checkBatchShape(batchSize, seqLen));
  if (range.size() < seqLen + 1)
    return invalidArgumentError(tooShortMessage(path_, range.size(), seqLen));
  out.resize(batchSize, seqLen);
  // nanoGPT: ix = torch.randint(len(data) - block_size, (batch_size,))
  const uint64_t numStarts = uint64_t(range.size() - seqLen);
  for (int64_t row = 0; row < batchSize; ++row) {
    const int64_t start = range.begin + int64_t(rng.uniform(numStarts));
    copyWindow(data_, width_, start, seqLen, row, out);
  }
  return Status::success();
}

StatusOr<Batch> TokenFile::getBatch(Rng &rng, int64_t batchSize, int64_t seqLen) const {
  Batch batch;
  FP8RT_RETURN_IF_ERROR(getBatch(rng, batchSize, seqLen, batch));
  return batch;
}

int64_t TokenFile::numSequentialBatches(int64_t batchSize, int64_t seqLen) const {
  return numSequentialBatches(all(), batchSize, seqLen);
}

int64_t TokenFile::numSequentialBatches(TokenRange range, int64_t batchSize, int64_t seqLen) const {
  if (batchSize <= 0 || seqLen <= 0 || range.size() < 1)
    return 0;
  return ((range.size() - 1) / seqLen) / batchSize;
}

Status TokenFile::getSequentialBatch(int64_t index, int64_t batchSize, int64_t seqLen,
                                     Batch &out) const {
  return getSequentialBatch(all(), index, batchSize, seqLen, out);
}

Status TokenFile::getSequentialBatch(TokenRange range, int64_t index, int64_t batchSize,
                                     int64_t seqLen, Batch &out) const {
  FP8RT_RETURN_IF_ERROR(checkBatchShape(batchSize, seqLen));
  const int64_t count = numSequentialBatches(range, batchSize, seqLen);
  if (index < 0 || index >= count)
    return outOfRangeError("data file " + path_ + ": evaluation batch " + std::to_string(index) +
                           " does not exist (" + std::to_string(count) + " whole batches of " +
                           std::to_string(batchSize) + " x " + std::to_string(seqLen) + " tokens)");
  out.resize(batchSize, seqLen);
  for (int64_t row = 0; row < batchSize; ++row) {
    const int64_t window = index * batchSize + row;
    copyWindow(data_, width_, range.begin + window * seqLen, seqLen, row, out);
  }
  return Status::success();
}

//===----------------------------------------------------------------------===//
// Writing
//===----------------------------------------------------------------------===//

Status writeTokenFile(const std::string &path, const std::vector<uint32_t> &tokens,
                      TokenWidth width) {
  const size_t w = tokenWidthBytes(width);
  const uint64_t limit = width == TokenWidth::U16 ? 0xffffULL : 0xffffffffULL;
  for (size_t i = 0; i < tokens.size(); ++i)
    if (tokens[i] > limit)
      return invalidArgumentError(path + ": token at position " + std::to_string(i) + " is " +
                                  std::to_string(tokens[i]) + ", which does not fit in " +
                                  tokenWidthName(width));

  AtomicFile file;
  FP8RT_RETURN_IF_ERROR(AtomicFile::open(path, file));
  constexpr size_t kChunk = 1 << 16;
  std::vector<unsigned char> buf(kChunk * w);
  for (size_t begin = 0; begin < tokens.size(); begin += kChunk) {
    const size_t n = std::min(kChunk, tokens.size() - begin);
    for (size_t i = 0; i < n; ++i) {
      const uint32_t v = tokens[begin + i];
      for (size_t b = 0; b < w; ++b)
        buf[i * w + b] = static_cast<unsigned char>(v >> (8 * b));
    }
    FP8RT_RETURN_IF_ERROR(file.write(buf.data(), n * w));
  }
  return file.commit();
}

StatusOr<int64_t> prepareByteTokens(const std::string &textPath, const std::string &outPath) {
  std::FILE *in = std::fopen(textPath.c_str(), "rb");
  if (!in) {
    const int err = errno;
    return Status(err == ENOENT ? StatusCode::kNotFound : StatusCode::kIoError,
                  "text file " + textPath + ": cannot open: " + errnoText(err));
  }
  AtomicFile out;
  if (Status s = AtomicFile::open(outPath, out); !s.ok()) {
    std::fclose(in);
    return s;
  }

  Status st;
  int64_t count = 0;
  constexpr size_t kChunk = 1 << 16;
  std::vector<unsigned char> text(kChunk), tokens(2 * kChunk);
  while (st.ok()) {
    const size_t n = std::fread(text.data(), 1, kChunk, in);
    if (n == 0) {
      if (std::ferror(in))
        st = ioError("text file " + textPath + ": read failed: " + errnoText(errno));
      break;
    }
    for (size_t i = 0; i < n; ++i) { // uint16 little-endian: byte, then 0
      tokens[2 * i] = text[i];
      tokens[2 * i + 1] = 0;
    }
    st = out.write(tokens.data(), 2 * n);
    count += int64_t(n);
  }
  std::fclose(in);
  if (st.ok() && count == 0)
    st = invalidArgumentError("text file " + textPath + " is empty");
  FP8RT_RETURN_IF_ERROR(st);
  FP8RT_RETURN_IF_ERROR(out.commit());
  return count;
}

} // namespace fp8rt
