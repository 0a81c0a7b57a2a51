#include "runtime/builds.hpp"

#include <algorithm>
#include <charconv>
#include <fcntl.h>
#include <sstream>
#include <sys/resource.h>
#include <unistd.h>
#include <utility>

#include <toml++/toml.h>

#include "common/file_lock.hpp"
#include "common/files.hpp"

namespace slipway {

namespace fs = std::filesystem;

namespace {

// The ids of N.log files.
std::vector<int> build_ids(const fs::path& dir) {
  std::vector<int> ids;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename().string();
    if (!name.ends_with(".log")) {
      continue;
    }
    int id = 0;
    auto [end, err] = std::from_chars(name.data(), name.data() + name.size() - 4, id);
    if (err == std::errc() && end == name.data() + name.size() - 4 && id > 0) {
      ids.push_back(id);
    }
  }
  std::ranges::sort(ids);
  return ids;
}

} // namespace

Expected<BuildLog> BuildLog::start(const Layout& layout, const std::string& app, std::string commit,
                                   std::string ref) {
  fs::path dir = layout.builds_dir(app);
  std::error_code ec;
  fs::create_directories(dir, ec);
  // O_EXCL makes the id ours even when two pushes start at once.
  for (int attempt = 0; attempt < 100; ++attempt) {
    auto ids = build_ids(dir);
    int id = ids.empty() ? 1 : ids.back() + 1;
    int fd = open(layout.build_log(app, id).c_str(),
                  O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
    if (fd >= 0) {
      return BuildLog(layout.build_record(app, id), fd,
                      BuildRecord{.id = id,
                                  .status = "interrupted",
                                  .commit = std::move(commit),
                                  .ref = std::move(ref),
                                  .created_at = std::chrono::system_clock::now()});
    }
    if (errno != EEXIST) {
      return fail("cannot create a build log in '{}': {}", dir.string(), errno_text(errno));
    }
  }
  return fail("cannot allocate a build id in '{}'", dir.string());
}

BuildLog::BuildLog(BuildLog&& other) noexcept
    : m_record_file(std::move(other.m_record_file)), m_fd(std::exchange(other.m_fd, -1)),
      m_record(std::move(other.m_record)) {}

BuildLog::~BuildLog() {
  if (m_fd >= 0) {
    close(m_fd);
  }
}

void BuildLog::line(std::string_view text) {
  std::string data = std::string(text) + "\n";
  // A log that cannot be written must not fail the build it records.
  [[maybe_unused]] auto written = ::write(m_fd, data.data(), data.size());
}

Expected<void> BuildLog::finish(std::optional<int> release, const std::string& reason) {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  m_record.peak_rss_kb = usage.ru_maxrss;
  m_record.release = release;
  m_record.reason = reason;
  m_record.status = reason.empty() ? "succeeded" : "failed";
  toml::table table{{"id", m_record.id},
                    {"status", m_record.status},
                    {"commit", m_record.commit},
                    {"ref", m_record.ref},
                    {"created_at", to_toml_time(m_record.created_at)},
                    {"reason", m_record.reason},
                    {"peak_rss_kb", m_record.peak_rss_kb},
                    {"compile_ms", m_record.compile_ms}};
  if (release) {
    table.insert("release", *release);
  }
  std::ostringstream out;
  out << table << '\n';
  fsync(m_fd);
  return write_file_atomic(m_record_file, out.str(), 0600);
}

std::vector<BuildRecord> list_builds(const Layout& layout, const std::string& app) {
  fs::path dir = layout.builds_dir(app);
  std::vector<BuildRecord> builds;
  for (int id : build_ids(dir)) {
    BuildRecord record{.id = id, .status = "interrupted"};
    std::error_code ec;
    fs::path file = layout.build_record(app, id);
    if (fs::exists(file, ec)) {
      try {
        auto table = toml::parse_file(file.string());
        record.status = table["status"].value_or(std::string("unknown"));
        record.commit = table["commit"].value_or(std::string());
        record.ref = table["ref"].value_or(std::string());
        if (auto created = table["created_at"].value<toml::date_time>()) {
          record.created_at = from_toml_time(*created);
        }
        if (auto release = table["release"].value<int>()) {
          record.release = *release;
        }
        record.reason = table["reason"].value_or(std::string());
        record.peak_rss_kb = table["peak_rss_kb"].value_or(0L);
        record.compile_ms = table["compile_ms"].value_or(0L);
      } catch (const toml::parse_error&) {
        record.status = "unreadable";
      }
    } else {
      // The log's own time: file_clock and system_clock differ by a fixed offset.
      auto written = fs::last_write_time(layout.build_log(app, id), ec);
      record.created_at = std::chrono::system_clock::now() +
                          std::chrono::duration_cast<std::chrono::system_clock::duration>(
                              written - fs::file_time_type::clock::now());
    }
    builds.push_back(std::move(record));
  }
  std::ranges::reverse(builds);
  // The newest build without a record is still running while an operation holds the app's
  // lock (a shared try, released at once, so that it never holds anyone up).
  if (!builds.empty() && builds.front().status == "interrupted") {
    auto free = FileLock::try_acquire(layout.lock_file(app), FileLock::Mode::shared);
    if (free && !*free) {
      builds.front().status = "pending";
    }
  }
  return builds;
}

} // namespace slipway
