#include <cctype>

#include <catch2/catch.hpp>

#include "runtime/release.hpp"
#include "tests/support/test_support.hpp"

using namespace slipway;
using namespace std::chrono_literals;
using test::contains;

namespace {

const std::string k_hex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

// 2026-11-26T07:00:00Z
std::chrono::system_clock::time_point some_time() {
  return std::chrono::sys_days{std::chrono::year{2026} / 11 / 26} + 7h;
}

Release full_release() {
  Release release;
  release.version = 42;
  release.status = ReleaseStatus::failed;
  release.description = "Deploy 1a2b3c4 \"quoted\" by alice";
  release.created_at = some_time() + 13min + 5s;
  release.commit = "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d";
  release.slug = "sha256:" + k_hex;
  release.slug_file = k_hex + ".tar.zst";
  release.buildpacks = {"procfile", "nodejs", "https://example.com/bp.tgz"};
  release.stack = "heroku-24";
  release.release_command = "bin/migrate --yes \"now\"";
  release.process_types = {{"web", "bin/web --port $PORT"},
                           {"worker", "bin/worker"},
                           {"clock", "bin/clock"},
                           {"assets", "bin/assets"}};
  release.config = {
      {"QUOTED", "say \"hi\" and 'bye'"},
      {"NEWLINES", "line one\nline two\r\nline three\n"},
      {"BACKSLASH", "C:\\path\\to\\thing \\n not a newline \\\\"},
      {"EMPTY", ""},
      {"UNICODE", "héllo wörld ✓ 日本語 🚀"},
      {"CONTROL", "tab\there, bell\x07, del\x7f"},
      {"EQUALS", "a=b=c # not a comment"},
      {"database.url", "postgres://u:p@host/db?x=[1]"},
  };
  release.reason = "release phase exited with status 1\nsee release.log";
  release.user = "alice@example.com";
  release.promoted_from = PromotedFrom{"shop-staging", 12};
  return release;
}

void check_same(const Release& got, const Release& want) {
  CHECK(got.version == want.version);
  CHECK(got.status == want.status);
  CHECK(got.description == want.description);
  CHECK(got.created_at == want.created_at);
  CHECK(got.commit == want.commit);
  CHECK(got.slug == want.slug);
  CHECK(got.slug_file == want.slug_file);
  CHECK(got.buildpacks == want.buildpacks);
  CHECK(got.stack == want.stack);
  CHECK(got.release_command == want.release_command);
  CHECK(got.process_types == want.process_types);
  CHECK(got.config == want.config);
  CHECK(got.reason == want.reason);
  CHECK(got.user == want.user);
  CHECK(got.promoted_from.has_value() == want.promoted_from.has_value());
  if (got.promoted_from && want.promoted_from) {
    CHECK(got.promoted_from->app == want.promoted_from->app);
    CHECK(got.promoted_from->version == want.promoted_from->version);
  }
}

// A minimal valid record, with `extra` appended.
std::string record(const std::string& extra = "") {
  return "version = 3\n"
         "status = \"succeeded\"\n"
         "description = \"Deploy abc\"\n"
         "created_at = 2026-11-26T07:00:00Z\n" +
         extra;
}

std::string parse_error(const std::string& text) {
  auto release = release_from_toml(text, "apps/demo/releases/v3/release.toml");
  REQUIRE_FALSE(release);
  CHECK(release.error().exit_code == 1);
  return release.error().message;
}

} // namespace

TEST_CASE("every field of a release survives a round trip through TOML", "[release]") {
  Release release = full_release();
  std::string text = release_to_toml(release);
  auto parsed = release_from_toml(text, "release.toml");
  REQUIRE(parsed);
  check_same(*parsed, release);
  // And writing it again gives the same bytes.
  CHECK(release_to_toml(*parsed) == text);
}

