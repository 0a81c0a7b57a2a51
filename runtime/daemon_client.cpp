#include "runtime/daemon_client.hpp"

#include <cstring>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace slipway {

namespace {

// A connected socket, or -1 when nothing listens there.
Expected<int> connect_to(const std::filesystem::path& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.string().size() >= sizeof address.sun_path) {
    return fail("the daemon socket path '{}' is too long for a unix socket (use a shorter "
                "--root)",
                path.string());
  }
  std::strcpy(address.sun_path, path.c_str());
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return fail("cannot create a socket: {}", errno_text(errno));
  }
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    int error = errno;
    close(fd);
    if (error == ENOENT || error == ECONNREFUSED) {
      return -1; // no daemon, or one that died and left its socket
    }
    return fail("cannot reach the daemon at '{}': {}", path.string(), errno_text(error));
  }
  return fd;
}

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) {
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

Expected<std::optional<nlohmann::json>>
call_daemon(const Layout& layout, const nlohmann::json& request,
            const std::function<void(std::string_view)>& on_output) {
  auto fd = connect_to(layout.daemon_socket());
  if (!fd) {
    return std::unexpected(fd.error());
  }
  if (*fd < 0) {
    return std::nullopt;
  }
  struct Closer {
    int fd;
    ~Closer() { close(fd); }
  } closer{*fd};
  if (!write_all(*fd, request.dump() + "\n")) {
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
    ssize_t n = read(*fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return fail("the daemon stopped before answering");
    }
    pending.append(buffer, static_cast<std::size_t>(n));
  }
}

Expected<nlohmann::json> require_daemon(const Layout& layout, const nlohmann::json& request,
                                        const std::function<void(std::string_view)>& on_output) {
  auto answer = call_daemon(layout, request, on_output);
  if (!answer) {
    return std::unexpected(answer.error());
  }
  if (!*answer) {
    return fail("the slipway daemon is not running (start it with: slipway --root {} daemon)",
                layout.root().string());
  }
  return std::move(**answer);
}

} // namespace slipway
