#include "compiler/buildpack.hpp"

#include <algorithm>
#include <cctype>
#include <fcntl.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#include <fmt/ranges.h>

#include "common/fd.hpp"
#include "common/hash.hpp"
#include "common/lines.hpp"
#include "common/paths.hpp"
#include "common/subprocess.hpp"
#include "common/tree.hpp"
#include "compiler/git.hpp"

namespace slipway {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t k_max_captured_output = 1 << 20;

// A pipe whose write end a sandboxed command inherits, read on a thread of its own while the
// command runs (a writer never waits on it), keeping at most k_max_captured_output bytes.
// Declared before the Command that holds the write end: gone first, it lets the reader end.
class PipeCapture {
 public:
  static Expected<std::unique_ptr<PipeCapture>> open() {
    int ends[2];
    if (pipe2(ends, O_CLOEXEC) != 0) {
      return fail("cannot make a pipe: {}", errno_text(errno));
    }
    return std::unique_ptr<PipeCapture>(new PipeCapture(UniqueFd(ends[0]), UniqueFd(ends[1])));
  }
  PipeCapture(const PipeCapture&) = delete;
  PipeCapture& operator=(const PipeCapture&) = delete;
  ~PipeCapture() {
    m_write.reset();
    if (m_reader.joinable()) {
      m_reader.join();
    }
  }

  const std::shared_ptr<UniqueFd>& write_end() const { return m_write; }
  std::string descriptor() const { return std::to_string(m_write->get()); }

  // Once every copy of the write end is closed: what was written, and whether it was more.
  std::pair<std::string, bool> finish() {
    m_write.reset();
    m_reader.join();
    return {std::move(m_text), m_overflow};
  }

 private:
  PipeCapture(UniqueFd read, UniqueFd write)
      : m_read(std::move(read)), m_write(std::make_shared<UniqueFd>(std::move(write))) {
    m_reader = std::thread([this] {
      char buffer[16384];
      while (true) {
        ssize_t got = ::read(m_read.get(), buffer, sizeof buffer);
        if (got < 0 && errno == EINTR) {
          continue;
        }
        if (got <= 0) {
          return;
        }
        auto room = k_max_captured_output - std::min(m_text.size(), k_max_captured_output);
        m_overflow = m_overflow || static_cast<std::size_t>(got) > room;
        m_text.append(buffer, std::min(static_cast<std::size_t>(got), room));
      }
    });
  }

