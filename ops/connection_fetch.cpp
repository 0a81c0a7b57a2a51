#include "ops/connection_fetch.hpp"

#include <fmt/format.h>

#include "compiler/git_fetch.hpp"
#include "runtime/credentials.hpp"

namespace slipway::ops {

std::string connected_ref(const std::string& branch) {
  return "refs/slipway/connection/" + branch;
}

std::string host_pull_ref(GitHost host, int number) {
  return host == GitHost::gitlab ? fmt::format("refs/merge-requests/{}/head", number)
                                 : fmt::format("refs/pull/{}/head", number);
}

namespace {

// The user name a host takes with a token over http(s).
std::string token_user(GitHost host) {
  switch (host) {
  case GitHost::github:
    return "x-access-token";
  case GitHost::gitlab:
    return "oauth2";
  case GitHost::gitea:
  case GitHost::forgejo:
    return "slipway"; // any name: Gitea checks the password as a token
  }
  return "git";
}

} // namespace

Expected<void> fetch_connected(const Layout& layout, const Config& config, Connection& connection,
                               const std::vector<std::string>& refspecs) {
  TRY(check_public_host(config, connection.repo));
  git::FetchRequest request{.repo_dir = layout.repo_dir(connection.app),
                            .url = connection.repo.url,
                            .refspecs = refspecs,
                            .host_key = connection.host_key,
                            .timeout = config.git_hosts.fetch_timeout};
  if (!connection.credential.empty()) {
    auto credential = TRY(load_credential(layout, connection.credential));
    bool over_ssh = connection.repo.scheme == "ssh";
    if (over_ssh != (credential.kind == CredentialKind::ssh_key)) {
      return usage_error("credential '{}' is {}, which cannot fetch over {}: use {}",
                         connection.credential,
                         credential.kind == CredentialKind::ssh_key ? "a deploy key" : "a token",
                         connection.repo.scheme,
                         over_ssh ? "a deploy key (credentials:add NAME --ssh-key FILE)"
                                  : "a token (credentials:add NAME --token -), or an ssh URL");
    }
    if (over_ssh) {
      request.ssh_key = std::move(credential.secret);
    } else {
      request.username = token_user(connection.host);
      request.token = std::move(credential.secret);
    }
  }
  auto fetched = git::fetch(request);
  if (!fetched) {
    return fail("cannot fetch from {}: {}", connection.repo.url, fetched.error().message);
  }
  if (connection.host_key.empty() && !fetched->host_key.empty()) {
    connection.host_key = fetched->host_key;
  }
  return {};
}

} // namespace slipway::ops
