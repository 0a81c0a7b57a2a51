#include "hooks/ssh_command.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <unistd.h>

#include "common/paths.hpp"
#include "hooks/access.hpp"
#include "hooks/repo.hpp"
#include "runtime/app_name.hpp"
#include "runtime/apps.hpp"

namespace slipway {

namespace {

constexpr std::size_t k_max_command = 64 * 1024;
constexpr std::size_t k_max_words = 256;
constexpr std::string_view k_shell_specials = ";&|<>()$`*?[]{}~#!";

std::string shown(char c) {
  return static_cast<unsigned char>(c) < 0x20 || c == 0x7f
             ? fmt::format("\\x{:02x}", static_cast<unsigned char>(c))
             : std::string(1, c);
}

} // namespace

Expected<std::vector<std::string>> split_ssh_command(std::string_view command) {
  if (command.size() > k_max_command) {
    return usage_error("the command is {} bytes long; at most {} are accepted", command.size(),
                       k_max_command);
  }
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  enum class Quote { none, single, double_ } quote = Quote::none;
  for (std::size_t i = 0; i < command.size(); ++i) {
    char c = command[i];
    auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && c != '\t') || byte == 0x7f || (c == '\t' && quote != Quote::none)) {
      return usage_error("control character {} in the command at byte {}", shown(c), i);
    }
    if (quote == Quote::single) {
      if (c == '\'') {
        quote = Quote::none;
      } else {
        word.push_back(c);
      }
      continue;
    }
    if (quote == Quote::double_) {
      if (c == '"') {
        quote = Quote::none;
      } else if (c == '\\' && i + 1 < command.size() &&
                 (command[i + 1] == '"' || command[i + 1] == '\\')) {
        word.push_back(command[++i]);
      } else if (c == '$' || c == '`') {
        return usage_error("'{}' inside double quotes at byte {}: slipway runs no shell (use "
                           "single quotes)",
                           c, i);
      } else {
        word.push_back(c);
      }
      continue;
    }
    if (c == ' ' || c == '\t') {
      if (in_word) {
        words.push_back(std::move(word));
        word.clear();
        in_word = false;
      }
      continue;
    }
    if (words.size() >= k_max_words) {
      return usage_error("the command has more than {} words", k_max_words);
    }
    in_word = true;
    if (c == '\'') {
      quote = Quote::single;
    } else if (c == '"') {
      quote = Quote::double_;
    } else if (c == '\\') {
      if (i + 1 == command.size()) {
        return usage_error("the command ends with a backslash");
      }
      char next = command[++i];
      if (static_cast<unsigned char>(next) < 0x20 || next == 0x7f) {
        return usage_error("control character {} in the command at byte {}", shown(next), i);
      }
      word.push_back(next);
    } else if (byte >= 0x80) {
      return usage_error("non-ASCII byte in the command at byte {} (quote it if it belongs in "
                         "a value)",
                         i);
    } else if (k_shell_specials.find(c) != std::string_view::npos) {
      return usage_error("unquoted '{}' in the command at byte {}: slipway runs no shell", c, i);
    } else {
      word.push_back(c);
    }
  }
  if (quote != Quote::none) {
    return usage_error("unterminated {} quote in the command",
                       quote == Quote::single ? "single" : "double");
  }
  if (in_word) {
    words.push_back(std::move(word));
  }
  return words;
}

Expected<std::optional<GitRequest>> parse_git_request(const std::vector<std::string>& words) {
  if (words.empty()) {
    return std::nullopt;
  }
  GitRequest request;
  if (words[0] == "git-receive-pack") {
    request.service = GitRequest::Service::receive_pack;
  } else if (words[0] == "git-upload-pack") {
    request.service = GitRequest::Service::upload_pack;
  } else if (words[0].starts_with("git-") || words[0] == "git" || words[0] == "git-shell") {
    return usage_error("'{}' is not allowed (only git-receive-pack and git-upload-pack)",
                       words[0].substr(0, 64));
  } else {
    return std::nullopt;
  }
  if (words.size() != 2) {
    return usage_error("{} takes one repository path, got {}", words[0], words.size() - 1);
  }
  std::string_view path = words[1];
  if (path.starts_with("~/")) {
    path.remove_prefix(2);
  } else if (path.starts_with('/')) {
    path.remove_prefix(1);
  }
  if (path.ends_with(".git")) {
    path.remove_suffix(4);
  }
  if (auto valid = validate_app_name(path); !valid) {
    return usage_error("invalid repository '{}': {}", words[1].substr(0, 64),
                       valid.error().message);
  }
  request.app = std::string(path);
  return request;
}

