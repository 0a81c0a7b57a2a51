#include "compiler/git_fetch.hpp"

#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include <fmt/format.h>

#include "common/fd.hpp"
#include "compiler/git.hpp"

namespace slipway::git {

namespace {

struct Callbacks {
  const FetchRequest* request = nullptr;
  int credential_calls = 0;
  std::string host_key; // what the host showed
  std::string refused;  // why the host's key was refused
};

std::string hex(const unsigned char* bytes, std::size_t size) {
  std::string out;
  for (std::size_t i = 0; i < size; ++i) {
    out += fmt::format("{:02x}", bytes[i]);
  }
  return out;
}

int credentials(git_credential** out, const char* /*url*/, const char* user_from_url,
                unsigned int allowed, void* payload) {
  auto& state = *static_cast<Callbacks*>(payload);
  const FetchRequest& request = *state.request;
  // libgit2 asks again after a refusal: once is all a stored credential gets.
  if (++state.credential_calls > 1) {
    return GIT_EUSER;
  }
  if ((allowed & GIT_CREDENTIAL_SSH_MEMORY) && !request.ssh_key.empty()) {
    std::string user = user_from_url && *user_from_url ? user_from_url : "git";
    return libgit2::git_credential_ssh_key_memory_new(out, user.c_str(), nullptr,
                                                      request.ssh_key.c_str(), nullptr);
  }
  if ((allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) && !request.token.empty()) {
    return libgit2::git_credential_userpass_plaintext_new(out, request.username.c_str(),
                                                          request.token.c_str());
  }
  return GIT_PASSTHROUGH;
}

int check_certificate(git_cert* cert, int valid, const char* host, void* payload) {
  auto& state = *static_cast<Callbacks*>(payload);
  if (cert->cert_type != GIT_CERT_HOSTKEY_LIBSSH2) {
    // TLS: libgit2's own verification against the system's authorities stands.
    return valid ? 0 : GIT_ECERTIFICATE;
  }
  const auto* key = reinterpret_cast<const git_cert_hostkey*>(cert);
  if (!(key->type & GIT_CERT_SSH_SHA256)) {
    state.refused = fmt::format("{} showed no SHA-256 host key fingerprint", host);
    return GIT_ECERTIFICATE;
  }
  state.host_key = "SHA256:" + hex(key->hash_sha256, sizeof key->hash_sha256);
  const std::string& pinned = state.request->host_key;
  if (!pinned.empty() && pinned != state.host_key) {
    state.refused = fmt::format("{}'s host key changed (now {}, pinned {}): if the host really "
                                "changed its key, connect the app again",
                                host, state.host_key, pinned);
    return GIT_ECERTIFICATE;
  }
  return 0;
}

// In the child: the fetch itself. The first line written to `out` is "ok HOSTKEY" or
// "error MESSAGE".
std::string fetch_here(const FetchRequest& request) {
  ensure_initialised();
  git_repository* raw_repo = nullptr;
  if (auto opened = check(libgit2::git_repository_open_bare(&raw_repo, request.repo_dir.c_str()),
                          "cannot open the app's repository");
      !opened) {
    return "error " + opened.error().message;
  }
  Repository repo(raw_repo);
  git_remote* raw_remote = nullptr;
  if (auto made =
          check(libgit2::git_remote_create_anonymous(&raw_remote, repo.get(), request.url.c_str()),
                "cannot use the URL");
      !made) {
    return "error " + made.error().message;
  }
  std::unique_ptr<git_remote, void (*)(git_remote*)> remote(
      raw_remote, [](git_remote* r) { libgit2::git_remote_free(r); });
  Callbacks state{.request = &request};
  git_fetch_options options = GIT_FETCH_OPTIONS_INIT;
  options.callbacks.credentials = credentials;
  options.callbacks.certificate_check = check_certificate;
  options.callbacks.payload = &state;
  options.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
  options.update_fetchhead = 0;
  options.prune = GIT_FETCH_NO_PRUNE;
  std::vector<char*> specs;
  for (const auto& spec : request.refspecs) {
    specs.push_back(const_cast<char*>(spec.c_str()));
  }
  git_strarray refspecs{specs.data(), specs.size()};
  int rc = libgit2::git_remote_fetch(remote.get(), &refspecs, &options, "slipway: fetch");
  if (!state.refused.empty()) {
    return "error " + state.refused;
  }
  if (auto fetched = check(rc, "cannot fetch"); !fetched) {
    std::string message = fetched.error().message;
    if (state.credential_calls > 0) {
      message += " (the host refused the credential)";
    }
    return "error " + message;
  }
  return "ok " + state.host_key;
}

} // namespace

Expected<FetchResult> fetch(const FetchRequest& request) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return fail("cannot fetch: pipe: {}", std::strerror(errno));
  }
  UniqueFd read_end(fds[0]);
  UniqueFd write_end(fds[1]);
  pid_t pid = ::fork();
  if (pid < 0) {
    return fail("cannot fetch: fork: {}", std::strerror(errno));
  }
  if (pid == 0) {
    read_end.reset();
    std::string result = fetch_here(request) + "\n";
    [[maybe_unused]] auto written = ::write(write_end.get(), result.data(), result.size());
    ::_exit(0);
  }
  write_end.reset();
  std::string reply;
  auto deadline = std::chrono::steady_clock::now() + request.timeout;
  bool timed_out = false;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd readable{.fd = read_end.get(), .events = POLLIN, .revents = 0};
    int ready = ::poll(&readable, 1, static_cast<int>(std::min<long>(left.count(), 1000)));
    if (ready < 0 && errno != EINTR) {
      break;
    }
    if (ready <= 0) {
      continue;
    }
    char buffer[4096];
    ssize_t got = ::read(read_end.get(), buffer, sizeof buffer);
    if (got <= 0) {
      break;
    }
    reply.append(buffer, static_cast<std::size_t>(got));
  }
  if (timed_out) {
    ::kill(pid, SIGKILL);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) {
    return fail("cannot fetch {}: no answer within {} s", request.url,
                std::chrono::duration_cast<std::chrono::seconds>(request.timeout).count());
  }
  reply = reply.substr(0, reply.find('\n'));
  if (reply.starts_with("ok ")) {
    return FetchResult{.host_key = reply.substr(3)};
  }
  if (reply.starts_with("error ")) {
    return fail("{}", reply.substr(6));
  }
  return fail("cannot fetch {}: the fetch ended without a result", request.url);
}

} // namespace slipway::git
