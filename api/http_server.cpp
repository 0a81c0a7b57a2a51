#include "api/http_server.hpp"

#include <list>
#include <mutex>
#include <optional>
#include <sys/resource.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/fd.hpp"

namespace slipway::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

Response error_response(http::status status, std::string_view id, std::string_view message) {
  return {.status = status, .body = nlohmann::json{{"id", id}, {"message", message}}.dump() + "\n"};
}

namespace {

// The one place a Response becomes Beast's message: its status, headers and body.
http::response<http::string_body> to_message(Response& response, unsigned version,
                                             bool keep_alive) {
  http::response<http::string_body> message{response.status, version};
  message.set(http::field::server, "slipway");
  message.set(http::field::content_type, response.content_type);
  for (auto& [name, value] : response.headers) {
    message.set(name, value);
  }
  message.body() = std::move(response.body);
  message.keep_alive(keep_alive);
  message.prepare_payload();
  return message;
}

} // namespace

struct HttpServer::State {
  // A streamed response: its socket, and the flag that ends it (the client went away, or
  // the server stops).
  struct ActiveStream {
    int fd = -1;
    std::atomic<bool> stop = false;
  };

  ServerOptions options;
  Handler handler;
  std::atomic<int> connections = 0;
  std::atomic<bool> stopping = false;
  std::mutex streams_mutex;
  std::list<std::thread> streams; // joined at stop(); finished ones when new ones start
  std::vector<std::thread::id> finished_streams;
  std::list<std::shared_ptr<ActiveStream>> active_streams;
  asio::thread_pool workers;
  asio::io_context io;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard;
  tcp::acceptor acceptor{io};
  asio::steady_timer stream_check{io};
  std::thread loop;

  State(ServerOptions options, Handler handler)
      : options(std::move(options)), handler(std::move(handler)),
        workers(static_cast<std::size_t>(this->options.workers)) {}

  void accept();
  void check_streams();
  void serve_stream(tcp::socket socket, Response response, unsigned version);
};

