#include "runtime/app_name.hpp"

#include <algorithm>

namespace slipway {

namespace {

Expected<void> validate_name(std::string_view name, std::string_view what, std::size_t longest) {
  auto printable = [&] {
    std::string shown;
    for (char c : name.substr(0, 70)) {
      shown += (c >= 0x20 && c < 0x7f) ? std::string(1, c)
                                       : fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
    }
    return name.size() > 70 ? shown + "..." : shown;
  };
  bool valid = name.size() >= 2 && name.size() <= longest && name[0] >= 'a' && name[0] <= 'z' &&
               std::ranges::all_of(name, [](char c) {
                 return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
               });
  if (!valid) {
    return usage_error("invalid {} name '{}' (use 2-{} lowercase letters, digits and dashes, "
                       "starting with a letter)",
                       what, printable(), longest);
  }
  return {};
}

} // namespace

Expected<void> validate_app_name(std::string_view name) {
  return validate_name(name, "app", k_max_app_name);
}

Expected<void> validate_new_app_name(std::string_view name) {
  TRY(validate_app_name(name));
  if (name == "dashboard") {
    return usage_error("the app name '{}' is the server's own (its host is the dashboard's); "
                       "choose another",
                       name);
  }
  return {};
}

Expected<void> validate_pipeline_name(std::string_view name) {
  return validate_name(name, "pipeline", k_max_pipeline_name);
}

} // namespace slipway
