// The `slipway` command line: global options, what commands share, and how each command
// registers itself.
#pragma once

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "common/config.hpp"
#include "common/error.hpp"
#include "ops/context.hpp"
#include "ops/releases.hpp"
#include "runtime/layout.hpp"
#include "runtime/release.hpp"

namespace slipway::cli {

struct Globals {
  std::filesystem::path root; // --root, $SLIPWAY_ROOT, ~/.slipway

  Layout layout() const { return Layout(std::filesystem::absolute(root)); }
  // ROOT/slipway.toml, or every default when it does not exist.
  Expected<Config> config() const { return layout().config(); }
  // What an operation needs: the actor (the key the ssh command names, else the local
  // user), slipway.toml, and stderr for progress lines. `wait`: for a busy app.
  Expected<ops::Context> context(bool wait = true) const;
};

// A command's action: its error, if any, becomes one line on stderr and the exit code.
using Action = std::function<Expected<void>()>;

// A command's callback: when CLI11 chooses the command, `action` becomes
// `run(globals, *args)`, run once the whole line is parsed.
template <class Args, class Run>
std::function<void()> choose(const Globals& globals, Action& action, std::shared_ptr<Args> args,
                             Run run) {
  return [&globals, &action, args, run] {
    action = [&globals, args, run] { return run(globals, *args); };
  };
}

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
void add_maintenance_commands(CLI::App& app, const Globals& globals, Action& action);
void add_images_commands(CLI::App& app, const Globals& globals, Action& action);
void add_keys_commands(CLI::App& app, const Globals& globals, Action& action);
void add_authorizations_commands(CLI::App& app, const Globals& globals, Action& action);
void add_pipelines_commands(CLI::App& app, const Globals& globals, Action& action);
void add_ci_commands(CLI::App& app, const Globals& globals, Action& action);
void add_reviewapps_commands(CLI::App& app, const Globals& globals, Action& action);
void add_credentials_commands(CLI::App& app, const Globals& globals, Action& action);
void add_connect_commands(CLI::App& app, const Globals& globals, Action& action);
void add_webhooks_commands(CLI::App& app, const Globals& globals, Action& action);
void add_chat_commands(CLI::App& app, const Globals& globals, Action& action);

// CLI11 refuses ':' in a subcommand's name, so "apps:create" is registered with a look-alike
// (U+2236) and main() translates the command word and every message between the two.
inline constexpr std::string_view k_topic_separator = "\u2236";
CLI::App* add_command(CLI::App& app, std::string_view name, const std::string& description);
std::string to_cli11_name(std::string_view name);   // "apps:create" -> registered name
std::string from_cli11_text(std::string_view text); // registered names -> "apps:create"

// A line of an operation's log, to stderr as it happens.
void print_line(std::string_view line);

// Sets `flag` on SIGINT, SIGTERM and SIGPIPE: what `--tail` stops on.
void interrupt_on_signals(std::atomic<bool>& flag);

// Text written to stdout as it is (a log, a value).
void print_text(std::string_view text);

// Adds the `-a,--app APP` option every app-scoped command takes.
CLI::Option* add_app_option(CLI::App* command, std::string& app);

// --buildpack values as the compiler wants them: a relative local path ("./bp", "x/bp" that
// is a directory) made absolute against the caller's working directory; others unchanged.
std::vector<std::string> buildpack_refs(const std::vector<std::string>& refs);

// "v3" or "3".
Expected<int> parse_version(std::string_view text);

// A release as `releases --json` shows it.
nlohmann::json release_json(const ops::ReleaseDetails& details);

} // namespace slipway::cli
