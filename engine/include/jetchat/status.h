// Status and Result<T>: how the engine reports failure. Exceptions never cross the engine's public API.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace jetchat {

enum class StatusCode {
  kOk,
  kInvalidArgument,   // bad parameters from the caller
  kNotFound,          // a file or tensor that must exist does not
  kInvalidFormat,     // a file exists but its contents are malformed or foreign
  kUnsupported,       // well-formed, but something we do not run (an architecture, a dtype, act-order GPTQ)
  kOutOfMemory,       // refused before allocating: the model would not fit
  kCancelled,         // stopped on request
  kIoError,           // the operating system refused (open, mmap, write)
  kInternal,          // a bug or a device failure
};

class Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status ok() { return {}; }

  bool is_ok() const { return code_ == StatusCode::kOk; }
  explicit operator bool() const { return is_ok(); }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// A value or the Status that explains why there is none.
template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}                      // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {}               // NOLINT
  Result(StatusCode code, std::string msg) : v_(Status(code, std::move(msg))) {}

  bool is_ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return is_ok(); }
  const Status& status() const {
    static const Status kOk;
    return is_ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace jetchat

// Propagate a failed Status (or Result's status) to the caller.
#define JETCHAT_TRY(expr)                              \
  do {                                                 \
    auto&& _jc_s = (expr);                             \
    if (!_jc_s) return ::jetchat::detail_status(_jc_s); \
  } while (0)

namespace jetchat {
inline Status detail_status(const Status& s) { return s; }
template <typename T>
Status detail_status(const Result<T>& r) { return r.status(); }
}  // namespace jetchat
