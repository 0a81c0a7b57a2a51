// domains -a APP, domains:add -a APP HOST, domains:remove -a APP HOST
#include <algorithm>
#include <cstdio>

#include "cli/cli.hpp"
#include "common/file_lock.hpp"

namespace slipway::cli {

namespace {

struct DomainsArgs {
  std::string app;
  std::string host;
  bool json = false;
};

Expected<void> list(const Globals& globals, const DomainsArgs& args) {
  auto config = globals.config();
  if (!config) {
    return std::unexpected(config.error());
  }
  auto info = app_info(globals.layout(), args.app);
  if (!info) {
    return std::unexpected(info.error());
  }
  std::vector<std::string> hosts{fmt::format("{}.{}", args.app, config->server.domain)};
  hosts.insert(hosts.end(), info->domains.begin(), info->domains.end());
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
  if (auto valid = validate_domain(args.host); !valid) {
    return valid;
  }
  auto operation = open_app(globals, args.app, false);
  if (!operation) {
    return std::unexpected(operation.error());
  }
  // One lock for every app's domains, so two apps cannot claim a host at once.
  auto lock =
      FileLock::acquire(operation->layout.run_dir() / "domains.lock", FileLock::Mode::exclusive);
  if (!lock) {
    return std::unexpected(lock.error());
  }
  if (auto allowed = check_domain_claim(operation->layout, operation->config, args.app, args.host);
      !allowed) {
    return allowed;
  }
  auto changed = change_app_settings(*operation, [&](AppInfo& info) -> Expected<Event> {
    info.domains.push_back(args.host);
    return Event{.resource = "domain",
                 .action = "added",
                 .data = {{"hostname", args.host}, {"message", "Added domain " + args.host}}};
  });
  if (!changed) {
    return changed;
  }
  print_line(fmt::format("Adding {} to {}... done", args.host, args.app));
  return {};
}

Expected<void> remove(const Globals& globals, const DomainsArgs& args) {
  auto operation = open_app(globals, args.app, false);
  if (!operation) {
    return std::unexpected(operation.error());
  }
  auto changed = change_app_settings(*operation, [&](AppInfo& info) -> Expected<Event> {
    if (std::erase(info.domains, args.host) == 0) {
      return fail("'{}' is not a domain of {}", args.host, args.app);
    }
    return Event{.resource = "domain",
                 .action = "removed",
                 .data = {{"hostname", args.host}, {"message", "Removed domain " + args.host}}};
  });
  if (!changed) {
    return changed;
  }
  print_line(fmt::format("Removing {} from {}... done", args.host, args.app));
  return {};
}

} // namespace

void add_domains_commands(CLI::App& app, const Globals& globals, Action& action) {
  auto args = std::make_shared<DomainsArgs>();

  auto* domains = app.add_subcommand("domains", "list the host names an app answers");
  add_app_option(domains, args->app);
  domains->add_flag("--json", args->json, "print JSON");
  domains->callback([&, args] { action = [&globals, args] { return list(globals, *args); }; });

  auto* add_cmd = add_command(app, "domains:add", "route a host name to an app");
  add_app_option(add_cmd, args->app);
  add_cmd->add_option("HOST", args->host, "e.g. www.example.com")->required();
  add_cmd->callback([&, args] { action = [&globals, args] { return add(globals, *args); }; });

  auto* remove_cmd = add_command(app, "domains:remove", "stop routing a host name to an app");
  add_app_option(remove_cmd, args->app);
  remove_cmd->add_option("HOST", args->host, "a host name domains lists")->required();
  remove_cmd->callback([&, args] { action = [&globals, args] { return remove(globals, *args); }; });
}

} // namespace slipway::cli
