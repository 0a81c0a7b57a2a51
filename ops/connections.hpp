// Apps connected to a git host (runtime/connections.hpp): connecting and disconnecting (an
// admin's: the server fetches with its credentials), showing a connection, what a webhook
// delivery does, and the worker that does what the deliveries and the polls ask for.
//
// A delivery is checked (the host's signature with the connection's secret), recorded
// against redelivery, and either queued for the app's worker or answered with the reason it
// means nothing here; it never waits for a build. The worker runs detached, one per app:
//   push / poll   fetches the connected branch into the app's repository, then pushes it to
//                 the app's deploy branch with `git push` on the server itself, so that the
//                 deploy takes the very path a developer's push takes (CI gate, build,
//                 release phase, health check, builds:output, events), acting as the key that
//                 connected the app, with the host's pusher named in the release;
//   pull request  with review apps enabled on the pipeline the app is the review parent of:
//                 fetches the request's head (refs/pull/N/head, GitLab's
//                 refs/merge-requests/N/head) and makes or updates its review app
//                 PIPELINE-pr-N; a merged or closed request's review app is destroyed.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "common/time.hpp"
#include "ops/context.hpp"
#include "runtime/connections.hpp"

namespace slipway::ops {

struct ConnectApp {
  std::string app;
  std::string url;
  std::string branch;          // "": the app's deploy branch
  std::optional<GitHost> host; // none: from the URL's host (github.com, gitlab.com, ...)
  std::string credential;      // "": none
  std::string api_url;         // "": default_api_url
  bool allow_forks = false;
  std::chrono::seconds poll{0};
};

struct ConnectionInfo {
  Connection connection; // its secret only from connect_app
  std::string webhook_url;
  ConnectionState state;
  std::size_t queued = 0; // jobs not done yet
};

// Connects the app (replacing a connection it had, with a new secret). The credential must
// exist; the repository is fetched once, so that a wrong URL, branch or credential is told
// now rather than at the first push.
Expected<ConnectionInfo> connect_app(const Context& context, const ConnectApp& request);

Expected<void> disconnect_app(const Context& context, const std::string& app);

// Without the secret.
Expected<ConnectionInfo> app_connection(const Context& context, const std::string& app);

// The URL a host posts `host`'s webhooks to: [git_hosts] public_url, else the API's address.
std::string webhook_url(const Layout& layout, const Config& config, GitHost host);

// A webhook request as the API server got it.
struct WebhookRequest {
  GitHost format; // the endpoint's: github, gitlab or gitea
  HeaderLookup header;
  std::string_view body;
};
struct WebhookReply {
  int status = 202; // 200, 202, 400, 401
  std::string message;
};
// Checks, records and queues (or explains) a delivery for every connection whose secret
// signed it; 401 when none did, and then nothing changed.
WebhookReply receive_webhook(const Layout& layout, const Config& config,
                             const WebhookRequest& request);

// The worker: does the app's queued jobs, one at a time, until none is left; returns at once
// when another worker holds the app's. Its progress goes to `on_output`.
Expected<void> work_connection_jobs(const Layout& layout, const Config& config,
                                    const std::string& app, const OutputFn& on_output);

// Starts a detached worker for the app (`slipway connections:work -a APP`).
Expected<void> start_connection_worker(const Layout& layout, const std::string& app);

// What the daemon asks every few seconds: queues a poll for each connection whose --poll
// interval passed, and starts a worker for each app with jobs and none working on them (a
// killed worker's jobs are taken up again). Returns the apps whose worker it started.
std::vector<std::string> tend_connections(const Layout& layout, TimePoint now);

} // namespace slipway::ops
