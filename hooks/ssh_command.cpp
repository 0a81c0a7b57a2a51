#include "hooks/ssh_command.hpp"

#include "runtime/app_name.hpp"

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

} // namespace slipway
