#include <catch2/catch.hpp>

#include "common/config.hpp"
#include "tests/support/test_support.hpp"

using namespace slipway;
using namespace std::chrono_literals;
using test::contains;

namespace {

// The error parse_config gives for `text`; fails the test if it parses.
std::string config_error(std::string_view text) {
  auto config = parse_config(text);
  REQUIRE_FALSE(config);
  return config.error().message;
}

} // namespace

TEST_CASE("an empty slipway.toml gives every default", "[config]") {
  auto config = parse_config("");
  REQUIRE(config);
  CHECK(config->server.domain == "localhost");
  CHECK(config->server.http_port == 8080);
  CHECK(config->server.deploy_branch.empty()); // main and master
  CHECK(config->build.timeout == 15min);
  CHECK(config->build.buildpacks ==
        std::vector<std::string>{"procfile", "nodejs", "python", "go", "ruby", "static", "cmake"});
  CHECK(config->build.slug_compression == SlugCompression::zstd);
  CHECK(config->build.max_slug_size == 500ull * 1024 * 1024);
  CHECK(config->build.sandbox == SandboxMode::bwrap);
  CHECK(config->release.phase_timeout == 1h);
  CHECK(config->release.keep_releases == 20);
  CHECK(config->runtime.port_min == 20000);
  CHECK(config->runtime.port_max == 29999);
  CHECK(config->runtime.health_timeout == 30s);
  CHECK(config->runtime.stop_grace == 30s);
}

TEST_CASE("every key of slipway.toml is read into the config", "[config]") {
  auto config = parse_config(R"(# the whole schema
[server]
domain = "apps.example.com"
http_port = 80
deploy_branch = "production"

[build]
timeout = "20m"
buildpacks = ["nodejs", "https://example.com/bp.tgz"]
slug_compression = "gzip"
max_slug_size = "1.5GB"
sandbox = "none"

[release]
phase_timeout = "90s"
keep_releases = 5

[runtime]
port_range = "30000-30100"
health_timeout = "1m30s"
stop_grace = "250ms"
)");
  REQUIRE(config);
  CHECK(config->server.domain == "apps.example.com");
  CHECK(config->server.http_port == 80);
  CHECK(config->server.deploy_branch == "production");
  CHECK(config->build.timeout == 20min);
  CHECK(config->build.buildpacks ==
        std::vector<std::string>{"nodejs", "https://example.com/bp.tgz"});
  CHECK(config->build.slug_compression == SlugCompression::gzip);
  CHECK(config->build.max_slug_size == 3ull * 512 * 1024 * 1024);
  CHECK(config->build.sandbox == SandboxMode::none);
  CHECK(config->release.phase_timeout == 90s);
  CHECK(config->release.keep_releases == 5);
  CHECK(config->runtime.port_min == 30000);
  CHECK(config->runtime.port_max == 30100);
  CHECK(config->runtime.health_timeout == 90s);
  CHECK(config->runtime.stop_grace == 250ms);
}

TEST_CASE("keys left out of a section keep their defaults", "[config]") {
  auto config = parse_config("[build]\ntimeout = \"5m\"\n");
  REQUIRE(config);
  CHECK(config->build.timeout == 5min);
  CHECK(config->build.slug_compression == SlugCompression::zstd);
  CHECK(config->server.http_port == 8080);
}

TEST_CASE("dotted keys and an empty buildpacks list are accepted", "[config]") {
  auto config = parse_config("build.timeout = \"2h\"\nbuild.buildpacks = []\n"
                             "runtime.port_range = \"1-65535\"\n");
  REQUIRE(config);
  CHECK(config->build.timeout == 2h);
  CHECK(config->build.buildpacks.empty());
  CHECK(config->runtime.port_min == 1);
  CHECK(config->runtime.port_max == 65535);
  auto single = parse_config("[runtime]\nport_range = \"8000-8000\"\n");
  REQUIRE(single);
  CHECK(single->runtime.port_min == 8000);
  CHECK(single->runtime.port_max == 8000);
}

TEST_CASE("an unknown section is an error that names it", "[config]") {
  auto message = config_error("[servr]\ndomain = \"x\"\n");
  CHECK(contains(message, "slipway.toml"));
  CHECK(contains(message, "unknown section 'servr'"));
  CHECK(contains(config_error("stray = 1\n"), "unknown section 'stray'"));
}

TEST_CASE("an unknown key is an error that names the section and the key", "[config]") {
  auto message = config_error("[build]\ntimout = \"15m\"\n");
  CHECK(contains(message, "slipway.toml"));
  CHECK(contains(message, "unknown key 'build.timout'"));
  CHECK(contains(config_error("[runtime]\nport_min = 20000\n"), "unknown key 'runtime.port_min'"));
}

