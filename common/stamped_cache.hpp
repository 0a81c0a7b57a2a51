// What a long-lived process (the daemon's Platform API) read from a file, kept while the file
// is the same one: its device, inode, size and modification time. For files slipway replaces
// whole (a new file renamed over the old: a new inode) and reads on every request: app.toml,
// release records. A file changed in the last second is never taken from the cache nor kept:
// two writes that close together could leave a file with the same stamp (a freed inode used
// again, the same size, a time within the clock's granularity). Thread-safe; bounded
// (emptied when full).
#pragma once

#include <cstddef>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <sys/stat.h>
#include <time.h>
#include <tuple>
#include <unordered_map>
#include <utility>

namespace slipway {

using FileStamp = std::tuple<dev_t, ino_t, off_t, long, long>;

// The file's stamp, or nullopt when it cannot be stat'ed (it does not exist).
inline std::optional<FileStamp> file_stamp(const std::filesystem::path& file) {
  struct stat info {};
  if (::stat(file.c_str(), &info) != 0) {
    return std::nullopt;
  }
  return FileStamp{info.st_dev, info.st_ino, info.st_size, info.st_mtim.tv_sec,
                   info.st_mtim.tv_nsec};
}

template <class T>
class StampedCache {
 public:
  explicit StampedCache(std::size_t capacity) : m_capacity(capacity) {}

  std::optional<T> find(const std::string& path, const FileStamp& stamp) {
    if (!settled(stamp)) {
      return std::nullopt;
    }
    std::lock_guard lock(m_mutex);
    auto found = m_entries.find(path);
    if (found == m_entries.end() || found->second.first != stamp) {
      return std::nullopt;
    }
    return found->second.second;
  }

  void keep(const std::string& path, const FileStamp& stamp, const T& value) {
    if (!settled(stamp)) {
      return;
    }
    std::lock_guard lock(m_mutex);
    if (m_entries.size() >= m_capacity) {
      m_entries.clear();
    }
    m_entries.insert_or_assign(path, std::pair(stamp, value));
  }

 private:
  static bool settled(const FileStamp& stamp) {
    timespec now{};
    ::clock_gettime(CLOCK_REALTIME, &now);
    return now.tv_sec - std::get<3>(stamp) >= 2; // a whole second at least
  }

  std::size_t m_capacity;
  std::mutex m_mutex;
  std::unordered_map<std::string, std::pair<FileStamp, T>> m_entries;
};

} // namespace slipway
