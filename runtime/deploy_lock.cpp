#include "runtime/deploy_lock.hpp"

#include "common/output.hpp"

namespace slipway {

Expected<FileLock> lock_app(const Layout& layout, const std::string& app, bool wait,
                            const std::function<void(std::string_view)>& on_wait) {
  auto file = layout.lock_file(app);
  auto lock = TRY(FileLock::try_acquire(file, FileLock::Mode::exclusive));
  if (lock) {
    return std::move(*lock);
  }
  if (!wait) {
    return fail_as(ErrorKind::conflict,
                   "another deploy, config change or rollback of '{}' is in progress", app);
  }
  if (on_wait) {
    on_wait(step_line(fmt::format(
        "Waiting for another deploy, config change or rollback of {} to finish...", app)));
  }
  return FileLock::acquire(file, FileLock::Mode::exclusive);
}

} // namespace slipway
