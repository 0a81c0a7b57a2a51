// The HTTP health check of a web process: one GET over loopback (or the control socket),
// the answer's status and body, and the decision whether the answer is healthy.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility> // before Boost.Asio's awaitable.hpp, which uses std::exchange without it

#include <boost/asio/awaitable.hpp>

#include "compiler/app_manifest.hpp"

namespace slipway {

// An HTTP answer's status and body (up to 64 KiB), or why there was none.
struct HttpAnswer {
  int status = 0;
  std::string body;
  std::string problem; // "connection refused", "timed out", ...
};

// What came back on a connection, read to its end: "HTTP/1.x NNN ...\r\n...\r\n\r\nbody".
HttpAnswer parse_http_answer(std::string_view received);

// GET `path` with Host `host` from 127.0.0.1:`port`; at most `timeout` for the answer.
boost::asio::awaitable<HttpAnswer> http_get_tcp(int port, std::string host, std::string path,
                                                std::chrono::milliseconds timeout);
// GET `path` over the Unix socket `socket_path` (nginx's status endpoint).
boost::asio::awaitable<HttpAnswer> http_get_unix(std::filesystem::path socket_path,
                                                 std::string path,
                                                 std::chrono::milliseconds timeout);

// Whether `answer` passes `check`: a declared check (app.json) wants 2xx/3xx and its
// content in the body; the default one any status below 500. `why` says what failed.
struct HealthVerdict {
  bool healthy = false;
  std::string why; // "it answered 503 on /health", "" when healthy or no answer
};
HealthVerdict judge_health(const HealthCheck& check, const HttpAnswer& answer);

} // namespace slipway
