#include "common/random.hpp"

#include <array>
#include <cctype>
#include <cerrno>
#include <sys/random.h>

#include "common/hash.hpp"

namespace slipway {

namespace {

constexpr char k_hex[] = "0123456789abcdef";

// 32 hex digits as a UUID: 8-4-4-4-12, with the version nibble and the RFC 4122 variant set.
std::string format_uuid(std::string hex, char version) {
  hex[12] = version;
  hex[16] = k_hex[8 | ((hex[16] <= '9' ? hex[16] - '0' : hex[16] - 'a' + 10) & 3)];
  return hex.substr(0, 8) + '-' + hex.substr(8, 4) + '-' + hex.substr(12, 4) + '-' +
         hex.substr(16, 4) + '-' + hex.substr(20, 12);
}

} // namespace

Expected<std::string> random_hex(std::size_t bytes) {
  std::string raw(bytes, '\0');
  std::size_t filled = 0;
  while (filled < raw.size()) {
    ssize_t n = ::getrandom(raw.data() + filled, raw.size() - filled, 0);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return fail("cannot generate random bytes: getrandom: {}", errno_text(errno));
    }
    filled += static_cast<std::size_t>(n);
  }
  std::string hex;
  hex.reserve(2 * bytes);
  for (unsigned char byte : raw) {
    hex.push_back(k_hex[byte >> 4]);
    hex.push_back(k_hex[byte & 0xf]);
  }
  return hex;
}

Expected<std::string> random_uuid() {
  return format_uuid(TRY(random_hex(16)), '4');
}

std::string derived_uuid(std::string_view base, std::string_view name) {
  Sha256 hash;
  hash.update(base);
  hash.update("\0", 1);
  hash.update(name);
  return format_uuid(hash.hex_digest().substr(0, 32), '8');
}

bool is_uuid(std::string_view text) {
  if (text.size() != 36) {
    return false;
  }
  for (std::size_t i = 0; i < text.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? text[i] != '-' : !std::isxdigit(static_cast<unsigned char>(text[i]))) {
      return false;
    }
  }
  return true;
}

} // namespace slipway
