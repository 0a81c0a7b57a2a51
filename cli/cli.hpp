// The `slipway` command line: global options, what commands share, and how each command
// registers itself.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "common/config.hpp"
#include "common/error.hpp"
#include "runtime/apps.hpp"
#include "runtime/events.hpp"
#include "runtime/layout.hpp"
#include "runtime/release.hpp"
#include "runtime/releaser.hpp"

namespace slipway::cli {

struct Globals {
  std::filesystem::path root; // --root, $SLIPWAY_ROOT, ~/.slipway

  Layout layout() const { return Layout(std::filesystem::absolute(root)); }
  // ROOT/slipway.toml, or every default when it does not exist.
  Expected<Config> config() const { return layout().config(); }
};

// A command's action: its error, if any, becomes one line on stderr and the exit code.
using Action = std::function<Expected<void>()>;

// Each command file adds its subcommands; the chosen one sets `action`.
void add_build_command(CLI::App& app, const Globals& globals, Action& action);
void add_init_command(CLI::App& app, const Globals& globals, Action& action);
void add_apps_commands(CLI::App& app, const Globals& globals, Action& action);
void add_deploy_command(CLI::App& app, const Globals& globals, Action& action);
void add_releases_commands(CLI::App& app, const Globals& globals, Action& action);
void add_config_commands(CLI::App& app, const Globals& globals, Action& action);
void add_hook_commands(CLI::App& app, const Globals& globals, Action& action);
void add_daemon_command(CLI::App& app, const Globals& globals, Action& action);
void add_ps_commands(CLI::App& app, const Globals& globals, Action& action);
void add_logs_command(CLI::App& app, const Globals& globals, Action& action);
void add_events_command(CLI::App& app, const Globals& globals, Action& action);
void add_domains_commands(CLI::App& app, const Globals& globals, Action& action);
void add_keys_commands(CLI::App& app, const Globals& globals, Action& action);

// CLI11 refuses ':' in a subcommand's name, so "apps:create" is registered with a look-alike
// (U+2236) and main() translates the command word and every message between the two.
inline constexpr std::string_view k_topic_separator = "\u2236";
CLI::App* add_command(CLI::App& app, std::string_view name, const std::string& description);
std::string to_cli11_name(std::string_view name);   // "apps:create" -> registered name
std::string from_cli11_text(std::string_view text); // registered names -> "apps:create"

// A line of an operation's log, to stderr as it happens.
void print_line(std::string_view line);

// What a command that makes a release starts from: the app checked, slipway.toml loaded.
struct AppOperation {
  Layout layout;
  Config config;
  std::string app;
  bool wait = true;

  // The releaser's context, logging to stderr; valid while this object lives.
  ReleaseContext context() const {
    // Over ssh, `ssh-command` names the key's owner in SLIPWAY_USER: the release records it.
    const char* user = std::getenv("SLIPWAY_USER");
    return {.layout = layout,
            .config = config,
            .app = app,
            .wait = wait,
            .user = user ? user : "",
            .on_output = print_line};
  }
};
Expected<AppOperation> open_app(const Globals& globals, const std::string& app, bool no_wait);

// Adds the `-a,--app APP` option every app-scoped command takes.
CLI::Option* add_app_option(CLI::App* command, std::string& app);

// --buildpack values as the compiler wants them: a relative local path ("./bp", "x/bp" that
// is a directory) made absolute against the caller's working directory; others unchanged.
std::vector<std::string> buildpack_refs(const std::vector<std::string>& refs);

// Changes the app's settings (formation, domains, access) under its deploy lock, records
// the event `change` returns (its app and actor are filled in here), and tells a running
// daemon.
Expected<void> change_app_settings(const AppOperation& operation,
                                   const std::function<Expected<Event>(AppInfo&)>& change);

// "v3" or "3".
Expected<int> parse_version(std::string_view text);

// A release as `releases --json` shows it.
nlohmann::json release_json(const Layout& layout, const Release& release, bool live);

} // namespace slipway::cli
