// slipway init [--domain D] [--http-port N] [--api-listen ADDRESS:PORT]
#include <cstdio>

#include "cli/cli.hpp"

namespace slipway::cli {

void add_init_command(CLI::App& app, const Globals& globals, Action& action) {
  auto options = std::make_shared<InitOptions>();
  auto* cmd = app.add_subcommand("init", "create slipway's root directory and slipway.toml");
  cmd->add_option("--domain", options->domain, "apps answer at APP.DOMAIN (default localhost)");
  cmd->add_option("--http-port", options->http_port, "the port the router listens on")
      ->check(CLI::Range(1, 65535));
  cmd->add_option("--api-listen", options->api_listen,
                  "ADDRESS:PORT the Platform API listens on (default 127.0.0.1:5000; port 0: any "
                  "free one but the router's and the apps')");
  cmd->callback([&globals, &action, options] {
    action = [&globals, options]() -> Expected<void> {
      auto layout = globals.layout();
      if (auto done = init_root(layout, *options); !done) {
        return done;
      }
      std::printf("Initialised slipway in %s\n", layout.root().c_str());
      return {};
    };
  });
}

} // namespace slipway::cli
