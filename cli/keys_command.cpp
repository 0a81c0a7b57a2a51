// keys, keys:add NAME [--admin] < key.pub, keys:remove NAME,
// access -a APP, access:add -a APP KEYNAME, access:remove -a APP KEYNAME,
// ssh-command KEYNAME (sshd's forced command)
#include <cstdio>
#include <iostream>

#include "cli/cli.hpp"
#include "hooks/ssh_command.hpp"
#include "ops/access.hpp"

namespace slipway::cli {

namespace {

struct KeysArgs {
  std::string app;
  std::string name;
  bool admin = false;
  bool json = false;
  std::string email;
};

Expected<void> list(const Globals& globals, const KeysArgs& args) {
  auto context = TRY(globals.context());
  auto keys = TRY(ops::list_keys(context));
  if (args.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& key : keys) {
      out.push_back({{"name", key.name},
                     {"admin", key.admin},
                     {"fingerprint", key.fingerprint},
                     {"email", key_email(key, context.config)},
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
  auto context = TRY(globals.context());
  // At most a little more than the operation accepts: a bigger input is refused, not cut.
  std::string text(64 * 1024 + 1, '\0');
  std::cin.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(std::cin.gcount()));
  auto key = TRY(ops::add_key(
      context, {.name = args.name, .public_key = text, .admin = args.admin, .email = args.email}));
  print_line(fmt::format("Added key '{}'{} ({}) to {}", key.name, key.admin ? " as an admin" : "",
                         key.fingerprint, authorized_keys_path(context.config).string()));
  return {};
}

Expected<void> remove(const Globals& globals, const KeysArgs& args) {
  TRY(ops::remove_key(TRY(globals.context()), args.name));
  print_line(fmt::format("Removed key '{}'", args.name));
  return {};
}

Expected<void> access_list(const Globals& globals, const KeysArgs& args) {
  auto access = TRY(ops::app_access(TRY(globals.context()), args.app));
  if (args.json) {
    std::puts(nlohmann::json(access.collaborators).dump(2).c_str());
    return {};
  }
  for (const auto& name : access.admins) {
    std::printf("%s (admin)\n", name.c_str());
  }
  for (const auto& name : access.collaborators) {
    std::puts(name.c_str());
  }
  return {};
}

Expected<void> grant(const Globals& globals, const KeysArgs& args) {
  TRY(ops::grant_access(TRY(globals.context()), {.app = args.app, .key = args.name}));
  print_line(fmt::format("Granted {}'s access to {}", args.name, args.app));
  return {};
}

Expected<void> revoke(const Globals& globals, const KeysArgs& args) {
  TRY(ops::revoke_access(TRY(globals.context()), {.app = args.app, .key = args.name}));
  print_line(fmt::format("Revoked {}'s access to {}", args.name, args.app));
  return {};
}

Expected<void> ssh_command(const Globals& globals, const KeysArgs& args) {
  return run_ssh_command(globals.layout(), args.name);
}

} // namespace

void add_keys_commands(CLI::App& app, const Globals& globals, Action& action) {
  auto args = std::make_shared<KeysArgs>();

  auto* keys = app.add_subcommand("keys", "list the ssh keys that may use this server");
  keys->add_flag("--json", args->json, "print JSON");
  keys->callback(choose(globals, action, args, list));

  auto* add_cmd = add_command(app, "keys:add", "add an ssh public key (read from stdin)");
  add_cmd->add_option("NAME", args->name, "who the key belongs to, e.g. alice")->required();
  add_cmd->add_flag("--admin", args->admin, "may do everything, including creating apps");
  add_cmd->add_option("--email", args->email,
                      "the email the key is known by in the Platform API (default NAME@DOMAIN)");
  add_cmd->callback(choose(globals, action, args, add));

  auto* remove_cmd = add_command(app, "keys:remove", "remove an ssh key and its access");
  remove_cmd->add_option("NAME", args->name, "the key's name")->required();
  remove_cmd->callback(choose(globals, action, args, remove));

  auto* access = app.add_subcommand("access", "list the keys that may use an app");
  add_app_option(access, args->app);
  access->add_flag("--json", args->json, "print JSON (the collaborators)");
  access->callback(choose(globals, action, args, access_list));

  auto* grant_cmd = add_command(app, "access:add", "let a key push to and manage an app");
  add_app_option(grant_cmd, args->app);
  grant_cmd->add_option("KEYNAME", args->name, "the key's name or email")->required();
  grant_cmd->callback(choose(globals, action, args, grant));

  auto* revoke_cmd = add_command(app, "access:remove", "take a key's access to an app away");
  add_app_option(revoke_cmd, args->app);
  revoke_cmd->add_option("KEYNAME", args->name, "the key's name or email")->required();
  revoke_cmd->callback(choose(globals, action, args, revoke));

  auto* ssh = app.add_subcommand("ssh-command", "sshd's forced command for a key (internal)");
  ssh->add_option("KEYNAME", args->name, "the key's name")->required();
  ssh->group(""); // hidden
  ssh->callback(choose(globals, action, args, ssh_command));
}

} // namespace slipway::cli
