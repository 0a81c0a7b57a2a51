// A git host for the connection tests, on loopback (there is no network here): git's own
// http-backend behind an nginx (through fcgiwrap), serving bare repositories under
// dir/repos over smart HTTP with a token required (nginx basic auth: the user name each host
// takes with a token, the token as password), and a small receiver behind the same nginx
// at /api/ that records every status call (method, path, headers, body) as a JSON line and
// answers 201. Payloads are shaped as each host's documentation shows them.
#pragma once

#include <csignal>
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

  ~FakeGitHost() {
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

  std::string m_token_user;
  std::string m_token;
  int m_receiver = -1;
  int m_fcgi = -1;
  int m_nginx = -1;
};

// A webhook as each host sends it: headers and a payload shaped as its documentation shows.
struct Delivery {
  std::vector<std::string> headers;
  std::string body;
};

inline nlohmann::json github_repository(const std::string& url) {
  return {{"id", 1296269},
          {"node_id", "MDEwOlJlcG9zaXRvcnkxMjk2MjY5"},
          {"name", "shop"},
          {"full_name", "acme/shop"},
          {"private", true},
          {"owner", {{"login", "acme"}, {"id", 1}, {"type", "Organization"}}},
          {"html_url", url.substr(0, url.size() - 4)},
          {"clone_url", url},
          {"git_url", "git://github.com/acme/shop.git"},
          {"ssh_url", "git@github.com:acme/shop.git"},
          {"default_branch", "main"}};
}

inline Delivery github_delivery(const std::string& event, const nlohmann::json& payload,
                                const std::string& secret, const std::string& delivery) {
  std::string body = payload.dump();
  return {.headers = {"X-GitHub-Event: " + event, "X-GitHub-Delivery: " + delivery,
                      "X-GitHub-Hook-ID: 292430182", "User-Agent: GitHub-Hookshot/044aadd",
                      "X-Hub-Signature-256: sha256=" + hmac_sha256_hex(secret, body)},
          .body = body};
}

inline nlohmann::json github_push(const std::string& url, const std::string& before,
                                  const std::string& after) {
  return {{"ref", "refs/heads/main"},
          {"before", before},
          {"after", after},
          {"created", false},
          {"deleted", false},
          {"forced", false},
          {"base_ref", nullptr},
          {"compare", "https://github.com/acme/shop/compare/" + before.substr(0, 12) + "..." +
                          after.substr(0, 12)},
          {"commits",
           {{{"id", after},
             {"message", "change"},
             {"author", {{"name", "Octo Cat"}, {"email", "octocat@github.com"}}},
             {"added", nlohmann::json::array()},
             {"removed", nlohmann::json::array()},
             {"modified", {"public/index.html"}}}}},
          {"head_commit", {{"id", after}, {"message", "change"}}},
          {"repository", github_repository(url)},
          {"pusher", {{"name", "octocat"}, {"email", "octocat@github.com"}}},
          {"sender", {{"login", "octocat"}, {"id", 583231}, {"type", "User"}}}};
}

inline nlohmann::json github_pull(const std::string& url, const std::string& action, int number,
                                  const std::string& head, bool merged = false) {
  nlohmann::json repo = github_repository(url);
  return {
      {"action", action},
      {"number", number},
      {"pull_request",
       {{"id", 1000 + number},
        {"number", number},
        {"state", action == "closed" ? "closed" : "open"},
        {"title", "A feature"},
        {"user", {{"login", "octocat"}}},
        {"head", {{"label", "acme:feature"}, {"ref", "feature"}, {"sha", head}, {"repo", repo}}},
        {"base",
         {{"label", "acme:main"}, {"ref", "main"}, {"sha", std::string(40, 'a')}, {"repo", repo}}},
        {"merged", merged},
        {"merge_commit_sha", nullptr}}},
      {"repository", repo},
      {"sender", {{"login", "octocat"}, {"id", 583231}}}};
}

inline nlohmann::json gitlab_project(const std::string& url) {
  std::string web = url.substr(0, url.size() - 4);
  return {{"id", 15},
          {"name", "shop"},
          {"web_url", web},
          {"git_ssh_url", "git@example.com:acme/shop.git"},
          {"git_http_url", url},
          {"namespace", "Acme"},
          {"path_with_namespace", "acme/shop"},
          {"default_branch", "main"},
          {"visibility_level", 0}};
}

inline Delivery gitlab_delivery(const std::string& event, const nlohmann::json& payload,
                                const std::string& token, const std::string& delivery) {
  return {.headers = {"X-Gitlab-Event: " + event, "X-Gitlab-Token: " + token,
                      "X-Gitlab-Event-UUID: " + delivery, "Idempotency-Key: " + delivery,
                      "X-Gitlab-Instance: https://gitlab.example.com", "User-Agent: GitLab/17.5.0"},
          .body = payload.dump()};
}

