#include "runtime/daemon/health.hpp"

#include <array>
#include <charconv>
#include <memory>

#include <boost/asio.hpp>
#include <fmt/format.h>

#include "common/subprocess.hpp"
#include "common/time.hpp"

namespace slipway::daemon {

namespace {

constexpr std::size_t k_max_answer = 64 * 1024;
constexpr milliseconds k_probe_timeout{2000};

// Closes `socket` when `timer` expires (made outside the coroutine: g++ 12 miscompiles a
// lambda that captures locals inside a coroutine body).
template <class Socket>
void close_on_expiry(asio::steady_timer& timer, std::shared_ptr<Socket> socket, bool& expired) {
  timer.async_wait([socket, &expired](const boost::system::error_code& error) {
    if (!error) {
      expired = true;
      boost::system::error_code ignored;
      socket->close(ignored);
    }
  });
}

template <class Socket>
awaitable<HttpAnswer> exchange_http(std::shared_ptr<Socket> socket, std::string request,
                                    milliseconds timeout) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  timer.expires_after(timeout);
  bool expired = false;
  close_on_expiry(timer, socket, expired);
  boost::system::error_code error;
  co_await asio::async_write(*socket, asio::buffer(request),
                             asio::redirect_error(use_awaitable, error));
  std::string received;
  std::array<char, 8192> buffer{};
  while (!error && received.size() < k_max_answer) {
    std::size_t n = co_await socket->async_read_some(asio::buffer(buffer),
                                                     asio::redirect_error(use_awaitable, error));
    received.append(buffer.data(), n);
  }
  timer.cancel();
  if (expired) {
    co_return HttpAnswer{.problem = fmt::format("no answer within {}", format_duration(timeout))};
  }
  co_return parse_http_answer(received);
}

// Whether run `run` of the dyno is still up and meant to stay so (a liveness check's watch).
bool watched(const Dyno& dyno, long run) {
  return dyno.run == run && dyno.running && dyno.wanted && dyno.state == DynoState::up;
}

} // namespace

HttpAnswer parse_http_answer(std::string_view received) {
  HttpAnswer answer;
  // "HTTP/1.1 200 OK\r\n...\r\n\r\nbody": three digits, then a space or the line's end.
  if (!received.starts_with("HTTP/1.") || received.size() < 12 || received[8] != ' ' ||
      (received.size() > 12 && received[12] != ' ' && received[12] != '\r')) {
    answer.problem =
        received.empty() ? "the connection closed without an answer" : "the answer was not HTTP";
    return answer;
  }
  int status = 0;
  auto [end, ec] = std::from_chars(received.data() + 9, received.data() + 12, status);
  if (ec != std::errc() || end != received.data() + 12 || status < 100 || status > 599) {
    answer.problem = "the answer was not HTTP";
    return answer;
  }
  answer.status = status;
  auto body = received.find("\r\n\r\n");
  answer.body = body == std::string_view::npos ? "" : std::string(received.substr(body + 4));
  return answer;
}

awaitable<HttpAnswer> http_get_tcp(int port, std::string host, std::string path,
                                   milliseconds timeout) {
  co_return co_await http_get_endpoint(
      {asio::ip::address_v4::loopback(), static_cast<uint16_t>(port)}, std::move(host),
      std::move(path), timeout);
}

awaitable<HttpAnswer> http_get_address(std::string address, std::string host, std::string path,
                                       milliseconds timeout) {
  auto colon = address.rfind(':');
  boost::system::error_code error;
  auto ip =
      asio::ip::make_address(address.substr(0, colon == std::string::npos ? 0 : colon), error);
  int port = colon == std::string::npos ? 0 : std::atoi(address.c_str() + colon + 1);
  if (error || port <= 0 || port > 65535) {
    co_return HttpAnswer{.problem = fmt::format("'{}' is not an IP address and port", address)};
  }
  co_return co_await http_get_endpoint({ip, static_cast<uint16_t>(port)}, std::move(host),
                                       std::move(path), timeout);
}

awaitable<HttpAnswer> http_get_endpoint(asio::ip::tcp::endpoint endpoint, std::string host,
                                        std::string path, milliseconds timeout) {
  auto socket = std::make_shared<asio::ip::tcp::socket>(co_await asio::this_coro::executor);
  boost::system::error_code error;
  co_await socket->async_connect(endpoint, asio::redirect_error(use_awaitable, error));
  if (error) {
    co_return HttpAnswer{.problem = error == asio::error::connection_refused ? "connection refused"
                                                                             : error.message()};
  }
  co_return co_await exchange_http(socket,
                                   fmt::format("GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: "
                                               "slipway-health-check\r\nConnection: close\r\n\r\n",
                                               path, host),
                                   timeout);
}

awaitable<HttpAnswer> http_get_unix(std::filesystem::path socket_path, std::string path,
                                    milliseconds timeout) {
  auto socket =
      std::make_shared<asio::local::stream_protocol::socket>(co_await asio::this_coro::executor);
  boost::system::error_code error;
  co_await socket->async_connect(socket_path.string(), asio::redirect_error(use_awaitable, error));
  if (error) {
    co_return HttpAnswer{.problem = error.message()};
  }
  co_return co_await exchange_http(
      socket, fmt::format("GET {} HTTP/1.0\r\nHost: control\r\n\r\n", path), timeout);
}

