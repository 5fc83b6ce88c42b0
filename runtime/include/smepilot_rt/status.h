// SMEPilot runtime: the small status type every fallible runtime call returns.
//
// The runtime never throws and never aborts on bad input: a call that can fail
// returns `status` (ok or an error message) or `result<T>` (a value or an
// error). Messages are complete sentences for the user: they name the file,
// the key or tensor, the offset, and what was expected.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace smepilot::rt {

/// Ok, or an error with a message for the user.
class [[nodiscard]] status {
public:
  status() = default;
  static status ok() { return status(); }
  static status error(std::string message) {
    status s;
    s.failed_ = true;
    s.message_ = std::move(message);
    return s;
  }
  bool is_ok() const { return !failed_; }
  explicit operator bool() const { return !failed_; }
  const std::string &message() const { return message_; }

private:
  bool failed_ = false;
  std::string message_;
};

/// A value of type T, or an error status.
template <typename T> class [[nodiscard]] result {
public:
  result(T value) : v_(std::move(value)) {}
  result(status error) : v_(std::move(error)) {
    assert(!std::get<status>(v_).is_ok() && "result built from an ok status");
  }
  bool is_ok() const { return v_.index() == 0; }
  explicit operator bool() const { return is_ok(); }
  T &value() & { return std::get<0>(v_); }
  const T &value() const & { return std::get<0>(v_); }
  T &&value() && { return std::get<0>(std::move(v_)); }
  T *operator->() { return &value(); }
  const T *operator->() const { return &value(); }
  T &operator*() { return value(); }
  const T &operator*() const { return value(); }
  const status &error() const { return std::get<1>(v_); }
  status take_error() { return std::get<1>(std::move(v_)); }

private:
  std::variant<T, status> v_;
};

} // namespace smepilot::rt

/// Returns early from the enclosing function with the error of a failed
/// `status` expression.
#define SMEPILOT_RT_RETURN_IF_ERROR(expr)                                                          \
  do {                                                                                             \
    ::smepilot::rt::status smepilot_rt_status_ = (expr);                                           \
    if (!smepilot_rt_status_.is_ok())                                                              \
      return smepilot_rt_status_;                                                                  \
  } while (0)
