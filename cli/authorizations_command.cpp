// authorizations [--json], authorizations:create [-d DESCRIPTION] [-e SECONDS] [--key NAME]
// [--short], authorizations:revoke ID: the API tokens of a key.
#include <cstdio>

#include "cli/cli.hpp"
#include "ops/authorizations.hpp"

namespace slipway::cli {

namespace {

struct AuthorizationsArgs {
  std::string key;
  std::string description;
  std::optional<long long> expires_in;
  std::string id;
  bool json = false;
  bool short_output = false;
};

std::string expiry_text(const Authorization& authorization) {
  if (!authorization.expires_at) {
    return "never";
  }
  return format_time(*authorization.expires_at) +
         (authorization.expired(std::chrono::system_clock::now()) ? " (expired)" : "");
}

Expected<void> list(const Globals& globals, const AuthorizationsArgs& args) {
  auto all = TRY(ops::list_authorizations(TRY(globals.context())));
  if (args.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& authorization : all) {
      out.push_back({{"id", authorization.id},
                     {"key", authorization.key},
                     {"description", authorization.description},
                     {"created_at", format_time(authorization.created_at)},
                     {"expires_at", authorization.expires_at
                                        ? nlohmann::json(format_time(*authorization.expires_at))
                                        : nlohmann::json()}});
    }
    std::puts(out.dump(2).c_str());
    return {};
  }
  if (all.empty()) {
    print_line("No API tokens. Make one: authorizations:create");
    return {};
  }
  for (const auto& authorization : all) {
    std::printf("%s  %-16s %-28s expires %s\n", authorization.id.c_str(), authorization.key.c_str(),
                authorization.description.empty() ? "-" : authorization.description.c_str(),
                expiry_text(authorization).c_str());
  }
  return {};
}

Expected<void> create(const Globals& globals, const AuthorizationsArgs& args) {
  std::optional<std::chrono::seconds> expires_in;
  if (args.expires_in) {
    expires_in = std::chrono::seconds(*args.expires_in);
  }
  auto made = TRY(ops::create_authorization(
      TRY(globals.context()),
      {.key = args.key, .description = args.description, .expires_in = expires_in}));
  if (args.short_output) {
    std::puts(made.token.c_str());
    return {};
  }
  print_line(fmt::format("Created an API token for key {}. It is shown this once: keep it "
                         "secret.",
                         made.authorization.key));
  std::printf("ID:          %s\nDescription: %s\nExpires at:  %s\nToken:       %s\n",
              made.authorization.id.c_str(), made.authorization.description.c_str(),
              expiry_text(made.authorization).c_str(), made.token.c_str());
  return {};
}

Expected<void> revoke(const Globals& globals, const AuthorizationsArgs& args) {
  auto revoked = TRY(ops::revoke_authorization(TRY(globals.context()), args.id));
  print_line(fmt::format("Revoked API token {} of key {}", revoked.id, revoked.key));
  return {};
}

} // namespace

void add_authorizations_commands(CLI::App& app, const Globals& globals, Action& action) {
  auto args = std::make_shared<AuthorizationsArgs>();

  auto* listing =
      app.add_subcommand("authorizations", "list API tokens: your key's (an admin's: every key's)");
  listing->add_flag("--json", args->json, "print JSON");
  listing->callback(choose(globals, action, args, list));

  auto* create_cmd = add_command(app, "authorizations:create",
                                 "make an API token for the Platform API (shown once)");
  create_cmd->add_option("-d,--description", args->description, "what the token is for");
  create_cmd->add_option("-e,--expires-in", args->expires_in, "seconds until it expires");
  create_cmd->add_option("--key", args->key,
                         "the key it acts as (the server's local user must name one)");
  create_cmd->add_flag("-S,--short", args->short_output, "print only the token");
  create_cmd->callback(choose(globals, action, args, create));

  auto* revoke_cmd = add_command(app, "authorizations:revoke", "revoke an API token");
  revoke_cmd->add_option("ID", args->id, "the token's id (see `authorizations`)")->required();
  revoke_cmd->callback(choose(globals, action, args, revoke));
}

} // namespace slipway::cli
