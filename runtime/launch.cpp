#include "runtime/launch.hpp"

#include "runtime/apps.hpp"

namespace slipway {

Expected<Command> launch_command(const LaunchSpec& spec) {
  Sandbox box(spec.sandbox, spec.app_dir);
  auto env = TRY(sandbox_environment(box, spec.env));
  auto command = box.command(
      {
          "/bin/bash",
          "-c",
          "for f in \"$HOME\"/.profile.d/*.sh; do if [ -r \"$f\" ]; then . \"$f\"; fi; done\n"
          "exec /bin/bash -c \"$1\"",
          "slipway-launch",
          spec.command,
      },
      env);
  if (!command) {
    return fail("cannot start the sandbox: {}", command.error().message);
  }
  return command;
}

Expected<SandboxSettings> process_sandbox(const Layout& layout, const Config& config,
                                          const std::string& app, std::string_view name) {
  auto identity = TRY(app_identity(layout, config, app));
  return SandboxSettings{
      .mode = config.build.sandbox,
      .identity = identity,
      .limits = {.memory = config.runtime.memory,
                 .processes = config.runtime.processes,
                 .file_size = config.runtime.max_disk},
      .cgroups = SandboxCgroups::create(layout.id(), app, name, config.runtime.memory,
                                        config.runtime.processes),
  };
}

} // namespace slipway