TEST_CASE("every status survives a round trip", "[release]") {
  for (auto status : {ReleaseStatus::pending, ReleaseStatus::succeeded, ReleaseStatus::failed}) {
    Release release = full_release();
    release.status = status;
    auto parsed = release_from_toml(release_to_toml(release), "release.toml");
    REQUIRE(parsed);
    CHECK(parsed->status == status);
  }
  CHECK(to_string(ReleaseStatus::pending) == "pending");
  CHECK(to_string(ReleaseStatus::succeeded) == "succeeded");
  CHECK(to_string(ReleaseStatus::failed) == "failed");
}

TEST_CASE("a config-only release without slug, commit or process types round-trips", "[release]") {
  Release release;
  release.version = 1;
  release.status = ReleaseStatus::pending;
  release.description = "Set FOO";
  release.created_at = some_time();
  release.config = {{"FOO", "bar"}, {"EMPTY", ""}};
  std::string text = release_to_toml(release);
  CHECK_FALSE(contains(text, "slug"));
  CHECK_FALSE(contains(text, "commit"));
  auto parsed = release_from_toml(text, "release.toml");
  REQUIRE(parsed);
  check_same(*parsed, release);
  CHECK_FALSE(parsed->has_slug());
  CHECK(parsed->config.at("EMPTY").empty());
}

TEST_CASE("empty strings in a release read back as empty", "[release]") {
  Release release = full_release();
  release.description = "";
  release.stack = "";
  release.reason = "";
  release.buildpacks = {""};
  release.process_types = {{"web", "bin/web"}};
  auto parsed = release_from_toml(release_to_toml(release), "release.toml");
  REQUIRE(parsed);
  check_same(*parsed, release);
}

TEST_CASE("process types keep their declared order, not alphabetical order", "[release]") {
  Release release = full_release();
  release.process_types = {{"zeta", "z"}, {"web", "w"}, {"alpha", "a"}, {"mid", "m"}};
  auto parsed = release_from_toml(release_to_toml(release), "release.toml");
  REQUIRE(parsed);
  CHECK(parsed->process_types == release.process_types);
}

TEST_CASE("process types missing from process_order follow the ordered ones", "[release]") {
  auto parsed = release_from_toml(record("process_order = [\"worker\", \"gone\"]\n"
                                         "[process_types]\n"
                                         "web = \"bin/web\"\n"
                                         "worker = \"bin/worker\"\n"),
                                  "release.toml");
  REQUIRE(parsed);
  CHECK(parsed->process_types == ProcessTypes{{"worker", "bin/worker"}, {"web", "bin/web"}});
}

TEST_CASE("created_at is read as UTC and honours an offset", "[release]") {
  auto utc = release_from_toml(record(), "release.toml");
  REQUIRE(utc);
  CHECK(utc->created_at == some_time());
  auto offset = release_from_toml("version = 3\n"
                                  "status = \"succeeded\"\n"
                                  "description = \"d\"\n"
                                  "created_at = 2026-11-26T09:00:00+02:00\n",
                                  "release.toml");
  REQUIRE(offset);
  CHECK(offset->created_at == some_time());
}

TEST_CASE("text that is not TOML is corrupt and the error names the line", "[release]") {
  auto message = parse_error("version = 3\nstatus = \"succeeded\"\nthis is not toml\n");
  CHECK(contains(message, "apps/demo/releases/v3/release.toml is corrupt"));
  CHECK(contains(message, "line 3"));
  auto truncated = parse_error("version = 3\ndescription = \"unterminated\n");
  CHECK(contains(truncated, "is corrupt"));
  CHECK(contains(truncated, "line 2"));
}

TEST_CASE("an unknown key in release.toml is an error that names it", "[release]") {
  auto message = parse_error(record("colour = \"blue\"\n"));
  CHECK(contains(message, "apps/demo/releases/v3/release.toml"));
  CHECK(contains(message, "unknown key 'colour'"));
}