namespace {

// The threads that handle requests yield to the daemon's loop and to deploys: a flood of
// API requests must not slow a push's build or a health check (and what they start, a
// detached one-off, inherits it).
void lower_priority(int nice) {
  thread_local bool lowered = false;
  if (!lowered && nice > 0) {
    ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), nice);
    lowered = true;
  }
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, HttpServer::State* server)
      : m_stream(std::move(socket)), m_server(server) {
    ++m_server->connections;
    boost::system::error_code ec;
    auto remote = m_stream.socket().remote_endpoint(ec);
    m_peer = ec ? "unknown" : fmt::format("{}:{}", remote.address().to_string(), remote.port());
  }
  ~Session() { --m_server->connections; }

  void read(bool first) {
    m_parser.emplace();
    m_parser->header_limit(m_server->options.header_limit);
    m_parser->body_limit(m_server->options.body_limit);
    // Waiting for the next request of a kept-alive connection is idle time; once it starts,
    // the whole request must come within the read timeout (a slow-loris client is cut off).
    m_stream.expires_after(first ? m_server->options.read_timeout : m_server->options.idle_timeout);
    http::async_read_header(m_stream, m_buffer, *m_parser,
                            [self = shared_from_this()](beast::error_code ec, std::size_t) {
                              if (ec) {
                                return self->on_error(ec);
                              }
                              self->m_stream.expires_after(self->m_server->options.read_timeout);
                              http::async_read(
                                  self->m_stream, self->m_buffer, *self->m_parser,
                                  [self](beast::error_code ec, std::size_t) { self->on_read(ec); });
                            });
  }

 private:
  void on_error(beast::error_code ec) {
    if (ec == http::error::header_limit) {
      return reply_and_close(error_response(http::status::request_header_fields_too_large,
                                            "request_header_fields_too_large",
                                            "The request's headers are too large."));
    }
    if (ec == http::error::body_limit) {
      return reply_and_close(error_response(http::status::payload_too_large, "payload_too_large",
                                            "The request's body is too large."));
    }
    if (ec != http::error::end_of_stream && ec != beast::error::timeout &&
        ec != asio::error::connection_reset && ec != asio::error::operation_aborted &&
        ec != asio::error::eof && ec != http::error::partial_message) {
      reply_and_close(error_response(http::status::bad_request, "bad_request",
                                     "The request is not valid HTTP/1.1: " + ec.message()));
      return;
    }
    close();
  }

  void on_read(beast::error_code ec) {
    if (ec) {
      return on_error(ec);
    }
    m_stream.expires_never();
    auto request = std::make_shared<Request>(m_parser->release());
    asio::post(m_server->workers, [self = shared_from_this(), request] {
      lower_priority(self->m_server->options.nice);
      Response response;
      try {
        response = self->m_server->handler(*request, self->m_peer);
      } catch (const std::exception& e) {
        self->m_server->options.log(fmt::format("api: {} {}: {}", to_std(request->method_string()),
                                                to_std(request->target()), e.what()));
        response = error_response(http::status::internal_server_error, "internal_server_error",
                                  "The server could not handle the request.");
      }
      asio::post(self->m_server->io, [self, request, response = std::move(response)]() mutable {
        if (response.stream) {
          self->begin_stream(std::move(response), request->version());
        } else {
          self->write(std::move(response), request->version(), request->keep_alive());
        }
      });
    });
  }

  void write(Response response, unsigned version, bool keep_alive) {
    keep_alive = keep_alive && !m_server->stopping;
    m_response = std::make_shared<http::response<http::string_body>>(
        to_message(response, version, keep_alive));
    m_stream.expires_after(m_server->options.write_timeout);
    http::async_write(m_stream, *m_response,
                      [self = shared_from_this(), keep_alive](beast::error_code ec, std::size_t) {
                        self->m_response.reset();
                        if (ec || !keep_alive) {
                          return self->close();
                        }
                        self->read(false);
                      });
  }

  void reply_and_close(Response response) { write(std::move(response), 11, false); }

  void begin_stream(Response response, unsigned version) {
    m_stream.expires_never();
    m_server->serve_stream(m_stream.release_socket(), std::move(response), version);
  }

  void close() {
    beast::error_code ignored;
    m_stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    m_stream.close();
  }

  beast::tcp_stream m_stream;
  HttpServer::State* m_server; // outlives every session: stop() ends them first
  beast::flat_buffer m_buffer;
  std::optional<http::request_parser<http::string_body>> m_parser;
  std::shared_ptr<http::response<http::string_body>> m_response;
  std::string m_peer;
};

} // namespace

void HttpServer::State::accept() {
  acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
    if (stopping) {
      return;
    }
    if (!ec) {
      if (connections >= options.max_connections) {
        // Refused at once: the cap holds whatever the clients do.
        beast::error_code ignored;
        socket.close(ignored);
      } else {
        std::make_shared<Session>(std::move(socket), this)->read(true);
      }
    }
    accept();
  });
}

// Every second: a stream whose client went away (the socket reads as closed) is told to
// stop, even when it has nothing to write (a quiet `logs --tail`).
void HttpServer::State::check_streams() {
  stream_check.expires_after(std::chrono::seconds(1));
  stream_check.async_wait([this](beast::error_code ec) {
    if (ec || stopping) {
      return;
    }
    {
      std::lock_guard lock(streams_mutex);
      for (auto& stream : active_streams) {
        char byte = 0;
        ssize_t n = ::recv(stream->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
          stream->stop = true;
        }
      }
    }
    check_streams();
  });
}

