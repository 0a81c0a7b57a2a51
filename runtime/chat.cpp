#include "runtime/chat.hpp"

#include <algorithm>
#include <sstream>

#include <toml++/toml.h>

#include "common/files.hpp"
#include "common/output.hpp"

namespace slipway {

namespace fs = std::filesystem;

namespace {

fs::path chat_file(const Layout& layout) {
  return layout.keys_file().parent_path() / "chat.toml";
}

} // namespace

std::optional<std::string> ChatSettings::key_of(std::string_view platform,
                                                std::string_view user) const {
  for (const auto& link : links) {
    if (link.platform == platform && link.user == user) {
      return link.key;
    }
  }
  return std::nullopt;
}

Expected<void> validate_chat_platform(std::string_view platform) {
  if (platform != "slack" && platform != "mattermost") {
    return usage_error("unknown chat '{}' (slack or mattermost)",
                       printable(platform.substr(0, 40)));
  }
  return {};
}

Expected<void> validate_chat_user(std::string_view user) {
  bool valid = !user.empty() && user.size() <= 64 && std::ranges::all_of(user, [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
  });
  if (!valid) {
    return usage_error("'{}' is not a chat user id (1 to 64 letters, digits, '.', '_', '-')",
                       printable(user.substr(0, 70)));
  }
  return {};
}

Expected<ChatSettings> load_chat_settings(const Layout& layout) {
  fs::path file = chat_file(layout);
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(file, ec))) {
    return ChatSettings{};
  }
  auto text = TRY(read_file(file));
  std::string origin = file.string();
  try {
    auto table = toml::parse(text, origin);
    ChatSettings settings{.slack_signing_secret =
                              table["slack_signing_secret"].value_or<std::string>(""),
                          .mattermost_token = table["mattermost_token"].value_or<std::string>("")};
    if (const toml::array* links = table["link"].as_array()) {
      for (const auto& node : *links) {
        const toml::table* entry = node.as_table();
        ChatLink link{.platform = entry ? (*entry)["platform"].value_or<std::string>("") : "",
                      .user = entry ? (*entry)["user"].value_or<std::string>("") : "",
                      .key = entry ? (*entry)["key"].value_or<std::string>("") : ""};
        if (!validate_chat_platform(link.platform) || !validate_chat_user(link.user) ||
            link.key.empty()) {
          return fail("{}: a [[link]] holds platform (slack, mattermost), user and key", origin);
        }
        settings.links.push_back(std::move(link));
      }
    }
    return settings;
  } catch (const toml::parse_error& error) {
    return fail("{} is corrupt (at line {})", origin, error.source().begin.line);
  }
}

Expected<void> save_chat_settings(const Layout& layout, const ChatSettings& settings) {
  toml::table table;
  if (!settings.slack_signing_secret.empty()) {
    table.insert("slack_signing_secret", settings.slack_signing_secret);
  }
  if (!settings.mattermost_token.empty()) {
    table.insert("mattermost_token", settings.mattermost_token);
  }
  toml::array links;
  for (const auto& link : settings.links) {
    links.push_back(
        toml::table{{"platform", link.platform}, {"user", link.user}, {"key", link.key}});
  }
  if (!links.empty()) {
    table.insert("link", std::move(links));
  }
  std::ostringstream out;
  out << table << "\n";
  std::error_code ec;
  fs::create_directories(chat_file(layout).parent_path(), ec);
  return write_file_atomic(chat_file(layout), out.str(), 0600);
}

} // namespace slipway