namespace {

// Commands a collaborator may run on the apps it has access to (with -a APP).
constexpr std::array k_app_commands = {"apps:info",     "releases",
                                       "releases:info", "releases:output",
                                       "rollback",      "config",
                                       "config:get",    "config:set",
                                       "config:unset",  "ps",
                                       "ps:scale",      "ps:restart",
                                       "run",           "logs",
                                       "events",        "domains",
                                       "domains:add",   "domains:remove",
                                       "builds",        "builds:output",
                                       "access"};
// Commands for admin keys only.
constexpr std::array k_admin_commands = {"apps",       "apps:create",  "apps:destroy",
                                         "keys",       "keys:add",     "keys:remove",
                                         "access:add", "access:remove"};

bool listed(const auto& list, std::string_view verb) {
  return std::ranges::find(list, verb) != list.end();
}

// The -a/--app value of a slipway command line (before any "--"), or an error.
// The apps a command's words name with -a/--app (before a "--").
std::vector<std::string> named_apps(const std::vector<std::string>& words) {
  std::vector<std::string> apps;
  for (std::size_t i = 1; i < words.size() && words[i] != "--"; ++i) {
    const std::string& word = words[i];
    if ((word == "-a" || word == "--app") && i + 1 < words.size()) {
      apps.push_back(words[++i]);
    } else if (word.starts_with("--app=")) {
      apps.push_back(word.substr(6));
    } else if (word.starts_with("-a") && word.size() > 2 && word[2] != '-') {
      apps.push_back(word.substr(2));
    }
  }
  return apps;
}

Expected<std::string> app_argument(const std::vector<std::string>& words) {
  auto apps = named_apps(words);
  if (apps.size() != 1) {
    return usage_error("'{}' needs exactly one -a APP", words[0]);
  }
  if (auto valid = validate_app_name(apps[0]); !valid) {
    return std::unexpected(valid.error());
  }
  return apps[0];
}

std::string help(const SshKey& key) {
  std::string text = fmt::format("slipway: you are '{}'{}. Use git push/clone with "
                                 "ssh://HOST/APP, or run:\n",
                                 key.name, key.admin ? " (admin)" : "");
  for (const char* verb : k_app_commands) {
    text += fmt::format("  {} -a APP ...\n", verb);
  }
  if (key.admin) {
    for (const char* verb : k_admin_commands) {
      text += fmt::format("  {} ...\n", verb);
    }
  } else {
    text += "  (on the apps you were given access to; apps, keys and access:add need an admin "
            "key)\n";
  }
  return text;
}

[[noreturn]] void exec_or_die(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& arg : argv) {
    args.push_back(const_cast<char*>(arg.c_str()));
  }
  args.push_back(nullptr);
  execvp(args[0], args.data());
  std::fprintf(stderr, " !     cannot run '%s': %s\n", args[0], errno_text(errno).c_str());
  std::_Exit(1);
}

} // namespace

Expected<void> run_ssh_command(const Layout& layout, const std::string& key_name) {
  const char* original = std::getenv("SSH_ORIGINAL_COMMAND");
  std::string command = original ? original : "";
  auto refuse = [&](Error error) -> Expected<void> {
    audit(layout, key_name, false, command, error.message);
    return std::unexpected(std::move(error));
  };
  auto key = find_key(layout, key_name);
  if (!key) {
    return refuse({fmt::format("key '{}' is not known to slipway (was it removed?)", key_name)});
  }
  auto words = split_ssh_command(command);
  if (!words) {
    return refuse(words.error());
  }
  if (words->empty()) {
    audit(layout, key_name, true, command, "help");
    std::fputs(help(*key).c_str(), stdout);
    return {};
  }
  auto git = parse_git_request(*words);
  if (!git) {
    return refuse(git.error());
  }
  ::setenv("SLIPWAY_USER", key->name.c_str(), 1);
  if (*git) {
    const std::string& app = (*git)->app;
    bool pushing = (*git)->service == GitRequest::Service::receive_pack;
    bool exists = static_cast<bool>(require_app(layout, app));
    if (!exists && !(pushing && key->admin)) {
      return refuse({key->admin || !pushing
                         ? fmt::format("app '{}' does not exist", app)
                         : fmt::format("app '{}' does not exist, and only an admin key may "
                                       "create apps by pushing",
                                       app)});
    }
    if (exists && !may_access(layout, *key, app)) {
      return refuse({fmt::format("key '{}' has no access to app '{}' (an admin can grant it: "
                                 "access:add -a {} {})",
                                 key->name, app, app, key->name)});
    }
    if (!exists) {
      if (auto created = new_app(layout, app, key->name); !created) {
        return refuse(created.error());
      }
      std::fprintf(stderr, "-----> Created app %s\n", app.c_str());
    }
    audit(layout, key_name, true, command, "");
    exec_or_die({pushing ? "git-receive-pack" : "git-upload-pack",
                 (layout.repos_dir() / (app + ".git")).string()});
  }
  const std::string& verb = words->front();
  for (const auto& word : *words) {
    if (word == "--root" || word.starts_with("--root=")) {
      return refuse(usage_error("--root is not accepted over ssh").error());
    }
  }
  if (listed(k_admin_commands, verb)) {
    if (!key->admin) {
      return refuse(
          {fmt::format("'{}' needs an admin key; key '{}' is a collaborator", verb, key->name)});
    }
  } else if (verb == "events" && named_apps(*words).empty()) {
    // Every app's events: the server's view.
    if (!key->admin) {
      return refuse({fmt::format("'events' without -a APP needs an admin key; key '{}' is a "
                                 "collaborator",
                                 key->name)});
    }
  } else if (listed(k_app_commands, verb)) {
    auto app = app_argument(*words);
    if (!app) {
      return refuse(app.error());
    }
    if (!key->admin && !may_access(layout, *key, *app)) {
      return refuse({fmt::format("key '{}' has no access to app '{}'", key->name, *app)});
    }
  } else {
    return refuse(usage_error("'{}' is not a command available over ssh (run it with no "
                              "command for the list)",
                              verb.substr(0, 64))
                      .error());
  }
  audit(layout, key_name, true, command, "");
  std::vector<std::string> argv = {self_executable().string(), "--root", layout.root().string()};
  argv.insert(argv.end(), words->begin(), words->end());
  exec_or_die(argv);
}

} // namespace slipway