TEST_CASE("a section that is not a table is an error that names it", "[config]") {
  auto message = config_error("build = \"fast\"\n");
  CHECK(contains(message, "'build' must be a table, got a string"));
  CHECK(contains(config_error("release = [1, 2]\n"), "'release' must be a table, got an array"));
}

TEST_CASE("an integer where a duration string is expected names the key and both types",
          "[config]") {
  auto message = config_error("[build]\ntimeout = 15\n");
  CHECK(contains(message, "'build.timeout'"));
  CHECK(contains(message, "expected a duration string such as \"15m\", got an integer"));
  CHECK(contains(config_error("[runtime]\nstop_grace = 1.5\n"), "got a float"));
  CHECK(contains(config_error("[runtime]\nhealth_timeout = true\n"), "got a boolean"));
  CHECK(contains(config_error("[release]\nphase_timeout = 1979-05-27\n"), "got a date or time"));
}

TEST_CASE("a string where an integer is expected names the key", "[config]") {
  auto message = config_error("[server]\nhttp_port = \"8080\"\n");
  CHECK(contains(message, "'server.http_port'"));
  CHECK(contains(message, "expected an integer, got a string"));
  auto keep = config_error("[release]\nkeep_releases = \"20\"\n");
  CHECK(contains(keep, "'release.keep_releases'"));
  CHECK(contains(keep, "expected an integer, got a string"));
}

TEST_CASE("an integer out of its range names the key, the value and the range", "[config]") {
  auto port = config_error("[server]\nhttp_port = 70000\n");
  CHECK(contains(port, "'server.http_port'"));
  CHECK(contains(port, "70000 is out of range 1-65535"));
  CHECK(contains(config_error("[server]\nhttp_port = 0\n"), "0 is out of range 1-65535"));
  CHECK(contains(config_error("[release]\nkeep_releases = 0\n"), "'release.keep_releases'"));
  CHECK(contains(config_error("[release]\nkeep_releases = -3\n"), "-3 is out of range"));
}

TEST_CASE("a wrongly typed string key names the key", "[config]") {
  CHECK(contains(config_error("[server]\ndomain = 42\n"),
                 "'server.domain': expected a host name such as \"example.com\", got an "
                 "integer"));
  CHECK(contains(config_error("[server]\ndeploy_branch = \"\"\n"),
                 "'server.deploy_branch': invalid branch name ''"));
  CHECK(contains(config_error("[server]\ndomain = \"\"\n"),
                 "'server.domain': invalid host name '': a host name has 1 to 253 characters"));
}

TEST_CASE("buildpacks that are not an array of strings name the key", "[config]") {
  auto scalar = config_error("[build]\nbuildpacks = \"nodejs\"\n");
  CHECK(contains(scalar, "'build.buildpacks'"));
  CHECK(contains(scalar, "expected an array of strings, got a string"));
  auto mixed = config_error("[build]\nbuildpacks = [\"nodejs\", 3]\n");
  CHECK(contains(mixed, "'build.buildpacks'"));
  CHECK(contains(mixed, "expected an array of strings, got an integer"));
}

TEST_CASE("a bad duration in the config names the key and the value", "[config]") {
  auto message = config_error("[build]\ntimeout = \"15x\"\n");
  CHECK(contains(message, "'build.timeout'"));
  CHECK(contains(message, "malformed duration '15x'"));
  CHECK(contains(config_error("[runtime]\nstop_grace = \"soon\"\n"),
                 "'runtime.stop_grace': malformed duration 'soon'"));
}

TEST_CASE("a bad size in the config names the key and the value", "[config]") {
  auto message = config_error("[build]\nmax_slug_size = \"lots\"\n");
  CHECK(contains(message, "'build.max_slug_size'"));
  CHECK(contains(message, "malformed size 'lots'"));
  CHECK(contains(config_error("[build]\nmax_slug_size = 500\n"),
                 "expected a size string such as \"500MB\", got an integer"));
}

TEST_CASE("a bad port range names the key and the value", "[config]") {
  for (const char* range : {"30000-20000", "20000", "0-100", "20000-70000", "a-b", "20000-",
                            "-29999", "20000-29999x", " 20000-29999"}) {
    INFO(range);
    auto message = config_error(fmt::format("[runtime]\nport_range = \"{}\"\n", range));
    CHECK(contains(message, "'runtime.port_range'"));
    CHECK(contains(message, fmt::format("malformed port range '{}'", range)));
  }
  CHECK(contains(config_error("[runtime]\nport_range = 20000\n"),
                 "expected a range string such as \"20000-29999\", got an integer"));
}

