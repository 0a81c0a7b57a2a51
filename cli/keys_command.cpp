// keys, keys:add NAME [--admin] < key.pub, keys:remove NAME,
// access -a APP, access:add -a APP KEYNAME, access:remove -a APP KEYNAME,
// ssh-command KEYNAME (sshd's forced command)
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <iterator>

#include "cli/cli.hpp"
#include "hooks/access.hpp"
#include "hooks/ssh_command.hpp"

namespace slipway::cli {

namespace {

struct KeysArgs {
  std::string app;
  std::string name;
  bool admin = false;
  bool json = false;
};

Expected<void> list(const Globals& globals, bool json) {
  auto keys = list_keys(globals.layout());
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& key : keys) {
      out.push_back({{"name", key.name},
                     {"admin", key.admin},
                     {"fingerprint", key.fingerprint},
                     {"added_at", format_time(key.added_at)}});
    }
    std::puts(out.dump(2).c_str());
    return {};
  }
  for (const auto& key : keys) {
    std::printf("%-20s %-6s %s\n", key.name.c_str(), key.admin ? "admin" : "-",
                key.fingerprint.c_str());
  }
  return {};
}

Expected<void> add(const Globals& globals, const KeysArgs& args) {
  auto config = globals.config();
  if (!config) {
    return std::unexpected(config.error());
  }
  std::string text(std::istreambuf_iterator<char>(std::cin), {});
  if (text.size() > 65536) {
    return usage_error("the public key on stdin is {} bytes; a key is at most a few KB",
                       text.size());
  }
  auto key = add_key(globals.layout(), *config, args.name, text, args.admin);
  if (!key) {
    return std::unexpected(key.error());
  }
  print_line(fmt::format("Added key '{}'{} ({}) to {}", key->name, key->admin ? " as an admin" : "",
                         key->fingerprint, authorized_keys_path(*config).string()));
  return {};
}

Expected<void> remove(const Globals& globals, const KeysArgs& args) {
  auto config = globals.config();
  if (!config) {
    return std::unexpected(config.error());
  }
  if (auto removed = remove_key(globals.layout(), *config, args.name); !removed) {
    return removed;
  }
  print_line(fmt::format("Removed key '{}'", args.name));
  return {};
}

Expected<void> access_list(const Globals& globals, const KeysArgs& args) {
  auto info = app_info(globals.layout(), args.app);
  if (!info) {
    return std::unexpected(info.error());
  }
  std::vector<std::string> names;
  for (const auto& key : list_keys(globals.layout())) {
    if (key.admin) {
      names.push_back(key.name + " (admin)");
    }
  }
  names.insert(names.end(), info->access.begin(), info->access.end());
  if (args.json) {
    std::puts(nlohmann::json(info->access).dump(2).c_str());
    return {};
  }
  for (const auto& name : names) {
    std::puts(name.c_str());
  }
  return {};
}

Expected<void> access_change(const Globals& globals, const KeysArgs& args, bool granting) {
  auto operation = open_app(globals, args.app, false);
  if (!operation) {
    return std::unexpected(operation.error());
  }
  if (auto valid = validate_key_name(args.name); !valid) {
    return valid;
  }
  if (granting) {
    if (auto key = find_key(operation->layout, args.name); !key) {
      return std::unexpected(key.error());
    }
  }
  auto changed = change_app_settings(*operation, [&](AppInfo& info) -> Expected<Event> {
    bool present = std::ranges::find(info.access, args.name) != info.access.end();
    if (granting && present) {
      return fail("key '{}' has access to {} already", args.name, args.app);
    }
    if (!granting && !present) {
      return fail("key '{}' has no access to {}", args.name, args.app);
    }
    if (granting) {
      info.access.push_back(args.name);
    } else {
      std::erase(info.access, args.name);
    }
    return Event{.resource = "access",
                 .action = granting ? "granted" : "revoked",
                 .data = {{"key", args.name},
                          {"message", fmt::format("{} access for key {}",
                                                  granting ? "Granted" : "Revoked", args.name)}}};
  });
  if (!changed) {
    return changed;
  }
  print_line(
      fmt::format("{} {}'s access to {}", granting ? "Granted" : "Revoked", args.name, args.app));
  return {};
}

} // namespace

void add_keys_commands(CLI::App& app, const Globals& globals, Action& action) {
  auto args = std::make_shared<KeysArgs>();

  auto* keys = app.add_subcommand("keys", "list the ssh keys that may use this server");
  keys->add_flag("--json", args->json, "print JSON");
  keys->callback([&, args] { action = [&globals, args] { return list(globals, args->json); }; });

  auto* add_cmd = add_command(app, "keys:add", "add an ssh public key (read from stdin)");
  add_cmd->add_option("NAME", args->name, "who the key belongs to, e.g. alice")->required();
  add_cmd->add_flag("--admin", args->admin, "may do everything, including creating apps");
  add_cmd->callback([&, args] { action = [&globals, args] { return add(globals, *args); }; });

  auto* remove_cmd = add_command(app, "keys:remove", "remove an ssh key and its access");
  remove_cmd->add_option("NAME", args->name, "the key's name")->required();
  remove_cmd->callback([&, args] { action = [&globals, args] { return remove(globals, *args); }; });

  auto* access = app.add_subcommand("access", "list the keys that may use an app");
  add_app_option(access, args->app);
  access->add_flag("--json", args->json, "print JSON (the collaborators)");
  access->callback(
      [&, args] { action = [&globals, args] { return access_list(globals, *args); }; });

  auto* grant = add_command(app, "access:add", "let a key push to and manage an app");
  add_app_option(grant, args->app);
  grant->add_option("KEYNAME", args->name, "the key's name")->required();
  grant->callback(
      [&, args] { action = [&globals, args] { return access_change(globals, *args, true); }; });

  auto* revoke = add_command(app, "access:remove", "take a key's access to an app away");
  add_app_option(revoke, args->app);
  revoke->add_option("KEYNAME", args->name, "the key's name")->required();
  revoke->callback(
      [&, args] { action = [&globals, args] { return access_change(globals, *args, false); }; });

  auto* ssh = app.add_subcommand("ssh-command", "sshd's forced command for a key (internal)");
  ssh->add_option("KEYNAME", args->name, "the key's name")->required();
  ssh->group(""); // hidden
  ssh->callback([&, args] {
    action = [&globals, args] { return run_ssh_command(globals.layout(), args->name); };
  });
}

} // namespace slipway::cli
