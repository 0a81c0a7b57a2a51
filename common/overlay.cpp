#include "common/overlay.hpp"

#include <fcntl.h>
#include <mutex>
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/tree.hpp"

namespace slipway {

namespace fs = std::filesystem;

namespace {

Expected<std::shared_ptr<UniqueFd>> open_directory(const fs::path& path) {
  int fd = ::open(path.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    return fail("cannot open '{}': {}", path.string(), errno_text(errno));
  }
  return std::make_shared<UniqueFd>(fd);
}

} // namespace

Expected<OverlayMount> overlay_mount(const fs::path& lower, const fs::path& upper,
                                     const fs::path& work, const fs::path& target) {
  OverlayMount overlay{.lower = lower.string(),
                       .upper = upper.string(),
                       .work = work.string(),
                       .lower_fd = TRY(open_directory(lower)),
                       .upper_fd = TRY(open_directory(upper)),
                       .work_fd = TRY(open_directory(work)),
                       .target = target.string()};
  overlay.options =
      fmt::format("lowerdir=/proc/self/fd/{},upperdir=/proc/self/fd/{},workdir=/proc/self/fd/{}",
                  overlay.lower_fd->get(), overlay.upper_fd->get(), overlay.work_fd->get());
  return overlay;
}

namespace {

// `path` opened in this mount namespace, under the number `fd`. Async-signal-safe.
bool reopen_as(const std::string& path, int fd) {
  int opened = ::open(path.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (opened < 0) {
    return false;
  }
  bool moved = ::dup3(opened, fd, O_CLOEXEC) == fd;
  ::close(opened);
  return moved;
}

} // namespace

bool mount_overlay_in_child(const OverlayMount& overlay) {
  return ::unshare(CLONE_NEWNS) == 0 &&
         ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0 &&
         reopen_as(overlay.lower, overlay.lower_fd->get()) &&
         reopen_as(overlay.upper, overlay.upper_fd->get()) &&
         reopen_as(overlay.work, overlay.work_fd->get()) &&
         ::mount("overlay", overlay.target.c_str(), "overlay", MS_NOSUID | MS_NODEV,
                 overlay.options.c_str()) == 0;
}

bool overlays_supported(const fs::path& scratch) {
  static std::mutex mutex;
  static int known = -1;
  std::lock_guard lock(mutex);
  if (known >= 0) {
    return known == 1;
  }
  if (::geteuid() != 0) {
    known = 0;
    return false;
  }
  fs::path dir = scratch / fmt::format(".overlay-probe-{}", ::getpid());
  std::error_code ec;
  for (const char* part : {"lower", "upper", "work", "merged"}) {
    fs::create_directories(dir / part, ec);
  }
  bool works = false;
  if (auto overlay = overlay_mount(dir / "lower", dir / "upper", dir / "work", dir / "merged")) {
    pid_t child = ::fork();
    if (child == 0) {
      _exit(mount_overlay_in_child(*overlay) ? 0 : 1);
    }
    int status = 0;
    while (child > 0 && ::waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    works = child > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }
  [[maybe_unused]] auto removed = remove_tree(dir);
  known = works ? 1 : 0;
  return works;
}

} // namespace slipway
