// Releases as OCI images and Kubernetes manifests: a stack made from the host's own bash and
// python3, an image exported and checked blob by blob, pushed to Debian's docker-registry and
// run by a dockerd the test starts; manifests validated against the Kubernetes schema
// (tests/e2e/k8s_validate.mjs) and compared with golden files.
#include <csignal>
#include <regex>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "common/hash.hpp"
#include "common/subprocess.hpp"
#include "tests/support/docker.hpp"
#include "tests/support/server.hpp"

namespace slipway::test {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

json read_json(const fs::path& path) {
  return json::parse(read_text(path));
}

fs::path blob(const fs::path& layout, const std::string& digest) {
  return layout / "blobs" / "sha256" / digest.substr(7);
}

} // namespace

TEST_CASE("a release's OCI image is written from its slug, pushed to a registry, pulled and run "
          "by Docker with its config given at run time",
          "[images]") {
  Server server;
  server.create("shop", fixture("apps/stage"));
  auto pushed = server.push("shop");
  INFO(pushed.output);
  REQUIRE(pushed.ok());

  // Without a stack, the export says how to make one.
  auto early =
      server.slipway({"images:export", "-a", "shop", "--oci", (server.dir / "x").string()});
  CHECK_FALSE(early.ok());
  CHECK(contains(early.output, "images:stack"));

  fs::path rootfs = server.dir / "rootfs";
  make_rootfs(rootfs);
  auto stack = server.slipway({"images:stack", "--rootfs", rootfs.string()});
  INFO(stack.output);
  REQUIRE(stack.ok());

  fs::path layout = server.dir / "oci";
  auto exported = server.slipway({"images:export", "-a", "shop", "--oci", layout.string()});
  INFO(exported.output);
  REQUIRE(exported.ok());
  CHECK(contains(exported.output, "shop:v1 written to"));
  auto index = read_json(layout / "index.json");
  REQUIRE(index["manifests"].size() == 1);
  CHECK(index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"] == "shop:v1");
  std::string manifest_digest = index["manifests"][0]["digest"];
  auto manifest = read_json(blob(layout, manifest_digest));
  CHECK(manifest["mediaType"] == "application/vnd.oci.image.manifest.v1+json");
  REQUIRE(manifest["layers"].size() == 3);
  // Every blob is what its descriptor says.
  std::vector<json> descriptors = manifest["layers"];
  descriptors.push_back(manifest["config"]);
  for (const auto& descriptor : descriptors) {
    std::string digest = descriptor["digest"];
    INFO(digest);
    CHECK(fs::file_size(blob(layout, digest)) == descriptor["size"].get<std::uint64_t>());
    CHECK("sha256:" + *sha256_file(blob(layout, digest)) == digest);
  }
  auto config = read_json(blob(layout, manifest["config"]["digest"]));
  CHECK(config["config"]["Entrypoint"] == json::array({"/start"}));
  CHECK(config["config"]["User"] == "10000:10000");
  CHECK(config["config"]["Labels"]["io.slipway.slug"].get<std::string>().starts_with("sha256:"));
  CHECK(config["rootfs"]["diff_ids"].size() == 3);
  // No config var is in the image: they are given when it runs.
  REQUIRE(server.slipway({"config:set", "-a", "shop", "SECRET_TOKEN=hunter2hunter2"}).ok());
  fs::path second = server.dir / "oci-2";
  REQUIRE(server.slipway({"images:export", "-a", "shop", "--oci", second.string()}).ok());
  auto grep = run_program({"sh", "-c",
                           "for f in '" + second.string() +
                               "'/blobs/sha256/*; do gzip -dc \"$f\" 2>/dev/null || "
                               "cat \"$f\"; done | grep -c hunter2hunter2 || true"});
  CHECK(grep.output == "0\n");
  // Over ssh (as a key), images are not written to the server's disk.
  auto as_key = run_slipway({"--root", server.root.string(), "images:export", "-a", "shop", "--oci",
                             (server.dir / "y").string()},
                            {{"SLIPWAY_USER", "nobody"}});
  CHECK_FALSE(as_key.ok());

  // A registry of its own, on a free loopback port.
  Registry registry(server.dir / "registry");
  std::string registry_url = registry.url();
  int registry_port = registry.port();
  auto pushed_image =
      server.slipway({"images:push", "-a", "shop", "v2", "--registry", registry_url});
  INFO(pushed_image.output);
  REQUIRE(pushed_image.ok());
  CHECK(contains(pushed_image.output, fmt::format("127.0.0.1:{}/shop:v2 pushed", registry_port)));
  auto tags = run_program({"curl", "-s", registry_url + "/v2/shop/tags/list"});
  CHECK(contains(tags.output, "\"v2\""));
  // Pushed again: the registry has every blob, nothing is sent twice.
  auto again = server.slipway({"images:push", "-a", "shop", "v2", "--registry", registry_url});
  CHECK(contains(again.output, "already there"));
  CHECK_FALSE(contains(again.output, ": pushed ("));
  CHECK_FALSE(server.slipway({"images:push", "-a", "shop", "--registry", "http://a/../b"}).ok());

  // Docker pulls it and runs it, its config given at run time.
  Dockerd dockerd(server.dir / "dockerd.log");
  auto docker = [&](std::vector<std::string> args) { return dockerd.docker(std::move(args)); };
  std::string reference = fmt::format("127.0.0.1:{}/shop:v2", registry_port);
  auto pulled = docker({"pull", reference});
  INFO(pulled.output);
  REQUIRE(pulled.ok());
  int port = free_port();
  auto ran = docker({"run", "-d", "--name", "shop-web", "--network", "host", "-e",
                     fmt::format("PORT={}", port), "-e", "STAGE_NAME=docker", reference});
  INFO(ran.output);
  REQUIRE(ran.ok());
  bool answered = wait_until(
      [&] {
        return run_program({"curl", "-sf", fmt::format("http://127.0.0.1:{}/", port)}).output ==
               "v0 docker\n";
      },
      std::chrono::seconds(20));
  INFO(docker({"logs", "shop-web"}).output);
  CHECK(answered);
  // It runs as the image's user, not root, and the release phase is /start release.
  CHECK(contains(docker({"exec", "shop-web", "cat", "/proc/1/status"}).output, "Uid:\t10000"));
  auto release_phase = docker({"run", "--rm", "--network", "none", reference, "release"});
  CHECK(contains(release_phase.output, "release phase ok"));
  docker({"rm", "-f", "shop-web"});
}

TEST_CASE("Kubernetes manifests of a web, worker and release-phase app validate against the "
          "schema and match the golden files, and a second release changes only its image, "
          "secret and labels",
          "[k8s]") {
  Server server;
  server.create("shop", fixture("apps/stage"));
  server.write("shop", "Procfile",
               "web: python3 server.py\nworker: python3 -c 'import time; time.sleep(1e9)'\n"
               "release: python3 release.py\n");
  server.commit("shop", "web, worker and release");
  REQUIRE(server.slipway({"config:set", "-a", "shop", "STAGE_NAME=k8s", "FLAG=true"}).ok());
  REQUIRE(server.push("shop").ok());
  REQUIRE(server.slipway({"domains:add", "-a", "shop", "www.example.com"}).ok());

  auto manifests = [&](const std::string& version) {
    auto made = server.slipway(
        {"k8s:manifests", "-a", "shop", version, "--registry", "registry.example.com:5000"});
    INFO(made.output);
    REQUIRE(made.ok());
    return made.output;
  };
  auto validate = [&](const std::string& yaml) {
    auto checked =
        run({.argv = {"node", (fs::path(SLIPWAY_TESTS) / "e2e/k8s_validate.mjs").string()},
             .env = {{"K8S_TOOLS", SLIPWAY_K8S_TOOLS}},
             .stdin_data = yaml});
    REQUIRE(checked);
    return *checked;
  };
  std::string first = manifests("v2");
  auto checked = validate(first);
  INFO(checked.output);
  CHECK(checked.ok());
  CHECK(contains(checked.output, "apps/v1/Deployment shop-worker: valid"));
  CHECK(contains(checked.output, "batch/v1/Job shop-release-v2: valid"));
  // The validator does catch a manifest the schema refuses.
  std::string broken =
      std::regex_replace(first, std::regex("containerPort: 5000"), "containerPort: \"http\"");
  CHECK_FALSE(validate(broken).ok());

  fs::path golden = fs::path(SLIPWAY_FIXTURES) / "k8s" / "shop-v2.yaml";
  if (std::getenv("SLIPWAY_UPDATE_GOLDEN")) {
    write_file(golden, first);
  }
  CHECK(first == read_text(golden));

  // A second release of the same config: only the image, the secret's name and the release
  // labels differ.
  server.write("shop", "version.txt", "v1\n");
  server.commit("shop", "v1");
  REQUIRE(server.push("shop").ok());
  std::string second = manifests("v3");
  CHECK(validate(second).ok());
  auto lines = [](const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
      out.push_back(line);
    }
    return out;
  };
  auto before = lines(first);
  auto after = lines(second);
  REQUIRE(before.size() == after.size());
  int changed = 0;
  for (std::size_t i = 0; i < before.size(); ++i) {
    if (before[i] != after[i]) {
      ++changed;
      INFO(before[i] << " -> " << after[i]);
      bool expected = contains(after[i], "shop:v3") || contains(after[i], "shop-config-v3") ||
                      contains(after[i], "shop-release-v3") ||
                      contains(after[i], "slipway.io/release: \"3\"");
      CHECK(expected);
    }
  }
  CHECK(changed > 5);
  // Rolling back is applying v2's manifests again: they are the same as before.
  CHECK(manifests("v2") == first);
}

} // namespace slipway::test
