#include "runtime/app_log.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "common/file_lock.hpp"
#include "common/files.hpp"
#include "common/line_file.hpp"

namespace slipway {

namespace fs = std::filesystem;

namespace {

fs::path current_file(const fs::path& dir) {
  return dir / "current.log";
}
fs::path rotated_file(const fs::path& dir) {
  return dir / "current.log.1";
}

} // namespace

std::string format_log_line(TimePoint when, std::string_view source, std::string_view text) {
  std::string line = fmt::format("{} {}: ", format_time(when), source);
  line.reserve(line.size() + text.size() + 1);
  for (char c : text) {
    bool control = (static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f;
    line.push_back(control ? '?' : c);
  }
  line.push_back('\n');
  return line;
}

AppLog::AppLog(fs::path dir, std::uint64_t max_size)
    : m_dir(std::move(dir)), m_max_size(max_size) {}

AppLog::~AppLog() {
  if (m_fd >= 0) {
    close(m_fd);
  }
}

void AppLog::open_file() {
  // The logs dir only, never the app's own: a line about an app that is gone (destroyed,
  // renamed) must not bring its directory back.
  std::error_code ec;
  fs::create_directory(m_dir, ec);
  m_fd = open(current_file(m_dir).c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  struct stat info {};
  m_size = m_fd >= 0 && fstat(m_fd, &info) == 0 ? static_cast<std::uint64_t>(info.st_size) : 0;
}

void AppLog::rotate() {
  // Several processes append (the daemon, a deploy's events): the one that rotates holds
  // the lock and checks the size again, so a file is never rotated twice.
  auto lock = FileLock::acquire(m_dir / ".lock", FileLock::Mode::exclusive);
  struct stat info {};
  if (stat(current_file(m_dir).c_str(), &info) == 0 &&
      static_cast<std::uint64_t>(info.st_size) >= m_max_size) {
    std::error_code ec;
    fs::rename(current_file(m_dir), rotated_file(m_dir), ec);
  }
  close(m_fd);
  open_file();
}

void AppLog::append(std::string_view source, std::string_view text) {
  if (m_fd < 0) {
    open_file();
  }
  if (m_fd >= 0 && m_size >= m_max_size) {
    // Another writer may have rotated already: follow the path before deciding.
    struct stat by_path {};
    struct stat by_fd {};
    if (stat(current_file(m_dir).c_str(), &by_path) != 0 || fstat(m_fd, &by_fd) != 0 ||
        by_path.st_ino != by_fd.st_ino) {
      close(m_fd);
      open_file();
    }
    if (m_size >= m_max_size) {
      rotate();
    }
  }
  if (m_fd < 0) {
    return;
  }
  std::string line = format_log_line(std::chrono::system_clock::now(), source, text);
  // O_APPEND: one write() per line, so lines from several writers never interleave.
  if (write(m_fd, line.data(), line.size()) > 0) {
    m_size += line.size();
  }
}

bool LogFilter::matches(std::string_view line) const {
  // "2026-12-02T16:00:00Z app[web.1]: text"
  auto space = line.find(' ');
  auto open = line.find('[', space);
  auto close = line.find("]: ", open);
  if (space == std::string_view::npos || open == std::string_view::npos ||
      close == std::string_view::npos) {
    return empty();
  }
  std::string_view from = line.substr(space + 1, open - space - 1);
  std::string_view dyno = line.substr(open + 1, close - open - 1);
  bool process_matches = process.empty() || dyno == process ||
                         (dyno.starts_with(process) && dyno.size() > process.size() &&
                          dyno[process.size()] == '.' && process.find('.') == std::string::npos);
  return (source.empty() || from == source) && process_matches;
}

std::vector<std::string> read_log_tail(const fs::path& dir, std::size_t count,
                                       const LogFilter& filter) {
  if (filter.empty()) {
    return read_last_lines(current_file(dir), count);
  }
  // Read further back until enough lines match or the file has no more.
  for (std::size_t window = std::max<std::size_t>(count * 8, 1024);; window *= 4) {
    auto lines = read_last_lines(current_file(dir), window);
    std::vector<std::string> kept;
    for (auto& line : lines) {
      if (filter.matches(line)) {
        kept.push_back(std::move(line));
      }
    }
    if (kept.size() >= count || lines.size() < window) {
      if (kept.size() > count) {
        kept.erase(kept.begin(), kept.end() - static_cast<std::ptrdiff_t>(count));
      }
      return kept;
    }
  }
}

void follow_log(const fs::path& dir, const std::function<void(std::string_view)>& on_line,
                const std::atomic<bool>& stop, std::chrono::milliseconds interval) {
  follow_lines(current_file(dir), on_line, stop, false, interval);
}

} // namespace slipway
