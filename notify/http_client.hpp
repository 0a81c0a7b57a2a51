// Outgoing HTTP (git hosts' statuses; webhooks and chat to come): libcurl, from the daemon
// only, never on a push's path. Only http and https, no redirects followed, a connect and a
// total timeout on every request.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "common/error.hpp"

namespace slipway::notify {

struct HttpRequest {
  std::string method = "POST";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds connect_timeout = std::chrono::seconds(5);
  std::chrono::milliseconds timeout = std::chrono::seconds(15);
};

struct HttpResponse {
  long status = 0;
  std::string body; // its first 4 KiB
};

// The response, whatever its status; an error when there was none (no connection, a
// timeout), naming why.
Expected<HttpResponse> send(const HttpRequest& request);

} // namespace slipway::notify