TEST_CASE("an unknown compression or sandbox names the key and the value", "[config]") {
  auto compression = config_error("[build]\nslug_compression = \"xz\"\n");
  CHECK(contains(compression, "'build.slug_compression'"));
  CHECK(contains(compression, "unknown compression 'xz'"));
  CHECK(contains(config_error("[build]\nslug_compression = 1\n"),
                 "expected \"zstd\" or \"gzip\", got an integer"));
  auto sandbox = config_error("[build]\nsandbox = \"docker\"\n");
  CHECK(contains(sandbox, "'build.sandbox'"));
  CHECK(contains(sandbox, "unknown sandbox 'docker'"));
  CHECK(contains(config_error("[build]\nsandbox = false\n"),
                 "expected \"bwrap\" or \"none\", got a boolean"));
}

TEST_CASE("invalid TOML syntax is an error with the origin and the line number", "[config]") {
  auto message = config_error("[server]\ndomain = \"x\"\nhttp_port = \n");
  CHECK(contains(message, "slipway.toml line 3"));
  CHECK(contains(config_error("[build\ntimeout = \"1m\"\n"), "slipway.toml line 1"));
  CHECK(
      contains(config_error("[server]\ndomain = \"a\"\ndomain = \"b\"\n"), "slipway.toml line 3"));
  auto other = parse_config("[server\n", "/srv/slipway/slipway.toml");
  REQUIRE_FALSE(other);
  CHECK(contains(other.error().message, "/srv/slipway/slipway.toml line 1"));
}

TEST_CASE("the origin names the file in every config error", "[config]") {
  auto config = parse_config("[nope]\n", "/etc/slipway.toml");
  REQUIRE_FALSE(config);
  CHECK(config.error().message == "/etc/slipway.toml: unknown section 'nope'");
}

TEST_CASE("a missing slipway.toml means every default and a present one is read", "[config]") {
  test::TempDir dir;
  auto missing = load_config(dir / "slipway.toml");
  REQUIRE(missing);
  CHECK(missing->server.http_port == 8080);
  test::write_file(dir / "slipway.toml", "[server]\nhttp_port = 9000\n");
  auto present = load_config(dir / "slipway.toml");
  REQUIRE(present);
  CHECK(present->server.http_port == 9000);
  test::write_file(dir / "slipway.toml", "[server]\nhttp_prot = 9000\n");
  auto bad = load_config(dir / "slipway.toml");
  REQUIRE_FALSE(bad);
  CHECK(contains(bad.error().message, (dir / "slipway.toml").string()));
  CHECK(contains(bad.error().message, "unknown key 'server.http_prot'"));
}

TEST_CASE("durations combine units from milliseconds to days", "[config]") {
  auto check = [](std::string_view text, std::chrono::milliseconds expected) {
    INFO(text);
    auto duration = parse_duration(text);
    REQUIRE(duration);
    CHECK(*duration == expected);
  };
  check("15m", 15min);
  check("1h30m", 90min);
  check("90s", 90s);
  check("250ms", 250ms);
  check("2d", 48h);
  check("0s", 0ms);
  check("1m30s500ms", 90500ms);
  check("1s1s", 2s); // repeated units add up
}

TEST_CASE("a malformed duration is an error that quotes the value", "[config]") {
  for (const char* text : {"15x", "15", "m", "1h30", "1.5h", " 15m", "15m ", "15 m", "15M", "-5m",
                           "1h-30m", "+5m", "ms"}) {
    INFO(text);
    auto duration = parse_duration(text);
    REQUIRE_FALSE(duration);
    CHECK(contains(duration.error().message, fmt::format("malformed duration '{}'", text)));
  }
  auto empty = parse_duration("");
  REQUIRE_FALSE(empty);
  CHECK(contains(empty.error().message, "malformed duration ''"));
}

TEST_CASE("a duration too long to represent is an error, not an overflow", "[config]") {
  for (const char* text : {"9223372036854775807d", "200000000000000h", "5000000000000000d",
                           "9223372036854775807ms9223372036854775807ms", "99999999999999999999s"}) {
    INFO(text);
    auto duration = parse_duration(text);
    REQUIRE_FALSE(duration);
    CHECK(contains(duration.error().message, fmt::format("'{}'", text)));
  }
}

