// The HTTP health check of a web process: one GET over loopback (or the control socket),
// the answer's status and body, the decision whether the answer is healthy, and the probe
// that asks until it is, the process exits or the time is up.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "compiler/app_manifest.hpp"
#include "runtime/daemon/context.hpp"
#include "runtime/daemon/process.hpp"

namespace slipway::daemon {

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
// GET `path` with Host `host` from `endpoint`, or from `address` ("IP:PORT": a cluster's task).
boost::asio::awaitable<HttpAnswer> http_get_endpoint(boost::asio::ip::tcp::endpoint endpoint,
                                                     std::string host, std::string path,
                                                     std::chrono::milliseconds timeout);
boost::asio::awaitable<HttpAnswer> http_get_address(std::string address, std::string host,
                                                    std::string path,
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

// What a web process must answer: its app's check, asked for with the app's host name.
struct HealthTarget {
  HealthCheck check;
  std::string host; // APP.DOMAIN
};

// Asks the dyno's port until it passes `target` (ok), it exits, or `timeout` passes; the
// error says which, and what the last answer was. The check's own keys, when app.json gives
// them, apply within `timeout`: initialDelay before the first ask, timeout per ask, wait
// between asks that got a failing answer (1 s when only attempts is given; else 50 ms),
// attempts (such answers that fail it at once) and uptime (how long the process must have
// run before it passes).
boost::asio::awaitable<Expected<void>> wait_healthy(std::shared_ptr<const Dyno> dyno,
                                                    HealthTarget target,
                                                    std::chrono::milliseconds timeout);

// Dokku's liveness check of a web process that is up, for as long as run `run` of it stays
// up: after initialDelay, asks every `wait` (each ask given `timeout`) and returns why once
// `attempts` asks in a row failed (the defaults of app_json.hpp where the check leaves them
// out). An ask nothing answers fails too: the process said it listened. Returns nullopt
// once the run ends or is being stopped.
boost::asio::awaitable<std::optional<std::string>> watch_liveness(std::shared_ptr<const Dyno> dyno,
                                                                  long run, HealthTarget target);

} // namespace slipway::daemon
