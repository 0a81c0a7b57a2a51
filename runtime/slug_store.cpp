#include "runtime/slug_store.hpp"

#include <chrono>
#include <unistd.h>

#include "common/files.hpp"
#include "common/tree.hpp"

namespace slipway {

namespace fs = std::filesystem;

namespace {

// A temp file this old belongs to no running pack: builds are limited to hours.
constexpr auto k_stale_temp = std::chrono::hours(24);

} // namespace

Expected<SlugInfo> SlugStore::add(const fs::path& app_dir, const PackOptions& options,
                                  const std::function<Expected<void>(const SlugInfo&)>& record) {
  std::error_code ec;
  fs::create_directories(m_layout.slugs_dir(), ec);
  fs::path pending = m_layout.slugs_dir() / fmt::format(".pending-{}.slug", getpid());
  auto slug = TRY(pack_slug(app_dir, pending, options));
  auto lock = FileLock::acquire(lock_file(), FileLock::Mode::shared);
  if (!lock) {
    fs::remove(pending, ec);
    return std::unexpected(lock.error());
  }
  slug.path = m_layout.slugs_dir() / slug_file_name(slug.sha256, options.compression);
  if (auto renamed = rename_durable(pending, slug.path); !renamed) {
    fs::remove(pending, ec);
    return std::unexpected(renamed.error());
  }
  TRY(record(slug));
  return slug;
}

fs::path SlugStore::path(const Release& release) const {
  return m_layout.slugs_dir() / release.slug_file;
}

Expected<void> SlugStore::unpack(const Release& release, const fs::path& dest,
                                 const fs::path& reuse) const {
  if (!release.has_slug()) {
    return fail("v{} has no slug: nothing was built yet", release.version);
  }
  if (!has(release)) {
    return fail("v{} has expired: its slug was pruned", release.version);
  }
  std::string_view sha256 = release.slug;
  if (sha256.starts_with("sha256:")) {
    sha256.remove_prefix(7);
  }
  auto unpacked = unpack_slug(path(release), dest, sha256, reuse);
  if (!unpacked) {
    [[maybe_unused]] auto removed = remove_tree(dest);
    return prefixed(unpacked.error(), fmt::format("cannot unpack v{}", release.version));
  }
  return {};
}

bool SlugStore::has(const Release& release) const {
  std::error_code ec;
  return release.has_slug() && fs::exists(path(release), ec);
}

Expected<std::size_t>
SlugStore::prune(const std::function<Expected<std::set<std::string>>()>& in_use) {
  auto lock = TRY(FileLock::acquire(lock_file(), FileLock::Mode::exclusive));
  auto referenced = TRY(in_use());
  std::size_t removed = 0;
  std::error_code scan_error;
  auto now = fs::file_time_type::clock::now();
  for (const auto& entry : fs::directory_iterator(m_layout.slugs_dir(), scan_error)) {
    std::string name = entry.path().filename().string();
    if (name == ".lock" || referenced.contains(name)) {
      continue;
    }
    bool temp = name.starts_with(".pending-") || name.find(".tmp.") != std::string::npos;
    if (temp) {
      std::error_code ec;
      auto modified = entry.last_write_time(ec);
      if (ec || now - modified < k_stale_temp) {
        continue; // gone meanwhile, or a pack still in progress
      }
    }
    std::error_code ec;
    if (fs::remove(entry.path(), ec) && !temp) {
      ++removed;
    } else if (ec && ec != std::errc::no_such_file_or_directory) {
      return fail("cannot remove '{}': {}", entry.path().string(), ec.message());
    }
  }
  if (scan_error) {
    return fail("cannot read '{}': {}", m_layout.slugs_dir().string(), scan_error.message());
  }
  return removed;
}

} // namespace slipway
