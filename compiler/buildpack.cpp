#include "compiler/buildpack.hpp"

#include <algorithm>
#include <fcntl.h>
#include <sys/stat.h>

#include "common/hash.hpp"
#include "common/paths.hpp"
#include "common/subprocess.hpp"
#include "common/tree.hpp"
#include "compiler/git.hpp"

namespace slipway {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t k_max_captured_output = 1 << 20;

bool is_lower_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

// [a-z0-9][a-z0-9-]*
bool is_builtin_name(std::string_view ref) {
  return !ref.empty() && is_lower_alnum(ref[0]) &&
         std::ranges::all_of(ref, [](char c) { return is_lower_alnum(c) || c == '-'; });
}

// Whether DIR/RELATIVE is a regular file, resolved inside DIR: a buildpack is a tree its
// author controls, and its bin/ may be a symlink to anywhere.
bool has_file(const fs::path& dir, std::string_view relative) {
  auto opened = open_beneath(dir, relative, O_PATH);
  if (!opened || !*opened) {
    return false;
  }
  struct stat st {};
  return fstat((*opened)->get(), &st) == 0 && S_ISREG(st.st_mode);
}

Expected<void> check_layout(const fs::path& dir, std::string_view ref) {
  if (!has_file(dir, "bin/compile")) {
    return fail("buildpack '{}' has no bin/compile", ref);
  }
  return {};
}

std::string trim(std::string_view s) {
  auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) {
    return {};
  }
  return std::string(s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1));
}

} // namespace

bool is_git_url(std::string_view ref) {
  for (std::string_view scheme : {"https://", "http://", "git://", "ssh://", "file://"}) {
    if (ref.starts_with(scheme)) {
      return true;
    }
  }
  // scp-style: user@host:path, with a relative path.
  auto at = ref.find('@');
  auto colon = ref.find(':');
  return at != std::string_view::npos && at > 0 && colon != std::string_view::npos &&
         colon > at + 1 && colon + 1 < ref.size() && ref[colon + 1] != '/' &&
         ref.substr(0, colon).find('/') == std::string_view::npos;
}

Expected<Buildpack> resolve_buildpack(const std::string& ref, const fs::path& clone_root) {
  Buildpack buildpack{.ref = ref};
  std::error_code ec;
  if (is_git_url(ref)) {
    auto hash = ref.rfind('#');
    std::string url = ref.substr(0, hash);
    std::string git_ref = hash == std::string::npos ? "" : ref.substr(hash + 1);
    std::string base = url.substr(url.find_last_of("/:") + 1);
    if (base.ends_with(".git")) {
      base.resize(base.size() - 4);
    }
    buildpack.name = base.empty() ? "buildpack" : base;
    fs::create_directories(clone_root, ec);
    buildpack.dir =
        clone_root / fmt::format("{}-{}", buildpack.name, sha256_hex(ref).substr(0, 12));
    fs::remove_all(buildpack.dir, ec);
    buildpack.commit = TRY(git::clone(url, git_ref, buildpack.dir));
  } else if (ref.starts_with("/")) {
    buildpack.dir = ref;
    fs::path normal = fs::path(ref).lexically_normal();
    buildpack.name = (normal.has_filename() ? normal : normal.parent_path()).filename().string();
    if (!fs::is_directory(buildpack.dir, ec)) {
      return fail("buildpack '{}' is not a directory", ref);
    }
  } else {
    std::string_view name = ref;
    if (name.starts_with("heroku/")) {
      name.remove_prefix(7);
    }
    if (!is_builtin_name(name) || !fs::is_directory(builtin_buildpacks_dir() / name, ec)) {
      return fail("unknown buildpack '{}' (expected a built-in name, an absolute path or a git "
                  "URL)",
                  ref);
    }
    buildpack.name = name;
    buildpack.dir = builtin_buildpacks_dir() / name;
  }
  TRY(check_layout(buildpack.dir, ref));
  return buildpack;
}

BuildpackRunner::BuildpackRunner(BuildpackContext context) : m_context(std::move(context)) {
  // The sandbox binds these, and bubblewrap wants absolute paths.
  for (auto* dir : {&m_context.build_dir, &m_context.cache_dir, &m_context.env_dir}) {
    *dir = fs::absolute(*dir);
  }
}

Expected<std::size_t> BuildpackRunner::stage(const Buildpack& buildpack,
                                             const fs::path& stage_dir) {
  std::error_code ec;
  fs::create_directories(stage_dir.parent_path(), ec);
  CopyOptions options{.skip_top = {".git", "export"}}; // not a stale export of its own tree
  if (sandbox_switches_user()) {
    options.owner = m_context.sandbox.identity;
  }
  if (auto copied = copy_tree(buildpack.dir, stage_dir, options); !copied) {
    return fail("cannot copy buildpack '{}': {}", buildpack.ref, copied.error().message);
  }
  std::size_t index = m_staged.size();
  m_staged.push_back(
      {buildpack, fs::absolute(stage_dir), fmt::format("/tmp/buildpacks/{}", index)});
  return index;
}

