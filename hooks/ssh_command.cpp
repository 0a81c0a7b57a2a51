#include "hooks/ssh_command.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <unistd.h>

#include "common/output.hpp"
#include "common/paths.hpp"
#include "common/suggest.hpp"
#include "ops/apps.hpp"
#include "ops/rights.hpp"
#include "runtime/app_name.hpp"
#include "runtime/keys.hpp"

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

// The -a APP of a command line: at most one.
Expected<std::string> app_argument(const std::vector<std::string>& words) {
  auto apps = named_apps(words);
  if (apps.size() > 1) {
    return usage_error("'{}' takes one -a APP, got {}", words[0], apps.size());
  }
  return apps.empty() ? "" : apps[0];
}

// The commands this key may run, from the operations' table.
std::string help(const ops::Context& context) {
  const ops::Actor& actor = context.actor;
  std::string text = fmt::format("slipway: you are '{}'{}. Use git push/clone with "
                                 "ssh://HOST/APP, or run:\n",
                                 actor.name, actor.admin ? " (admin)" : "");
  for (const auto& operation : ops::operations()) {
    bool git = operation.name.starts_with("git-");
    if (!operation.remote || git || (operation.scope == ops::Scope::admin && !actor.admin)) {
      continue;
    }
    text += fmt::format("  {}{}\n", operation.name,
                        operation.scope == ops::Scope::app ? " -a APP ..." : " ...");
  }
  if (!actor.admin) {
    text += "  (on the apps you were given access to; apps:create, keys and access:add need an "
            "admin key)\n";
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
  auto print = [](std::string_view line) {
    std::fprintf(stderr, "%.*s\n", int(line.size()), line.data());
  };
  auto context = ops::open_context(layout, key_name, print);
  if (!context) {
    return refuse(context.error());
  }
  auto words = split_ssh_command(command);
  if (!words) {
    return refuse(words.error());
  }
  if (words->empty() || (*words)[0] == "help") {
    audit(layout, key_name, true, command, "help");
    std::fputs(help(*context).c_str(), stdout);
    return {};
  }
  auto git = parse_git_request(*words);
  if (!git) {
    return refuse(git.error());
  }
  // Whatever runs from here on acts as this key (ops/context.hpp).
  ::setenv("SLIPWAY_USER", context->actor.name.c_str(), 1);
  // Only the connection worker names a git host's pusher (ops/connections.hpp).
  ::unsetenv("SLIPWAY_PUSHER");
  ::unsetenv("SLIPWAY_PUSH_SOURCE");
  if (*git) {
    bool pushing = (*git)->service == GitRequest::Service::receive_pack;
    auto repo = ops::open_repository(*context, {.app = (*git)->app, .push = pushing});
    if (!repo) {
      return refuse(repo.error());
    }
    audit(layout, key_name, true, command, "");
    exec_or_die({pushing ? "git-receive-pack" : "git-upload-pack", repo->string()});
  }
  const std::string& verb = words->front();
  for (const auto& word : *words) {
    if (word == "--root" || word.starts_with("--root=")) {
      return refuse(usage_error("--root is not accepted over ssh").error());
    }
  }
  auto operation = ops::find_operation(verb);
  if (!operation || !operation->remote || verb.starts_with("git-")) {
    std::vector<std::string> names;
    for (const auto& known : ops::operations()) {
      if (known.remote && !known.name.starts_with("git-")) {
        names.emplace_back(known.name);
      }
    }
    for (const auto& alias : ops::command_aliases()) {
      names.emplace_back(alias.alias);
    }
    auto suggestion = nearest(verb, names);
    return refuse(usage_error("'{}' is not a command available over ssh{} (run it with no "
                              "command for the list)",
                              printable(verb.substr(0, 64)),
                              suggestion ? fmt::format("; did you mean '{}'?", *suggestion) : "")
                      .error());
  }
  // The command checks the same rights again when it runs; asking here puts a refusal in
  // the audit log.
  auto app = app_argument(*words);
  if (!app) {
    return refuse(app.error());
  }
  if (auto allowed = ops::authorize(*context, verb, *app); !allowed) {
    return refuse(allowed.error());
  }
  audit(layout, key_name, true, command, "");
  std::vector<std::string> argv = {self_executable().string(), "--root", layout.root().string()};
  argv.insert(argv.end(), words->begin(), words->end());
  exec_or_die(argv);
}

} // namespace slipway
