// The dashboard's files (dashboard/assets/), compiled into the binary by embed.cmake: the pages'
// HTML, one script, one style sheet and an icon. No CDN and no build step: what the browser
// gets is what is in that folder.
#pragma once

#include <string_view>
#include <vector>

namespace slipway::dashboard {

struct Asset {
  std::string_view name;         // "dashboard.js"
  std::string_view content_type; // "text/javascript; charset=utf-8"
  std::string_view etag;         // "\"<32 hex digits of its SHA-256>\""
  std::string_view body;
};

const std::vector<Asset>& assets();

// The asset called `name`, or nullptr.
const Asset* find_asset(std::string_view name);

} // namespace slipway::dashboard
