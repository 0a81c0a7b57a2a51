#include "runtime/dyno.hpp"

#include <unistd.h>

#include "common/slug.hpp"
#include "compiler/source_tree.hpp"
#include "runtime/launch.hpp"
#include "runtime/slug_store.hpp"

namespace slipway {

namespace fs = std::filesystem;

Expected<fs::path> ensure_unpacked(const Layout& layout, const std::string& app,
                                   const Release& release) {
  fs::path target = layout.unpacked_dir(app, release.version);
  std::error_code ec;
  if (fs::is_directory(target, ec)) {
    return target;
  }
  SlugStore slugs(layout);
  if (!release.has_slug()) {
    return fail("v{} has no slug: nothing was built yet", release.version);
  }
  if (!slugs.has(release)) {
    return fail("v{} has expired: its slug was pruned", release.version);
  }
  fs::path aside = target.parent_path() / fmt::format(".app-{}-{}", getpid(), gettid());
  fs::remove_all(aside, ec);
  if (auto unpacked = unpack_slug(slugs.path(release), aside); !unpacked) {
    fs::remove_all(aside, ec);
    return std::unexpected(unpacked.error());
  }
  if (::rename(aside.c_str(), target.c_str()) != 0) {
    int error = errno;
    fs::remove_all(aside, ec);
    if (error != EEXIST && error != ENOTEMPTY) {
      return fail("cannot rename '{}': {}", aside.string(), errno_text(error));
    }
  }
  return target;
}

Expected<void> make_process_copy(const fs::path& unpacked, const fs::path& dir) {
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir.parent_path(), ec);
  return copy_source_tree(unpacked, dir);
}

Command process_command(const Config& config, const ProcessSpec& spec) {
  std::map<std::string, std::string> env(spec.release.config.begin(), spec.release.config.end());
  env["DYNO"] = spec.dyno;
  env["SLIPWAY_RELEASE"] = fmt::format("v{}", spec.release.version);
  if (!spec.release.commit.empty()) {
    env["SOURCE_VERSION"] = spec.release.commit;
  }
  if (spec.port != 0) {
    env["PORT"] = std::to_string(spec.port);
  }
  return launch_command({.sandbox = config.build.sandbox,
                         .app_dir = spec.app_dir,
                         .command = spec.command,
                         .env = std::move(env)});
}

} // namespace slipway
