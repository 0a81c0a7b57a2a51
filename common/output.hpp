// The shapes of what the person pushing sees (docs/CONTRACTS.md "Output conventions"):
//   -----> Node.js app detected        a step
//          added 71 packages in 2s     detail under a step
//    !     release command failed      a failure
#pragma once

#include <string>
#include <string_view>

namespace slipway {

inline std::string step_line(std::string_view text) {
  return "-----> " + std::string(text);
}

inline std::string detail_line(std::string_view text) {
  return "       " + std::string(text);
}

inline std::string failure_line(std::string_view text) {
  return " !     " + std::string(text);
}

// 'it'\''s' — single-quoted for bash (a config var in `config`'s output, a .profile.d line,
// a one-off's argv).
std::string shell_quote(std::string_view value);

// `text` safe to print on a terminal: control characters, DEL and bytes that are not
// UTF-8 become \xNN, so a quoted value cannot move the cursor or change colours.
std::string printable(std::string_view text);

// Whether `text` is well-formed UTF-8 (no overlong forms, no surrogates).
bool is_utf8(std::string_view text);

} // namespace slipway
