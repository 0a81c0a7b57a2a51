// A git host for the connection tests, on loopback (there is no network here): git's own
// http-backend behind an nginx (through fcgiwrap), serving bare repositories under
// dir/repos over smart HTTP with a token required (nginx basic auth: the user name each host
// takes with a token, the token as password), and a small receiver behind the same nginx
// at /api/ that records every status call (method, path, headers, body) as a JSON line and
// answers 201. Payloads are shaped as each host's documentation shows them.
#pragma once

#include <csignal>
#include <pwd.h>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <thread>

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/hash.hpp"
#include "common/random.hpp"
#include "common/subprocess.hpp"
#include "tests/e2e/api_harness.hpp"
#include "tests/e2e/git_host_payloads.hpp"
#include "tests/support/test_support.hpp"

namespace slipway::test {

namespace fs = std::filesystem;

class FakeGitHost {
 public:
  // `token_user`: x-access-token (GitHub), oauth2 (GitLab), slipway (Gitea).
  FakeGitHost(std::string token_user, std::string token)
      : m_token_user(std::move(token_user)), m_token(std::move(token)) {
    fs::create_directories(dir / "repos");
    fs::create_directories(dir / "nginx");
    write_file(dir / "htpasswd", fmt::format("{}:{{PLAIN}}{}\n", m_token_user, m_token));
    write_file(dir / "receiver.py", R"(import http.server, json, sys
log = open(sys.argv[2], "a")
class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
        log.write(json.dumps({"method": "POST", "path": self.path,
                              "headers": {k.lower(): v for k, v in self.headers.items()},
                              "body": body}) + "\n")
        log.flush()
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Receiver).serve_forever()
)");
    receiver_port = free_port();
    m_receiver = start({"python3", (dir / "receiver.py").string(), std::to_string(receiver_port),
                        (dir / "statuses.jsonl").string()});
    m_fcgi = start({"fcgiwrap", "-c", "4", "-s", "unix:" + (dir / "fcgi.sock").string()});
    port = free_port();
    write_file(dir / "nginx" / "nginx.conf",
               fmt::format(R"(daemon off;
user root;
pid {0}/nginx.pid;
error_log {0}/error.log warn;
events {{ worker_connections 64; }}
http {{
  access_log off;
  client_body_temp_path {0}/client_body;
  proxy_temp_path {0}/proxy;
  fastcgi_temp_path {0}/fastcgi;
  uwsgi_temp_path {0}/uwsgi;
  scgi_temp_path {0}/scgi;
  server {{
    listen 127.0.0.1:{1};
    location /api/ {{ proxy_pass http://127.0.0.1:{2}; }}
    location / {{
      auth_basic "git";
      auth_basic_user_file {3}/htpasswd;
      fastcgi_pass unix:{3}/fcgi.sock;
      include /etc/nginx/fastcgi_params;
      fastcgi_param SCRIPT_FILENAME /usr/lib/git-core/git-http-backend;
      fastcgi_param GIT_PROJECT_ROOT {3}/repos;
      fastcgi_param GIT_HTTP_EXPORT_ALL "";
      fastcgi_param PATH_INFO $uri;
      fastcgi_param REMOTE_USER $remote_user;
    }}
  }}
}}
)",
                           (dir / "nginx").string(), port, receiver_port, dir.path().string()));
    m_nginx = start({"nginx", "-p", (dir / "nginx").string(), "-c",
                     (dir / "nginx" / "nginx.conf").string(), "-e",
                     (dir / "nginx" / "error.log").string()});
    for (int i = 0; i < 100; ++i) {
      if (http_get(port, "/api/ready", std::chrono::milliseconds(100)).status != 0) {
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }

  // Serves the repositories over ssh too (a real sshd on loopback, logging in as this user
  // with `public_key`), with a host key of its own; called again, it restarts with a new host
  // key, as a host that changed its key (or one that is impersonated).
  void serve_ssh(const std::string& public_key) {
    stop_ssh();
    fs::remove(dir / "ssh_host_key");
    fs::remove(dir / "ssh_host_key.pub");
    REQUIRE(run_program({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                         (dir / "ssh_host_key").string()})
                .ok());
    write_file(dir / "ssh_authorized_keys", public_key, 0600);
    const passwd* entry = ::getpwuid(::getuid());
    REQUIRE(entry);
    if (ssh_port == 0) {
      ssh_port = free_port();
    }
    fs::create_directories("/run/sshd");
    write_file(dir / "sshd_config",
               fmt::format("Port {}\nListenAddress 127.0.0.1\nHostKey {}\nPidFile {}\n"
                           "AuthorizedKeysFile {}\nStrictModes no\nUsePAM no\n"
                           "PasswordAuthentication no\nKbdInteractiveAuthentication no\n"
                           "PermitRootLogin prohibit-password\nAllowUsers {}\n",
                           ssh_port, (dir / "ssh_host_key").string(), (dir / "sshd.pid").string(),
                           (dir / "ssh_authorized_keys").string(), entry->pw_name));
    m_sshd = start({"/usr/sbin/sshd", "-D", "-e", "-f", (dir / "sshd_config").string()});
    for (int i = 0; i < 100 && http_request(ssh_port, "x").body.starts_with("connect:"); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }

  // The repository's URL over ssh.
  std::string ssh_url(const std::string& name) const {
    const passwd* entry = ::getpwuid(::getuid());
    return fmt::format("ssh://{}@127.0.0.1:{}{}", entry->pw_name, ssh_port, bare(name).string());
  }

  ~FakeGitHost() {
    stop_ssh();
    for (int pid : {m_nginx, m_fcgi, m_receiver}) {
      if (pid > 0) {
        ::kill(pid, SIGTERM);
        int status = 0;
        ::waitpid(pid, &status, 0);
      }
    }
  }

  FakeGitHost(const FakeGitHost&) = delete;
  FakeGitHost& operator=(const FakeGitHost&) = delete;

  // A bare repository acme/NAME.git with a Procfile app answering `text`, and a work tree to
  // change it from (dir/work-NAME, pushing to the host's storage directly).
  std::string create_repo(const std::string& name, const std::string& text) {
    fs::path bare = dir / "repos" / "acme" / (name + ".git");
    fs::create_directories(bare.parent_path());
    REQUIRE(run_program({"git", "init", "-q", "--bare", "-b", "main", bare.string()}).ok());
    fs::path work = work_tree(name);
    REQUIRE(run_program({"git", "init", "-q", "-b", "main", work.string()}).ok());
    git(name, {"config", "user.email", "dev@example.com"});
    git(name, {"config", "user.name", "Dev"});
    git(name, {"remote", "add", "origin", bare.string()});
    write_app(name, text);
    return commit_and_push(name, "main", "first");
  }

  fs::path work_tree(const std::string& name) const { return dir / ("work-" + name); }
  fs::path bare(const std::string& name) const { return dir / "repos" / "acme" / (name + ".git"); }
  std::string url(const std::string& name) const {
    return fmt::format("http://127.0.0.1:{}/acme/{}.git", port, name);
  }

  std::string git(const std::string& name, std::vector<std::string> args) const {
    args.insert(args.begin(), {"git", "-C", work_tree(name).string()});
    auto ran = run_program(args);
    INFO(ran.output);
    REQUIRE(ran.ok());
    return ran.output;
  }

  // A Procfile app (python's http.server) whose page says `text`.
  void write_app(const std::string& name, const std::string& text) const {
    write_file(work_tree(name) / "Procfile",
               "web: cd public && exec python3 -m http.server $PORT --bind 127.0.0.1\n");
    write_file(work_tree(name) / "public" / "index.html", text + "\n");
  }

  // Commits what the work tree has and pushes `branch` to the host; returns the commit.
  std::string commit_and_push(const std::string& name, const std::string& branch,
                              const std::string& message) {
    git(name, {"add", "-A"});
    git(name, {"commit", "-q", "-m", message});
    git(name, {"push", "-q", "-f", "origin", "HEAD:refs/heads/" + branch});
    std::string id = git(name, {"rev-parse", "HEAD"});
    return id.substr(0, 40);
  }

  // What the host keeps for a pull request's head: refs/pull/N/head (GitLab:
  // refs/merge-requests/N/head).
  void set_ref(const std::string& name, const std::string& ref, const std::string& commit) {
    REQUIRE(run_program({"git", "-C", bare(name).string(), "update-ref", ref, commit}).ok());
  }

  // The status calls received so far.
  std::vector<nlohmann::json> statuses() const {
    std::vector<nlohmann::json> out;
    std::error_code ec;
    if (!fs::exists(dir / "statuses.jsonl", ec)) {
      return out;
    }
    std::istringstream lines(read_text(dir / "statuses.jsonl"));
    for (std::string line; std::getline(lines, line);) {
      auto json = nlohmann::json::parse(line, nullptr, false);
      if (json.is_object()) {
        json["json"] = nlohmann::json::parse(json.value("body", ""), nullptr, false);
        out.push_back(std::move(json));
      }
    }
    return out;
  }

  // Waits until a status call satisfies `match`.
  bool await_status(const std::function<bool(const nlohmann::json&)>& match,
                    std::chrono::seconds wait = std::chrono::seconds(30)) const {
    auto until = std::chrono::steady_clock::now() + wait;
    while (std::chrono::steady_clock::now() < until) {
      for (const auto& status : statuses()) {
        if (match(status)) {
          return true;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return false;
  }

  TempDir dir;
  int port = 0;
  int receiver_port = 0;
  int ssh_port = 0;

 private:
  // Started with its output in dir/NAME.log, killed by pid when the test ends (or dies).
  int start(const std::vector<std::string>& argv) {
    std::vector<std::string> wrapped = {
        "sh", "-c", "exec \"$@\" >>\"$0\" 2>&1",
        (dir / (fs::path(argv[0]).filename().string() + ".log")).string()};
    wrapped.insert(wrapped.end(), argv.begin(), argv.end());
    auto spawned = spawn({.argv = wrapped}, {.death_signal = SIGKILL});
    REQUIRE(spawned);
    ::close(spawned->output_fd);
    ::close(spawned->pidfd);
    return spawned->pid;
  }

  void stop_ssh() {
    if (m_sshd > 0) {
      ::kill(m_sshd, SIGTERM);
      int status = 0;
      ::waitpid(m_sshd, &status, 0);
      m_sshd = -1;
    }
  }

  std::string m_token_user;
  std::string m_token;
  int m_receiver = -1;
  int m_fcgi = -1;
  int m_nginx = -1;
  int m_sshd = -1;
};

using Json = nlohmann::json;

inline const std::string k_server_config = "[git_hosts]\nallow_private = true\n";

// One host's way of saying things: its webhook endpoint, its deliveries, its status words.
struct HostFormat {
  std::string name;       // --host
  std::string token_user; // the user name its token goes with
  std::string endpoint;
  std::string pull_ref; // where it keeps pull request N's head ("{}": N)
  std::function<Delivery(const std::string& url, const std::string& before,
                         const std::string& after, const std::string& secret,
                         const std::string& delivery)>
      push;
  // action: opened, updated, merged
  std::function<Delivery(const std::string& url, const std::string& action, int number,
                         const std::string& head, const std::string& secret,
                         const std::string& delivery)>
      pull;
  std::string status_path; // "/api/v3/repos/acme/shop/statuses/"
  std::string auth_header; // "authorization"
  std::string auth_value;  // "Bearer TOKEN"
  std::string context_key; // "context" or "name"
};

inline const std::string k_token = "tok_0123456789abcdef";

inline HostFormat github() {
  return {.name = "github",
          .token_user = "x-access-token",
          .endpoint = "/hooks/github",
          .pull_ref = "refs/pull/{}/head",
          .push =
              [](const std::string& url, const std::string& before, const std::string& after,
                 const std::string& secret, const std::string& delivery) {
                return github_delivery("push", github_push(url, before, after), secret, delivery);
              },
          .pull =
              [](const std::string& url, const std::string& action, int number,
                 const std::string& head, const std::string& secret, const std::string& delivery) {
                std::string word = action == "updated"  ? "synchronize"
                                   : action == "merged" ? "closed"
                                                        : action;
                return github_delivery("pull_request",
                                       github_pull(url, word, number, head, action == "merged"),
                                       secret, delivery);
              },
          .status_path = "/api/v3/repos/acme/shop/statuses/",
          .auth_header = "authorization",
          .auth_value = "Bearer " + k_token,
          .context_key = "context"};
}

inline HostFormat gitlab() {
  return {
      .name = "gitlab",
      .token_user = "oauth2",
      .endpoint = "/hooks/gitlab",
      .pull_ref = "refs/merge-requests/{}/head",
      .push =
          [](const std::string& url, const std::string& before, const std::string& after,
             const std::string& secret, const std::string& delivery) {
            return gitlab_delivery("Push Hook", gitlab_push(url, before, after), secret, delivery);
          },
      .pull =
          [](const std::string& url, const std::string& action, int number, const std::string& head,
             const std::string& secret, const std::string& delivery) {
            std::string word = action == "opened"    ? "open"
                               : action == "updated" ? "update"
                                                     : "merge";
            return gitlab_delivery("Merge Request Hook",
                                   gitlab_merge_request(url, word, number, head), secret, delivery);
          },
      .status_path = "/api/v4/projects/acme%2Fshop/statuses/",
      .auth_header = "private-token",
      .auth_value = k_token,
      .context_key = "name"};
}

inline HostFormat gitea() {
  return {.name = "gitea",
          .token_user = "slipway",
          .endpoint = "/hooks/gitea",
          .pull_ref = "refs/pull/{}/head",
          .push =
              [](const std::string& url, const std::string& before, const std::string& after,
                 const std::string& secret, const std::string& delivery) {
                return gitea_delivery("push", "push", gitea_push(url, before, after), secret,
                                      delivery);
              },
          .pull =
              [](const std::string& url, const std::string& action, int number,
                 const std::string& head, const std::string& secret, const std::string& delivery) {
                std::string word = action == "updated"  ? "synchronized"
                                   : action == "merged" ? "closed"
                                                        : action;
                return gitea_delivery(
                    "pull_request", action == "updated" ? "pull_request_sync" : "pull_request",
                    gitea_pull(url, word, number, head, action == "merged"), secret, delivery);
              },
          .status_path = "/api/v1/repos/acme/shop/statuses/",
          .auth_header = "authorization",
          .auth_value = "token " + k_token,
          .context_key = "context"};
}

// The server, the host, and an app `shop-staging` connected to acme/shop's main, the review
// parent of pipeline `shop` with review apps on.
struct Connected {
  explicit Connected(const HostFormat& format, std::vector<std::string> connect_flags = {})
      : format(format), api(k_server_config), host(format.token_user, k_token) {
    first = host.create_repo("shop", "version one");
    api.server.slipway({"apps:create", "shop-staging"});
    auto added = run({.argv = {slipway_binary().string(), "--root", api.server.root.string(),
                               "credentials:add", "hosttoken", "--token", "-"},
                      .stdin_data = k_token + "\n"});
    REQUIRE(added);
    REQUIRE(added->ok());
    std::vector<std::string> args = {"apps:connect",   "-a",        "shop-staging",
                                     host.url("shop"), "--host",    format.name,
                                     "--credential",   "hosttoken", "--json"};
    args.insert(args.end(), connect_flags.begin(), connect_flags.end());
    auto connected = api.server.slipway(args);
    INFO(connected.output);
    REQUIRE(connected.ok());
    auto json = Json::parse(connected.output.substr(connected.output.find('{')));
    secret = json.at("secret").get<std::string>();
    REQUIRE(json.at("webhook_url").get<std::string>().ends_with(format.endpoint));
    REQUIRE(api.server.slipway({"pipelines:create", "shop", "-a", "shop-staging", "-s", "staging"})
                .ok());
    REQUIRE(api.server.slipway({"reviewapps:enable", "-p", "shop", "--autodeploy"}).ok());
  }

  ApiResponse deliver(const Delivery& delivery) const {
    return api.request("POST", format.endpoint, "", delivery.body, delivery.headers);
  }

  int release_count(const std::string& app) const {
    return static_cast<int>(api.server.releases(app).size());
  }

  bool status_of(const std::string& commit, const std::string& context, const std::string& state,
                 const std::string& target = "") const {
    return host.await_status([&](const Json& call) {
      const Json& body = call.at("json");
      return call.value("path", "") == format.status_path + commit && body.is_object() &&
             body.value(format.context_key, "") == context && body.value("state", "") == state &&
             (target.empty() || body.value("target_url", "") == target) &&
             call.at("headers").value(format.auth_header, "") == format.auth_value;
    });
  }

  HostFormat format;
  ApiServer api;
  FakeGitHost host;
  std::string first;
  std::string secret;
};

} // namespace slipway::test
