// chat:link KEY (--slack-user U | --mattermost-user U), chat:unlink (--slack-user U |
// --mattermost-user U), chat:links, chat:setup (--slack-signing-secret - | --mattermost-token -),
// and the hidden chat:run (a slash command's long work, started by the API).
#include <cstdio>
#include <iostream>

#include "cli/cli.hpp"
#include "common/output.hpp"
#include "ops/chat.hpp"

namespace slipway::cli {

namespace {

struct ChatArgs {
  std::string key;
  std::string slack_user;
  std::string mattermost_user;
  std::string slack_secret;
  std::string mattermost_token;
  std::string platform;
  std::string user;
  std::string response_url;
  std::vector<std::string> words;
};

Expected<std::pair<std::string, std::string>> chat_user(const ChatArgs& args) {
  if (args.slack_user.empty() == args.mattermost_user.empty()) {
    return usage_error("give one of --slack-user U or --mattermost-user U");
  }
  return args.slack_user.empty() ? std::pair("mattermost", args.mattermost_user)
                                 : std::pair("slack", args.slack_user);
}

Expected<void> link(const Globals& globals, const ChatArgs& args) {
  auto [platform, user] = TRY(chat_user(args));
  TRY(ops::link_chat_user(TRY(globals.context()),
                          {.platform = platform, .user = user, .key = args.key}));
  print_line(fmt::format("{} user {} acts as key {}", platform, user, args.key));
  return {};
}

Expected<void> unlink(const Globals& globals, const ChatArgs& args) {
  auto [platform, user] = TRY(chat_user(args));
  TRY(ops::unlink_chat_user(TRY(globals.context()), platform, user));
  print_line(fmt::format("{} user {} unlinked", platform, user));
  return {};
}

Expected<void> links(const Globals& globals, const ChatArgs&) {
  for (const auto& each : TRY(ops::chat_links(TRY(globals.context())))) {
    std::printf("%-11s %-24s %s\n", each.platform.c_str(), each.user.c_str(), each.key.c_str());
  }
  return {};
}

// A secret is read from stdin, never taken on the command line (shell history, ps).
Expected<void> setup(const Globals& globals, const ChatArgs& args) {
  if (args.slack_secret.empty() == args.mattermost_token.empty()) {
    return usage_error("give one of --slack-signing-secret - or --mattermost-token -");
  }
  if ((args.slack_secret.empty() ? args.mattermost_token : args.slack_secret) != "-") {
    return usage_error("the secret is read from stdin: pass '-'");
  }
  std::string secret;
  std::getline(std::cin, secret);
  std::string platform = args.slack_secret.empty() ? "mattermost" : "slack";
  TRY(ops::set_chat_secret(TRY(globals.context()), platform, secret));
  print_line(fmt::format("{}'s secret is set", platform));
  return {};
}

Expected<void> run(const Globals& globals, const ChatArgs& args) {
  return ops::run_chat_command(globals.layout(), args.platform, args.user, args.response_url,
                               args.words);
}

} // namespace

void add_chat_commands(CLI::App& app, const Globals& globals, Action& action) {
  auto args = std::make_shared<ChatArgs>();
  auto user_options = [&](CLI::App* command) {
    command->add_option("--slack-user", args->slack_user, "a Slack user id (U123)");
    command->add_option("--mattermost-user", args->mattermost_user, "a Mattermost user id");
  };

  auto* link_cmd = add_command(app, "chat:link", "let a chat user act as a key (an admin's)");
  link_cmd->add_option("KEY", args->key, "the key")->required();
  user_options(link_cmd);
  link_cmd->callback(choose(globals, action, args, link));

  auto* unlink_cmd = add_command(app, "chat:unlink", "unlink a chat user");
  user_options(unlink_cmd);
  unlink_cmd->callback(choose(globals, action, args, unlink));

  auto* links_cmd = add_command(app, "chat:links", "list linked chat users");
  links_cmd->callback(choose(globals, action, args, links));

  auto* setup_cmd =
      add_command(app, "chat:setup", "set Slack's signing secret or Mattermost's token");
  setup_cmd->add_option("--slack-signing-secret", args->slack_secret, "'-': read from stdin");
  setup_cmd->add_option("--mattermost-token", args->mattermost_token, "'-': read from stdin");
  setup_cmd->callback(choose(globals, action, args, setup));

  auto* run_cmd = add_command(app, "chat:run", "do a slash command's long work");
  run_cmd->add_option("--platform", args->platform)->required();
  run_cmd->add_option("--user", args->user)->required();
  run_cmd->add_option("--response-url", args->response_url)->required();
  run_cmd->add_option("WORDS", args->words)->required();
  run_cmd->group("");
  run_cmd->callback(choose(globals, action, args, run));
}

} // namespace slipway::cli