void HttpServer::State::serve_stream(tcp::socket socket, Response response, unsigned version) {
  std::lock_guard lock(streams_mutex);
  // Threads that finished are joined here, so that the list stays as long as what streams.
  for (auto id : finished_streams) {
    auto done = std::ranges::find(streams, id, &std::thread::get_id);
    if (done != streams.end()) {
      done->join();
      streams.erase(done);
    }
  }
  finished_streams.clear();
  beast::error_code ignored;
  if (static_cast<int>(active_streams.size()) >= options.max_streams || stopping) {
    Response refusal = error_response(http::status::service_unavailable, "unavailable",
                                      "Too many streams are open; try again in a while.");
    auto message = to_message(refusal, version, false);
    http::write(socket, message, ignored);
    socket.close(ignored);
    return;
  }
  auto active = std::make_shared<ActiveStream>();
  active->fd = socket.native_handle();
  active_streams.push_back(active);
  ++connections;
  streams.emplace_back([this, active, socket = std::move(socket), response = std::move(response),
                        version]() mutable {
    lower_priority(options.nice);
    beast::error_code ignored;
    socket.non_blocking(false, ignored);
    timeval timeout{.tv_sec = options.write_timeout.count(), .tv_usec = 0};
    ::setsockopt(active->fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
    auto stream = std::move(response.stream);
    http::response<http::empty_body> head{response.status, version};
    head.set(http::field::server, "slipway");
    head.set(http::field::content_type, response.content_type);
    head.set(http::field::cache_control, "no-cache");
    for (auto& [name, value] : response.headers) {
      head.set(name, value);
    }
    head.keep_alive(false);
    http::response_serializer<http::empty_body> serializer{head};
    http::write_header(socket, serializer, ignored);
    if (!ignored) {
      int fd = active->fd;
      // Blocking writes (SO_SNDTIMEO bounds each); SIGPIPE is ignored in the daemon.
      stream([fd](std::string_view data) { return write_all(fd, data).has_value(); }, active->stop);
    }
    std::lock_guard lock(streams_mutex);
    active_streams.remove(active);
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
    --connections;
    finished_streams.push_back(std::this_thread::get_id());
  });
}

HttpServer::HttpServer(ServerOptions options, Handler handler)
    : m_state(std::make_unique<State>(std::move(options), std::move(handler))) {}

HttpServer::~HttpServer() {
  stop();
}

Expected<int> HttpServer::start() {
  State& state = *m_state;
  beast::error_code ec;
  auto address = asio::ip::make_address(state.options.address, ec);
  if (ec) {
    return fail("invalid address '{}': {}", state.options.address, ec.message());
  }
  tcp::endpoint endpoint{address, static_cast<unsigned short>(state.options.port)};
  // Ports the kernel offered that are reserved: bound until it offers another, then let go.
  constexpr std::size_t k_max_held = 64;
  std::vector<tcp::acceptor> held;
  int port = 0;
  while (true) {
    state.acceptor.open(endpoint.protocol(), ec);
    if (!ec) {
      state.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
      state.acceptor.bind(endpoint, ec);
    }
    if (!ec) {
      state.acceptor.listen(asio::socket_base::max_listen_connections, ec);
    }
    if (ec) {
      return fail("cannot listen on {}:{}: {}", state.options.address, state.options.port,
                  ec.message());
    }
    port = state.acceptor.local_endpoint().port();
    if (state.options.port != 0 || !state.options.reserved || !state.options.reserved(port)) {
      break;
    }
    if (held.size() == k_max_held) {
      return fail("cannot listen on {}:0: the kernel offered only reserved ports ({} of them)",
                  state.options.address, held.size() + 1);
    }
    held.push_back(std::move(state.acceptor));
    state.acceptor = tcp::acceptor(state.io);
  }
  state.guard.emplace(state.io.get_executor());
  state.accept();
  state.check_streams();
  state.loop = std::thread([&state] { state.io.run(); });
  return port;
}

void HttpServer::stop() {
  State& state = *m_state;
  if (state.stopping.exchange(true)) {
    return;
  }
  asio::post(state.io, [&state] {
    beast::error_code ignored;
    state.acceptor.close(ignored);
    state.stream_check.cancel();
  });
  {
    // Streams end now, even one blocked writing to a client that does not read.
    std::lock_guard lock(state.streams_mutex);
    for (auto& stream : state.active_streams) {
      stream->stop = true;
      ::shutdown(stream->fd, SHUT_RDWR);
    }
  }
  state.workers.join(); // the requests being handled finish; their replies are dropped
  state.guard.reset();
  state.io.stop();
  if (state.loop.joinable()) {
    state.loop.join();
  }
  std::list<std::thread> streams;
  {
    std::lock_guard lock(state.streams_mutex);
    streams.swap(state.streams);
  }
  for (auto& thread : streams) {
    thread.join();
  }
}

} // namespace slipway::api
