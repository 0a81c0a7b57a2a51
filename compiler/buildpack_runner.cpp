// The Heroku buildpack API in the sandbox: bin/detect, bin/compile and bin/release (in
// compile's sandbox), Heroku CI's bin/test, and a command of the app's own after the build.
#include <algorithm>
#include <fcntl.h>

#include "common/lines.hpp"
#include "common/paths.hpp"
#include "common/pipe_capture.hpp"
#include "common/subprocess.hpp"
#include "common/tree.hpp"
#include "compiler/buildpack.hpp"

namespace slipway {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t k_max_captured_output = 1 << 20;

std::string trim_line(std::string_view s) {
  return std::string(trim(s, " \t\r\n"));
}

} // namespace

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

Expected<std::optional<std::string>> BuildpackRunner::detect(std::size_t index,
                                                             std::chrono::milliseconds timeout) {
  const Staged& staged = m_staged[index];
  if (!has_buildpack_file(staged.copy, "bin/detect")) {
    return staged.buildpack.name;
  }
  Sandbox box = sandbox();
  Command command =
      TRY(sandboxed(box, {box.path(staged.inside + "/bin/detect"), box.path("/app")}, timeout));
  std::string output;
  bool overflow = false;
  command.on_line = [&](std::string_view line) {
    if (output.size() + line.size() >= k_max_captured_output) {
      overflow = true;
      return;
    }
    output.append(line).push_back('\n');
  };
  std::string errors;
  command.on_stderr_line = [&](std::string_view line) {
    if (errors.size() < k_max_captured_output) {
      errors.append(line).push_back('\n');
    }
  };
  auto result = TRY(run(command));
  if (result.timed_out || !result.stopped_because.empty()) {
    return fail("buildpack '{}': bin/detect {}", staged.buildpack.name, result.describe(timeout));
  }
  if (overflow) {
    return fail("buildpack '{}': bin/detect printed more than {} bytes of detect output",
                staged.buildpack.name, k_max_captured_output);
  }
  if (result.code != 0) {
    if (std::string error = trim_line(errors.substr(0, errors.find('\n')));
        error.starts_with("bwrap: ")) {
      return fail("cannot start the sandbox: {}", error);
    }
    return std::nullopt;
  }
  std::string name = trim_line(output.substr(0, output.find('\n')));
  return name.empty() ? staged.buildpack.name : name;
}

Expected<ReleaseInfo> BuildpackRunner::compile(std::size_t index, std::chrono::milliseconds timeout,
                                               const std::function<void(std::string_view)>& on_line,
                                               bool for_tests) {
  const Staged& staged = m_staged[index];
  const std::string& name = staged.buildpack.name;
  const char* script =
      for_tests && has_buildpack_file(staged.copy, "bin/test-compile") ? "test-compile" : "compile";
  const bool releases = has_buildpack_file(staged.copy, "bin/release");
  // bin/release in the same sandbox once bin/compile has succeeded, as a fresh one would run
  // it (the exports are sourced in a subshell of compile's own): a launch fewer per build.
  // Its stdout and stderr, and the word that compile succeeded, come back through pipes the
  // compile cannot write to (they are closed for it).
  auto yaml = TRY(PipeCapture::open(k_max_captured_output));
  auto errors = TRY(PipeCapture::open(k_max_captured_output));
  auto compiled = TRY(PipeCapture::open(k_max_captured_output));
  Sandbox box = sandbox();
  // In a subshell, source every earlier buildpack's `export` and become bin/compile; once it
  // has succeeded, say so and become bin/release.
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
  if (!has_buildpack_file(staged.copy, "bin/test")) {
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
