#include "common/line_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#include "common/atomic_file.hpp"
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

void follow_lines(const fs::path& file, const std::function<void(std::string_view)>& on_line,
                  const std::atomic<bool>& stop, bool from_start,
                  std::chrono::milliseconds interval) {
  int fd = -1;
  ino_t inode = 0;
  std::string pending;
  auto open_current = [&](bool at_end) {
    if (fd >= 0) {
      close(fd);
    }
    pending.clear();
    fd = open(file.c_str(), O_RDONLY | O_CLOEXEC);
    struct stat info {};
    inode = fd >= 0 && fstat(fd, &info) == 0 ? info.st_ino : 0;
    if (fd >= 0 && at_end) {
      lseek(fd, 0, SEEK_END);
    }
  };
  auto drain = [&] {
    char buffer[65536];
    ssize_t n = 0;
    while (fd >= 0 && (n = read(fd, buffer, sizeof buffer)) > 0) {
      pending.append(buffer, static_cast<std::size_t>(n));
      std::size_t start = 0;
      for (auto newline = pending.find('\n'); newline != std::string::npos;
           newline = pending.find('\n', start)) {
        on_line(std::string_view(pending).substr(start, newline - start));
        start = newline + 1;
      }
      pending.erase(0, start);
    }
  };
  open_current(!from_start);
  while (!stop) {
    drain();
    struct stat info {};
    if (stat(file.c_str(), &info) == 0 && (fd < 0 || info.st_ino != inode)) {
      drain(); // the rest of the rotated file, then the new one from its start
      open_current(false);
      continue;
    }
    std::this_thread::sleep_for(interval);
  }
  if (fd >= 0) {
    close(fd);
  }
}

} // namespace slipway
