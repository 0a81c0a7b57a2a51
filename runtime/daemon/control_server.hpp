// The daemon's side of ROOT/run/slipway.sock (docs/CONTRACTS.md, "The control socket"):
// one request per connection, answered with {"output": ...} lines as the work goes on,
// {"alive": true} every two seconds, and a last {"result": ...} or {"error": ...}.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "runtime/daemon/apps.hpp"
#include "runtime/daemon/context.hpp"

namespace slipway::daemon {

class ControlServer {
 public:
  ControlServer(Context& context, Apps& apps);

  // Creates the socket (0600 from its first instant) and listens on it.
  Expected<void> listen();
  // Accepts connections until the daemon stops, each served by a coroutine of its own.
  awaitable<void> accept_loop();
  void close();

 private:
  class Reply;
  awaitable<void> serve(asio::local::stream_protocol::socket socket);
  awaitable<void> heartbeat(std::shared_ptr<Reply> reply);
  awaitable<Expected<nlohmann::json>> dispatch(const nlohmann::json& message, Reply& reply);

  Context& m_context;
  Apps& m_apps;
  asio::local::stream_protocol::acceptor m_acceptor;
};

} // namespace slipway::daemon