inline nlohmann::json gitlab_push(const std::string& url, const std::string& before,
                                  const std::string& after) {
  return {{"object_kind", "push"},
          {"event_name", "push"},
          {"before", before},
          {"after", after},
          {"ref", "refs/heads/main"},
          {"ref_protected", true},
          {"checkout_sha", after},
          {"user_id", 4},
          {"user_name", "John Smith"},
          {"user_username", "jsmith"},
          {"user_email", ""},
          {"project_id", 15},
          {"project", gitlab_project(url)},
          {"commits", {{{"id", after}, {"message", "change"}}}},
          {"total_commits_count", 1},
          {"repository",
           {{"name", "shop"},
            {"url", "git@example.com:acme/shop.git"},
            {"homepage", url.substr(0, url.size() - 4)},
            {"git_http_url", url},
            {"git_ssh_url", "git@example.com:acme/shop.git"}}}};
}

inline nlohmann::json gitlab_merge_request(const std::string& url, const std::string& action,
                                           int iid, const std::string& head) {
  std::string state = action == "merge" ? "merged" : action == "close" ? "closed" : "opened";
  return {{"object_kind", "merge_request"},
          {"event_type", "merge_request"},
          {"user", {{"id", 1}, {"name", "Administrator"}, {"username", "root"}}},
          {"project", gitlab_project(url)},
          {"object_attributes",
           {{"id", 99},
            {"iid", iid},
            {"target_branch", "main"},
            {"source_branch", "feature"},
            {"source_project_id", 15},
            {"target_project_id", 15},
            {"state", state},
            {"merge_status", "unchecked"},
            {"title", "A feature"},
            {"last_commit", {{"id", head}, {"message", "feature"}}},
            {"action", action}}},
          {"labels", nlohmann::json::array()},
          {"changes", nlohmann::json::object()},
          {"repository", {{"name", "shop"}, {"url", url}, {"homepage", url}}}};
}

inline nlohmann::json gitea_repository(const std::string& url) {
  return {{"id", 1},
          {"owner", {{"id", 1}, {"login", "acme"}, {"username", "acme"}}},
          {"name", "shop"},
          {"full_name", "acme/shop"},
          {"private", true},
          {"fork", false},
          {"html_url", url.substr(0, url.size() - 4)},
          {"ssh_url", "git@gitea.example.com:acme/shop.git"},
          {"clone_url", url},
          {"default_branch", "main"}};
}

inline Delivery gitea_delivery(const std::string& event, const std::string& type,
                               const nlohmann::json& payload, const std::string& secret,
                               const std::string& delivery) {
  std::string body = payload.dump();
  return {.headers = {"X-Gitea-Event: " + event, "X-Gitea-Event-Type: " + type,
                      "X-Gitea-Delivery: " + delivery, "X-Gogs-Event: " + event,
                      "X-Gitea-Signature: " + hmac_sha256_hex(secret, body)},
          .body = body};
}

inline nlohmann::json gitea_push(const std::string& url, const std::string& before,
                                 const std::string& after) {
  return {{"ref", "refs/heads/main"},
          {"before", before},
          {"after", after},
          {"compare_url", ""},
          {"commits", {{{"id", after}, {"message", "change\n"}}}},
          {"total_commits", 1},
          {"head_commit", {{"id", after}, {"message", "change\n"}}},
          {"repository", gitea_repository(url)},
          {"pusher", {{"id", 2}, {"login", "gitea-dev"}, {"username", "gitea-dev"}}},
          {"sender", {{"id", 2}, {"login", "gitea-dev"}, {"username", "gitea-dev"}}}};
}

inline nlohmann::json gitea_pull(const std::string& url, const std::string& action, int number,
                                 const std::string& head, bool merged = false) {
  nlohmann::json repo = gitea_repository(url);
  return {
      {"action", action},
      {"number", number},
      {"pull_request",
       {{"id", 10 + number},
        {"number", number},
        {"user", {{"login", "gitea-dev"}}},
        {"title", "A feature"},
        {"state", action == "closed" ? "closed" : "open"},
        {"head",
         {{"label", "feature"}, {"ref", "feature"}, {"sha", head}, {"repo_id", 1}, {"repo", repo}}},
        {"base",
         {{"label", "main"},
          {"ref", "main"},
          {"sha", std::string(40, 'a')},
          {"repo_id", 1},
          {"repo", repo}}},
        {"merged", merged},
        {"merge_base", std::string(40, 'a')}}},
      {"repository", repo},
      {"sender", {{"id", 2}, {"login", "gitea-dev"}}},
      {"review", nullptr}};
}

} // namespace slipway::test
