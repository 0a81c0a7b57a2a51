// The Platform API's HTTP/1.1 server: Boost.Beast on an Asio loop of its own thread, so that
// a slow or hostile client cannot stall the daemon's loop and its process supervision. Every
// connection has bounded headers and body, a read and a write timeout and an idle timeout;
// there is a cap on connections and on long-lived streams. Requests are handled on a small
// pool of worker threads (an operation may take seconds: a rollback's health check); a
// streamed response (a log session, a build's output) gets a thread of its own for as long
// as it streams.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/beast/http.hpp>

#include "common/error.hpp"

namespace slipway::api {

namespace http = boost::beast::http;
using Request = http::request<http::string_body>;

// Beast's string_view (Boost's, in 1.74) as the standard one.
inline std::string_view to_std(boost::beast::string_view text) {
  return {text.data(), text.size()};
}

// Writes a piece of a streamed body; false once the client is gone (or too slow to take it).
using StreamWriter = std::function<bool(std::string_view)>;

struct Response {
  http::status status = http::status::ok;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // When set, the body is streamed instead: the headers are sent (the connection closes after
  // the body, which has no length), then `stream` runs on a thread of its own and writes
  // until it returns, `write` fails, or `stop` is set (the server is stopping).
  std::function<void(const StreamWriter& write, const std::atomic<bool>& stop)> stream;
};

// `peer` is the client's address ("127.0.0.1:41234"). Runs on a worker thread.
using Handler = std::function<Response(const Request& request, const std::string& peer)>;

struct ServerOptions {
  std::string address = "127.0.0.1";
  int port = 0; // 0: any free port
  // With port 0: ports not to take, though free for now (another listener of slipway's is
  // to bind them). The kernel is asked again while such a port is held.
  std::function<bool(int port)> reserved;
  int max_connections = 256;
  int max_streams = 64;
  int workers = 4;
  int nice = 5; // of the threads that handle requests and streams (0: the daemon's own)
  std::uint32_t header_limit = 16 * 1024;
  std::uint64_t body_limit = 1024 * 1024;
  std::chrono::seconds read_timeout{30};  // from a request's first byte to its last
  std::chrono::seconds idle_timeout{60};  // between requests of a kept-alive connection
  std::chrono::seconds write_timeout{30}; // a response, or each piece of a stream
  std::function<void(std::string_view)> log = [](std::string_view) {};
};

class HttpServer {
 public:
  HttpServer(ServerOptions options, Handler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts serving on threads of its own; returns the port it listens on.
  Expected<int> start();
  // Stops accepting, ends the streams and closes every connection; waits for the threads.
  void stop();

 private:
 public:
  struct State; // (public for the sessions, which are the implementation's own)

 private:
  std::unique_ptr<State> m_state;
};

// The response the server sends on its own (a malformed or oversized request, too many
// connections) and that handlers use for errors: Heroku's error body.
Response error_response(http::status status, std::string_view id, std::string_view message);

} // namespace slipway::api
