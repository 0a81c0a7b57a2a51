// The Docker Engine API (v1.41, Docker 20.10 and later) over a manager's Unix socket: JSON
// requests and answers, an error that carries the engine's own message, and the log stream's
// framing. HTTP through common/http_client.hpp; never the docker CLI.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.hpp"

namespace slipway::cluster {

// The socket's path in a docker_host such as "unix:///var/run/docker.sock".
Expected<std::string> docker_socket(std::string_view docker_host);

class Docker {
 public:
  explicit Docker(std::string socket) : m_socket(std::move(socket)) {}

  // GET PATH ("/services?filters=..."): the answer's JSON.
  Expected<nlohmann::json> get(const std::string& path) const;
  // POST PATH with a JSON body: the answer's JSON (null when it had none).
  Expected<nlohmann::json> post(const std::string& path, const nlohmann::json& body) const;
  // DELETE PATH; a 404 is no error (it is gone either way).
  Expected<void> remove(const std::string& path) const;
  // GET PATH whose answer is not JSON (a log stream), up to `limit` bytes of it.
  Expected<std::string> get_raw(const std::string& path, std::size_t limit) const;

 private:
  Expected<nlohmann::json> call(const std::string& method, const std::string& path,
                                const std::string& body, std::size_t limit = 16u << 20) const;

  std::string m_socket;
};

// A filters query parameter: {"label": ["io.slipway.app=shop"]}, URL-encoded.
std::string docker_filters(const nlohmann::json& filters);

// One line of a container's or task's log, as the engine frames them without a TTY: an
// 8-byte header (stream, 0, 0, 0, big-endian length) per frame; with timestamps=1 each line
// begins with an RFC 3339 time and a space.
struct DockerLogLine {
  std::string time; // "2026-12-04T09:00:00.123456789Z"
  std::string text;
};
// The lines of a framed stream; an incomplete last frame is left out.
std::vector<DockerLogLine> parse_docker_logs(std::string_view stream);

} // namespace slipway::cluster
