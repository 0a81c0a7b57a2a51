// Releases: list and show them, read a release command's output, roll back, and deploy a
// directory of the server (the code path a push takes with a commit).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "ops/context.hpp"
#include "runtime/release.hpp"

namespace slipway::ops {

struct ListReleases {
  std::string app;
  std::size_t count = 20; // the newest `count` (0: all)
};
struct ReleaseDetails {
  Release release;
  bool live = false;
  std::string status; // "succeeded", "failed", "pending", "expired" (its slug was pruned)
};
struct ReleaseList {
  std::vector<ReleaseDetails> releases; // newest first
  std::optional<int> live;
  std::vector<std::string> warnings; // records that could not be read, and why
};
Expected<ReleaseList> list_releases(const Context& context, const ListReleases& request);

struct ShowRelease {
  std::string app;
  std::optional<int> version; // default: the live release
};
Expected<ReleaseDetails> release_details(const Context& context, const ShowRelease& request);

// The release command's output of `version`, or of the newest release that ran one.
Expected<std::string> release_output(const Context& context, const ShowRelease& request);

struct Rollback {
  std::string app;
  std::optional<int> version; // default: the newest succeeded release before the live one
};
Expected<Release> rollback(const Context& context, const Rollback& request);

struct DeployDirectory {
  std::string app;
  std::filesystem::path source; // absolute
  std::string commit;
  std::string description;
  std::vector<std::string> buildpacks;
};
Expected<Release> deploy_directory(const Context& context, const DeployDirectory& request);

} // namespace slipway::ops
