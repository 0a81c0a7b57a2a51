#include <catch2/catch.hpp>

#include "cluster/k8s.hpp"
#include "cluster/oci.hpp"
#include "cluster/registry.hpp"
#include "common/hash.hpp"
#include "common/slug.hpp"
#include "tests/support/test_support.hpp"

using namespace slipway;
using namespace slipway::cluster;
using namespace slipway::test;
namespace fs = std::filesystem;

TEST_CASE("a layer is a gzip'd tar named by its digest, with the tar's own digest as its diff_id",
          "[oci]") {
  TempDir dir;
  fs::path layout = dir / "layout";
  auto writer = LayerWriter::open(layout);
  REQUIRE(writer);
  REQUIRE(writer->add_directory("etc", 0755, {}, 1700000000));
  REQUIRE(writer->add_file("etc/hello", 0644, {}, 1700000000, "hello\n"));
  auto layer = writer->finish();
  REQUIRE(layer);
  fs::path blob = blob_path(layout, layer->blob.digest);
  REQUIRE(fs::exists(blob));
  CHECK(layer->blob.size == fs::file_size(blob));
  CHECK(layer->blob.digest == "sha256:" + *sha256_file(blob));
  CHECK(layer->blob.media_type == k_layer_type);
  // gunzip gives the tar whose digest is the diff_id, and tar lists what was added.
  auto tar = run_program({"sh", "-c", "gzip -dc '" + blob.string() + "' | sha256sum"});
  REQUIRE(tar.ok());
  CHECK(layer->diff_id == "sha256:" + tar.output.substr(0, 64));
  auto listed = run_program({"tar", "-tvzf", blob.string()});
  CHECK(contains(listed.output, "etc/hello"));
  CHECK(contains(listed.output, "0/0"));
  // The same content makes the same layer: a release's image is reproducible.
  auto again = LayerWriter::open(layout);
  REQUIRE(again);
  REQUIRE(again->add_directory("etc", 0755, {}, 1700000000));
  REQUIRE(again->add_file("etc/hello", 0644, {}, 1700000000, "hello\n"));
  CHECK(again->finish()->blob.digest == layer->blob.digest);
  CHECK(fs::exists(layout / "oci-layout"));
}

TEST_CASE("a slug becomes a layer at /app owned by the image's user, and a hostile slug is "
          "refused",
          "[oci]") {
  TempDir dir;
  fs::path app = dir / "app";
  fs::create_directories(app / "bin");
  write_file(app / "Procfile", "web: bin/web\n");
  write_file(app / "bin" / "web", "#!/bin/sh\necho hi\n", 0755);
  fs::create_symlink("web", app / "bin" / "link");
  auto slug = pack_slug(app, dir / "slug.tar.zst", {});
  REQUIRE(slug);
  auto writer = LayerWriter::open(dir / "layout");
  REQUIRE(writer);
  REQUIRE(writer->add_slug(slug->path, slug->sha256, "app", {10000, 10000}));
  auto layer = writer->finish();
  REQUIRE(layer);
  auto listed = run_program({"tar", "-tvzf", blob_path(dir / "layout", layer->blob.digest)});
  INFO(listed.output);
  CHECK(contains(listed.output, "10000/10000"));
  CHECK(contains(listed.output, "app/Procfile"));
  CHECK(contains(listed.output, "app/bin/web"));
  CHECK(contains(listed.output, "app/bin/link -> web"));
  CHECK_FALSE(contains(listed.output, "./app"));

  // A slug that is not the one recorded is refused.
  auto other = LayerWriter::open(dir / "layout");
  REQUIRE(other);
  auto refused = other->add_slug(slug->path, std::string(64, '0'), "app", {10000, 10000});
  REQUIRE_FALSE(refused);
  CHECK(contains(refused.error().message, "damaged or was replaced"));

  // A slug with an entry outside ./app/ is refused.
  fs::create_directories(dir / "evil" / "app");
  write_file(dir / "evil" / "etc-passwd", "root::0:0::/:/bin/sh\n");
  REQUIRE(run_program({"tar", "-C", (dir / "evil").string(), "--zstd", "-cf",
                       (dir / "evil.tar.zst").string(), "./app", "./etc-passwd"})
              .ok());
  auto hostile = LayerWriter::open(dir / "layout");
  REQUIRE(hostile);
  auto outside = hostile->add_slug(dir / "evil.tar.zst", "", "app", {10000, 10000});
  REQUIRE_FALSE(outside);
  CHECK(contains(outside.error().message, "outside ./app/"));
}

TEST_CASE("a registry is a host and port, https unless it says http", "[oci]") {
  CHECK(*registry_url("registry.example.com:5000") == "https://registry.example.com:5000");
  CHECK(*registry_url("http://127.0.0.1:5000/") == "http://127.0.0.1:5000");
  CHECK_FALSE(registry_url("http://evil/../x"));
  CHECK_FALSE(registry_url("127.0.0.1:5000?x=y"));
  CHECK_FALSE(registry_url(""));
}

TEST_CASE("Kubernetes manifests quote every string, and keys YAML would read otherwise", "[k8s]") {
  std::string yaml = to_yaml({nlohmann::json{{"a", "3"},
                                             {"yes", true},
                                             {"ok", {1, "x"}},
                                             {"empty", nlohmann::json::object()},
                                             {"with space", "v"}}});
  CHECK(yaml == "---\na: \"3\"\nempty: {}\nok:\n- 1\n- \"x\"\n\"with space\": \"v\"\n"
                "\"yes\": true\n");
  K8sRelease release{.app = "shop",
                     .version = 7,
                     .image = "registry:5000/shop:v7",
                     .process_types = {{"web", "bin/web"}, {"worker", "bin/worker"}},
                     .release_command = "bin/migrate",
                     .replicas = {{"web", 2}, {"worker", 1}},
                     .config = {{"DATABASE_URL", "postgres://x"}, {"FLAG", "true"}},
                     .hosts = {"shop.example.com"}};
  auto documents = k8s_manifests(release);
  std::vector<std::string> kinds;
  for (const auto& document : documents) {
    kinds.push_back(document["kind"]);
  }
  CHECK(kinds == std::vector<std::string>{"Secret", "Job", "Deployment", "Deployment", "Service",
                                          "Ingress"});
  CHECK(documents[0]["metadata"]["name"] == "shop-config-v7");
  CHECK(documents[0]["immutable"] == true);
  CHECK(documents[0]["stringData"]["FLAG"] == "true");
  CHECK(documents[2]["spec"]["replicas"] == 2);
  CHECK(documents[2]["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0);
  auto web = documents[2]["spec"]["template"]["spec"]["containers"][0];
  CHECK(web["readinessProbe"]["httpGet"]["path"] == "/");
  CHECK(web["envFrom"][0]["secretRef"]["name"] == "shop-config-v7");
  CHECK(web["securityContext"]["runAsNonRoot"] == true);
  CHECK(documents[3]["spec"]["template"]["spec"]["containers"][0].count("readinessProbe") == 0);
}
