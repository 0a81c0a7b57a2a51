// Errors as values: every function that touches disk, git or processes returns
// Expected<T>; the command-line edge turns an Error into one line on stderr and an exit code.
#pragma once

#include <expected>
#include <string>
#include <utility>

#include <fmt/format.h>

namespace slipway {

// What kind of failure an error is, where a front end answers differently by kind (the
// Platform API's status codes); most are just `failed`.
enum class ErrorKind {
  failed,      // 1: it could not be done
  usage,       // 2: the request is malformed (HTTP 422)
  forbidden,   // the actor may not do it (403)
  not_found,   // what it names does not exist (404)
  conflict,    // something else holds it: another operation on the app, a name taken (409)
  unavailable, // a part it needs is not running: the daemon (503)
};

struct Error {
  std::string message; // lowercase, what failed first, offending value quoted, no period
  int exit_code = 1;   // 1 failed, 2 usage error
  ErrorKind kind = ErrorKind::failed;
};

template <class T>
using Expected = std::expected<T, Error>;

// `return fail("unknown key '{}'", key);`
template <class... Args>
std::unexpected<Error> fail(fmt::format_string<Args...> format, Args&&... args) {
  return std::unexpected(Error{fmt::format(format, std::forward<Args>(args)...)});
}

// A usage error (exit status 2): the caller asked for something malformed.
template <class... Args>
std::unexpected<Error> usage_error(fmt::format_string<Args...> format, Args&&... args) {
  return std::unexpected(
      Error{fmt::format(format, std::forward<Args>(args)...), 2, ErrorKind::usage});
}

// An error of a kind other than `failed` or `usage`: `return fail_as(ErrorKind::not_found, ...)`.
template <class... Args>
std::unexpected<Error> fail_as(ErrorKind kind, fmt::format_string<Args...> format, Args&&... args) {
  return std::unexpected(Error{fmt::format(format, std::forward<Args>(args)...), 1, kind});
}

// Prefix context onto an error travelling up: `return prefixed(r.error(), "procfile")`.
inline std::unexpected<Error> prefixed(Error error, std::string_view context) {
  error.message = fmt::format("{}: {}", context, error.message);
  return std::unexpected(std::move(error));
}

// Propagates an error: `auto config = TRY(layout.config());` is the value of a successful
// Expected and returns its error from the enclosing function otherwise; `TRY(saved);` for an
// Expected<void>. (A GNU statement expression, which g++ and clang support.)
#define TRY(...)                                                                                   \
  ({                                                                                               \
    auto&& try_result_ = (__VA_ARGS__);                                                            \
    if (!try_result_) {                                                                            \
      return std::unexpected(std::move(try_result_).error());                                      \
    }                                                                                              \
    std::move(try_result_).value();                                                                \
  })

// The errno text, for messages: "cannot open 'x': No such file or directory".
std::string errno_text(int err);

} // namespace slipway
