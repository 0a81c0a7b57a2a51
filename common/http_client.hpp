// Outgoing HTTP: libcurl, loaded on first use. The daemon's notices (git hosts' statuses,
// webhooks, chat), never on a push's path, and pushing images to a registry. Only http and
// https (or HTTP over a Unix socket), no redirects followed, a connect and a total timeout on
// every request.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "common/error.hpp"

namespace slipway::http {

struct Request {
  std::string method = "POST";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::filesystem::path body_file; // when set, the body is this file's content, streamed
  std::string unix_socket;         // when set, the request goes over this socket
  std::chrono::milliseconds connect_timeout = std::chrono::seconds(5);
  std::chrono::milliseconds timeout = std::chrono::seconds(15);
  std::size_t body_limit = 4096; // how much of the answer's body is kept
};

struct Response {
  long status = 0;
  std::string body;                                         // its first body_limit bytes
  std::vector<std::pair<std::string, std::string>> headers; // names in lower case

  // The first header called `name` (lower case), or "".
  std::string header(std::string_view name) const;
};

// `text` as a URL's path segment or query value: every byte but letters, digits and -_.~ as
// %XX.
std::string percent_encoded(std::string_view text);

// The response, whatever its status; an error when there was none (no connection, a
// timeout), naming why.
Expected<Response> send(const Request& request);

} // namespace slipway::http