Sandbox BuildpackRunner::sandbox() const {
  Sandbox box(m_context.sandbox, m_context.build_dir);
  box.bind(m_context.cache_dir, "/cache", Sandbox::Access::read_write);
  box.bind(m_context.env_dir, "/env", Sandbox::Access::read_only);
  for (const auto& staged : m_staged) {
    box.bind(staged.copy, staged.inside, Sandbox::Access::read_write);
  }
  return box;
}

Expected<Command> BuildpackRunner::sandboxed(const Sandbox& box,
                                             const std::vector<std::string>& argv,
                                             std::chrono::milliseconds timeout) const {
  auto env = TRY(sandbox_environment(
      box, {{"STACK", m_context.stack}, {"SOURCE_VERSION", m_context.source_version}}));
  auto command = box.command(argv, env);
  if (!command) {
    return fail("cannot start the sandbox: {}", command.error().message);
  }
  command->timeout = timeout;
  command->watch = m_context.watch;
  return command;
}

Expected<std::string> BuildpackRunner::capture(std::size_t index, const std::string& script,
                                               std::chrono::milliseconds timeout, int& status,
                                               std::string_view what) {
  m_last_error.clear();
  const Staged& staged = m_staged[index];
  Sandbox box = sandbox();
  Command command =
      TRY(sandboxed(box, {box.path(staged.inside + "/bin/" + script), box.path("/app")}, timeout));
  std::string output;
  bool overflow = false;
  command.on_line = [&](std::string_view line) {
    if (output.size() + line.size() >= k_max_captured_output) {
      overflow = true;
      return;
    }
    output.append(line);
    output.push_back('\n');
  };
  std::string errors;
  command.on_stderr_line = [&](std::string_view line) {
    if (errors.size() < k_max_captured_output) {
      errors.append(line).push_back('\n');
    }
  };
  auto result = TRY(run(command));
  if (result.timed_out || !result.stopped_because.empty()) {
    return fail("buildpack '{}': bin/{} {}", staged.buildpack.name, script,
                result.describe(timeout));
  }
  if (overflow) {
    return fail("buildpack '{}': bin/{} printed more than {} bytes of {}", staged.buildpack.name,
                script, k_max_captured_output, what);
  }
  status = result.code;
  if (status != 0 && !errors.empty()) {
    m_last_error = trim(errors.substr(0, errors.find('\n')));
  }
  return output;
}

Expected<std::optional<std::string>> BuildpackRunner::detect(std::size_t index,
                                                             std::chrono::milliseconds timeout) {
  if (!has_file(m_staged[index].copy, "bin/detect")) {
    return m_staged[index].buildpack.name;
  }
  int status = 0;
  auto output = TRY(capture(index, "detect", timeout, status, "detect output"));
  if (status != 0) {
    if (m_last_error.starts_with("bwrap: ")) {
      return fail("cannot start the sandbox: {}", m_last_error);
    }
    return std::nullopt;
  }
  std::string name = trim(output.substr(0, output.find('\n')));
  return name.empty() ? m_staged[index].buildpack.name : name;
}

Expected<void> BuildpackRunner::compile(std::size_t index, std::chrono::milliseconds timeout,
                                        const std::function<void(std::string_view)>& on_line) {
  const Staged& staged = m_staged[index];
  Sandbox box = sandbox();
  // Source every earlier buildpack's `export`, then become bin/compile.
  std::vector<std::string> argv = {
      "/bin/bash",
      "-c",
      "bin=$1 app=$2 cache=$3 env=$4; shift 4\n"
      "for f in \"$@\"; do if [ -f \"$f\" ]; then . \"$f\"; fi; done\n"
      "exec \"$bin\" \"$app\" \"$cache\" \"$env\"",
      "slipway-compile",
      box.path(staged.inside + "/bin/compile"),
      box.path("/app"),
      box.path("/cache"),
      box.path("/env"),
  };
  for (std::size_t i = 0; i < index; ++i) {
    argv.push_back(box.path(m_staged[i].inside + "/export"));
  }
  auto command = TRY(sandboxed(box, argv, timeout));
  command.on_line = on_line;
  auto result = TRY(run(command));
  if (result.timed_out || !result.stopped_because.empty()) {
    return fail("buildpack '{}': bin/compile {}", staged.buildpack.name, result.describe(timeout));
  }
  if (!result.ok()) {
    return fail("buildpack '{}' failed: bin/compile {}", staged.buildpack.name, result.describe());
  }
  return {};
}

Expected<ReleaseInfo> BuildpackRunner::release(std::size_t index,
                                               std::chrono::milliseconds timeout) {
  if (!has_file(m_staged[index].copy, "bin/release")) {
    return ReleaseInfo{};
  }
  int status = 0;
  auto output = TRY(capture(index, "release", timeout, status, "YAML"));
  const std::string& name = m_staged[index].buildpack.name;
  if (status != 0) {
    return fail("buildpack '{}': bin/release exited with status {}{}", name, status,
                m_last_error.empty() ? "" : ": " + m_last_error);
  }
  auto info = parse_release_yaml(output);
  if (!info) {
    return fail("buildpack '{}': bin/release printed {}", name, info.error().message);
  }
  return info;
}

} // namespace slipway
