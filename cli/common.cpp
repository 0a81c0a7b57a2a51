// What the commands share.
#include <charconv>
#include <cstdio>

#include "cli/cli.hpp"
#include "runtime/apps.hpp"
#include "runtime/daemon_client.hpp"
#include "runtime/deploy_lock.hpp"
#include "runtime/events.hpp"
#include "runtime/releaser.hpp"

namespace slipway::cli {

void print_line(std::string_view line) {
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fputc('\n', stderr);
  std::fflush(stderr);
}

std::string to_cli11_name(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c == ':') {
      out += k_topic_separator;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string from_cli11_text(std::string_view text) {
  std::string out(text);
  for (auto at = out.find(k_topic_separator); at != std::string::npos;
       at = out.find(k_topic_separator, at + 1)) {
    out.replace(at, k_topic_separator.size(), ":");
  }
  return out;
}

CLI::App* add_command(CLI::App& app, std::string_view name, const std::string& description) {
  return app.add_subcommand(to_cli11_name(name), description);
}

Expected<AppOperation> open_app(const Globals& globals, const std::string& app, bool no_wait) {
  auto layout = globals.layout();
  if (auto exists = require_app(layout, app); !exists) {
    return std::unexpected(exists.error());
  }
  auto config = layout.config();
  if (!config) {
    return std::unexpected(config.error());
  }
  return AppOperation{layout, std::move(*config), app, !no_wait};
}

CLI::Option* add_app_option(CLI::App* command, std::string& app) {
  return command->add_option("-a,--app", app, "the app")->required();
}

std::vector<std::string> buildpack_refs(const std::vector<std::string>& refs) {
  std::vector<std::string> out;
  for (const auto& ref : refs) {
    std::error_code ec;
    bool local = ref.starts_with("./") || ref.starts_with("../") || ref == "." ||
                 (ref.find('/') != std::string::npos && !ref.starts_with("heroku/") &&
                  std::filesystem::is_directory(ref, ec));
    out.push_back(local ? std::filesystem::absolute(ref).lexically_normal().string() : ref);
  }
  return out;
}

Expected<void> change_app_settings(const AppOperation& operation,
                                   const std::function<Expected<Event>(AppInfo&)>& change) {
  {
    auto lock = lock_app(operation.layout, operation.app, operation.wait, print_line);
    if (!lock) {
      return std::unexpected(lock.error());
    }
    auto info = app_info(operation.layout, operation.app);
    if (!info) {
      return std::unexpected(info.error());
    }
    auto event = change(*info);
    if (!event) {
      return std::unexpected(event.error());
    }
    if (auto saved = save_app_info(operation.layout, *info); !saved) {
      return saved;
    }
    event->app = operation.app;
    event->actor = local_actor();
    if (auto recorded = record_event(operation.layout, operation.config, *event); !recorded) {
      print_line("warning: " + recorded.error().message);
    }
  }
  TRY(sync_daemon(operation.layout, operation.app, print_line));
  return {};
}

Expected<int> parse_version(std::string_view text) {
  std::string_view digits = text.starts_with('v') ? text.substr(1) : text;
  int version = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), version);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || version < 1) {
    return usage_error("invalid release '{}' (expected e.g. v3)", text);
  }
  return version;
}

nlohmann::json release_json(const Layout& layout, const Release& release, bool live) {
  nlohmann::json types = nlohmann::json::object();
  for (const auto& [name, command] : release.process_types) {
    types[name] = command;
  }
  return {
      {"version", release.version},
      {"status", display_status(layout, release)},
      {"live", live},
      {"description", release.description},
      {"created_at", format_time(release.created_at)},
      {"commit", release.commit},
      {"slug", release.slug},
      {"buildpacks", release.buildpacks},
      {"stack", release.stack},
      {"release_command", release.release_command},
      {"process_types", types},
      {"config_vars",
       [&] {
         nlohmann::json names = nlohmann::json::array();
         for (const auto& [name, value] : release.config) {
           names.push_back(name);
         }
         return names;
       }()},
      {"reason", release.reason},
      {"user", release.user},
  };
}

} // namespace slipway::cli
