#include "runtime/release_store.hpp"

#include <algorithm>
#include <charconv>
#include <mutex>
#include <sys/stat.h>
#include <tuple>
#include <unistd.h>
#include <unordered_map>

#include "common/files.hpp"
#include "common/stamped_cache.hpp"

namespace slipway {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view k_record = "release.toml";

std::optional<int> parse_version_dir(std::string_view name) {
  // "v" then digits without a leading zero: from_chars alone would also take "v-1".
  if (name.size() < 2 || name[0] != 'v' || name[1] < '1' || name[1] > '9') {
    return std::nullopt;
  }
  int version = 0;
  auto [end, ec] = std::from_chars(name.data() + 1, name.data() + name.size(), version);
  if (ec != std::errc() || end != name.data() + name.size()) {
    return std::nullopt;
  }
  return version;
}

// Parsed records, by path, while the file is the same one: a record is written once as
// pending and replaced once (a new inode) when it leaves pending, so the daemon's Platform
// API, which lists an app's releases on every request, parses each only once.
StampedCache<Release>& record_cache() {
  static StampedCache<Release> cache(2048);
  return cache;
}

} // namespace

ReleaseStore::ReleaseStore(const Layout& layout, std::string app)
    : m_layout(layout), m_app(std::move(app)) {}

std::vector<int> ReleaseStore::versions() const {
  std::vector<int> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(m_layout.releases_dir(m_app), ec)) {
    if (auto version = parse_version_dir(entry.path().filename().string())) {
      out.push_back(*version);
    }
  }
  std::ranges::sort(out);
  return out;
}

Expected<Release> ReleaseStore::get(int version) const {
  fs::path file = dir(version) / k_record;
  auto stamp = file_stamp(file);
  if (!stamp) {
    return fail_as(ErrorKind::not_found, "release v{} does not exist", version);
  }
  if (auto cached = record_cache().find(file.string(), *stamp)) {
    return std::move(*cached);
  }
  auto text = TRY(read_file(file));
  auto release = release_from_toml(text, file.string());
  if (release && release->version != version) {
    return fail("{} is corrupt: it says it is v{}", file.string(), release->version);
  }
  if (release) {
    record_cache().keep(file.string(), *stamp, *release);
  }
  return release;
}

std::optional<int> ReleaseStore::newest_version() const {
  auto all = versions();
  return all.empty() ? std::nullopt : std::optional<int>(all.back());
}

std::vector<Release> ReleaseStore::list(std::vector<std::string>* problems) const {
  std::vector<Release> out;
  for (int version : versions()) {
    auto release = get(version);
    if (release) {
      out.push_back(std::move(*release));
    } else if (problems) {
      problems->push_back(release.error().message);
    }
  }
  return out;
}

std::optional<int> ReleaseStore::linked_version() const {
  std::error_code ec;
  auto target = fs::read_symlink(m_layout.current_link(m_app), ec);
  if (ec || target.parent_path() != "releases") {
    return std::nullopt;
  }
  auto version = parse_version_dir(target.filename().string());
  if (!version || !fs::exists(dir(*version) / k_record, ec)) {
    return std::nullopt;
  }
  return version;
}

std::optional<int> ReleaseStore::live_version() const {
  // A record that cannot be read is returned as it is, for live() to report: guessing past
  // it could hand an operation an older release's config.
  if (auto linked = linked_version()) {
    auto release = get(*linked);
    if (!release || release->status != ReleaseStatus::failed) {
      return linked;
    }
  }
  auto all = versions();
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    auto release = get(*it);
    if (!release || release->status == ReleaseStatus::succeeded) {
      return *it;
    }
  }
  return std::nullopt;
}

bool ReleaseStore::link_is_sound() const {
  auto live = live_version();
  if (live) {
    return linked_version() == live;
  }
  std::error_code ec;
  return !fs::exists(fs::symlink_status(m_layout.current_link(m_app), ec));
}

Expected<std::optional<Release>> ReleaseStore::live() const {
  auto version = live_version();
  if (!version) {
    return std::optional<Release>();
  }
  auto release = TRY(get(*version));
  return std::optional<Release>(std::move(release));
}

Expected<void> ReleaseStore::write(const Release& release) {
  return write_file_atomic(dir(release.version) / k_record, release_to_toml(release), 0600);
}

Expected<Release> ReleaseStore::create(Release release) {
  std::error_code ec;
  fs::create_directories(m_layout.releases_dir(m_app), ec);
  auto existing = versions();
  release.version = existing.empty() ? 1 : existing.back() + 1;
  release.status = ReleaseStatus::pending;
  if (::mkdir(dir(release.version).c_str(), 0700) != 0) {
    return fail("cannot create '{}': {}", dir(release.version).string(), errno_text(errno));
  }
  TRY(fsync_directory(m_layout.releases_dir(m_app)));
  TRY(write(release));
  return release;
}

Expected<void> ReleaseStore::finish(const Release& release) {
  return write(release);
}

Expected<void> ReleaseStore::activate(int version) {
  fs::path link = m_layout.current_link(m_app);
  fs::path temp = link;
  temp += fmt::format(".new-{}", getpid());
  std::error_code ec;
  fs::remove(temp, ec);
  fs::create_symlink(fs::path("releases") / fmt::format("v{}", version), temp, ec);
  if (ec) {
    return fail("cannot create '{}': {}", temp.string(), ec.message());
  }
  return rename_durable(temp, link);
}

Expected<void> ReleaseStore::deactivate() {
  fs::path link = m_layout.current_link(m_app);
  if (::unlink(link.c_str()) != 0 && errno != ENOENT) {
    return fail("cannot remove '{}': {}", link.string(), errno_text(errno));
  }
  return fsync_directory(m_layout.app_dir(m_app));
}

Expected<std::vector<int>> ReleaseStore::recover() {
  std::vector<int> settled;
  auto live = live_version();
  // Every operation settles the releases below the one it creates (here, first), so only
  // the newest ones can be unsettled: the walk down stops at the first settled record,
  // which keeps an operation's cost independent of how many releases an app has.
  auto all = versions();
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    int version = *it;
    fs::path file = dir(version) / k_record;
    std::error_code ec;
    if (!fs::exists(file, ec)) {
      // The crash came between mkdir and the first write of the record.
      Release release{.version = version,
                      .status = ReleaseStatus::failed,
                      .description = "Interrupted release",
                      .created_at = std::chrono::system_clock::now(),
                      .reason = "interrupted"};
      TRY(write(release));
      settled.push_back(version);
      continue;
    }
    auto release = get(version);
    if (!release) {
      continue; // reported by whoever reads it; it says nothing about the ones below
    }
    if (release->status != ReleaseStatus::pending) {
      break;
    }
    if (live == version) {
      release->status = ReleaseStatus::succeeded;
    } else {
      release->status = ReleaseStatus::failed;
      release->reason = "interrupted";
    }
    TRY(write(*release));
    settled.push_back(version);
  }
  std::ranges::reverse(settled);
  // A temp link left by a crash in activate().
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(m_layout.app_dir(m_app), ec)) {
    if (entry.path().filename().string().starts_with("current.new-")) {
      fs::remove(entry.path(), ec);
    }
  }
  return settled;
}

} // namespace slipway
