#include "runtime/app_name.hpp"

#include <algorithm>

namespace slipway {

namespace {

Expected<void> validate_name(std::string_view name, std::string_view what) {
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
    return usage_error("invalid {} name '{}' (use 2-30 lowercase letters, digits and dashes, "
                       "starting with a letter)",
                       what, printable());
  }
  return {};
}

} // namespace

Expected<void> validate_app_name(std::string_view name) {
  return validate_name(name, "app");
}

Expected<void> validate_pipeline_name(std::string_view name) {
  return validate_name(name, "pipeline");
}

} // namespace slipway
