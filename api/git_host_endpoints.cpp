// POST /hooks/github, /hooks/gitlab, /hooks/gitea: git hosts' webhooks. No token: each
// delivery proves itself with a connection's secret (ops/connections.hpp checks it).
#include <fmt/format.h>

#include "api/endpoints.hpp"
#include "ops/connections.hpp"

namespace slipway::api {

std::optional<Response> git_host_webhook(const Layout& layout, const Config& config,
                                         const Request& request) {
  std::string_view target = to_std(request.target());
  std::string_view path = target.substr(0, target.find('?'));
  std::optional<GitHost> format;
  for (GitHost host : {GitHost::github, GitHost::gitlab, GitHost::gitea}) {
    if (path == webhook_path(host)) {
      format = host;
    }
  }
  if (!format) {
    return std::nullopt;
  }
  if (request.method() != http::verb::post) {
    return error_response(http::status::method_not_allowed, "method_not_allowed",
                          "A git host's webhook is a POST.");
  }
  auto reply = ops::receive_webhook(layout, config,
                                    {.format = *format,
                                     .header =
                                         [&](std::string_view name) {
                                           return to_std(request[{name.data(), name.size()}]);
                                         },
                                     .body = request.body()});
  auto status = static_cast<http::status>(reply.status);
  if (reply.status >= 400) {
    std::string_view id = reply.status == 401   ? "unauthorized"
                          : reply.status == 400 ? "bad_request"
                                                : "unavailable";
    return error_response(status, id, reply.message);
  }
  return json_response({{"message", reply.message}}, status);
}

} // namespace slipway::api
