// maintenance -a APP, maintenance:on -a APP, maintenance:off -a APP
#include <cstdio>

#include "cli/cli.hpp"
#include "ops/maintenance.hpp"

namespace slipway::cli {

namespace {

struct MaintenanceArgs {
  std::string app;
};

Expected<void> show(const Globals& globals, const MaintenanceArgs& args) {
  bool on = TRY(ops::maintenance(TRY(globals.context()), args.app));
  std::puts(on ? "on" : "off");
  return {};
}

Expected<void> turn(const Globals& globals, const MaintenanceArgs& args, bool on) {
  bool changed = TRY(ops::set_maintenance(TRY(globals.context()), {.app = args.app, .on = on}));
  print_line(fmt::format("{} maintenance mode for {}... done{}", on ? "Enabling" : "Disabling",
                         args.app,
                         changed ? "" : fmt::format(" (it was already {})", on ? "on" : "off")));
  return {};
}

} // namespace

void add_maintenance_commands(CLI::App& app, const Globals& globals, Action& action) {
  auto args = std::make_shared<MaintenanceArgs>();

  auto* maintenance =
      app.add_subcommand("maintenance", "whether an app is in maintenance mode: on or off");
  add_app_option(maintenance, args->app);
  maintenance->callback(choose(globals, action, args, show));

  auto* on = add_command(app, "maintenance:on",
                         "answer every request for an app with a 503 maintenance page; its "
                         "processes keep running");
  add_app_option(on, args->app);
  on->callback(choose(globals, action, args,
                      [](const Globals& g, const MaintenanceArgs& a) { return turn(g, a, true); }));

  auto* off = add_command(app, "maintenance:off", "route an app's requests to it again");
  add_app_option(off, args->app);
  off->callback(choose(globals, action, args, [](const Globals& g, const MaintenanceArgs& a) {
    return turn(g, a, false);
  }));
}

} // namespace slipway::cli
