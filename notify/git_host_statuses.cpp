#include "notify/git_host_statuses.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/http_client.hpp"
#include "runtime/apps.hpp"

namespace slipway::notify {

namespace {

std::string string_of(const nlohmann::json& data, const char* key) {
  auto found = data.find(key);
  return found != data.end() && found->is_string() ? found->get<std::string>() : "";
}

int number_of(const nlohmann::json& data, const char* key) {
  auto found = data.find(key);
  return found != data.end() && found->is_number_integer() ? found->get<int>() : 0;
}

bool connected(const Layout& layout, const std::string& app) {
  auto connection = load_connection(layout, app);
  return connection && *connection;
}

std::string cut(std::string text) {
  if (text.size() > 140) {
    text.resize(137);
    text += "...";
  }
  return text;
}

std::optional<CommitStatus> build_status(const Layout& layout, const Config& config,
                                         const Event& event) {
  // Only a deploy the connection pushed: another push's commit may not be on the host.
  if (string_of(event.data, "source").empty() || !connected(layout, event.app)) {
    return std::nullopt;
  }
  CommitStatus status{.app = event.app,
                      .commit = string_of(event.data, "commit"),
                      .context = "slipway/" + event.app};
  if (event.action == "started") {
    status.state = "pending";
    status.description = fmt::format("Deploying to {}", event.app);
  } else if (event.action == "succeeded") {
    status.state = "success";
    status.description =
        fmt::format("Deployed to {} as v{}", event.app, number_of(event.data, "version"));
    status.target_url = app_url(config, event.app);
  } else if (event.action == "failed") {
    status.state = "failure";
    status.description = "Deploy failed: " + string_of(event.data, "reason");
  } else {
    return std::nullopt;
  }
  return status;
}

std::optional<CommitStatus> review_status(const Layout& layout, const Event& event) {
  std::string parent = string_of(event.data, "parent");
  if (number_of(event.data, "pull_request") <= 0 || parent.empty() || !connected(layout, parent)) {
    return std::nullopt;
  }
  CommitStatus status{.app = parent,
                      .commit = string_of(event.data, "commit"),
                      .context = "slipway/review-app",
                      .target_url = string_of(event.data, "url")};
  if (event.action == "deploying") {
    status.state = "pending";
    status.description = fmt::format("Deploying review app {}", event.app);
  } else if (event.action == "deployed") {
    status.state = "success";
    status.description = fmt::format("Review app {} is live", event.app);
  } else if (event.action == "failed") {
    status.state = "failure";
    status.description = "Review app failed: " + string_of(event.data, "reason");
    status.target_url.clear();
  } else {
    return std::nullopt;
  }
  return status;
}

std::optional<CommitStatus> test_run_status(const Layout& layout, const Event& event) {
  // A review app's run is its parent's connection's.
  std::string app = event.app;
  if (auto info = app_info(layout, app); info && info->review) {
    app = info->review->parent;
  }
  if (!connected(layout, app)) {
    return std::nullopt;
  }
  int number = number_of(event.data, "number");
  std::string outcome = string_of(event.data, "status");
  CommitStatus status{
      .app = app, .commit = string_of(event.data, "commit"), .context = "slipway/ci"};
  if (event.action == "created" || outcome == "pending" || outcome == "creating" ||
      outcome == "building" || outcome == "running") {
    status.state = "pending";
    status.description = fmt::format("Test run #{} of {} {}", number, event.app,
                                     outcome.empty() ? "queued" : outcome);
  } else if (outcome == "succeeded") {
    status.state = "success";
    status.description = fmt::format("Test run #{} of {} passed", number, event.app);
  } else if (outcome == "failed") {
    status.state = "failure";
    status.description = string_of(event.data, "message");
  } else if (outcome == "errored" || outcome == "cancelled") {
    status.state = "error";
    status.description = string_of(event.data, "message");
  } else {
    return std::nullopt;
  }
  return status;
}

} // namespace

std::optional<CommitStatus> status_for(const Layout& layout, const Config& config,
                                       const Event& event) {
  if (event.app.empty()) {
    return std::nullopt;
  }
  std::optional<CommitStatus> status;
  if (event.resource == "build") {
    status = build_status(layout, config, event);
  } else if (event.resource == "review-app") {
    status = review_status(layout, event);
  } else if (event.resource == "test-run") {
    status = test_run_status(layout, event);
  }
  if (!status || !is_commit_id(status->commit)) {
    return std::nullopt;
  }
  status->description = cut(std::move(status->description));
  return status;
}

http::Request status_request(const Connection& connection, const std::string& token,
                             const CommitStatus& status) {
  http::Request request{
      .headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}}};
  nlohmann::json body{{"state", status.state}, {"description", status.description}};
  if (!status.target_url.empty()) {
    body["target_url"] = status.target_url;
  }
  switch (connection.host) {
  case GitHost::github:
    request.url = fmt::format("{}/repos/{}/statuses/{}", connection.api_url, connection.repo.path,
                              status.commit);
    request.headers.emplace_back("Authorization", "Bearer " + token);
    request.headers.emplace_back("X-GitHub-Api-Version", "2022-11-28");
    body["context"] = status.context;
    break;
  case GitHost::gitlab:
    request.url = fmt::format("{}/projects/{}/statuses/{}", connection.api_url,
                              http::percent_encoded(connection.repo.path), status.commit);
    request.headers.emplace_back("PRIVATE-TOKEN", token);
    // GitLab's words: failed, not failure; no error state.
    if (status.state == "failure" || status.state == "error") {
      body["state"] = "failed";
    }
    body["name"] = status.context;
    break;
  case GitHost::gitea:
  case GitHost::forgejo:
    request.url = fmt::format("{}/repos/{}/statuses/{}", connection.api_url, connection.repo.path,
                              status.commit);
    request.headers.emplace_back("Authorization", "token " + token);
    body["context"] = status.context;
    break;
  }
  request.body = body.dump();
  return request;
}

} // namespace slipway::notify
