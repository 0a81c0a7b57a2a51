// ChatOps: slash commands from Slack (`POST /chat/slack`) and Mattermost (`/chat/mattermost`)
// — the chat as one more front end over ops/. A request is checked first (Slack's signing
// secret: X-Slack-Signature = "v0=" HMAC-SHA256 of "v0:TIMESTAMP:BODY" with the timestamp
// within 5 minutes; Mattermost's token), then its user must be linked to a key
// (`chat:link KEY --slack-user U123`, an admin's), whose rights it acts with.
//
// `help`, `releases APP`, `ps APP`, `ci APP` and `reviewapps PIPELINE` answer at once;
// `promote PIPELINE|APP [--to APP,...]`, `rollback APP [vN]` and `deploy APP [BRANCH]` (a
// branch of the app's repository pushed to its deploy branch) answer that they started, run
// in a process of their own (`slipway chat:run`) and post their result to the request's
// response_url, which the daemon sends (ROOT/chat/outbox/).
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "compiler/git_host_event.hpp"
#include "ops/context.hpp"
#include "runtime/chat.hpp"

namespace slipway::ops {

// Admin's: which chat user acts as which key, and the chat's secret.
Expected<void> link_chat_user(const Context& context, const ChatLink& link);
Expected<void> unlink_chat_user(const Context& context, const std::string& platform,
                                const std::string& user);
Expected<std::vector<ChatLink>> chat_links(const Context& context);
Expected<void> set_chat_secret(const Context& context, const std::string& platform,
                               const std::string& secret);

struct ChatCommand {
  std::string platform; // slack, mattermost
  HeaderLookup header;
  std::string_view body;                     // raw, as signed
  std::map<std::string, std::string> fields; // the form: user_id, text, response_url, token
};
struct ChatReply {
  int status = 200; // 401: not verified
  std::string text;
};
ChatReply receive_chat_command(const Layout& layout, const Config& config,
                               const ChatCommand& command);

// What `chat:run` does: the long command `words` as `user`'s key, its result queued for the
// response URL.
Expected<void> run_chat_command(const Layout& layout, const std::string& platform,
                                const std::string& user, const std::string& response_url,
                                const std::vector<std::string>& words);

// A reply waiting for the daemon to post it.
struct ChatOutboxItem {
  std::filesystem::path file;
  std::string url;
  std::string text;
};
std::vector<ChatOutboxItem> chat_outbox(const Layout& layout);

} // namespace slipway::ops