TEST_CASE("sizes take binary units and plain bytes", "[config]") {
  auto check = [](std::string_view text, std::uint64_t expected) {
    INFO(text);
    auto size = parse_size(text);
    REQUIRE(size);
    CHECK(*size == expected);
  };
  check("1024", 1024);
  check("0", 0);
  check("17B", 17);
  check("1K", 1024);
  check("300KiB", 300 * 1024);
  check("300KB", 300 * 1024);
  check("500MB", 500ull << 20);
  check("500M", 500ull << 20);
  check("2MiB", 2ull << 20);
  check("1.5GB", 3ull << 29);
  check("1G", 1ull << 30);
  check("1GiB", 1ull << 30);
  check("2TB", 2ull << 40);
  check("0.5KB", 512);
  check(".5KB", 512);
  check("1e3", 1000);
}

TEST_CASE("a malformed size is an error that quotes the value", "[config]") {
  for (const char* text : {"lots", "", "MB", "5 MB", "5mb", "5XB", "-1MB", "-1", " 5MB", "5MB ",
                           "nan", "inf", "infinity", "NaNMB", "infGB", "-inf", ".", ".MB"}) {
    INFO(text);
    auto size = parse_size(text);
    REQUIRE_FALSE(size);
    CHECK(contains(size.error().message, fmt::format("'{}'", text)));
  }
  auto lots = parse_size("lots");
  REQUIRE_FALSE(lots);
  CHECK(contains(lots.error().message, "malformed size 'lots'"));
}

TEST_CASE("a size too large to represent is an error, not an overflow", "[config]") {
  for (const char* text : {"1e30", "100000000TB", "18446744073709551616"}) {
    INFO(text);
    auto size = parse_size(text);
    REQUIRE_FALSE(size);
    CHECK(contains(size.error().message, fmt::format("'{}'", text)));
  }
}

TEST_CASE("sizes are formatted with binary units and one decimal", "[config]") {
  CHECK(format_size(0) == "0B");
  CHECK(format_size(17) == "17B");
  CHECK(format_size(1023) == "1023B");
  CHECK(format_size(1024) == "1.0KB");
  CHECK(format_size(512 * 1024) == "512.0KB");
  CHECK(format_size(1536) == "1.5KB");
  CHECK(format_size(500ull << 20) == "500.0MB");
  CHECK(format_size(static_cast<std::uint64_t>(24.1 * 1024 * 1024)) == "24.1MB");
  CHECK(format_size(3ull << 29) == "1.5GB");
  CHECK(format_size(4096ull << 30) == "4096.0GB");
}

TEST_CASE("a size just below the next unit is shown in the next unit", "[config]") {
  CHECK(format_size((1ull << 20) - 1) == "1.0MB");
  CHECK(format_size((1ull << 30) - 1) == "1.0GB");
  CHECK(format_size((1ull << 20) - 60 * 1024) == "964.0KB");
  CHECK(format_size((1ull << 20) - 52 * 1024) == "972.0KB");
}

TEST_CASE("a formatted size parses back to about the same number of bytes", "[config]") {
  for (std::uint64_t bytes : {17ull, 1024ull, 524288ull, 500ull << 20, 3ull << 29}) {
    INFO(bytes);
    auto parsed = parse_size(format_size(bytes));
    REQUIRE(parsed);
    CHECK(*parsed == bytes);
  }
}

TEST_CASE("the deploy branch must be a name git accepts for a branch", "[config]") {
  CHECK(parse_config("[server]\ndeploy_branch = \"release/2026\"\n")->server.deploy_branch ==
        "release/2026");
  for (const char* bad : {"", "a..b", "/main", "main/", "-x", "x.lock", "a b", "a~1", "a:b", "a*",
                          "a[1", "a@{1}", ".hidden", "a//b"}) {
    INFO(bad);
    auto parsed = parse_config(fmt::format("[server]\ndeploy_branch = \"{}\"\n", bad));
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().message.find("server.deploy_branch") != std::string::npos);
  }
}

TEST_CASE("the router's address and the log size are checked", "[config]") {
  auto config =
      parse_config("[server]\nhttp_address = \"127.0.0.1\"\n[runtime]\nlog_size = \"1MB\"\n");
  REQUIRE(config);
  CHECK(config->server.http_address == "127.0.0.1");
  CHECK(config->runtime.log_size == 1024 * 1024);
  CHECK(parse_config("")->server.http_address == "0.0.0.0");
  CHECK(contains(config_error("[server]\nhttp_address = \"localhost\"\n"),
                 "invalid IPv4 address 'localhost'"));
  CHECK(
      contains(config_error("[server]\nhttp_address = \"10.0.0.300\"\n"), "invalid IPv4 address"));
  CHECK(contains(config_error("[runtime]\nlog_size = 5\n"), "expected a size string"));
  CHECK(contains(config_error("[runtime]\nlog_size = \"lots\"\n"), "lots"));
}

