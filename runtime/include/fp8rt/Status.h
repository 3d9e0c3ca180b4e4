//===- Status.h - Error values of the fp8 runtime ---------------*- C++ -*-===//
//
// The runtime is built without exceptions. Every fallible function returns a
// `Status` (no value) or a `StatusOr<T>` (a value or an error). Both are
// [[nodiscard]]: an ignored error is a compile warning.
//
// Messages follow one convention (docs/runtime.md): they start with the thing
// that is wrong -- a file path, then the tensor or field inside it -- and say
// what was found and what was expected:
//
//   ckpt.safetensors: tensor 'wte.weight': data_offsets [0, 12] span 12 bytes,
//   expected 8 (shape [2] of F32)
//
// A caller adds context in front with `Status::withContext`, never behind.
//
//===----------------------------------------------------------------------===//

#ifndef FP8RT_STATUS_H
#define FP8RT_STATUS_H

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace fp8rt {

/// What kind of failure; the message says the rest.
enum class StatusCode : uint8_t {
  kOk = 0,
  kInvalidArgument, ///< a caller passed something the function cannot accept
  kNotFound,        ///< a named thing (file, tensor) does not exist
  kIoError,         ///< the operating system refused (open, read, write, rename)
  kDataLoss,        ///< a file is corrupt, truncated or malformed
  kOutOfRange,      ///< a size or index exceeds what is representable or allowed
  kUnimplemented,   ///< valid input that this runtime does not support
  kUnavailable,     ///< a resource (GPU, library) is not present
  kInternal,        ///< a bug in the runtime
};

/// The lower-case name of a code, e.g. "data loss".
inline const char *statusCodeName(StatusCode code) {
  switch (code) {
  case StatusCode::kOk:
    return "ok";
  case StatusCode::kInvalidArgument:
    return "invalid argument";
  case StatusCode::kNotFound:
    return "not found";
  case StatusCode::kIoError:
    return "I/O error";
  case StatusCode::kDataLoss:
    return "data loss";
  case StatusCode::kOutOfRange:
    return "out of range";
  case StatusCode::kUnimplemented:
    return "unimplemented";
  case StatusCode::kUnavailable:
    return "unavailable";
  case StatusCode::kInternal:
    return "internal";
  }
  return "unknown";
}

class [[nodiscard]] Status {
public:
  /// Success.
  Status() = default;
  /// An error; `code` must not be kOk (kInternal is substituted if it is).
  Status(StatusCode code, std::string message)
      : code_(code == StatusCode::kOk ? StatusCode::kInternal : code),
        message_(std::move(message)) {}

  static Status success() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  /// The message alone (empty for success).
  const std::string &message() const { return message_; }
  /// "<code name>: <message>", or "ok".
  std::string toString() const {
    if (ok())
      return "ok";
    return std::string(statusCodeName(code_)) + ": " + message_;
  }

  /// Prepends "<context>: " to the message of an error; success is unchanged.
  Status withContext(std::string_view context) const {
    if (ok())
      return *this;
    std::string m(context);
    m += ": ";
    m += message_;
    return Status(code_, std::move(m));
  }

  /// Marks an error as deliberately ignored.
  void ignoreError() const {}

private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status invalidArgumentError(std::string m) {
  return Status(StatusCode::kInvalidArgument, std::move(m));
}
inline Status notFoundError(std::string m) { return Status(StatusCode::kNotFound, std::move(m)); }
inline Status ioError(std::string m) { return Status(StatusCode::kIoError, std::move(m)); }
inline Status dataLossError(std::string m) { return Status(StatusCode::kDataLoss, std::move(m)); }
inline Status outOfRangeError(std::string m) {
  return Status(StatusCode::kOutOfRange, std::move(m));
}
inline Status unimplementedError(std::string m) {
  return Status(StatusCode::kUnimplemented, std::move(m));
}
inline Status unavailableError(std::string m) {
  return Status(StatusCode::kUnavailable, std::move(m));
}
inline Status internalError(std::string m) { return Status(StatusCode::kInternal, std::move(m)); }

namespace detail {
[[noreturn]] inline void dieOnBadAccess(const Status &status) {
  std::fprintf(stderr, "fp8rt: value of a failed StatusOr accessed: %s\n",
               status.toString().c_str());
  std::abort();
}
} // namespace detail

/// A value of type T, or the error that prevented computing it.
/// Accessing the value of an error prints the error and aborts (there are no
/// exceptions to throw); check `ok()` first or use FP8RT_ASSIGN_OR_RETURN.
template <typename T> class [[nodiscard]] StatusOr {
  static_assert(!std::is_same_v<std::decay_t<T>, Status>, "StatusOr<Status> is meaningless");

public:
  /// An error. A success Status here is a bug and becomes kInternal.
  StatusOr(Status status) : status_(std::move(status)) {
    if (status_.ok())
      status_ = internalError("StatusOr constructed from a success Status "
                              "without a value");
  }
  StatusOr(const T &value) : value_(value) {}
  StatusOr(T &&value) : value_(std::move(value)) {}
  template <typename U, typename = std::enable_if_t<std::is_convertible_v<U &&, T> &&
                                                    !std::is_same_v<std::decay_t<U>, T> &&
                                                    !std::is_same_v<std::decay_t<U>, Status>>>
  StatusOr(U &&value) : value_(T(std::forward<U>(value))) {}

  bool ok() const { return value_.has_value(); }
  /// The error, or success when there is a value.
  const Status &status() const & { return status_; }
  Status status() && { return std::move(status_); }

  T &value() & {
    check();
    return *value_;
  }
  const T &value() const & {
    check();
    return *value_;
  }
  T &&value() && {
    check();
    return std::move(*value_);
  }
  T &operator*() & { return value(); }
  const T &operator*() const & { return value(); }
  T &&operator*() && { return std::move(*this).value(); }
  T *operator->() { return &value(); }
  const T *operator->() const { return &value(); }

private:
  void check() const {
    if (!value_)
      detail::dieOnBadAccess(status_);
  }
  Status status_;
  std::optional<T> value_;
};

namespace detail {
inline const Status &statusOf(const Status &s) { return s; }
inline Status statusOf(Status &&s) { return std::move(s); }
template <typename T> const Status &statusOf(const StatusOr<T> &s) { return s.status(); }
template <typename T> Status statusOf(StatusOr<T> &&s) { return std::move(s).status(); }
} // namespace detail

} // namespace fp8rt

#define FP8RT_CONCAT_INNER_(a, b) a##b
#define FP8RT_CONCAT_(a, b) FP8RT_CONCAT_INNER_(a, b)

/// Returns the error of `expr` (a Status or a StatusOr) from the enclosing
/// function, which must return Status or StatusOr<U>.
#define FP8RT_RETURN_IF_ERROR(expr)                                                                \
  do {                                                                                             \
    auto &&fp8rt_status_or_ = (expr);                                                              \
    if (!fp8rt_status_or_.ok())                                                                    \
      return ::fp8rt::detail::statusOf(                                                            \
          std::forward<decltype(fp8rt_status_or_)>(fp8rt_status_or_));                             \
  } while (0)

/// `FP8RT_ASSIGN_OR_RETURN(auto x, makeX());` declares/assigns `x` from the
/// value of a StatusOr, or returns its error from the enclosing function.
#define FP8RT_ASSIGN_OR_RETURN(lhs, expr)                                                          \
  FP8RT_ASSIGN_OR_RETURN_IMPL_(FP8RT_CONCAT_(fp8rt_status_or_, __LINE__), lhs, expr)
#define FP8RT_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr)                                               \
  auto tmp = (expr);                                                                               \
  if (!tmp.ok())                                                                                   \
    return std::move(tmp).status();                                                                \
  lhs = std::move(tmp).value()

#endif // FP8RT_STATUS_H
