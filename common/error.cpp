#include "common/error.hpp"

#include <cstring>

namespace slipway {

std::string errno_text(int err) {
  return std::strerror(err);
}

} // namespace slipway
