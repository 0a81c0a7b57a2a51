// An app's releases on disk: apps/APP/releases/vN/release.toml and the `current` link.
// Callers hold the app's DeployLock for anything that writes.
#pragma once

#include <optional>
#include <string>
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

  // The version `current` points at, if any.
  std::optional<int> live_version() const;
  // The live release; nullopt when nothing has been released yet.
  Expected<std::optional<Release>> live() const;

  // Allocates the next version (never reused: the highest vN dir + 1) and writes it as
  // `pending`.
  Expected<Release> create(Release release);

  // Rewrites a release leaving `pending`.
  Expected<void> finish(const Release& release);

  // Points `current` at `version`: a new symlink beside it, rename(2), fsync of the dir.
  Expected<void> activate(int version);

  // Settles what a crash left behind: a `pending` release that is live went live, so it
  // succeeded; any other `pending` one, or a vN dir without a record, failed ("interrupted").
  // Returns the versions it settled.
  Expected<std::vector<int>> recover();

  std::filesystem::path dir(int version) const { return m_layout.release_dir(m_app, version); }
  std::filesystem::path output_log(int version) const { return dir(version) / "release.log"; }

 private:
  std::vector<int> versions() const;
  Expected<void> write(const Release& release);

  const Layout& m_layout;
  std::string m_app;
};

} // namespace slipway
