#include "runtime/dyno.hpp"

#include <algorithm>
#include <charconv>
#include <sys/stat.h>
#include <unistd.h>

#include "common/sandbox.hpp"
#include "common/slug.hpp"
#include "common/tree.hpp"
#include "runtime/apps.hpp"
#include "runtime/launch.hpp"
#include "runtime/slug_store.hpp"

namespace slipway {

namespace fs = std::filesystem;

namespace {

// A stored tree whose contents are `owner`'s: releases/vN/app root's and 0700 above them.
Expected<void> hand_over(const fs::path& tree, Owner owner) {
  TRY(chown_tree(tree, owner));
  if (::chown(tree.c_str(), 0, 0) != 0 || ::chmod(tree.c_str(), 0700) != 0) {
    return fail("cannot secure '{}': {}", tree.string(), errno_text(errno));
  }
  return {};
}

// The unpacked tree of the app's newest release but `version`, to share files with; "" when
// there is none.
fs::path newest_unpacked(const Layout& layout, const std::string& app, int version) {
  fs::path newest;
  int newest_version = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(layout.releases_dir(app), ec)) {
    std::string name = entry.path().filename().string();
    int seen = 0;
    if (name.size() > 1 && name[0] == 'v' &&
        std::from_chars(name.data() + 1, name.data() + name.size(), seen).ec == std::errc() &&
        seen != version && seen > newest_version && fs::is_directory(entry.path() / "app", ec)) {
      newest_version = seen;
      newest = entry.path() / "app";
    }
  }
  return newest;
}

} // namespace

Expected<fs::path> ensure_unpacked(const Layout& layout, const Config& config,
                                   const std::string& app, const Release& release) {
  fs::path target = layout.unpacked_dir(app, release.version);
  std::optional<Owner> owner;
  if (sandbox_switches_user()) {
    owner = TRY(app_identity(layout, config, app));
  }
  std::error_code ec;
  if (fs::is_directory(target, ec)) {
    // Unpacked by an earlier slipway, whose trees were root's: handed over once.
    if (auto status = fs::status(target, ec);
        owner && (status.permissions() & fs::perms::all) != fs::perms::owner_all) {
      TRY(hand_over(target, *owner));
    }
    return target;
  }
  fs::path aside = target.parent_path() / fmt::format(".app-{}-{}", getpid(), gettid());
  [[maybe_unused]] auto cleared = remove_tree(aside);
  TRY(SlugStore(layout).unpack(release, aside, newest_unpacked(layout, app, release.version)));
  if (owner) {
    if (auto handed = hand_over(aside, *owner); !handed) {
      [[maybe_unused]] auto removed = remove_tree(aside);
      return std::unexpected(handed.error());
    }
  }
  if (::rename(aside.c_str(), target.c_str()) != 0) {
    int error = errno;
    [[maybe_unused]] auto removed = remove_tree(aside);
    if (error != EEXIST && error != ENOTEMPTY) {
      return fail("cannot rename '{}': {}", aside.string(), errno_text(error));
    }
  }
  return target;
}

Expected<ProcessFiles> make_process_files(const fs::path& unpacked, const fs::path& root,
                                          Owner owner) {
  TRY(remove_tree(root));
  std::error_code ec;
  fs::create_directories(root, ec);
  if (ec) {
    return fail("cannot create '{}': {}", root.string(), ec.message());
  }
  ProcessFiles files{.root = root, .app = root / "app"};
  const bool switching = sandbox_switches_user();
  if (switching && overlays_supported(root.parent_path())) {
    // The process's writes go to upper/, which is /app's top: the app's, as a copy's is.
    for (const char* dir : {"app", "upper", "work"}) {
      if (::mkdir((root / dir).c_str(), 0755) != 0) {
        return fail("cannot create '{}': {}", (root / dir).string(), errno_text(errno));
      }
    }
    if (::chown((root / "upper").c_str(), owner.uid, owner.gid) != 0) {
      return fail("cannot give '{}' to the app: {}", (root / "upper").string(), errno_text(errno));
    }
    files.overlay = TRY(overlay_mount(unpacked, root / "upper", root / "work", files.app));
    return files;
  }
  CopyOptions options;
  if (switching) {
    options.owner = owner;
  }
  TRY(copy_tree(unpacked, files.app, options));
  if (switching && ::chmod(files.app.c_str(), 0755) != 0) {
    return fail("cannot open '{}' to the app: {}", files.app.string(), errno_text(errno));
  }
  return files;
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
  auto command = TRY(launch_command({.sandbox = spec.sandbox,
                                     .app_dir = spec.files.app,
                                     .command = spec.command,
                                     .env = std::move(env)}));
  command.child.overlay = spec.files.overlay;
  return command;
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
