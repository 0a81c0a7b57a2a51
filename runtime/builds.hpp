// Every build's full output, kept: apps/APP/builds/N.log as it streams, and N.toml (the
// record, written atomically when the build ends). A log without a record is a build that
// was interrupted.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "common/time.hpp"
#include "runtime/layout.hpp"

namespace slipway {

struct BuildRecord {
  int id = 0;
  std::string status; // "succeeded", "failed", "interrupted", "pending" (running now)
  std::string commit;
  std::string ref;
  TimePoint created_at;
  std::optional<int> release; // the release it made
  std::string reason;         // why it failed
  long peak_rss_kb = 0;       // the deploying process's own peak, buildpacks excluded
  long compile_ms = 0;        // time in the buildpacks' bin/compile
};

class BuildLog {
 public:
  // Allocates the next build id and opens its log.
  static Expected<BuildLog> start(const Layout& layout, const std::string& app, std::string commit,
                                  std::string ref);

  BuildLog(BuildLog&& other) noexcept;
  BuildLog& operator=(BuildLog&&) = delete;
  ~BuildLog();

  void line(std::string_view text);
  void set_compile_time(std::chrono::milliseconds time) { m_record.compile_ms = time.count(); }
  Expected<void> finish(std::optional<int> release, const std::string& reason);
  int id() const { return m_record.id; }

 private:
  BuildLog(std::filesystem::path record_file, int fd, BuildRecord record)
      : m_record_file(std::move(record_file)), m_fd(fd), m_record(std::move(record)) {}

  std::filesystem::path m_record_file;
  int m_fd = -1;
  BuildRecord m_record;
};

// Newest first.
std::vector<BuildRecord> list_builds(const Layout& layout, const std::string& app);

} // namespace slipway
