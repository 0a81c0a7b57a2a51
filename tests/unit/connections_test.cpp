#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "runtime/connections.hpp"
#include "tests/support/test_support.hpp"

using namespace slipway;
using test::contains;
using test::TempDir;

TEST_CASE("a repository URL is https, http, ssh or scp-like, with OWNER/REPO, and nothing that "
          "could reach the server's own files or hide a secret",
          "[connections]") {
  auto github = parse_repo_url("https://github.com/Acme/shop.git/");
  REQUIRE(github);
  CHECK(github->scheme == "https");
  CHECK(github->host == "github.com");
  CHECK(github->path == "Acme/shop");
  auto scp = parse_repo_url("git@gitlab.example.com:group/sub/app.git");
  REQUIRE(scp);
  CHECK(scp->scheme == "ssh");
  CHECK(scp->host == "gitlab.example.com");
  CHECK(scp->path == "group/sub/app");
  auto ported = parse_repo_url("ssh://git@[::1]:2222/acme/shop");
  REQUIRE(ported);
  CHECK(ported->host == "::1");
  CHECK(ported->port == 2222);

  auto refused = [](const std::string& url) {
    auto parsed = parse_repo_url(url);
    REQUIRE_FALSE(parsed);
    return parsed.error().message;
  };
  CHECK(contains(refused("file:///srv/slipway/repos/other.git"), "only https://"));
  CHECK(contains(refused("/srv/slipway/repos/other.git"), "local path"));
  CHECK(contains(refused("../repos/other.git"), "local path"));
  CHECK(contains(refused("https://user:tok@github.com/acme/shop"), "credentials:add"));
  CHECK(contains(refused("https://x-access-token@github.com/acme/shop"), "credentials:add"));
  CHECK(contains(refused("ssh://git:pw@host/acme/shop"), "password"));
  CHECK(contains(refused("-uhttps://github.com/acme/shop"), "start with '-'"));
  CHECK(contains(refused("https://github.com/acme/shop\n"), "control character"));
  CHECK(contains(refused("https://github.com/acme/../shop"), "OWNER/REPO"));
  CHECK(contains(refused("https://github.com/shop"), "OWNER/REPO"));
  CHECK(contains(refused("https://github.com:99999/acme/shop"), "port"));
  CHECK(contains(refused("ext::sh -c touch% /tmp/pwned"), "space"));
  CHECK(contains(refused("https://github.com/acme/shop?x=1"), "character"));
}

TEST_CASE("a payload names the connected repository by its path, whatever its address",
          "[connections]") {
  auto repo = parse_repo_url("http://10.0.0.5:3000/acme/shop.git");
  REQUIRE(repo);
  CHECK(names_repository(*repo, "https://gitea.example.com/acme/shop"));
  CHECK(names_repository(*repo, "git@gitea.example.com:ACME/Shop.git"));
  CHECK_FALSE(names_repository(*repo, "https://gitea.example.com/acme/shop-fork"));
  CHECK_FALSE(names_repository(*repo, "not a url"));
  auto on_disk = parse_repo_url("ssh://git@10.0.0.5/srv/git/acme/shop.git");
  CHECK(names_repository(*on_disk, "https://gitea.example.com/acme/shop.git"));
  CHECK_FALSE(names_repository(*on_disk, "https://gitea.example.com/cme/shop.git"));
}

TEST_CASE("the status API is found from the repository's URL", "[connections]") {
  auto api = [](GitHost host, const std::string& url) {
    return default_api_url(host, *parse_repo_url(url));
  };
  CHECK(api(GitHost::github, "git@github.com:acme/shop.git") == "https://api.github.com");
  CHECK(api(GitHost::github, "https://ghe.example.com/acme/shop") ==
        "https://ghe.example.com/api/v3");
  CHECK(api(GitHost::gitlab, "http://127.0.0.1:8080/acme/shop.git") ==
        "http://127.0.0.1:8080/api/v4");
  CHECK(api(GitHost::forgejo, "ssh://git@codeberg.org:2222/acme/shop") ==
        "https://codeberg.org/api/v1");
}

