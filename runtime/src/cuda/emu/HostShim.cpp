//===- HostShim.cpp - CUDA C++ as host C++ --------------------------------===//

#include "HostShim.h"

#include "EmuAbi.h"

#include <algorithm>
#include <cctype>
#include <vector>

namespace fp8rt::cuda::emu {

std::string hostShim() {
  std::string shim = R"(// ---- fp8rt host emulator shim (runtime/src/cuda/emu/HostShim.cpp) ----
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
)";
  shim += FP8EMU_ABI_TEXT;
  shim += R"(
static Fp8EmuState *fp8emuState;
extern "C" void fp8emu_bind(Fp8EmuState *state) { fp8emuState = state; }

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define threadIdx (fp8emuState->threadIdx)
#define blockIdx (fp8emuState->blockIdx)
#define blockDim (fp8emuState->blockDim)
#define gridDim (fp8emuState->gridDim)

// CUDA's vector types keep their alignment: a misaligned 16-byte access is
// an error on the GPU, and may fault here too.
struct alignas(16) uint4 { unsigned x, y, z, w; };
struct alignas(8) uint2 { unsigned x, y; };
inline uint4 make_uint4(unsigned x, unsigned y, unsigned z, unsigned w) { return uint4{x, y, z, w}; }
inline uint2 make_uint2(unsigned x, unsigned y) { return uint2{x, y}; }

// Exactly rounded IEEE operations: the module is compiled with
// -ffp-contract=off, so nothing becomes an FMA, as NVRTC's --fmad=false.
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fdiv_rn(float a, float b) { return a / b; }
inline unsigned __float_as_uint(float x) { unsigned u; memcpy(&u, &x, 4); return u; }
inline int __float_as_int(float x) { int i; memcpy(&i, &x, 4); return i; }
inline float __uint_as_float(unsigned u) { float x; memcpy(&x, &u, 4); return x; }
inline float __int_as_float(int i) { float x; memcpy(&x, &i, 4); return x; }
inline double __longlong_as_double(long long i) { double d; memcpy(&d, &i, 8); return d; }
inline long long __double_as_longlong(double d) { long long i; memcpy(&i, &d, 8); return i; }

inline void __syncthreads() { fp8emuState->syncthreads(fp8emuState->scheduler); }
template <class T> inline T __shfl_xor_sync(unsigned mask, T value, int laneMask) {
  static_assert(sizeof(T) <= 8, "a shuffle moves at most 8 bytes");
  fp8emuState->shflXor(fp8emuState->scheduler, &value, sizeof(T), laneMask, mask);
  return value;
}
// Tensor cores (Prelude.cuh's mmaBf16): mma.sync.aligned.m16n8k16.row.col
// .f32.bf16.bf16.f32 as a warp collective. Every lane hands in its A, B and C
// fragments; the gathered fragments are placed in A (16x16), B (16x8) and C
// (16x8) by the PTX ISA's layout (groupID = lane >> 2, tig = lane % 4):
//   A: a_i (u32 i/2, half i%2) at row groupID + 8*((i>>1)&1), col 2*tig + i%2 + 8*(i>=4)
//   B: b_i (u32 i/2, half i%2) at row 2*tig + i%2 + 8*(i>=2), col groupID
//   C: c_i at row groupID + 8*(i>=2), col 2*tig + i%2
// and each lane gets its own D elements: the 16 products (exact in f32) added
// in k order to c in f32. The hardware's adder rounds differently (wider, one
// rounding per group of products); results agree to f32 rounding of sums.
struct Fp8EmuMmaFragments { unsigned a[4], b[2]; float c[4]; };
inline unsigned fp8emuLane() {
  return (threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z)) & 31u;
}
inline float fp8emuBf16(unsigned word, int half) {
  return __uint_as_float(half ? (word & 0xFFFF0000u) : (word << 16));
}
inline void fp8emuMmaBf16(float *d, const unsigned *a, const unsigned *b, const float *c) {
  Fp8EmuMmaFragments mine, all[32];
  memcpy(mine.a, a, sizeof(mine.a));
  memcpy(mine.b, b, sizeof(mine.b));
  memcpy(mine.c, c, sizeof(mine.c));
  fp8emuState->warpGather(fp8emuState->scheduler, &mine, all, sizeof(Fp8EmuMmaFragments));
  float A[16][16], B[16][8];
  for (unsigned l = 0; l < 32; ++l) {
    const unsigned g = l >> 2, t = l & 3u;
    for (int i = 0; i < 8; ++i)
      A[g + 8 * ((i >> 1) & 1)][2 * t + (i & 1) + 8 * (i >= 4)] = fp8emuBf16(all[l].a[i / 2], i & 1);
    for (int i = 0; i < 4; ++i)
      B[2 * t + (i & 1) + 8 * (i >= 2)][g] = fp8emuBf16(all[l].b[i / 2], i & 1);
  }
  const unsigned lane = fp8emuLane(), g = lane >> 2, t = lane & 3u;
  for (int i = 0; i < 4; ++i) {
    const unsigned row = g + 8 * (i >= 2), col = 2 * t + (i & 1);
    float acc = all[lane].c[i];
    for (int k = 0; k < 16; ++k) acc = acc + A[row][k] * B[k][col];
    d[i] = acc;
  }
}

