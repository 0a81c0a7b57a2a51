// A release: what runs for an app at version N (docs/CONTRACTS.md "release.toml"). Written
// once as `pending`, then once more when it leaves `pending`; never changed after that.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "common/time.hpp"
#include "compiler/procfile.hpp"

namespace slipway {

enum class ReleaseStatus { pending, succeeded, failed };

std::string_view to_string(ReleaseStatus status);

using ConfigVars = std::map<std::string, std::string>;

// The most an app's config vars may take, names and values together: Heroku's limit, and
// well inside what starting a process can carry (sandbox.hpp).
inline constexpr std::size_t k_max_config_size = 32 * 1024;

inline std::size_t config_size(const ConfigVars& config) {
  std::size_t size = 0;
  for (const auto& [name, value] : config) {
    size += name.size() + value.size();
  }
  return size;
}

// The release a promotion copied (its slug is this release's slug).
struct PromotedFrom {
  std::string app;
  int version = 0;
};

struct Release {
  int version = 0;
  ReleaseStatus status = ReleaseStatus::pending;
  std::string description;
  std::chrono::system_clock::time_point created_at;
  std::string commit;    // empty: a config-only release before the first build
  std::string slug;      // "sha256:<hex>"; empty before the first build
  std::string slug_file; // its file name in slugs/ ("<hex>.tar.zst")
  std::vector<std::string> buildpacks;
  std::string stack;
  std::string release_command; // the Procfile's `release:` entry
  ProcessTypes process_types;  // without `release`
  ConfigVars config;
  std::string reason; // why it failed
  std::string user;   // who made it, when known
  std::optional<PromotedFrom> promoted_from;

  bool has_slug() const { return !slug.empty(); }
};

std::string release_to_toml(const Release& release);

// `origin` names the file in messages. Anything missing, mistyped or unknown is an error.
Expected<Release> release_from_toml(std::string_view text, std::string_view origin);

} // namespace slipway