TEST_CASE("a record without version, status, description or created_at is corrupt", "[release]") {
  const std::string lines[] = {"version = 3\n", "status = \"succeeded\"\n",
                               "description = \"Deploy abc\"\n",
                               "created_at = 2026-11-26T07:00:00Z\n"};
  for (int missing = 0; missing < 4; ++missing) {
    std::string text;
    for (int i = 0; i < 4; ++i) {
      if (i != missing) {
        text += lines[i];
      }
    }
    INFO("record: " << text);
    auto message = parse_error(text);
    CHECK(contains(message, "is corrupt"));
  }
  CHECK(contains(parse_error(""), "'version'"));
}

TEST_CASE("a version that is not a positive integer is corrupt", "[release]") {
  for (std::string version :
       {"\"3\"", "3.0", "0", "-1", "true", "2147483648", "9223372036854775807"}) {
    INFO("version = " << version);
    std::string text = "version = " + version + "\n" + record().substr(record().find('\n') + 1);
    auto message = parse_error(text);
    CHECK(contains(message, "'version' must be a positive integer"));
  }
}

TEST_CASE("a status other than pending, succeeded or failed is corrupt", "[release]") {
  for (std::string status : {"\"running\"", "\"Succeeded\"", "\"\"", "1", "[\"pending\"]"}) {
    INFO("status = " << status);
    auto message = parse_error("version = 3\nstatus = " + status +
                               "\ndescription = \"d\"\ncreated_at = 2026-11-26T07:00:00Z\n");
    CHECK(contains(message, "'status' must be pending, succeeded or failed"));
  }
}

TEST_CASE("description and created_at of the wrong type are corrupt", "[release]") {
  CHECK(contains(parse_error("version = 3\nstatus = \"failed\"\ndescription = 5\n"
                             "created_at = 2026-11-26T07:00:00Z\n"),
                 "is corrupt"));
  CHECK(contains(parse_error("version = 3\nstatus = \"failed\"\ndescription = \"d\"\n"
                             "created_at = \"2026-11-26T07:00:00Z\"\n"),
                 "is corrupt"));
  CHECK(contains(parse_error("version = 3\nstatus = \"failed\"\ndescription = \"d\"\n"
                             "created_at = 2026-11-26\n"),
                 "is corrupt"));
}

TEST_CASE("an optional string field of another type is an error that names it", "[release]") {
  for (std::string key :
       {"commit", "slug", "slug_file", "stack", "release_command", "reason", "user"}) {
    INFO("key: " << key);
    auto message = parse_error(record(key + " = 12\n"));
    CHECK(contains(message, "'" + key + "' must be a string"));
  }
}

TEST_CASE("buildpacks must be an array of strings", "[release]") {
  CHECK(contains(parse_error(record("buildpacks = \"nodejs\"\n")),
                 "'buildpacks' must be an array of strings"));
  CHECK(contains(parse_error(record("buildpacks = [\"nodejs\", 3]\n")),
                 "'buildpacks' must be an array of strings"));
  CHECK(contains(parse_error(record("buildpacks = [[\"nodejs\"]]\n")),
                 "'buildpacks' must be an array of strings"));
}

TEST_CASE("config and process_types must be tables of strings", "[release]") {
  CHECK(contains(parse_error(record("config = \"FOO=bar\"\n")), "'config' must be a table"));
  CHECK(contains(parse_error(record("[config]\nFOO = 1\n")), "'config.FOO' must be a string"));
  CHECK(
      contains(parse_error(record("[config]\nFOO = [\"a\"]\n")), "'config.FOO' must be a string"));
  CHECK(contains(parse_error(record("[config.FOO]\nBAR = \"x\"\n")),
                 "'config.FOO' must be a string"));
  CHECK(contains(parse_error(record("process_types = 1\n")), "'process_types' must be a table"));
  CHECK(contains(parse_error(record("[process_types]\nweb = true\n")),
                 "'process_types.web' must be a string"));
}

