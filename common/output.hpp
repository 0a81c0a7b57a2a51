// The shapes of what the person pushing sees (DESIGN.md "Output conventions"):
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

} // namespace slipway
