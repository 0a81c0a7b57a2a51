// slipway: a self-hosted "git push to deploy" platform. One binary, Heroku-style commands.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "cli/cli.hpp"
#include "common/output.hpp"
#include "common/suggest.hpp"
#include "ops/rights.hpp"

namespace slipway::cli {

namespace {

std::filesystem::path default_root() {
  if (const char* env = std::getenv("SLIPWAY_ROOT"); env && *env) {
    return env;
  }
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home && *home ? home : "/") / ".slipway";
}

// Where the command word is: the first argument that is neither an option nor the value
// of --root or -a. An `-a APP` before it (Heroku's CLI takes flags anywhere) moves after it.
std::optional<std::size_t> command_word(std::vector<std::string>& args) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    bool app = args[i] == "-a" || args[i] == "--app";
    if ((app || args[i] == "--root") && i + 1 < args.size()) {
      ++i;
    } else if (!args[i].starts_with('-')) {
      for (std::size_t j = 0; j + 1 < i; ++j) {
        if (args[j] == "-a" || args[j] == "--app") {
          std::rotate(args.begin() + j, args.begin() + j + 2, args.begin() + i + 1);
          return command_word(args);
        }
      }
      return i;
    }
  }
  return std::nullopt;
}

// Every command's name, as typed ("config:set"), and the aliases.
std::vector<std::string> command_names(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::App* command : app.get_subcommands([](const CLI::App*) { return true; })) {
    names.push_back(from_cli11_text(command->get_name()));
  }
  for (const auto& alias : ops::command_aliases()) {
    names.emplace_back(alias.alias);
  }
  return names;
}

const CLI::App* find_command(const CLI::App& app, std::string_view name) {
  auto found = app.get_subcommands([&](const CLI::App* command) {
    return command->get_name() == to_cli11_name(ops::canonical_command(name));
  });
  return found.empty() ? nullptr : found.front();
}

int unknown(const CLI::App& app, std::string_view what, std::string_view word) {
  auto suggestion = nearest(word, command_names(app));
  std::fprintf(stderr, "slipway: unknown %.*s '%s'%s\nusage: see 'slipway help'\n",
               static_cast<int>(what.size()), what.data(), printable(word).c_str(),
               suggestion ? fmt::format("; did you mean '{}'?", *suggestion).c_str() : "");
  return 2;
}

// `slipway help [TOPIC]`: everything, one command's help, or the commands of a topic
// ("config": config, config:get, config:set, config:unset).
int help(const CLI::App& app, const std::vector<std::string>& topics) {
  if (topics.empty()) {
    std::fputs(from_cli11_text(app.help()).c_str(), stdout);
    return 0;
  }
  const std::string& topic = topics.front();
  const CLI::App* command = find_command(app, topic);
  std::string listing;
  for (const CLI::App* other : app.get_subcommands([](const CLI::App*) { return true; })) {
    std::string name = from_cli11_text(other->get_name());
    if (name.starts_with(topic + ":") && other != command) {
      listing += fmt::format("  {:<20} {}\n", name, other->get_description());
    }
  }
  if (!command && listing.empty()) {
    return unknown(app, "help topic", topic);
  }
  if (command) {
    std::fputs(from_cli11_text(command->help()).c_str(), stdout);
  }
  if (!listing.empty()) {
    std::printf("%s%s commands:\n%s", command ? "\n" : "", topic.c_str(), listing.c_str());
  }
  return 0;
}

} // namespace

} // namespace slipway::cli

int main(int argc, char** argv) {
  using namespace slipway::cli;
  CLI::App app("slipway: git push to deploy, on your own server", "slipway");
  app.require_subcommand(1);
  app.set_version_flag("--version", "slipway " SLIPWAY_VERSION);
  Globals globals{default_root()};
  app.add_option("--root", globals.root, "slipway's data directory ($SLIPWAY_ROOT, ~/.slipway)");

  Action action;
  add_init_command(app, globals, action);
  add_apps_commands(app, globals, action);
  add_build_command(app, globals, action);
  add_deploy_command(app, globals, action);
  add_releases_commands(app, globals, action);
  add_config_commands(app, globals, action);
  add_hook_commands(app, globals, action);
  add_daemon_command(app, globals, action);
  add_ps_commands(app, globals, action);
  add_logs_command(app, globals, action);
  add_events_command(app, globals, action);
  add_domains_commands(app, globals, action);
  add_maintenance_commands(app, globals, action);
  add_images_commands(app, globals, action);
  add_keys_commands(app, globals, action);
  add_authorizations_commands(app, globals, action);
  add_pipelines_commands(app, globals, action);
  add_ci_commands(app, globals, action);
  add_reviewapps_commands(app, globals, action);
  add_credentials_commands(app, globals, action);
  add_connect_commands(app, globals, action);
  add_webhooks_commands(app, globals, action);
  add_chat_commands(app, globals, action);

  // The command word: an alias becomes its command, and "config:set" the name CLI11 knows
  // it by; a word that is no command gets a suggestion rather than CLI11's complaint.
  std::vector<std::string> args(argv + 1, argv + argc);
  if (auto word = command_word(args)) {
    std::string& arg = args[*word];
    if (arg == "help") {
      return help(app, std::vector<std::string>(args.begin() + *word + 1, args.end()));
    }
    const CLI::App* command = find_command(app, arg);
    if (!command) {
      return unknown(app, "command", arg);
    }
    arg = command->get_name();
  }
  std::reverse(args.begin(), args.end()); // CLI11 takes them last first
  try {
    app.parse(args);
  } catch (const CLI::CallForHelp&) {
    const CLI::App* chosen = &app;
    while (!chosen->get_subcommands().empty()) {
      chosen = chosen->get_subcommands().front();
    }
    std::fputs(from_cli11_text(chosen->help()).c_str(), stdout);
    return 0;
  } catch (const CLI::CallForVersion&) {
    std::puts("slipway " SLIPWAY_VERSION);
    return 0;
  } catch (const CLI::ParseError& error) {
    std::fprintf(stderr, "slipway: %s\n", from_cli11_text(error.what()).c_str());
    std::fprintf(stderr, "usage: see 'slipway --help'\n");
    return 2;
  }
  if (globals.root.empty()) {
    std::fprintf(stderr, "slipway: --root must name a directory, not ''\n");
    return 2;
  }
  auto done = action();
  if (!done) {
    // An empty message: the exit code speaks for itself (`run` returns its command's).
    if (!done.error().message.empty()) {
      std::fprintf(stderr, "%s\n", slipway::failure_line(done.error().message).c_str());
    }
    return done.error().exit_code;
  }
  return 0;
}
