#include "runtime/housekeeping.hpp"

#include "common/file_lock.hpp"
#include "common/tree.hpp"
#include "runtime/build_cache.hpp"
#include "runtime/operation.hpp"
#include "runtime/retention.hpp"

namespace slipway {

namespace fs = std::filesystem;

Expected<void> housekeep(const Layout& layout, const Config& config, const std::string& app) {
  // What an interrupted operation left, if nothing else settled it yet.
  ReleaseContext context{.layout = layout,
                         .config = config,
                         .app = app,
                         .wait = false,
                         .on_output = [](std::string_view) {},
                         .defer_deletions = true};
  [[maybe_unused]] auto settled = settle_app(context);
  fs::path trash = layout.trash_dir(app);
  {
    auto lock = TRY(FileLock::try_acquire(layout.lock_file(app), FileLock::Mode::exclusive));
    if (lock) {
      // No operation is running, so every scratch dir belongs to a finished one. Moving is
      // quick; the slow delete happens after the lock is free again. A build cache that a
      // dead deploy held goes home first.
      recover_build_cache(layout, app);
      std::error_code ec;
      fs::create_directories(trash, ec);
      for (const auto& entry : fs::directory_iterator(layout.tmp_dir(app), ec)) {
        fs::rename(entry.path(), trash / entry.path().filename(), ec);
      }
    }
  }
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(trash, ec)) {
    [[maybe_unused]] auto removed = remove_tree(entry.path());
  }
  prune_unpacked(layout, config, app);
  TRY(prune_slugs(layout, config));
  return {};
}

} // namespace slipway
