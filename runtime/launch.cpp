#include "runtime/launch.hpp"

namespace slipway {

Command launch_command(const LaunchSpec& spec) {
  Sandbox box(spec.sandbox, spec.app_dir);
  Command command;
  command.argv = box.wrap({
      "/bin/bash",
      "-c",
      "for f in \"$HOME\"/.profile.d/*.sh; do if [ -r \"$f\" ]; then . \"$f\"; fi; done\n"
      "exec /bin/bash -c \"$1\"",
      "slipway-launch",
      spec.command,
  });
  command.clear_env = true;
  command.env = {
      {"PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
      {"LANG", "C.UTF-8"},
  };
  for (const auto& [name, value] : spec.env) {
    command.env[name] = value;
  }
  command.env["HOME"] = box.path("/app");
  command.cwd = spec.app_dir;
  return command;
}

} // namespace slipway
