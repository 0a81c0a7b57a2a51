// What the commands share.
#include <charconv>
#include <csignal>
#include <cstdio>

#include "cli/cli.hpp"

namespace slipway::cli {

namespace {
std::atomic<bool>* g_interrupt_flag = nullptr;
} // namespace

void interrupt_on_signals(std::atomic<bool>& flag) {
  g_interrupt_flag = &flag;
  for (int signal_number : {SIGINT, SIGTERM, SIGPIPE}) {
    std::signal(signal_number, [](int) { *g_interrupt_flag = true; });
  }
}

void print_text(std::string_view text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

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

Expected<ops::Context> Globals::context(bool wait) const {
  auto context = TRY(ops::open_context(layout(), ops::acting_key_from_environment(), print_line));
  context.wait = wait;
  return context;
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

Expected<int> parse_version(std::string_view text) {
  std::string_view digits = text.starts_with('v') ? text.substr(1) : text;
  int version = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), version);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || version < 1) {
    return usage_error("invalid release '{}' (expected e.g. v3)", text);
  }
  return version;
}

nlohmann::json release_json(const ops::ReleaseDetails& details) {
  const Release& release = details.release;
  nlohmann::json types = nlohmann::json::object();
  for (const auto& [name, command] : release.process_types) {
    types[name] = command;
  }
  nlohmann::json promoted_from = nullptr;
  if (release.promoted_from) {
    promoted_from = {{"app", release.promoted_from->app},
                     {"version", release.promoted_from->version}};
  }
  return {
      {"promoted_from", promoted_from},
      {"version", release.version},
      {"status", details.status},
      {"live", details.live},
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
