#include <algorithm>

#include "dashboard/assets.hpp"

namespace slipway::dashboard {

const Asset* find_asset(std::string_view name) {
  const auto& all = assets();
  auto found = std::ranges::find(all, name, &Asset::name);
  return found == all.end() ? nullptr : &*found;
}

} // namespace slipway::dashboard
