//===- Rng.h - the runtime's fixed, documented PRNG -------------*- C++ -*-===//
//
// xoshiro256** 1.0 (Blackman & Vigna, https://prng.di.unimi.it/), its state
// seeded from one 64-bit seed by four successive outputs of splitmix64, as the
// authors recommend. Every random choice the runtime makes (batch offsets,
// synthetic corpora) goes through this class, so a seed gives the same
// numbers with every compiler and standard library: nothing here uses
// <random>'s distributions, whose output is implementation-defined.
//
//   uniform(n):      r = next() until r >= (2^64 mod n), then r mod n
//                    (rejection makes it exactly uniform on [0, n))
//   uniformDouble(): (next() >> 11) * 2^-53, in [0, 1)
//   openDouble():    ((next() >> 11) + 0.5) * 2^-53, in (0, 1)
//
// The state is four words; `state()` / `setState()` save and restore it, so a
// resumed run draws the numbers the uninterrupted run would have.
//
//===----------------------------------------------------------------------===//

#ifndef FP8RT_RNG_H
#define FP8RT_RNG_H

#include <array>
#include <cstdint>

namespace fp8rt {

/// One step of splitmix64: advances `state` and returns the next output.
inline uint64_t splitmix64(uint64_t &state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/// xoshiro256** seeded by splitmix64 (see the file comment).
class Rng {
public:
  using State = std::array<uint64_t, 4>;

  explicit Rng(uint64_t seed = 0) { reseed(seed); }

  void reseed(uint64_t seed) {
    uint64_t sm = seed;
    for (uint64_t &word : s_)
      word = splitmix64(sm);
  }

  /// The next 64 random bits.
  uint64_t next() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  /// Uniform on [0, n); n must be > 0 (n == 0 returns 0).
  uint64_t uniform(uint64_t n) {
    if (n == 0)
      return 0;
    const uint64_t threshold = (0 - n) % n; // 2^64 mod n
    uint64_t r;
    do
      r = next();
    while (r < threshold);
    return r % n;
  }

  /// Uniform on [0, 1), 53 random bits.
  double uniformDouble() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

  /// Uniform on (0, 1): never 0, so log() of it is finite.
  double openDouble() { return (static_cast<double>(next() >> 11) + 0.5) * 0x1.0p-53; }

  State state() const { return s_; }
  void setState(const State &s) { s_ = s; }

private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  State s_{};
};

} // namespace fp8rt

#endif // FP8RT_RNG_H
