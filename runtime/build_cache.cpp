#include "runtime/build_cache.hpp"

#include <cerrno>
#include <cstdio>
#include <sys/stat.h>
#include <unistd.h>

#include "common/random.hpp"

namespace slipway {

namespace fs = std::filesystem;

namespace {

bool is_real_directory(const fs::path& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

} // namespace

Expected<BuildCache> BuildCache::take(const Layout& layout, const std::string& app,
                                      const fs::path& root) {
  fs::path home = layout.cache_dir(app);
  fs::path taken = root / "cache";
  // Deploys run one at a time: a cache in another deploy's scratch dir is a dead one's.
  recover_build_cache(layout, app);
  std::error_code ec;
  if (fs::symlink_status(home, ec).type() != fs::file_type::not_found) {
    // Not a directory of its own (an admin's link to another disk, a mount point) or on
    // another file system: the build uses it where it is, bound apart.
    if (is_real_directory(home) && ::rename(home.c_str(), taken.c_str()) == 0) {
      return BuildCache(layout, app, taken, true);
    }
    return BuildCache(layout, app, home, false);
  }
  fs::create_directory(taken, ec);
  if (ec) {
    return fail("cannot create '{}': {}", taken.string(), ec.message());
  }
  return BuildCache(layout, app, taken, true);
}

BuildCache::BuildCache(BuildCache&& other) noexcept
    : m_layout(other.m_layout), m_app(std::move(other.m_app)), m_dir(std::move(other.m_dir)),
      m_moved(other.m_moved) {
  other.m_moved = false;
}

BuildCache::~BuildCache() {
  [[maybe_unused]] auto back = put_back();
}

Expected<void> BuildCache::put_back() {
  if (!m_moved) {
    return {};
  }
  m_moved = false;
  fs::path home = m_layout->cache_dir(m_app);
  if (!is_real_directory(m_dir)) {
    return fail("the build cache at '{}' is no longer a directory: not kept", m_dir.string());
  }
  if (::rename(m_dir.c_str(), home.c_str()) == 0) {
    return {};
  }
  if (errno != ENOTEMPTY && errno != EEXIST && errno != ENOTDIR) {
    return fail("cannot move the build cache back to '{}': {}", home.string(), errno_text(errno));
  }
  // Someone made one meanwhile: it goes to the trash, which housekeeping empties.
  fs::path trash = m_layout->trash_dir(m_app);
  std::error_code ec;
  fs::create_directories(trash, ec);
  auto suffix = random_hex(8);
  fs::path aside = trash / ("cache-" + (suffix ? *suffix : std::to_string(::getpid())));
  if (::rename(home.c_str(), aside.c_str()) != 0 || ::rename(m_dir.c_str(), home.c_str()) != 0) {
    return fail("cannot move the build cache back to '{}': {}", home.string(), errno_text(errno));
  }
  return {};
}

bool recover_build_cache(const Layout& layout, const std::string& app) {
  fs::path home = layout.cache_dir(app);
  std::error_code ec;
  if (fs::symlink_status(home, ec).type() != fs::file_type::not_found) {
    return false;
  }
  for (const auto& entry : fs::directory_iterator(layout.tmp_dir(app), ec)) {
    fs::path left = entry.path() / "root" / "cache";
    // A deploy's scratch dir only: a release command's is the app's to write.
    if (!entry.path().filename().string().starts_with("deploy-")) {
      continue;
    }
    if (is_real_directory(entry.path()) && is_real_directory(entry.path() / "root") &&
        is_real_directory(left) && ::rename(left.c_str(), home.c_str()) == 0) {
      return true;
    }
  }
  return false;
}

} // namespace slipway