  UniqueFd m_read;
  std::shared_ptr<UniqueFd> m_write;
  std::string m_text;
  bool m_overflow = false;
  std::thread m_reader;
};

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

std::string trim_line(std::string_view s) {
  return std::string(trim(s, " \t\r\n"));
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

namespace {

// "https://github.com/Heroku/heroku-buildpack-nodejs.git#v1", "git@github.com:heroku/x.git"
// → "github.com/heroku/heroku-buildpack-nodejs", "github.com/heroku/x": host and path, no
// scheme, user, ref, ".git" or trailing '/', lowercased (GitHub's names are not
// case-sensitive).
std::string normalized_url(std::string_view url) {
  url = url.substr(0, url.find('#'));
  std::string out;
  if (auto scheme = url.find("://"); scheme != std::string_view::npos) {
    url.remove_prefix(scheme + 3);
  } else if (auto colon = url.find(':'); colon != std::string_view::npos) {
    out.append(url.substr(0, colon)).push_back('/'); // scp-style user@host:path
    url.remove_prefix(colon + 1);
  }
  out.append(url);
  if (auto at = out.find('@'); at != std::string::npos && at < out.find('/')) {
    out.erase(0, at + 1);
  }
  while (out.ends_with('/')) {
    out.pop_back();
  }
  for (std::string_view suffix : {".git", ".tgz"}) {
    if (out.ends_with(suffix)) {
      out.resize(out.size() - suffix.size());
    }
  }
  std::ranges::transform(out, out.begin(), [](unsigned char c) { return std::tolower(c); });
  if (out.starts_with("www.")) {
    out.erase(0, 4);
  }
  return out;
}

struct StandIn {
  std::string_view ref; // a registry name, or a normalized URL
  std::string_view builtin;
};

// Heroku's official buildpacks, by registry name and by repository, and community
// buildpacks whose job a built-in does.
constexpr StandIn k_stand_ins[] = {
    {"heroku/nodejs", "nodejs"},
    {"heroku/python", "python"},
    {"heroku/go", "go"},
    {"heroku/ruby", "ruby"},
    {"heroku/static", "static"},
    {"heroku/procfile", "procfile"},
    {"heroku-community/static", "static"},
    {"heroku-community/nginx", "static"},
    {"github.com/heroku/heroku-buildpack-nodejs", "nodejs"},
    {"github.com/heroku/heroku-buildpack-python", "python"},
    {"github.com/heroku/heroku-buildpack-go", "go"},
    {"github.com/heroku/heroku-buildpack-ruby", "ruby"},
    {"github.com/heroku/heroku-buildpack-static", "static"},
    {"github.com/dokku/buildpack-nginx", "static"},
    {"github.com/dokku/heroku-buildpack-nginx", "static"},
};

constexpr std::string_view k_registry_archive = "buildpack-registry.s3.amazonaws.com/buildpacks/";

std::string builtin_list() {
  return fmt::format("{}", fmt::join(builtin_buildpack_names(), ", "));
}

// A registry name: NAMESPACE/NAME, both [a-z0-9-].
bool is_registry_name(std::string_view ref) {
  auto slash = ref.find('/');
  return slash != std::string_view::npos && is_builtin_name(ref.substr(0, slash)) &&
         is_builtin_name(ref.substr(slash + 1));
}

} // namespace

std::vector<std::string> builtin_buildpack_names() {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(builtin_buildpacks_dir(), ec)) {
    std::string name = entry.path().filename().string();
    if (is_builtin_name(name) && has_file(entry.path(), "bin/compile")) {
      names.push_back(std::move(name));
    }
  }
  std::ranges::sort(names);
  return names;
}

std::optional<std::string> builtin_equivalent(std::string_view ref) {
  std::string key = is_git_url(ref) || ref.find("://") != std::string_view::npos
                        ? normalized_url(ref)
                        : std::string(ref);
  if (key.starts_with(k_registry_archive)) {
    key.erase(0, k_registry_archive.size()); // "heroku/nodejs"
  }
  for (const auto& stand_in : k_stand_ins) {
    if (stand_in.ref == key) {
      return std::string(stand_in.builtin);
    }
  }
  return std::nullopt;
}

std::optional<std::string> registry_git_url(std::string_view ref) {
  if (!is_registry_name(ref)) {
    return std::nullopt;
  }
  auto slash = ref.find('/');
  auto space = ref.substr(0, slash);
  auto name = ref.substr(slash + 1);
  if (space == "heroku" || space == "heroku-community") {
    return fmt::format("https://github.com/heroku/heroku-buildpack-{}", name);
  }
  return std::nullopt;
}

Expected<Buildpack> resolve_buildpack(const std::string& ref, const fs::path& clone_root,
                                      OfficialBuildpacks official) {
  Buildpack buildpack{.ref = ref};
  std::error_code ec;
  auto builtin = [&](std::string_view name) -> Expected<void> {
    if (!is_builtin_name(name) || !fs::is_directory(builtin_buildpacks_dir() / name, ec)) {
      return fail("unknown buildpack '{}': the built-in buildpacks are {}; name another by "
                  "its git URL",
                  ref, builtin_list());
    }
    buildpack.name = name;
    buildpack.dir = builtin_buildpacks_dir() / name;
    return {};
  };
  // A server that clones the official buildpacks clones what their names and URLs say;
  // otherwise the built-in of that language stands in for them.
  bool clone = official == OfficialBuildpacks::clone;
  std::string url = ref;
  if (clone && registry_git_url(ref)) {
    url = *registry_git_url(ref);
  } else if (auto equivalent = builtin_equivalent(ref);
             equivalent && !(clone && is_git_url(ref)) &&
             fs::is_directory(builtin_buildpacks_dir() / *equivalent, ec)) {
    TRY(builtin(*equivalent));
    buildpack.stands_in = true;
    TRY(check_layout(buildpack.dir, ref));
    return buildpack;
  }
  if (is_git_url(url)) {
    auto hash = url.rfind('#');
    std::string git_ref = hash == std::string::npos ? "" : url.substr(hash + 1);
    url = url.substr(0, hash);
    std::string base = url.substr(url.find_last_of("/:") + 1);
    if (base.ends_with(".git")) {
      base.resize(base.size() - 4);
    }
    buildpack.name = base.empty() ? "buildpack" : base;
    fs::create_directories(clone_root, ec);
    buildpack.dir =
        clone_root / fmt::format("{}-{}", buildpack.name, sha256_hex(ref).substr(0, 12));
    fs::remove_all(buildpack.dir, ec);
    auto cloned = git::clone(url, git_ref, buildpack.dir);
    if (!cloned) {
      return fail("{}; the built-in buildpacks are {}", cloned.error().message, builtin_list());
    }
    buildpack.commit = *cloned;
  } else if (ref.starts_with("/")) {
    buildpack.dir = ref;
    fs::path normal = fs::path(ref).lexically_normal();
    buildpack.name = (normal.has_filename() ? normal : normal.parent_path()).filename().string();
    if (!fs::is_directory(buildpack.dir, ec)) {
      return fail("buildpack '{}' is not a directory", ref);
    }
  } else if (is_registry_name(ref)) {
    return fail("buildpack '{}' has no built-in here: the built-in buildpacks are {}; name "
                "its git URL{}",
                ref, builtin_list(),
                registry_git_url(ref) ? " or set [buildpacks] official = \"clone\" in slipway.toml"
                                      : "");
  } else {
    TRY(builtin(ref));
  }
  TRY(check_layout(buildpack.dir, ref));
  return buildpack;
}

BuildpackRunner::BuildpackRunner(BuildpackContext context) : m_context(std::move(context)) {
  // The sandbox binds these, and bubblewrap wants absolute paths.
  for (auto* dir : {&m_context.build_dir, &m_context.cache_dir, &m_context.env_dir}) {
    *dir = fs::absolute(*dir);
  }
  if (!m_context.root.empty()) {
    m_context.root = fs::absolute(m_context.root);
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
  if (!m_context.root.empty()) {
    box.set_root(m_context.root);
  }
  box.bind(m_context.cache_dir, "/cache", Sandbox::Access::read_write);
  box.bind(m_context.env_dir, "/env", Sandbox::Access::read_only);
  for (const auto& staged : m_staged) {
    box.bind(staged.copy, staged.inside, Sandbox::Access::read_write);
  }
  return box;
}

Expected<Command> BuildpackRunner::sandboxed(const Sandbox& box,
                                             const std::vector<std::string>& argv,
                                             std::chrono::milliseconds timeout,
                                             std::map<std::string, std::string> env) const {
  env["STACK"] = m_context.stack;
  env["SOURCE_VERSION"] = m_context.source_version;
  auto environment = TRY(sandbox_environment(box, env));
  auto command = box.command(argv, environment);
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
    m_last_error = trim_line(errors.substr(0, errors.find('\n')));
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
  std::string name = trim_line(output.substr(0, output.find('\n')));
  return name.empty() ? m_staged[index].buildpack.name : name;
}

Expected<ReleaseInfo> BuildpackRunner::compile(std::size_t index, std::chrono::milliseconds timeout,
                                               const std::function<void(std::string_view)>& on_line,
                                               bool for_tests) {
  const Staged& staged = m_staged[index];
  const std::string& name = staged.buildpack.name;
  const char* script =
      for_tests && has_file(staged.copy, "bin/test-compile") ? "test-compile" : "compile";
  const bool releases = has_file(staged.copy, "bin/release");
  // bin/release in the same sandbox once bin/compile has succeeded, as a fresh one would run
  // it (the exports are sourced in a subshell of compile's own): a launch fewer per build.
  // Its stdout and stderr, and the word that compile succeeded, come back through pipes the
  // compile cannot write to (they are closed for it).
  auto yaml = TRY(PipeCapture::open());
  auto errors = TRY(PipeCapture::open());
  auto compiled = TRY(PipeCapture::open());
  Sandbox box = sandbox();
  // Source every earlier buildpack's `export`, then become bin/compile.
  std::vector<std::string> argv = {
      "/bin/bash",
      "-c",
      "bin=$1 app=$2 cache=$3 env=$4 release=$5 yaml=$6 errors=$7 compiled=$8; shift 8\n"
      "( exec {yaml}>&- {errors}>&- {compiled}>&-\n"
      "  for f in \"$@\"; do if [ -f \"$f\" ]; then . \"$f\"; fi; done\n"
      "  exec \"$bin\" \"$app\" \"$cache\" \"$env\" ) || exit\n"
      "echo compiled >&\"$compiled\"; exec {compiled}>&-\n"
      "[ -n \"$release\" ] || exit 0\n"
      "exec \"$release\" \"$app\" >&\"$yaml\" 2>&\"$errors\" {yaml}>&- {errors}>&-",
      "slipway-compile",
      box.path(staged.inside + "/bin/" + script),
      box.path("/app"),
      box.path("/cache"),
      box.path("/env"),
      releases ? box.path(staged.inside + "/bin/release") : "",
      yaml->descriptor(),
      errors->descriptor(),
      compiled->descriptor(),
  };
  for (std::size_t i = 0; i < index; ++i) {
    argv.push_back(box.path(m_staged[i].inside + "/export"));
  }
  ExitStatus result;
  {
    auto command = TRY(sandboxed(box, argv, timeout));
    command.on_line = on_line;
    for (const auto* pipe : {yaml.get(), errors.get(), compiled.get()}) {
      command.child.inherit.push_back(pipe->write_end());
    }
    result = TRY(run(command));
  }
  const bool compile_ok = !compiled->finish().first.empty();
  auto [output, overflow] = yaml->finish();
  auto [stderr_text, stderr_overflow] = errors->finish();
  const char* failed_script = compile_ok ? "release" : script;
  if (result.timed_out || !result.stopped_because.empty()) {
    return fail("buildpack '{}': bin/{} {}", name, failed_script, result.describe(timeout));
  }
  if (!compile_ok) {
    return fail("buildpack '{}' failed: bin/{} {}", name, script, result.describe());
  }
  if (!releases) {
    return ReleaseInfo{};
  }
  if (overflow) {
    return fail("buildpack '{}': bin/release printed more than {} bytes of YAML", name,
                k_max_captured_output);
  }
  if (result.code != 0) {
    std::string first_error = trim_line(stderr_text.substr(0, stderr_text.find('\n')));
    return fail("buildpack '{}': bin/release exited with status {}{}", name, result.code,
                first_error.empty() ? "" : ": " + first_error);
  }
  auto info = parse_release_yaml(output);
  if (!info) {
    return fail("buildpack '{}': bin/release printed {}", name, info.error().message);
  }
  return info;
}

namespace {

// The config vars in `env_dir` (a file per var), read without following a link out of it.
Expected<std::map<std::string, std::string>> read_env_dir(const fs::path& env_dir) {
  std::map<std::string, std::string> vars;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(env_dir, ec)) {
    std::string name = entry.path().filename().string();
    if (!is_config_var_name(name) || !entry.is_regular_file(ec) || entry.is_symlink(ec)) {
      continue;
    }
    if (auto value = TRY(read_beneath(env_dir, name))) {
      vars[name] = std::move(*value);
    }
  }
  if (ec) {
    return fail("cannot read the config vars in '{}': {}", env_dir.string(), ec.message());
  }
  return vars;
}

} // namespace

Expected<ExitStatus>
BuildpackRunner::run_app_command(const std::string& command, std::chrono::milliseconds timeout,
                                 const std::function<void(std::string_view)>& on_line) {
  Sandbox box = sandbox();
  auto env = TRY(read_env_dir(m_context.env_dir));
  auto run_command = TRY(sandboxed(
      box,
      {
          "/bin/bash",
          "-c",
          "for f in \"$HOME\"/.profile.d/*.sh; do if [ -r \"$f\" ]; then . \"$f\"; fi; done\n"
          "exec /bin/bash -c \"$1\"",
          "slipway-predeploy",
          command,
      },
      timeout, env));
  run_command.on_line = on_line;
  return run(run_command);
}

Expected<ExitStatus> BuildpackRunner::test(std::size_t index, std::chrono::milliseconds timeout,
                                           const std::function<void(std::string_view)>& on_line) {
  const Staged& staged = m_staged[index];
  if (!has_file(staged.copy, "bin/test")) {
    return fail("buildpack '{}' has no bin/test: name the tests in app.json "
                "environments.test.scripts.test",
                staged.buildpack.name);
  }
  Sandbox box = sandbox();
  auto env = TRY(read_env_dir(m_context.env_dir));
  std::vector<std::string> argv = {
      "/bin/bash",
      "-c",
      "bin=$1 app=$2 env=$3; shift 3\n"
      "for f in \"$@\"; do if [ -f \"$f\" ]; then . \"$f\"; fi; done\n"
      "for f in \"$app\"/.profile.d/*.sh; do if [ -r \"$f\" ]; then . \"$f\"; fi; done\n"
      "exec \"$bin\" \"$app\" \"$env\"",
      "slipway-test",
      box.path(staged.inside + "/bin/test"),
      box.path("/app"),
      box.path("/env"),
  };
  for (const Staged& each : m_staged) {
    argv.push_back(box.path(each.inside + "/export"));
  }
  auto command = TRY(sandboxed(box, argv, timeout, env));
  command.on_line = on_line;
  return run(command);
}

} // namespace slipway
