// An app's releases on disk: apps/APP/releases/vN/release.toml and the `current` link.
// Callers hold the app's DeployLock for anything that writes.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "runtime/layout.hpp"
#include "runtime/release.hpp"

namespace slipway {

class ReleaseStore {
 public:
  ReleaseStore(const Layout& layout, std::string app);

  // Every readable release, oldest first. A record that cannot be read is reported in
  // `problems` (one message each) and left out.
  std::vector<Release> list(std::vector<std::string>* problems = nullptr) const;

  Expected<Release> get(int version) const;
  // The versions that have a vN dir, oldest first; no record is read.
  std::vector<int> versions() const;
  // The highest version, whether or not its record can be read.
  std::optional<int> newest_version() const;

  // The version `current` names, if it is a link to a release dir that exists.
  std::optional<int> linked_version() const;
  // The live release's version: what `current` names unless that is missing, damaged or a
  // failed release, then the newest succeeded release (which every operation leaves live),
  // so a lost link never reads as "no release". nullopt: nothing was ever released.
  std::optional<int> live_version() const;
  // The live release; nullopt when nothing has been released yet.
  Expected<std::optional<Release>> live() const;
  // Whether `current` names the live release as the records have it (false for a missing or
  // damaged link, or one to a failed release); repair_link() fixes that.
  bool link_is_sound() const;

  // Allocates the next version (never reused: the highest vN dir + 1) and writes it as
  // `pending`.
  Expected<Release> create(Release release);

  // Rewrites a release leaving `pending`.
  Expected<void> finish(const Release& release);

  // Points `current` at `version`: a new symlink beside it, rename(2), fsync of the dir.
  Expected<void> activate(int version);
  // Removes `current`: nothing is live (a first deploy that never completed).
  Expected<void> deactivate();

  // Settles what a crash left behind: a `pending` release that is live went live, so it
  // succeeded; any other `pending` one, or a vN dir without a record, failed ("interrupted").
  // Returns the versions it settled.
  Expected<std::vector<int>> recover();

  std::filesystem::path dir(int version) const { return m_layout.release_dir(m_app, version); }
  std::filesystem::path output_log(int version) const { return dir(version) / "release.log"; }
  // The output of app.json's script `name` ("postdeploy", "dokku-postdeploy"; slipway's own
  // names), when it ran after this release went live.
  std::filesystem::path script_log(int version, std::string_view name) const {
    return dir(version) / (std::string(name) + ".log");
  }

 private:
  Expected<void> write(const Release& release);

  const Layout& m_layout;
  std::string m_app;
};

} // namespace slipway
