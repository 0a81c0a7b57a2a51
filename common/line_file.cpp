#include "common/line_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#include "common/files.hpp"
#include "common/lines.hpp"

namespace slipway {

namespace fs = std::filesystem;

std::vector<std::string> read_last_lines(const fs::path& file, std::size_t count) {
  std::vector<std::string> lines;
  fs::path rotated = file;
  rotated += ".1";
  for (const auto& path : {file, rotated}) {
    if (lines.size() >= count) {
      break;
    }
    auto text = read_file(path);
    if (!text) {
      continue;
    }
    std::vector<std::string> these;
    for (auto [line, number] : split_lines(*text)) {
      these.emplace_back(line);
    }
    std::size_t take = std::min(count - lines.size(), these.size());
    lines.insert(lines.begin(), these.end() - static_cast<std::ptrdiff_t>(take), these.end());
  }
  return lines;
}

LineFollower::LineFollower(fs::path file, bool from_start) : m_file(std::move(file)) {
  open_current(!from_start);
}

LineFollower::~LineFollower() {
  if (m_fd >= 0) {
    close(m_fd);
  }
}

void LineFollower::open_current(bool at_end) {
  if (m_fd >= 0) {
    close(m_fd);
  }
  m_pending.clear();
  m_fd = open(m_file.c_str(), O_RDONLY | O_CLOEXEC);
  struct stat info {};
  m_inode = m_fd >= 0 && fstat(m_fd, &info) == 0 ? info.st_ino : 0;
  if (m_fd >= 0 && at_end) {
    lseek(m_fd, 0, SEEK_END);
  }
}

void LineFollower::drain(const std::function<void(std::string_view)>& on_line) {
  char buffer[65536];
  ssize_t n = 0;
  while (m_fd >= 0 && (n = read(m_fd, buffer, sizeof buffer)) > 0) {
    m_pending.append(buffer, static_cast<std::size_t>(n));
    std::size_t start = 0;
    for (auto newline = m_pending.find('\n'); newline != std::string::npos;
         newline = m_pending.find('\n', start)) {
      on_line(std::string_view(m_pending).substr(start, newline - start));
      start = newline + 1;
    }
    m_pending.erase(0, start);
  }
}

void LineFollower::poll(const std::function<void(std::string_view)>& on_line) {
  drain(on_line);
  struct stat info {};
  while (stat(m_file.c_str(), &info) == 0 && (m_fd < 0 || info.st_ino != m_inode)) {
    drain(on_line); // the rest of the rotated file, then the new one from its start
    open_current(false);
    drain(on_line);
  }
}

void follow_lines(const fs::path& file, const std::function<void(std::string_view)>& on_line,
                  const std::atomic<bool>& stop, bool from_start,
                  std::chrono::milliseconds interval) {
  LineFollower follower(file, from_start);
  while (!stop) {
    follower.poll(on_line);
    std::this_thread::sleep_for(interval);
  }
}

} // namespace slipway
