// credentials, credentials:add NAME (--token - | --ssh-key FILE|-), credentials:remove NAME
#include <cstdio>
#include <iostream>

#include "cli/cli.hpp"
#include "common/files.hpp"
#include "common/output.hpp"
#include "ops/credentials.hpp"

namespace slipway::cli {

namespace {

struct CredentialsArgs {
  std::string name;
  std::string token;   // "-": from stdin
  std::string ssh_key; // a file, or "-": from stdin
  bool json = false;
};

// All of stdin, up to `limit` bytes and one more (so that a longer one is refused, not cut),
// without one final newline.
std::string read_stdin(std::size_t limit) {
  std::string text(limit + 1, '\0');
  std::cin.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(std::cin.gcount()));
  return text;
}

Expected<void> list(const Globals& globals, const CredentialsArgs& args) {
  auto credentials = TRY(ops::list_credentials(TRY(globals.context())));
  if (args.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& credential : credentials) {
      out.push_back({{"name", credential.name},
                     {"kind", to_string(credential.kind)},
                     {"added_at", format_time(credential.added_at)}});
    }
    std::puts(out.dump(2).c_str());
    return {};
  }
  for (const auto& credential : credentials) {
    std::printf("%-32s %-8s %s\n", credential.name.c_str(),
                std::string(to_string(credential.kind)).c_str(),
                format_time(credential.added_at).c_str());
  }
  return {};
}

Expected<void> add(const Globals& globals, const CredentialsArgs& args) {
  auto context = TRY(globals.context());
  if (args.token.empty() == args.ssh_key.empty()) {
    return usage_error("give one secret: --token - (read from stdin) or --ssh-key FILE|-");
  }
  ops::AddCredential request{.name = args.name};
  if (!args.token.empty()) {
    if (args.token != "-") {
      // On the command line a token would sit in the shell's history and in ps.
      return usage_error("--token takes '-' and reads the token from stdin");
    }
    request.kind = CredentialKind::token;
    request.secret = read_stdin(1024);
    while (!request.secret.empty() &&
           (request.secret.back() == '\n' || request.secret.back() == '\r')) {
      request.secret.pop_back();
    }
  } else {
    request.kind = CredentialKind::ssh_key;
    if (args.ssh_key == "-") {
      request.secret = read_stdin(16 * 1024);
    } else if (!context.actor.local) {
      // Over ssh a path would be one on this server, of the caller's choosing.
      return usage_error("over ssh, --ssh-key takes '-' and reads the key from stdin");
    } else {
      request.secret = TRY(read_file(args.ssh_key));
    }
  }
  auto added = TRY(ops::add_credential(context, request));
  print_line(fmt::format("Added credential '{}' ({})", added.name, to_string(added.kind)));
  return {};
}

Expected<void> remove(const Globals& globals, const CredentialsArgs& args) {
  TRY(ops::remove_credential(TRY(globals.context()), args.name));
  print_line(fmt::format("Removed credential '{}'", args.name));
  return {};
}

} // namespace

void add_credentials_commands(CLI::App& app, const Globals& globals, Action& action) {
  auto args = std::make_shared<CredentialsArgs>();

  auto* list_cmd = app.add_subcommand("credentials", "list git-host credentials (never secrets)");
  list_cmd->add_flag("--json", args->json, "print JSON");
  list_cmd->callback(choose(globals, action, args, list));

  auto* add_cmd = add_command(app, "credentials:add",
                              "add a git-host credential: a deploy key or a token (an admin's)");
  add_cmd->add_option("NAME", args->name, "its name")->required();
  add_cmd->add_option("--token", args->token, "'-': read a token from stdin");
  add_cmd->add_option("--ssh-key", args->ssh_key, "a private key file, or '-' for stdin");
  add_cmd->callback(choose(globals, action, args, add));

  auto* remove_cmd = add_command(app, "credentials:remove", "remove a git-host credential");
  remove_cmd->add_option("NAME", args->name, "its name")->required();
  remove_cmd->callback(choose(globals, action, args, remove));
}

} // namespace slipway::cli