// cp.async (Prelude.cuh's cpAsync16 / cpAsyncCommit / cpAsyncWait): each
// thread's copies wait in a list, tagged with the group they will belong to,
// and are made (in issue order) by the wait that completes their group, so a
// kernel that reads a tile before waiting for it reads unwritten memory.
// Per block thread; a block's threads have no copies left when it ends if
// every group was waited for.
struct Fp8EmuAsyncCopy { void *dst; const void *src; unsigned bytes, group; };
struct Fp8EmuAsyncState { Fp8EmuAsyncCopy copies[64]; unsigned count, committed; };
static Fp8EmuAsyncState fp8emuAsync[1024];
inline Fp8EmuAsyncState &fp8emuAsyncOfThread() {
  return fp8emuAsync[threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z)];
}
inline void fp8emuCpAsync(void *dst, const void *src, unsigned bytes) {
  Fp8EmuAsyncState &s = fp8emuAsyncOfThread();
  if (s.count == 64) { // more than any generated kernel has in flight: a bug
    fprintf(stderr, "cuda emulator: more than 64 cp.async copies in flight in one thread\n");
    abort();
  }
  s.copies[s.count++] = Fp8EmuAsyncCopy{dst, src, bytes, s.committed};
}
inline void fp8emuCpAsyncCommit() { ++fp8emuAsyncOfThread().committed; }
inline void fp8emuCpAsyncWait(unsigned pendingGroups) {
  Fp8EmuAsyncState &s = fp8emuAsyncOfThread();
  unsigned kept = 0;
  for (unsigned i = 0; i < s.count; ++i) {
    const Fp8EmuAsyncCopy &c = s.copies[i];
    if (c.group + pendingGroups < s.committed) memcpy(c.dst, c.src, c.bytes);
    else s.copies[kept++] = c;
  }
  s.count = kept;
}

// The threads of a block run one at a time between synchronisation points,
// so read-modify-write is atomic here.
inline int atomicAdd(int *p, int v) { const int old = *p; *p = old + v; return old; }
inline unsigned atomicAdd(unsigned *p, unsigned v) { const unsigned old = *p; *p = old + v; return old; }
inline unsigned long long atomicAdd(unsigned long long *p, unsigned long long v) { const unsigned long long old = *p; *p = old + v; return old; }
// ---- end of shim ----
)";
  return shim;
}

namespace {

bool isIdentChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

std::string trim(const std::string &s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b])))
    ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1])))
    --e;
  return s.substr(b, e - b);
}

