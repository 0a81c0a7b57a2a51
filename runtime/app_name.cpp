#include "runtime/app_name.hpp"

#include <algorithm>

namespace slipway {

Expected<void> validate_app_name(std::string_view name) {
  auto printable = [&] {
    std::string shown;
    for (char c : name.substr(0, 40)) {
      shown += (c >= 0x20 && c < 0x7f) ? std::string(1, c)
                                       : fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
    }
    return name.size() > 40 ? shown + "..." : shown;
  };
  bool valid = name.size() >= 2 && name.size() <= 30 && name[0] >= 'a' && name[0] <= 'z' &&
               std::ranges::all_of(name, [](char c) {
                 return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
               });
  if (!valid) {
    return usage_error("invalid app name '{}' (use 2-30 lowercase letters, digits and dashes, "
                       "starting with a letter)",
                       printable());
  }
  return {};
}

} // namespace slipway