TEST_CASE("a slug without slug_file is corrupt", "[release]") {
  auto message = parse_error(record("slug = \"sha256:" + k_hex + "\"\n"));
  CHECK(contains(message, "is corrupt"));
  CHECK(contains(message, "'slug' and 'slug_file' do not name a slug"));
}

TEST_CASE("a slug_file that is a path is corrupt", "[release]") {
  for (std::string file :
       {std::string("../../etc/passwd"), std::string("/etc/passwd"), "../" + k_hex + ".tar.zst",
        "sub/" + k_hex + ".tar.zst", k_hex + ".tar.zst/..", std::string(".")}) {
    INFO("slug_file: " << file);
    auto message =
        parse_error(record("slug = \"sha256:" + k_hex + "\"\nslug_file = \"" + file + "\"\n"));
    CHECK(contains(message, "do not name a slug"));
  }
}

TEST_CASE("a slug_file that does not match the slug's hex is corrupt", "[release]") {
  std::string other(64, 'f');
  CHECK(contains(parse_error(record("slug = \"sha256:" + k_hex + "\"\nslug_file = \"" + other +
                                    ".tar.zst\"\n")),
                 "do not name a slug"));
  CHECK(contains(parse_error(record("slug = \"sha256:" + k_hex + "\"\nslug_file = \"" + k_hex +
                                    ".tar.xz\"\n")),
                 "do not name a slug"));
  CHECK(contains(
      parse_error(record("slug = \"sha256:" + k_hex + "\"\nslug_file = \"" + k_hex + "\"\n")),
      "do not name a slug"));
}

TEST_CASE("both slug file extensions are accepted", "[release]") {
  for (std::string ext : {".tar.zst", ".tar.gz"}) {
    auto release = release_from_toml(
        record("slug = \"sha256:" + k_hex + "\"\nslug_file = \"" + k_hex + ext + "\"\n"),
        "release.toml");
    REQUIRE(release);
    CHECK(release->has_slug());
    CHECK(release->slug_file == k_hex + ext);
  }
}

TEST_CASE("a slug that is not sha256 and 64 lowercase hex characters is corrupt", "[release]") {
  std::string upper = k_hex;
  for (auto& c : upper) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  std::string non_hex = k_hex;
  non_hex[10] = 'g';
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"sha256:" + upper, upper},
      {"sha256:" + k_hex.substr(0, 63), k_hex.substr(0, 63)},
      {"sha256:" + k_hex + "0", k_hex + "0"},
      {"sha256:" + non_hex, non_hex},
      {"sha256:", ""},
      {"md5:" + k_hex, k_hex},
      {"sha1", k_hex},
      {"x", k_hex},
      {k_hex, k_hex},
  };
  for (const auto& [slug, hex] : cases) {
    INFO("slug: " << slug);
    auto message =
        parse_error(record("slug = \"" + slug + "\"\nslug_file = \"" + hex + ".tar.zst\"\n"));
    CHECK(contains(message, "do not name a slug"));
  }
}

TEST_CASE("promoted_from must name an app and a version, and nothing else", "[release]") {
  for (const char* bad : {"promoted_from = \"shop\"\n", "promoted_from = { app = \"shop\" }\n",
                          "promoted_from = { app = \"../x\", version = 2 }\n",
                          "promoted_from = { app = \"shop\", version = 0 }\n",
                          "promoted_from = { app = \"shop\", version = 2, by = \"x\" }\n"}) {
    INFO(bad);
    CHECK(
        contains(parse_error(record(bad)), "'promoted_from' must be { app = NAME, version = N }"));
  }
  auto good = release_from_toml(record("promoted_from = { app = \"shop\", version = 2 }\n"), "r");
  REQUIRE(good);
  REQUIRE(good->promoted_from);
  CHECK(good->promoted_from->app == "shop");
  CHECK(good->promoted_from->version == 2);
}
