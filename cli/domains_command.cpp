// domains -a APP, domains:add -a APP HOST, domains:remove -a APP HOST
#include <cstdio>

#include "cli/cli.hpp"
#include "ops/domains.hpp"

namespace slipway::cli {

namespace {

struct DomainsArgs {
  std::string app;
  std::string host;
  bool json = false;
};

Expected<void> list(const Globals& globals, const DomainsArgs& args) {
  auto hosts = TRY(ops::list_domains(TRY(globals.context()), args.app));
  if (args.json) {
    std::puts(nlohmann::json(hosts).dump(2).c_str());
    return {};
  }
  for (const auto& host : hosts) {
    std::puts(host.c_str());
  }
  return {};
}

Expected<void> add(const Globals& globals, const DomainsArgs& args) {
  auto host = TRY(ops::add_domain(TRY(globals.context()), {.app = args.app, .host = args.host}));
  print_line(fmt::format("Adding {} to {}... done", host, args.app));
  return {};
}

Expected<void> remove(const Globals& globals, const DomainsArgs& args) {
  auto host = TRY(ops::remove_domain(TRY(globals.context()), {.app = args.app, .host = args.host}));
  print_line(fmt::format("Removing {} from {}... done", host, args.app));
  return {};
}

} // namespace

void add_domains_commands(CLI::App& app, const Globals& globals, Action& action) {
  auto args = std::make_shared<DomainsArgs>();

  auto* domains = app.add_subcommand("domains", "list the host names an app answers");
  add_app_option(domains, args->app);
  domains->add_flag("--json", args->json, "print JSON");
  domains->callback(choose(globals, action, args, list));

  auto* add_cmd = add_command(app, "domains:add", "route a host name to an app");
  add_app_option(add_cmd, args->app);
  add_cmd
      ->add_option("HOST", args->host,
                   "e.g. www.example.com, or *.example.com for every name under it")
      ->required();
  add_cmd->callback(choose(globals, action, args, add));

  auto* remove_cmd = add_command(app, "domains:remove", "stop routing a host name to an app");
  add_app_option(remove_cmd, args->app);
  remove_cmd->add_option("HOST", args->host, "a host name domains lists")->required();
  remove_cmd->callback(choose(globals, action, args, remove));
}

} // namespace slipway::cli