TEST_CASE("limits and the uid range are read and range-checked", "[config]") {
  auto config = parse_config("[build]\nmemory = \"1GB\"\nmax_disk = \"500MB\"\n"
                             "min_free_disk = \"2GB\"\nlocal_buildpacks = [\"/srv/bp/\"]\n"
                             "[runtime]\nmemory = \"256MB\"\nprocesses = 100\nmax_disk = \"1GB\"\n"
                             "uid_range = \"300000-300999\"\n");
  REQUIRE(config);
  CHECK(config->build.memory == 1ull << 30);
  CHECK(config->build.max_disk == 500ull << 20);
  CHECK(config->build.min_free_disk == 2ull << 30);
  CHECK(config->build.local_buildpacks == std::vector<std::filesystem::path>{"/srv/bp/"});
  CHECK(config->runtime.memory == 256ull << 20);
  CHECK(config->runtime.processes == 100);
  CHECK(config->runtime.uid_min == 300000);
  CHECK(config->runtime.uid_max == 300999);
  CHECK(contains(config_error("[runtime]\nuid_range = \"0-100\"\n"), "malformed uid range"));
  CHECK(contains(config_error("[runtime]\nuid_range = \"5000-5000\"\n"), "at least two uids"));
  CHECK(contains(config_error("[runtime]\nprocesses = 3\n"), "3 is out of range 16-"));
  CHECK(contains(config_error("[build]\nlocal_buildpacks = [\"relative\"]\n"),
                 "'relative' is not an absolute path"));
  CHECK(contains(config_error("[build]\nmemory = \"1MB\"\n"), "below the least that works"));
}

TEST_CASE("durations are bounded so that no timeout is zero or never", "[config]") {
  CHECK(contains(config_error("[build]\ntimeout = \"0s\"\n"), "'0s' is out of range 1s-168h"));
  CHECK(contains(config_error("[release]\nphase_timeout = \"500ms\"\n"), "out of range"));
  CHECK(contains(config_error("[build]\ntimeout = \"99999999999999h\"\n"), "is too long"));
  CHECK(parse_config("[runtime]\nstop_grace = \"0s\"\n"));
}

TEST_CASE("the server's domain is a host name, nothing nginx could misread", "[config]") {
  for (const char* bad : {"a;b", "a}b", "a b", "x.", "-x", "A.com", "a..b"}) {
    INFO(bad);
    CHECK(contains(config_error(fmt::format("[server]\ndomain = \"{}\"\n", bad)),
                   "invalid host name"));
  }
  CHECK(parse_config("[server]\ndomain = \"apps.example.com\"\n"));
}

TEST_CASE("[buildpacks] official is builtin or clone", "[config]") {
  CHECK(parse_config("")->buildpacks.official == OfficialBuildpacks::builtin);
  CHECK(parse_config("[buildpacks]\nofficial = \"clone\"\n")->buildpacks.official ==
        OfficialBuildpacks::clone);
  auto bad = parse_config("[buildpacks]\nofficial = \"github\"\n");
  REQUIRE_FALSE(bad);
  CHECK(contains(bad.error().message,
                 "'buildpacks.official': unknown value 'github' (expected \"builtin\" or "
                 "\"clone\")"));
}

TEST_CASE("[api] says where the Platform API listens, with its limits", "[config]") {
  auto config = parse_config("[api]\nlisten = \"0.0.0.0:5005\"\nmax_connections = 64\n"
                             "rate_limit = 100\n");
  REQUIRE(config);
  CHECK(config->api.listen == "0.0.0.0:5005");
  CHECK(config->api.max_connections == 64);
  CHECK(config->api.rate_limit == 100);
  CHECK(parse_config("")->api.listen == "127.0.0.1:5000");
  CHECK(parse_config("[api]\nlisten = \"\"\n")->api.listen.empty()); // off
  CHECK(parse_config("[api]\nlisten = \"127.0.0.1:0\"\n"));
  for (const char* listen : {"localhost:5000", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536",
                             "127.0.0.1:-1", ":5000", "127.0.0.1:50x", "::1:5000"}) {
    INFO(listen);
    CHECK(contains(config_error(fmt::format("[api]\nlisten = \"{}\"\n", listen)),
                   "is not ADDRESS:PORT"));
  }
  CHECK(contains(config_error("[api]\nmax_connections = 0\n"), "'api.max_connections'"));
  CHECK(contains(config_error("[api]\nrate_limit = \"lots\"\n"), "'api.rate_limit'"));
}
