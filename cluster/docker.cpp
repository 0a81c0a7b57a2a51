#include "cluster/docker.hpp"

#include <fmt/format.h>

#include "common/http_client.hpp"

namespace slipway::cluster {

using nlohmann::json;

namespace {

// The API version every request names: Docker 20.10's, which has swarm jobs, capability
// drops and pids limits on services.
constexpr std::string_view k_api = "/v1.41";

} // namespace

Expected<std::string> docker_socket(std::string_view docker_host) {
  if (!docker_host.starts_with("unix:///")) {
    return fail("docker_host '{}' is not unix:///PATH", docker_host.substr(0, 200));
  }
  return std::string(docker_host.substr(7));
}

std::string docker_filters(const json& filters) {
  return http::percent_encoded(filters.dump());
}

Expected<json> Docker::call(const std::string& method, const std::string& path,
                            const std::string& body, std::size_t limit) const {
  http::Request request{.method = method,
                        .url = fmt::format("http://docker{}{}", k_api, path),
                        .body = body,
                        .unix_socket = m_socket,
                        .connect_timeout = std::chrono::seconds(5),
                        .timeout = std::chrono::seconds(60),
                        .body_limit = limit};
  if (!body.empty()) {
    request.headers.emplace_back("Content-Type", "application/json");
  }
  auto response = http::send(request);
  if (!response) {
    return fail("the Docker engine at {} did not answer: {}", m_socket, response.error().message);
  }
  auto answer = json::parse(response->body, nullptr, false);
  if (response->status >= 300) {
    std::string message = answer.is_object() && answer["message"].is_string()
                              ? answer["message"].get<std::string>()
                              : response->body.substr(0, 200);
    Error error{fmt::format("docker: {}", message)};
    if (response->status == 404) {
      error.kind = ErrorKind::not_found;
    } else if (response->status == 409) {
      error.kind = ErrorKind::conflict;
    }
    return std::unexpected(std::move(error));
  }
  if (response->body.empty()) {
    return json();
  }
  if (answer.is_discarded()) {
    return fail("the Docker engine answered {} {} with what is not JSON", method, path);
  }
  return answer;
}

Expected<json> Docker::get(const std::string& path) const {
  return call("GET", path, "");
}

Expected<json> Docker::post(const std::string& path, const json& body) const {
  return call("POST", path, body.is_null() ? "" : body.dump());
}

Expected<void> Docker::remove(const std::string& path) const {
  auto answer = call("DELETE", path, "");
  if (!answer && answer.error().kind != ErrorKind::not_found) {
    return std::unexpected(answer.error());
  }
  return {};
}

Expected<std::string> Docker::get_raw(const std::string& path, std::size_t limit) const {
  http::Request request{.method = "GET",
                        .url = fmt::format("http://docker{}{}", k_api, path),
                        .unix_socket = m_socket,
                        .timeout = std::chrono::seconds(30),
                        .body_limit = limit};
  auto response = http::send(request);
  if (!response) {
    return fail("the Docker engine at {} did not answer: {}", m_socket, response.error().message);
  }
  if (response->status >= 300) {
    return fail("docker: GET {} answered {}", path, response->status);
  }
  return std::move(response->body);
}

std::vector<DockerLogLine> parse_docker_logs(std::string_view stream) {
  std::vector<DockerLogLine> lines;
  std::string pending;
  while (stream.size() >= 8) {
    auto byte = [&](std::size_t i) {
      return static_cast<std::uint32_t>(static_cast<unsigned char>(stream[i]));
    };
    std::uint32_t length = byte(4) << 24 | byte(5) << 16 | byte(6) << 8 | byte(7);
    if (stream.size() - 8 < length) {
      break;
    }
    pending.append(stream.substr(8, length));
    stream.remove_prefix(8 + length);
    // A frame may hold several lines, or part of one.
    std::size_t newline;
    while ((newline = pending.find('\n')) != std::string::npos) {
      std::string_view line(pending.data(), newline);
      DockerLogLine entry;
      auto space = line.find(' ');
      if (space != std::string_view::npos && space > 0 && line[0] >= '0' && line[0] <= '9') {
        entry.time = std::string(line.substr(0, space));
        entry.text = std::string(line.substr(space + 1));
      } else {
        entry.text = std::string(line);
      }
      if (!entry.text.empty() && entry.text.back() == '\r') {
        entry.text.pop_back();
      }
      lines.push_back(std::move(entry));
      pending.erase(0, newline + 1);
    }
  }
  return lines;
}

} // namespace slipway::cluster
