#include "runtime/daemon_client.hpp"

#include <cerrno>
#include <cstring>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/subprocess.hpp"
#include "common/time.hpp"

namespace slipway {

namespace {

using Clock = std::chrono::steady_clock;

std::string no_answer(const Layout& layout, std::chrono::milliseconds timeout) {
  return fmt::format("the daemon went silent for {} (is it stopped or hung? its pid is in {})",
                     format_duration(timeout), layout.daemon_pid_file().string());
}

// Waits until `fd` is ready for `events` or `deadline` passes (false).
bool wait_ready(int fd, short events, Clock::time_point deadline) {
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      return false;
    }
    pollfd entry{.fd = fd, .events = events, .revents = 0};
    int rc = poll(&entry, 1, static_cast<int>(std::min<long>(left.count(), 1 << 30)));
    if (rc > 0) {
      return true;
    }
    if (rc < 0 && errno != EINTR) {
      return true; // let the read or write report it
    }
  }
}

// A connected socket, or -1 when nothing listens there.
Expected<int> connect_to(const std::filesystem::path& path, Clock::time_point deadline) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.string().size() >= sizeof address.sun_path) {
    return fail("the daemon socket path '{}' is too long for a unix socket (use a shorter "
                "--root)",
                path.string());
  }
  std::strcpy(address.sun_path, path.c_str());
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    return fail("cannot create a socket: {}", errno_text(errno));
  }
  // A daemon that does not accept (stopped, hung) fills its backlog: then connect says
  // EAGAIN, and we try again until the deadline.
  while (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    int error = errno;
    if (error == EAGAIN && Clock::now() < deadline) {
      poll(nullptr, 0, 20);
      continue;
    }
    close(fd);
    if (error == ENOENT || error == ECONNREFUSED) {
      return -1; // no daemon, or one that died and left its socket
    }
    if (error == EAGAIN) {
      return fail("the daemon at '{}' accepts no connection", path.string());
    }
    return fail("cannot reach the daemon at '{}': {}", path.string(), errno_text(error));
  }
  return fd;
}

bool write_all(int fd, std::string_view data, Clock::time_point deadline) {
  while (!data.empty()) {
    ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && errno == EAGAIN && wait_ready(fd, POLLOUT, deadline)) {
      continue;
    }
    if (n <= 0) {
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

} // namespace

Expected<std::optional<nlohmann::json>> call_daemon_json(const Layout& layout,
                                                         const nlohmann::json& request,
                                                         const OnOutput& on_output,
                                                         std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  auto fd = TRY(connect_to(layout.daemon_socket(), deadline));
  if (fd < 0) {
    return std::nullopt;
  }
  struct Closer {
    int fd;
    ~Closer() { close(fd); }
  } closer{fd};
  if (!write_all(fd, request.dump() + "\n", deadline)) {
    if (Clock::now() >= deadline) {
      return fail("{}", no_answer(layout, timeout));
    }
    return fail("the daemon closed the connection: {}", errno_text(errno));
  }
  std::string pending;
  char buffer[65536];
  while (true) {
    for (auto newline = pending.find('\n'); newline != std::string::npos;
         newline = pending.find('\n')) {
      std::string line = pending.substr(0, newline);
      pending.erase(0, newline + 1);
      nlohmann::json message = nlohmann::json::parse(line, nullptr, false);
      if (!message.is_object()) {
        return fail("the daemon sent a malformed answer");
      }
      deadline = Clock::now() + timeout; // it is working: the silence starts again
      if (message.contains("alive")) {
        continue;
      }
      if (auto output = message.find("output"); output != message.end() && output->is_string()) {
        if (on_output) {
          on_output(output->get<std::string>());
        }
      } else if (auto error = message.find("error"); error != message.end()) {
        return fail("{}", error->is_string() ? error->get<std::string>() : error->dump());
      } else if (auto result = message.find("result"); result != message.end()) {
        return std::optional<nlohmann::json>(*result);
      } else {
        return fail("the daemon sent a malformed answer");
      }
    }
    if (!wait_ready(fd, POLLIN, deadline)) {
      return fail("{}", no_answer(layout, timeout));
    }
    ssize_t n = read(fd, buffer, sizeof buffer);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
      continue;
    }
    if (n <= 0) {
      return fail("the daemon stopped before answering");
    }
    pending.append(buffer, static_cast<std::size_t>(n));
  }
}

namespace {

// The typed request's result, or nullopt when no daemon is running.
template <class Request>
Expected<std::optional<typename Request::Result>> ask(const Layout& layout, const Request& request,
                                                      const OnOutput& on_output = {}) {
  auto answer =
      TRY(call_daemon_json(layout, control::to_json(control::Request(request)), on_output));
  if (!answer) {
    return std::nullopt;
  }
  return TRY(control::parse_result<typename Request::Result>(*answer));
}

// As ask(), for commands that need the daemon: not running is an error.
template <class Request>
Expected<typename Request::Result> require(const Layout& layout, const Request& request,
                                           const OnOutput& on_output = {}) {
  auto answer = TRY(ask(layout, request, on_output));
  if (!answer) {
    return fail_as(ErrorKind::unavailable,
                   "the slipway daemon is not running (start it with: slipway --root {} daemon)",
                   layout.root().string());
  }
  return std::move(*answer);
}

} // namespace

Expected<std::optional<control::StatusResult>> daemon_status(const Layout& layout) {
  return ask(layout, control::StatusRequest{});
}

Expected<std::optional<control::ActivateResult>>
activate_release(const Layout& layout, const std::string& app, int version,
                 std::chrono::system_clock::time_point deadline, const OnOutput& on_output,
                 bool release_phase) {
  return ask(
      layout,
      control::ActivateRequest{
          .app = app, .version = version, .release_phase = release_phase, .deadline = deadline},
      on_output);
}

Expected<bool> deactivate_release(const Layout& layout, const std::string& app,
                                  const OnOutput& on_output) {
  auto answer = TRY(ask(layout, control::DeactivateRequest{.app = app}, on_output));
  return answer.has_value();
}

Expected<bool> sync_daemon(const Layout& layout, const std::string& app,
                           const OnOutput& on_output) {
  auto answer = TRY(ask(layout, control::SyncRequest{.app = app}, on_output));
  return answer.has_value();
}

Expected<std::vector<control::ProcessStatus>> daemon_processes(const Layout& layout,
                                                               const std::string& app) {
  return require(layout, control::PsRequest{.app = app});
}

Expected<int> run_on_cluster(const Layout& layout, const std::string& app,
                             const std::string& command, const OnOutput& on_output) {
  auto answer = TRY(require(layout, control::RunRequest{.app = app, .run = command}, on_output));
  return answer.status;
}

Expected<int> restart_processes(const Layout& layout, const std::string& app,
                                const std::string& type, const OnOutput& on_output, bool stop) {
  auto answer = TRY(
      require(layout, control::RestartRequest{.app = app, .type = type, .stop = stop}, on_output));
  return answer.restarted;
}

} // namespace slipway