TEST_CASE("a host on the server's own network is refused unless allowed", "[connections]") {
  Config config;
  for (const char* url : {"http://127.0.0.1/acme/shop", "http://localhost/acme/shop",
                          "http://169.254.169.254/acme/shop", "http://10.1.2.3/acme/shop",
                          "http://192.168.0.1/acme/shop", "http://[::1]:80/acme/shop",
                          "http://[::ffff:127.0.0.1]:80/acme/shop"}) {
    INFO(url);
    auto checked = check_public_host(config, *parse_repo_url(url));
    REQUIRE_FALSE(checked);
    CHECK(contains(checked.error().message, "allow_private"));
  }
  config.git_hosts.allow_private = true;
  CHECK(check_public_host(config, *parse_repo_url("http://127.0.0.1/acme/shop")));
}

TEST_CASE("a connection round-trips 0600, a delivery is noted once, and jobs come oldest first",
          "[connections]") {
  TempDir dir;
  Layout layout(dir.path());
  Connection connection{.app = "shop",
                        .id = "5e3c1d2a-0000-4000-8000-000000000001",
                        .host = GitHost::gitlab,
                        .repo = *parse_repo_url("https://gitlab.com/acme/shop.git"),
                        .branch = "main",
                        .credential = "gl",
                        .api_url = "https://gitlab.com/api/v4",
                        .poll = std::chrono::seconds(60),
                        .secret = std::string(64, 'f'),
                        .owner = "alice"};
  REQUIRE(save_connection(layout, connection));
  struct stat info {};
  REQUIRE(::stat((layout.connection_dir("shop") / "connection.toml").c_str(), &info) == 0);
  CHECK((info.st_mode & 0777) == 0600);
  REQUIRE(::stat(layout.connection_dir("shop").c_str(), &info) == 0);
  CHECK((info.st_mode & 0777) == 0700);
  auto loaded = load_connection(layout, "shop");
  REQUIRE(loaded);
  REQUIRE(*loaded);
  CHECK((*loaded)->repo.path == "acme/shop");
  CHECK((*loaded)->poll == std::chrono::seconds(60));
  CHECK((*loaded)->owner == "alice");
  std::vector<std::string> warnings;
  CHECK(all_connections(layout, warnings).size() == 1);

  test::write_file(layout.connection_dir("shop") / "connection.toml", "secret = \"x\"\n", 0600);
  auto damaged = load_connection(layout, "shop");
  REQUIRE_FALSE(damaged);
  CHECK(contains(damaged.error().message, "apps:connect"));
  CHECK_FALSE(contains(damaged.error().message, "\"x\""));

  CHECK(*note_delivery(layout, "shop", "abc-1"));
  CHECK_FALSE(*note_delivery(layout, "shop", "abc-1"));
  CHECK(*note_delivery(layout, "shop", "abc-2"));
  CHECK(delivery_key("72d3162e-cc78-11e3-81ab-4c9367dc0958", "{}") ==
        "72d3162e-cc78-11e3-81ab-4c9367dc0958");
  CHECK(delivery_key("", "{}").starts_with("sha256-"));
  CHECK(delivery_key("../../etc", "{}").starts_with("sha256-"));

  REQUIRE(queue_connection_job(layout, "shop", {.id = "one", .kind = "push", .commit = "c1"}));
  REQUIRE(queue_connection_job(
      layout, "shop", {.id = "two", .kind = "pull-request", .number = 4, .action = "opened"}));
  test::write_file(layout.connection_dir("shop") / "jobs" / "99999999999999999999-x.json",
                   "{\"id\":\"three\",\"kind\":\"rm -rf\"}");
  auto jobs = queued_connection_jobs(layout, "shop");
  REQUIRE(jobs.size() == 3);
  CHECK(jobs[0].job->id == "one");
  CHECK(jobs[1].job->number == 4);
  REQUIRE_FALSE(jobs[2].job);
  CHECK(contains(jobs[2].job.error().message, "unknown job kind"));

  auto worker = try_lock_connection_worker(layout, "shop");
  CHECK(worker);
  REQUIRE(remove_connection(layout, "shop"));
  CHECK_FALSE(*load_connection(layout, "shop"));
}