HealthVerdict judge_health(const HealthCheck& check, const HttpAnswer& answer) {
  if (answer.status == 0) {
    return {.healthy = false,
            .why = answer.problem == "connection refused"
                       ? ""
                       : fmt::format("{} on {}", answer.problem, check.path)};
  }
  bool healthy = check.declared ? (answer.status >= 200 && answer.status < 400 &&
                                   answer.body.find(check.content) != std::string::npos)
                                : answer.status < 500;
  if (healthy) {
    return {.healthy = true};
  }
  return {.healthy = false,
          .why = fmt::format("it answered {} on {}{}", answer.status, check.path,
                             check.declared && answer.status < 400
                                 ? fmt::format(" without '{}'", check.content)
                                 : "")};
}

// Coroutines cannot use TRY (it returns): errors are passed on with co_return.
awaitable<Expected<void>> wait_healthy(std::shared_ptr<const Dyno> dyno, HealthTarget target,
                                       milliseconds timeout) {
  const HealthCheck& check = target.check;
  auto deadline = SteadyClock::now() + timeout;
  const int port = dyno->last_port; // `port` is 0 once the process has exited
  const milliseconds probe_timeout = check.timeout ? milliseconds(*check.timeout) : k_probe_timeout;
  // After an answer that fails: the check's own pace when it counts attempts, else a fast poll.
  const milliseconds retry = check.wait       ? milliseconds(*check.wait)
                             : check.attempts ? milliseconds(1000)
                                              : milliseconds(50);
  if (check.initial_delay) {
    co_await sleep_for(std::min(milliseconds(*check.initial_delay), timeout));
  }
  std::string last = "nothing listened on it";
  int answered = 0; // attempts that got an answer (or none in time): what `attempts` counts
  while (true) {
    if (!dyno->running) {
      co_return fail("{} {} before it answered on port {}", dyno->name(), dyno->exit_reason, port);
    }
    HttpAnswer answer = co_await http_get_tcp(port, target.host, check.path, probe_timeout);
    auto verdict = judge_health(check, answer);
    if (verdict.healthy) {
      break;
    }
    if (!verdict.why.empty()) {
      last = verdict.why;
      ++answered;
    }
    if (check.attempts && answered >= *check.attempts) {
      co_return fail("{} failed its health check on port {} {} times ({})", dyno->name(), port,
                     answered, last);
    }
    if (SteadyClock::now() >= deadline) {
      co_return fail("{} did not pass its health check on port {} within {} ({})", dyno->name(),
                     port, format_duration(timeout), last);
    }
    // Nothing listens yet: asking again is one refused connect, so soon.
    co_await sleep_for(verdict.why.empty() ? milliseconds(10) : retry);
  }
  if (check.uptime) {
    // Dokku's uptime: the process must also have stayed up this long.
    auto up_until = dyno->started_steady + *check.uptime;
    if (up_until > deadline) {
      co_return fail("{} must stay up {} before it passes, longer than [runtime] "
                     "health_timeout ({})",
                     dyno->name(), format_duration(*check.uptime), format_duration(timeout));
    }
    if (auto now = SteadyClock::now(); now < up_until) {
      co_await sleep_for(std::chrono::duration_cast<milliseconds>(up_until - now));
    }
    if (!dyno->running) {
      co_return fail("{} {} within its {} of required uptime", dyno->name(), dyno->exit_reason,
                     format_duration(*check.uptime));
    }
  }
  co_return Expected<void>();
}

awaitable<std::optional<std::string>> watch_liveness(std::shared_ptr<const Dyno> dyno, long run,
                                                     HealthTarget target) {
  const HealthCheck& check = target.check;
  const milliseconds wait = check.wait.value_or(k_liveness_wait);
  const milliseconds timeout = check.timeout.value_or(k_liveness_timeout);
  const int attempts = check.attempts.value_or(k_liveness_attempts);
  if (check.initial_delay) {
    co_await sleep_for(milliseconds(*check.initial_delay));
  }
  int failed = 0; // in a row
  while (true) {
    co_await sleep_for(wait);
    if (!watched(*dyno, run)) {
      co_return std::nullopt;
    }
    const int port = dyno->port;
    HttpAnswer answer = co_await http_get_tcp(port, target.host, check.path, timeout);
    if (!watched(*dyno, run)) {
      co_return std::nullopt;
    }
    auto verdict = judge_health(check, answer);
    if (verdict.healthy) {
      failed = 0;
      continue;
    }
    if (++failed >= attempts) {
      co_return fmt::format("{} failed its liveness check {} {} ({})", dyno->name(), failed,
                            failed == 1 ? "time" : "times",
                            verdict.why.empty() ? fmt::format("nothing listened on port {}", port)
                                                : verdict.why);
    }
  }
}

} // namespace slipway::daemon
