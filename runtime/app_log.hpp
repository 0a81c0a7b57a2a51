// An app's log: apps/APP/logs/current.log, one line per event, as Heroku's log stream shows
// it: "2026-11-26T07:00:00Z app[web.1]: listening on 23001". Sources are `app[TYPE.N]` for
// what a process prints, `slipway[TYPE.N]` for its state changes, `slipway[router]` and
// `slipway[api]` for releases and scaling. At `[runtime].log_size` the file is rotated to
// current.log.1 (one older file is kept), so a chatty app cannot fill the disk.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "common/time.hpp"

namespace slipway {

std::string format_log_line(TimePoint when, std::string_view source, std::string_view text);

class AppLog {
 public:
  AppLog(std::filesystem::path dir, std::uint64_t max_size);
  ~AppLog();
  AppLog(const AppLog&) = delete;
  AppLog& operator=(const AppLog&) = delete;

  // Appends one line (control characters in `text` are shown as '?'). Errors are not
  // reported: the log must never stop what it records.
  void append(std::string_view source, std::string_view text);

 private:
  void open_file();
  void rotate();

  std::filesystem::path m_dir;
  std::uint64_t m_max_size;
  int m_fd = -1;
  std::uint64_t m_size = 0;
};

// Which lines `logs` shows: by source (`app`: the app's own output, `slipway`: slipway's
// lines about it) and by process (`web`: every web process, `web.1`: that one, `router`).
struct LogFilter {
  std::string source;  // empty: every source
  std::string process; // empty: every process
  bool empty() const { return source.empty() && process.empty(); }
  bool matches(std::string_view line) const;
};

// The last `count` lines that `filter` lets through.
std::vector<std::string> read_log_tail(const std::filesystem::path& dir, std::size_t count,
                                       const LogFilter& filter = {});

// Calls `on_line` for every line appended from now on, across rotations, until `stop`
// is set. Polls every `interval`.
void follow_log(const std::filesystem::path& dir,
                const std::function<void(std::string_view)>& on_line, const std::atomic<bool>& stop,
                std::chrono::milliseconds interval = std::chrono::milliseconds(200));

} // namespace slipway
