// ROOT/slugs/: content-addressed slugs shared by every app. Releases only reference them;
// pruning removes what no retained release of any app references.
#pragma once

#include <filesystem>
#include <functional>
#include <set>
#include <string>

#include "common/error.hpp"
#include "common/file_lock.hpp"
#include "common/slug.hpp"
#include "runtime/layout.hpp"
#include "runtime/release.hpp"

namespace slipway {

class SlugStore {
 public:
  explicit SlugStore(const Layout& layout) : m_layout(layout) {}

  // Packs `app_dir` into the store, then runs `record` (which writes the release that
  // references the slug) before a prune can see the store: the store's lock is held shared
  // from the rename into the store until `record` returns.
  Expected<SlugInfo> add(const std::filesystem::path& app_dir, const PackOptions& options,
                         const std::function<Expected<void>(const SlugInfo&)>& record);

  std::filesystem::path path(const Release& release) const;
  // Extracts the release's slug into `dest`, checking it is the one the release recorded
  // (its SHA-256); on any failure `dest` is removed. Files that `reuse` (an earlier release's
  // unpacked tree) has byte for byte are hard links to it (unpack_slug).
  Expected<void> unpack(const Release& release, const std::filesystem::path& dest,
                        const std::filesystem::path& reuse = {}) const;
  // False for a release without a slug, or whose slug was pruned.
  bool has(const Release& release) const;

  // Under the store's exclusive lock, asks `referenced` for the slug file names still in
  // use, then removes every other slug (and stale temp file). Returns how many slugs went.
  Expected<std::size_t> prune(const std::function<Expected<std::set<std::string>>()>& referenced);

 private:
  std::filesystem::path lock_file() const { return m_layout.slugs_lock(); }
  const Layout& m_layout;
};

} // namespace slipway
