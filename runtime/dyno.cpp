#include "runtime/dyno.hpp"

#include <algorithm>
#include <unistd.h>

#include "common/slug.hpp"
#include "common/tree.hpp"
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
  fs::path aside = target.parent_path() / fmt::format(".app-{}-{}", getpid(), gettid());
  [[maybe_unused]] auto cleared = remove_tree(aside);
  TRY(SlugStore(layout).unpack(release, aside));
  if (::rename(aside.c_str(), target.c_str()) != 0) {
    int error = errno;
    [[maybe_unused]] auto removed = remove_tree(aside);
    if (error != EEXIST && error != ENOTEMPTY) {
      return fail("cannot rename '{}': {}", aside.string(), errno_text(error));
    }
  }
  return target;
}

Expected<void> make_process_copy(const fs::path& unpacked, const fs::path& dir, Owner owner) {
  TRY(remove_tree(dir));
  std::error_code ec;
  fs::create_directories(dir.parent_path(), ec);
  CopyOptions options;
  if (sandbox_switches_user()) {
    options.owner = owner;
  }
  return copy_tree(unpacked, dir, options);
}

Expected<Command> process_command(const ProcessSpec& spec) {
  std::map<std::string, std::string> env(spec.release.config.begin(), spec.release.config.end());
  for (const auto& [name, value] : spec.env) {
    env[name] = value;
  }
  env["DYNO"] = spec.dyno;
  env["SLIPWAY_RELEASE"] = fmt::format("v{}", spec.release.version);
  if (!spec.release.commit.empty()) {
    env["SOURCE_VERSION"] = spec.release.commit;
  }
  if (spec.port != 0) {
    env["PORT"] = std::to_string(spec.port);
  }
  return launch_command({.sandbox = spec.sandbox,
                         .app_dir = spec.app_dir,
                         .command = spec.command,
                         .env = std::move(env)});
}

std::chrono::milliseconds restart_delay(int crashes) {
  using std::chrono::milliseconds;
  if (crashes <= 1) {
    return milliseconds(0);
  }
  return std::min<milliseconds>(std::chrono::minutes(5),
                                milliseconds(1000L << std::min(crashes - 2, 16)));
}

} // namespace slipway
