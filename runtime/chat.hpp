// ChatOps' settings: Slack's signing secret, Mattermost's slash-command token, and which
// chat user acts as which key. ROOT/keys/chat.toml, 0600 (its secrets), written whole:
//   slack_signing_secret = "..."      mattermost_token = "..."
//   [[link]] platform = "slack", user = "U123", key = "alice"
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "runtime/layout.hpp"

namespace slipway {

struct ChatLink {
  std::string platform; // "slack", "mattermost"
  std::string user;     // the chat's user id ("U123")
  std::string key;      // the key it acts as
};

struct ChatSettings {
  std::string slack_signing_secret;
  std::string mattermost_token;
  std::vector<ChatLink> links;

  // The key `user` of `platform` acts as, if it is linked.
  std::optional<std::string> key_of(std::string_view platform, std::string_view user) const;
};

Expected<void> validate_chat_platform(std::string_view platform); // slack or mattermost
// A chat user id: 1 to 64 of [A-Za-z0-9._-].
Expected<void> validate_chat_user(std::string_view user);

// Empty settings when there is no file; a damaged file is an error naming it (never a secret).
Expected<ChatSettings> load_chat_settings(const Layout& layout);
Expected<void> save_chat_settings(const Layout& layout, const ChatSettings& settings);

} // namespace slipway
