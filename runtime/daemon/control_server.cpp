#include "runtime/daemon/control_server.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/control.hpp"

namespace slipway::daemon {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

constexpr milliseconds k_heartbeat_every{2000};
constexpr std::size_t k_max_request = 64 * 1024;

template <class Result>
Expected<json> answer(Result result) {
  return control::to_json(result);
}

template <class Result>
Expected<json> answer(Expected<Result> result) {
  if (!result) {
    return std::unexpected(result.error());
  }
  return control::to_json(*result);
}

} // namespace

// The answer to one request, on its connection. Shared by the request's work and its
// heartbeat, so neither outlives what it writes to.
class ControlServer::Reply : public Caller {
 public:
  explicit Reply(asio::local::stream_protocol::socket socket) : m_socket(std::move(socket)) {}

  asio::local::stream_protocol::socket& socket() { return m_socket; }
  // After the last line: nothing more is written, whoever asks.
  void close() { m_closed = true; }
  bool closed() const { return m_closed; }

  awaitable<void> output(std::string text) override {
    json message; // (g++ 12 cannot co_await a call with a braced json argument)
    message["output"] = std::move(text);
    co_await send(message);
  }
  awaitable<void> send(const json& message) {
    // One write at a time: the heartbeat and the work share the socket.
    while (m_writing) {
      co_await sleep_for(milliseconds(1));
    }
    if (m_gone || m_closed) {
      co_return; // the caller went away; the work goes on
    }
    std::string line = message.dump() + "\n";
    boost::system::error_code error;
    m_writing = true;
    co_await asio::async_write(m_socket, asio::buffer(line),
                               asio::redirect_error(use_awaitable, error));
    m_writing = false;
    m_gone = static_cast<bool>(error);
  }
  // Whether the caller hung up: it sends nothing after its request, so a readable end of
  // file is its close.
  bool gone() override {
    char byte = 0;
    ssize_t n = ::recv(m_socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    m_gone = m_gone || n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
    return m_gone;
  }

 private:
  asio::local::stream_protocol::socket m_socket;
  bool m_gone = false;
  bool m_writing = false;
  bool m_closed = false;
};

ControlServer::ControlServer(Context& context, Apps& apps)
    : m_context(context), m_apps(apps), m_acceptor(context.io) {}

Expected<void> ControlServer::listen() {
  const fs::path path = m_context.layout.daemon_socket();
  std::error_code ec;
  fs::remove(path, ec);
  boost::system::error_code error;
  asio::local::stream_protocol::endpoint endpoint(path.string());
  m_acceptor.open(endpoint.protocol(), error);
  if (!error) {
    mode_t umask_before = umask(0177); // the socket is the owner's from its first instant
    m_acceptor.bind(endpoint, error);
    umask(umask_before);
  }
  if (!error) {
    m_acceptor.listen(64, error);
  }
  if (error) {
    return fail("cannot listen on '{}': {}", path.string(), error.message());
  }
  return {};
}

void ControlServer::close() {
  boost::system::error_code ignored;
  m_acceptor.close(ignored);
}

// While a request is worked on, {"alive": true} every k_heartbeat_every: the caller's
// deadline counts silence, so long work (a big unpack) is no timeout, and a stopped or hung
// daemon is one.
awaitable<void> ControlServer::heartbeat(std::shared_ptr<Reply> reply) {
  while (true) {
    co_await sleep_for(k_heartbeat_every);
    if (reply->closed()) {
      co_return;
    }
    json alive;
    alive["alive"] = true;
    co_await reply->send(alive);
  }
}

awaitable<void> ControlServer::accept_loop() {
  while (!m_context.stopping) {
    boost::system::error_code error;
    auto socket = co_await m_acceptor.async_accept(asio::redirect_error(use_awaitable, error));
    if (error) {
      if (m_context.stopping) {
        co_return;
      }
      co_await sleep_for(milliseconds(100));
      continue;
    }
    asio::co_spawn(m_context.io, serve(std::move(socket)), asio::detached);
  }
}

awaitable<void> ControlServer::serve(asio::local::stream_protocol::socket socket) {
  auto reply = std::make_shared<Reply>(std::move(socket));
  asio::streambuf buffer(k_max_request);
  boost::system::error_code error;
  co_await asio::async_read_until(reply->socket(), buffer, '\n',
                                  asio::redirect_error(use_awaitable, error));
  if (error) {
    json message;
    message["error"] = "the request must be one line of JSON of at most 64 KiB";
    co_await reply->send(message);
    reply->close();
    co_return;
  }
  std::string line(asio::buffers_begin(buffer.data()), asio::buffers_end(buffer.data()));
  json request = json::parse(line, nullptr, false);
  asio::co_spawn(m_context.io, heartbeat(reply), asio::detached);
  Expected<json> result = co_await dispatch(request, *reply);
  json message;
  if (result) {
    message["result"] = *result;
  } else {
    message["error"] = result.error().message;
  }
  co_await reply->send(message);
  reply->close();
}

// Coroutines cannot use TRY (it returns): errors are passed on with co_return.
awaitable<Expected<json>> ControlServer::dispatch(const json& message, Reply& reply) {
  auto parsed = control::parse_request(message);
  if (!parsed) {
    co_return std::unexpected(parsed.error());
  }
  const control::Request& request = *parsed;
  if (std::holds_alternative<control::StatusRequest>(request)) {
    control::StatusResult status{.pid = getpid(), .apps = m_apps.size()};
    co_return answer(status);
  }
  if (auto* activate = std::get_if<control::ActivateRequest>(&request)) {
    co_return answer(co_await m_apps.activate(activate->app, activate->version, activate->deadline,
                                              reply, activate->release_phase));
  }
  if (auto* deactivate = std::get_if<control::DeactivateRequest>(&request)) {
    co_return answer(co_await m_apps.deactivate(deactivate->app));
  }
  if (auto* sync = std::get_if<control::SyncRequest>(&request)) {
    co_return answer(co_await m_apps.sync(sync->app));
  }
  if (auto* restart = std::get_if<control::RestartRequest>(&request)) {
    co_return answer(co_await m_apps.restart(restart->app, restart->type, restart->stop, reply));
  }
  if (auto* run = std::get_if<control::RunRequest>(&request)) {
    co_return answer(co_await m_apps.run(run->app, run->run, reply));
  }
  const auto& ps = std::get<control::PsRequest>(request);
  co_return answer(co_await m_apps.ps(ps.app));
}

} // namespace slipway::daemon
