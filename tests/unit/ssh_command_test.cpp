#include <catch2/catch.hpp>

#include "hooks/ssh_command.hpp"
#include "tests/support/test_support.hpp"

using namespace slipway;
using test::contains;
using Words = std::vector<std::string>;

TEST_CASE("an ssh command is split like a plain shell command line, without a shell",
          "[ssh_command]") {
  CHECK(*split_ssh_command("") == Words{});
  CHECK(*split_ssh_command("  releases  -a   demo ") == Words{"releases", "-a", "demo"});
  CHECK(*split_ssh_command("git-receive-pack 'demo.git'") == Words{"git-receive-pack", "demo.git"});
  CHECK(*split_ssh_command("config:set -a demo 'A=x y' \"B=it's\" C=a\\ b") ==
        Words{"config:set", "-a", "demo", "A=x y", "B=it's", "C=a b"});
  // git's own quoting of a quote: 'a'\''b'
  CHECK(*split_ssh_command("git-upload-pack 'a'\\''b'") == Words{"git-upload-pack", "a'b"});
  CHECK(*split_ssh_command("config:set -a demo 'URL=postgres://u:p@h/db?x=1;y=$2'") ==
        Words{"config:set", "-a", "demo", "URL=postgres://u:p@h/db?x=1;y=$2"});
  CHECK(*split_ssh_command("config:set -a demo 'GREETING=h\xc3\xa9llo'") ==
        Words{"config:set", "-a", "demo", "GREETING=h\xc3\xa9llo"});
  CHECK(*split_ssh_command("run -a demo -- ''") == Words{"run", "-a", "demo", "--", ""});
}

TEST_CASE("git requests name a valid app in any of git's path forms", "[ssh_command]") {
  for (const char* path : {"demo", "/demo", "demo.git", "/demo.git", "~/demo", "~/demo.git"}) {
    INFO(path);
    auto request = parse_git_request({"git-receive-pack", path});
    REQUIRE(request);
    REQUIRE(*request);
    CHECK((*request)->app == "demo");
    CHECK((*request)->service == GitRequest::Service::receive_pack);
  }
  auto upload = parse_git_request({"git-upload-pack", "demo"});
  REQUIRE(upload);
  CHECK((*upload)->service == GitRequest::Service::upload_pack);
  auto other = parse_git_request({"releases", "-a", "demo"});
  REQUIRE(other);
  CHECK_FALSE(*other);
}

// Each of these must be refused before anything runs or any path is built.
TEST_CASE("hostile ssh commands are refused with the reason", "[ssh_command]") {
  struct Case {
    std::string command;
    std::string reason;
  };
  std::vector<Case> cases = {
      {"git-receive-pack 'x; rm -rf /'", "invalid repository"},
      {"git-receive-pack '../etc'", "invalid repository"},
      {"git-receive-pack '/../etc'", "invalid repository"},
      {"git-receive-pack '~/../../etc/passwd'", "invalid repository"},
      {"git-receive-pack '$(id)'", "invalid repository"},
      {"git-receive-pack \"$(id)\"", "inside double quotes"},
      {"git-receive-pack `id`", "unquoted '`'"},
      {"git-receive-pack '`id`'", "invalid repository"},
      {"git-receive-pack 'demo'\nid", "control character \\x0a"},
      {"git-receive-pack 'demo'\rid", "control character \\x0d"},
      {std::string("git-receive-pack 'de\0mo'", 24), "control character \\x00"},
      {"git-receive-pack '\xd0\xb0pp'", "invalid repository"},  // Cyrillic a
      {"git-receive-pack 'dem\xce\xbf'", "invalid repository"}, // Greek omicron
      {"git-receive-pack d\xd0\xb5mo", "non-ASCII byte"},       // unquoted look-alike
      {"git-receive-pack '" + std::string(10240, 'a') + "'", "invalid repository"},
      {"releases -a " + std::string(70000, 'a'), "at most 65536 are accepted"},
      {"git-upload-archive 'demo'", "'git-upload-archive' is not allowed"},
      {"git-shell -c 'git-receive-pack demo'", "'git-shell' is not allowed"},
      {"git receive-pack 'demo'", "'git' is not allowed"},
      {"git-receive-pack '--upload-pack=touch /tmp/pwned'", "invalid repository"},
      {"git-upload-pack --upload-pack=id demo", "takes one repository path"},
      {"git-receive-pack", "takes one repository path, got 0"},
      {"git-receive-pack 'demo' 'other'", "takes one repository path, got 2"},
      {"git-receive-pack '-demo'", "invalid repository"},
      {"git-receive-pack 'Demo'", "invalid repository"},
      {"git-receive-pack 'demo/../x'", "invalid repository"},
      {"git-receive-pack '.git'", "invalid repository"},
      {"git-receive-pack ''", "invalid repository"},
      {"releases -a demo; rm -rf /", "unquoted ';'"},
      {"releases -a demo && id", "unquoted '&'"},
      {"releases -a demo | id", "unquoted '|'"},
      {"releases -a demo > /etc/passwd", "unquoted '>'"},
      {"releases -a $(id)", "unquoted '$'"},
      {"releases -a demo 'unterminated", "unterminated single quote"},
      {"releases -a \"demo", "unterminated double quote"},
      {"releases -a demo \\", "ends with a backslash"},
      {"releases -a demo\\\nid", "control character \\x0a"},
      {"releases -a ~root", "unquoted '~'"},
      {"releases -a demo*", "unquoted '*'"},
      {"releases\t-a\tdemo\x1b[2J", "control character \\x1b"},
  };
  for (const auto& [command, reason] : cases) {
    INFO(command.substr(0, 80));
    auto words = split_ssh_command(command);
    std::string message;
    if (!words) {
      message = words.error().message;
    } else {
      auto request = parse_git_request(*words);
      REQUIRE_FALSE(request);
      message = request.error().message;
      CHECK(request.error().exit_code == 2);
    }
    CHECK(contains(message, reason));
  }
  CHECK(cases.size() >= 30);
}
