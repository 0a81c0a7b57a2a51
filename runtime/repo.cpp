#include "runtime/repo.hpp"

#include <unistd.h>

#include "common/files.hpp"
#include "common/output.hpp"
#include "common/paths.hpp"
#include "compiler/git.hpp"
#include "runtime/apps.hpp"

namespace slipway {

namespace fs = std::filesystem;

Expected<void> create_repo(const Layout& layout, const std::string& app,
                           const fs::path& slipway_binary) {
  git::ensure_initialised();
  fs::path dir = repo_dir(layout, app);
  git_repository_init_options options = GIT_REPOSITORY_INIT_OPTIONS_INIT;
  options.flags = GIT_REPOSITORY_INIT_BARE | GIT_REPOSITORY_INIT_MKPATH;
  options.initial_head = "main";
  git_repository* raw = nullptr;
  TRY(git::check(libgit2::git_repository_init_ext(&raw, dir.c_str(), &options),
                 fmt::format("cannot create repository '{}'", dir.string())));
  git::Repository repo(raw);
  // git gc --auto runs at housekeeping, after the push (hooks/receive.cpp), not in
  // receive-pack before the push returns.
  git_config* raw_config = nullptr;
  TRY(git::check(libgit2::git_repository_config(&raw_config, repo.get()),
                 fmt::format("cannot read the configuration of '{}'", dir.string())));
  git::Config config(raw_config);
  TRY(git::check(libgit2::git_config_set_bool(config.get(), "receive.autogc", 0),
                 fmt::format("cannot configure '{}'", dir.string())));
  std::error_code ec;
  fs::create_directories(dir / "hooks", ec);
  for (const char* hook : {"pre-receive", "post-receive"}) {
    std::string script = fmt::format("#!/bin/sh\n# Written by slipway: every push to {} goes "
                                     "through it.\nexec {} --root {} hook {}\n",
                                     app, shell_quote(slipway_binary.string()),
                                     shell_quote(layout.root().string()), hook);
    TRY(write_file_atomic(dir / "hooks" / hook, script, 0755));
  }
  return {};
}

Expected<void> remove_repo(const Layout& layout, const std::string& app) {
  fs::path dir = repo_dir(layout, app);
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    return {};
  }
  fs::path doomed = layout.repos_dir() / fmt::format(".destroyed-{}-{}.git", app, getpid());
  TRY(rename_durable(dir, doomed));
  fs::remove_all(doomed, ec);
  return {};
}

Expected<std::string> app_of_repo(const Layout& layout, const fs::path& repo_path) {
  std::error_code ec;
  fs::path repo = fs::canonical(repo_path, ec);
  fs::path repos = fs::canonical(layout.repos_dir(), ec);
  std::string name = repo.filename().string();
  if (ec || repo.parent_path() != repos || !name.ends_with(".git")) {
    return fail("'{}' is not an app repository of {}", repo_path.string(), layout.root().string());
  }
  std::string app = name.substr(0, name.size() - 4);
  TRY(require_app(layout, app));
  return app;
}

} // namespace slipway