/// Where `keyword` stands as a whole token in code: not in a comment, a
/// string or a character literal (the prelude's comments mention __shared__).
std::vector<size_t> tokensInCode(const std::string &source, const std::string &keyword) {
  std::vector<size_t> found;
  enum { Code, LineComment, BlockComment, String, Char } state = Code;
  for (size_t i = 0; i < source.size(); ++i) {
    const char c = source[i], next = i + 1 < source.size() ? source[i + 1] : '\0';
    switch (state) {
    case Code:
      if (c == '/' && next == '/') {
        state = LineComment;
        ++i;
      } else if (c == '/' && next == '*') {
        state = BlockComment;
        ++i;
      } else if (c == '"') {
        state = String;
      } else if (c == '\'') {
        state = Char;
      } else if (source.compare(i, keyword.size(), keyword) == 0 &&
                 (i == 0 || !isIdentChar(source[i - 1])) &&
                 (i + keyword.size() == source.size() ||
                  !isIdentChar(source[i + keyword.size()]))) {
        found.push_back(i);
        i += keyword.size() - 1;
      }
      break;
    case LineComment:
      if (c == '\n')
        state = Code;
      break;
    case BlockComment:
      if (c == '*' && next == '/') {
        state = Code;
        ++i;
      }
      break;
    case String:
    case Char:
      if (c == '\\')
        ++i; // the escaped character
      else if (c == (state == String ? '"' : '\''))
        state = Code;
      break;
    }
  }
  return found;
}

} // namespace

bool rewriteSharedDeclarations(const std::string &source, std::string &rewritten,
                               std::string &error) {
  static const std::string kKeyword = "__shared__";
  rewritten.clear();
  rewritten.reserve(source.size() + source.size() / 16);
  int site = 0;
  size_t copied = 0;
  for (size_t at : tokensInCode(source, kKeyword)) {
    const size_t end = source.find(';', at);
    size_t lineStart = source.rfind('\n', at);
    lineStart = lineStart == std::string::npos ? 0 : lineStart + 1;
    const int line = 1 + int(std::count(source.begin(), source.begin() + long(at), '\n'));
    if (end == std::string::npos) {
      error = "line " + std::to_string(line) + ": a __shared__ declaration without ';'";
      return false;
    }
    // `extern` directly before the keyword (on the same line).
    size_t declStart = at;
    const std::string before = source.substr(lineStart, at - lineStart);
    const bool isExtern =
        trim(before).size() >= 6 && trim(before).compare(trim(before).size() - 6, 6, "extern") == 0;
    if (isExtern)
      declStart = lineStart + before.rfind("extern");
    // "T name[A][B]" or "T name[]".
    const std::string decl = trim(source.substr(at + kKeyword.size(), end - at - kKeyword.size()));
    const size_t bracket = decl.find('[');
    if (bracket == std::string::npos) {
      error = "line " + std::to_string(line) +
              ": a __shared__ declaration that is not an array: " + decl;
      return false;
    }
    const std::string head = trim(decl.substr(0, bracket)), dims = decl.substr(bracket);
    size_t nameStart = head.size();
    while (nameStart > 0 && isIdentChar(head[nameStart - 1]))
      --nameStart;
    const std::string type = trim(head.substr(0, nameStart)), name = head.substr(nameStart);
    if (type.empty() || name.empty()) {
      error = "line " + std::to_string(line) + ": cannot read the type and name of: " + decl;
      return false;
    }
    rewritten.append(source, copied, declStart - copied);
    if (isExtern) {
      if (trim(dims) != "[]") {
        error =
            "line " + std::to_string(line) + ": an extern __shared__ array with a size: " + decl;
        return false;
      }
      rewritten +=
          type + " *" + name + " = reinterpret_cast<" + type + " *>(fp8emuState->dynamicShared);";
    } else {
      rewritten += type + " (&" + name + ")" + dims + " = *reinterpret_cast<" + type + " (*)" +
                   dims + ">(fp8emuState->sharedArray(fp8emuState->scheduler, " +
                   std::to_string(site++) + ", sizeof(" + type + dims + ")));";
    }
    copied = end + 1;
  }
  rewritten.append(source, copied, std::string::npos);
  return true;
}

} // namespace fp8rt::cuda::emu
