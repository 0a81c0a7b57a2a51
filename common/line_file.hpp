// Files of lines that several processes append to and others read or follow: an app's log,
// the event stream. FILE is rotated to FILE.1 at a size (one older file is kept), so what
// is read spans both.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace slipway {

// The last `count` complete lines of FILE.1 then FILE, oldest first (a final line without
// '\n' counts).
std::vector<std::string> read_last_lines(const std::filesystem::path& file, std::size_t count);

// Reads what is appended to FILE, across rotations, without waiting: each poll() passes on
// the complete lines written since the last one (a line is passed once its '\n' is
// written). After a rotation it reads the rest of the renamed file, then the new one from
// its start.
class LineFollower {
 public:
  // From FILE's start, or (`from_start` false) from its end as it is now.
  LineFollower(std::filesystem::path file, bool from_start);
  ~LineFollower();
  LineFollower(const LineFollower&) = delete;
  LineFollower& operator=(const LineFollower&) = delete;

  void poll(const std::function<void(std::string_view)>& on_line);

 private:
  void open_current(bool at_end);
  void drain(const std::function<void(std::string_view)>& on_line);

  std::filesystem::path m_file;
  int m_fd = -1;
  ino_t m_inode = 0;
  std::string m_pending;
};

// Calls `on_line` for every line appended to FILE from now on (from its start when
// `from_start`), across rotations, until `stop` is set. Only complete lines: a line is
// passed once its '\n' is written. Polls every `interval`.
void follow_lines(const std::filesystem::path& file,
                  const std::function<void(std::string_view)>& on_line,
                  const std::atomic<bool>& stop, bool from_start = false,
                  std::chrono::milliseconds interval = std::chrono::milliseconds(200));

} // namespace slipway
