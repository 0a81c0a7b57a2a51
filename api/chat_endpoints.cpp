// POST /chat/slack and /chat/mattermost: slash commands (ops/chat.hpp), which carry no token:
// each request proves itself with the chat's signing secret or token.
#include <map>

#include "api/endpoints.hpp"
#include "ops/chat.hpp"

namespace slipway::api {

std::optional<Response> chat_command(const Layout& layout, const Config& config,
                                     const Request& request) {
  std::string_view target = to_std(request.target());
  std::string_view path = target.substr(0, target.find('?'));
  std::string platform;
  if (path == "/chat/slack") {
    platform = "slack";
  } else if (path == "/chat/mattermost") {
    platform = "mattermost";
  } else {
    return std::nullopt;
  }
  if (request.method() != http::verb::post) {
    return error_response(http::status::method_not_allowed, "method_not_allowed",
                          "A slash command is a POST.");
  }
  // The form's fields, as a query string's.
  std::string form = "?" + request.body();
  std::map<std::string, std::string> fields;
  for (const char* name : {"token", "user_id", "user_name", "text", "response_url", "command"}) {
    if (auto value = query_value(form, name)) {
      fields[name] = *value;
    }
  }
  auto reply = ops::receive_chat_command(layout, config,
                                         {.platform = platform,
                                          .header =
                                              [&](std::string_view name) {
                                                return to_std(request[{name.data(), name.size()}]);
                                              },
                                          .body = request.body(),
                                          .fields = std::move(fields)});
  if (reply.status == 401) {
    return error_response(http::status::unauthorized, "unauthorized", reply.text);
  }
  return json_response({{"response_type", "ephemeral"}, {"text", reply.text}});
}

} // namespace slipway::api
