// One buildpack: where it comes from, and running its bin/detect, bin/compile and
// bin/release in the sandbox (the Heroku buildpack API).
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/config.hpp"
#include "common/error.hpp"
#include "common/sandbox.hpp"
#include "compiler/release_yaml.hpp"

namespace slipway {

struct Buildpack {
  std::string ref;           // as named: "nodejs", "/srv/bp", "https://host/bp.git#v2"
  std::string name;          // short name for messages: "nodejs", "bp"
  std::filesystem::path dir; // a local directory holding bin/compile
  std::string commit;        // the commit a git buildpack was cloned at
  bool stands_in = false;    // a built-in doing the job of the Heroku buildpack `ref` names
};

// The built-in buildpacks of this server, by name, sorted.
std::vector<std::string> builtin_buildpack_names();

// The built-in that does the job of `ref` when it is a name of Heroku's buildpack registry
// ("heroku/python", "heroku-community/static") or the git or registry URL of an official or
// well-known buildpack ("https://github.com/heroku/heroku-buildpack-python.git#v250",
// "https://github.com/dokku/buildpack-nginx"); whether that built-in is installed is not
// asked.
std::optional<std::string> builtin_equivalent(std::string_view ref);

// The git URL of a Heroku registry name whose repository is known ("heroku/php" →
// https://github.com/heroku/heroku-buildpack-php), for a server that clones them.
std::optional<std::string> registry_git_url(std::string_view ref);

// Whether DIR/RELATIVE is a regular file, resolved inside DIR: a buildpack is a tree its
// author controls, and its bin/ may be a symlink to anywhere.
bool has_buildpack_file(const std::filesystem::path& dir, std::string_view relative);

// A git URL: a scheme slipway clones (https, http, git, ssh, file) or scp-style user@host:path.
bool is_git_url(std::string_view ref);

// Resolves a buildpack reference: a built-in name, a Heroku name or URL that a built-in
// stands in for (unless `official` is clone), an absolute local path, or a git URL with an
// optional "#ref", cloned with libgit2 under `clone_root`. What resolves to nothing fails
// naming the built-ins.
Expected<Buildpack> resolve_buildpack(const std::string& ref,
                                      const std::filesystem::path& clone_root,
                                      OfficialBuildpacks official = OfficialBuildpacks::builtin);

// What a buildpack's scripts run against: the app at /app, the cache at /cache, the env dir
// at /env, and the buildpacks of this build (writable copies) under /tmp/buildpacks/N.
struct BuildpackContext {
  SandboxSettings sandbox;
  std::filesystem::path build_dir;
  std::filesystem::path cache_dir;
  std::filesystem::path env_dir;
  // Holds build_dir as `app` and may hold cache_dir as `cache`: the sandbox's / (see
  // Sandbox::set_root); empty: each is bound on its own.
  std::filesystem::path root;
  std::string source_version;
  std::string stack;
  // Asked every second while a script runs: a reason to stop the build (disk budget).
  std::function<std::optional<std::string>()> watch;
};

class BuildpackRunner {
 public:
  explicit BuildpackRunner(BuildpackContext context);

  // Copies `buildpack` into `stage_dir` (a fresh dir) and mounts it for later steps:
  // the copy is what runs, so the original is never written to and `export` lands in it.
  // The copy belongs to the sandbox's uid when processes switch to it.
  Expected<std::size_t> stage(const Buildpack& buildpack, const std::filesystem::path& stage_dir);

  // bin/detect: the name it prints when it claims the app, nullopt when it does not.
  Expected<std::optional<std::string>> detect(std::size_t index, std::chrono::milliseconds timeout);

  // bin/compile, after sourcing the `export` of every buildpack staged before it; for a
  // test build (`for_tests`), Heroku CI's bin/test-compile when the buildpack has one. Then,
  // in the same sandbox, bin/release, parsed (a buildpack without one releases nothing): the
  // error names which of the two failed.
  Expected<ReleaseInfo> compile(std::size_t index, std::chrono::milliseconds timeout,
                                const std::function<void(std::string_view)>& on_line,
                                bool for_tests = false);

  // Heroku CI's bin/test BUILD_DIR ENV_DIR, after sourcing every staged buildpack's `export`
  // and the app's .profile.d, with the env dir's vars in its environment. Its status is the
  // caller's to judge; a buildpack without bin/test is an error saying so.
  Expected<ExitStatus> test(std::size_t index, std::chrono::milliseconds timeout,
                            const std::function<void(std::string_view)>& on_line);

  // A command of the app's own (app.json's dokku.predeploy) in the build's sandbox, once
  // the buildpacks are done: the build's environment plus the config vars of the env dir,
  // /app/.profile.d/*.sh sourced as a process does, then `command` under `bash -c`. Its
  // lines (stdout and stderr) go to `on_line`; its status is the caller's to judge.
  Expected<ExitStatus> run_app_command(const std::string& command,
                                       std::chrono::milliseconds timeout,
                                       const std::function<void(std::string_view)>& on_line);

  const Buildpack& buildpack(std::size_t index) const { return m_staged[index].buildpack; }
  std::size_t staged_count() const { return m_staged.size(); }

 private:
  struct Staged {
    Buildpack buildpack;
    std::filesystem::path copy;
    std::string inside; // "/tmp/buildpacks/N"
  };

  Sandbox sandbox() const;
  // `env`: more variables for the command (STACK and SOURCE_VERSION win over them).
  Expected<Command> sandboxed(const Sandbox& box, const std::vector<std::string>& argv,
                              std::chrono::milliseconds timeout,
                              std::map<std::string, std::string> env = {}) const;

  BuildpackContext m_context;
  std::vector<Staged> m_staged;
};

} // namespace slipway
