#include <catch2/catch.hpp>

#include "common/output.hpp"
#include "compiler/release_yaml.hpp"
#include "tests/support/test_support.hpp"

using namespace slipway;
using test::contains;

namespace {

using Vars = std::vector<std::pair<std::string, std::string>>;

std::string release_error(std::string_view text) {
  auto info = parse_release_yaml(text);
  REQUIRE_FALSE(info);
  return info.error().message;
}

// Sources the profile script for `vars` in /bin/bash after `preamble`, then returns the
// environment a child process of that shell sees (so only exported variables count).
std::map<std::string, std::string> exported_after(const Vars& vars,
                                                  const std::string& preamble = "") {
  test::TempDir dir;
  test::write_file(dir / "profile.sh", config_vars_profile_script(vars));
  test::write_file(dir / "check.sh",
                   "set -eu\n" + preamble + "\n. \"$1\"\n/usr/bin/env -0 > \"$2\"\n");
  auto status = test::run_program({"/bin/bash", (dir / "check.sh").string(),
                                   (dir / "profile.sh").string(), (dir / "env").string()});
  INFO(status.output);
  REQUIRE(status.ok());
  std::map<std::string, std::string> env;
  std::string all = test::read_text(dir / "env");
  std::size_t start = 0;
  while (start < all.size()) {
    auto end = all.find('\0', start);
    std::string entry = all.substr(start, end - start);
    auto equals = entry.find('=');
    env[entry.substr(0, equals)] = entry.substr(equals + 1);
    start = end + 1;
  }
  return env;
}

} // namespace

TEST_CASE("empty bin/release output is an empty release", "[release_yaml]") {
  for (const char* text : {"", "\n", "---\n", "# nothing to say\n", "   \n"}) {
    INFO(text);
    auto info = parse_release_yaml(text);
    REQUIRE(info);
    CHECK(info->default_process_types.empty());
    CHECK(info->config_vars.empty());
    CHECK(info->addons.empty());
  }
}

TEST_CASE("a full bin/release output is read in order", "[release_yaml]") {
  auto info = parse_release_yaml(R"(---
addons:
  - heroku-postgresql
  - heroku-redis
config_vars:
  PATH: /app/bin:/usr/local/bin:/usr/bin:/bin
  LANG: en_US.UTF-8
default_process_types:
  web: bundle exec rackup config.ru -p $PORT
  console: bin/rails console
  rake: bundle exec rake
)");
  REQUIRE(info);
  CHECK(info->default_process_types ==
        ProcessTypes{{"web", "bundle exec rackup config.ru -p $PORT"},
                     {"console", "bin/rails console"},
                     {"rake", "bundle exec rake"}});
  CHECK(info->config_vars ==
        Vars{{"PATH", "/app/bin:/usr/local/bin:/usr/bin:/bin"}, {"LANG", "en_US.UTF-8"}});
  CHECK(info->addons == std::vector<std::string>{"heroku-postgresql", "heroku-redis"});
}

TEST_CASE("keys with no value are the same as leaving them out", "[release_yaml]") {
  auto info = parse_release_yaml("default_process_types:\nconfig_vars:\naddons:\n");
  REQUIRE(info);
  CHECK(info->default_process_types.empty());
  CHECK(info->config_vars.empty());
  CHECK(info->addons.empty());
  auto flow = parse_release_yaml("default_process_types: {}\naddons: []\n");
  REQUIRE(flow);
  CHECK(flow->default_process_types.empty());
}

TEST_CASE("scalar values that look like numbers or booleans stay text", "[release_yaml]") {
  auto info = parse_release_yaml("config_vars:\n  WORKERS: 4\n  DEBUG: yes\n  EMPTY: \"\"\n"
                                 "  QUOTED: \"it's \\\"here\\\"\"\n");
  REQUIRE(info);
  CHECK(info->config_vars ==
        Vars{{"WORKERS", "4"}, {"DEBUG", "yes"}, {"EMPTY", ""}, {"QUOTED", "it's \"here\""}});
}

TEST_CASE("a top level that is not a mapping is an error that says what it got", "[release_yaml]") {
  CHECK(contains(release_error("- web\n- worker\n"), "expected a YAML mapping, got a list"));
  CHECK(contains(release_error("just some text\n"), "expected a YAML mapping, got a scalar"));
}

TEST_CASE("an unknown key is an error that names it", "[release_yaml]") {
  auto message = release_error("default_process_types:\n  web: x\nprocess_types:\n  web: y\n");
  CHECK(contains(message, "unknown key 'process_types'"));
  CHECK(contains(message, "default_process_types, config_vars, addons"));
}

TEST_CASE("a list where a mapping is expected names the key", "[release_yaml]") {
  auto types = release_error("default_process_types:\n  - web: x\n");
  CHECK(contains(types, "'default_process_types' must be a mapping, got a list"));
  auto vars = release_error("config_vars:\n  - FOO=bar\n");
  CHECK(contains(vars, "'config_vars' must be a mapping, got a list"));
  CHECK(contains(release_error("config_vars: FOO=bar\n"),
                 "'config_vars' must be a mapping, got a scalar"));
}

TEST_CASE("a nested value is an error that names the key and the entry", "[release_yaml]") {
  auto mapping = release_error("default_process_types:\n  web:\n    command: x\n");
  CHECK(contains(mapping, "'default_process_types'"));
  CHECK(contains(mapping, "entry 'web' must map a name to a string, got a mapping"));
  auto list = release_error("config_vars:\n  PATH: [/bin, /usr/bin]\n");
  CHECK(contains(list, "'config_vars'"));
  CHECK(contains(list, "entry 'PATH' must map a name to a string, got a list"));
  auto null = release_error("default_process_types:\n  web:\n");
  CHECK(contains(null, "entry 'web' must map a name to a string, got null"));
  auto key = release_error("config_vars:\n  ? [a, b]\n  : c\n");
  CHECK(contains(key, "'config_vars'"));
  CHECK(contains(key, "must map a name to a string"));
}

TEST_CASE("addons that are not a list of strings name the key", "[release_yaml]") {
  CHECK(contains(release_error("addons: heroku-postgresql\n"),
                 "'addons' must be a list, got a scalar"));
  CHECK(contains(release_error("addons:\n  db: postgres\n"),
                 "'addons' must be a list, got a mapping"));
  CHECK(contains(release_error("addons:\n  - [a, b]\n"),
                 "'addons' entries must be strings, got a list"));
}

TEST_CASE("a bad process type name is an error that names it", "[release_yaml]") {
  auto message = release_error("default_process_types:\n  web: ok\n  \"my worker\": run\n");
  CHECK(contains(message, "'default_process_types'"));
  CHECK(contains(message, "invalid process type name 'my worker'"));
  CHECK(contains(release_error("default_process_types:\n  web.1: run\n"),
                 "invalid process type name 'web.1'"));
}

TEST_CASE("a default process type with an empty command names it", "[release_yaml]") {
  auto message = release_error("default_process_types:\n  web: \"\"\n");
  CHECK(contains(message, "process type 'web' has no command"));
}

TEST_CASE("a default command of more than one line, or not UTF-8, is refused as a Procfile's is",
          "[release_yaml]") {
  CHECK(contains(release_error("default_process_types:\n  web: \"node a.js\\nrm -rf /app\"\n"),
                 "'default_process_types': the command of 'web' holds a control character"));
  CHECK(contains(release_error("default_process_types:\n  web: \"run \\e[2J\"\n"),
                 "the command of 'web' holds a control character"));
  CHECK(contains(release_error("default_process_types:\n  web: \"run \xff\"\n"),
                 "the command of 'web' is not UTF-8"));
  // A tab is text, as in a Procfile.
  auto info = parse_release_yaml("default_process_types:\n  web: \"run\\targ\"\n");
  REQUIRE(info);
  CHECK(info->default_process_types[0].second == "run\targ");
}

TEST_CASE("a bad config var name is an error that names it", "[release_yaml]") {
  for (const char* name : {"1ST", "MY-VAR", "MY VAR", "A.B", "X=Y"}) {
    INFO(name);
    auto message = release_error(fmt::format("config_vars:\n  \"{}\": value\n", name));
    CHECK(contains(message, "'config_vars'"));
    CHECK(contains(message, fmt::format("invalid variable name '{}'", name)));
  }
}

TEST_CASE("malformed YAML is an error with the line number", "[release_yaml]") {
  CHECK(contains(release_error("config_vars:\n  A: b\n   B: c\n"), "malformed YAML at line 3"));
  CHECK(contains(release_error("config_vars:\n  A: b\n B: c\n"), "malformed YAML at line 3"));
  CHECK(contains(release_error("addons: []\nconfig_vars: A: b\n"), "malformed YAML at line 2"));
  CHECK(contains(release_error("default_process_types:\n\tweb: x\n"), "malformed YAML at line 2"));
  CHECK(contains(release_error("config_vars:\n  A: b\n- c\n"), "malformed YAML at line 3"));
  auto unclosed = release_error("default_process_types:\n  web: x\nconfig_vars: {A: b\n");
  CHECK(contains(unclosed, "malformed YAML at line"));
  CHECK(contains(unclosed, "end of map flow not found"));
}

TEST_CASE("config var names follow the shell's rules", "[release_yaml]") {
  CHECK(is_config_var_name("PATH"));
  CHECK(is_config_var_name("_private"));
  CHECK(is_config_var_name("a1_B2"));
  CHECK(is_config_var_name("_1"));
  CHECK_FALSE(is_config_var_name(""));
  CHECK_FALSE(is_config_var_name("1A"));
  CHECK_FALSE(is_config_var_name("A-B"));
  CHECK_FALSE(is_config_var_name("A B"));
  CHECK_FALSE(is_config_var_name("A=B"));
  CHECK_FALSE(is_config_var_name("$A"));
  CHECK_FALSE(is_config_var_name("Ä"));
}

TEST_CASE("shell quoting wraps in single quotes and escapes single quotes", "[release_yaml]") {
  CHECK(shell_quote("") == "''");
  CHECK(shell_quote("plain") == "'plain'");
  CHECK(shell_quote("it's") == "'it'\\''s'");
  CHECK(shell_quote("$HOME `id` \"x\" \\n") == "'$HOME `id` \"x\" \\n'");
  CHECK(shell_quote("''") == "''\\'''\\'''");
}

TEST_CASE("shell-quoted text reads back exactly in bash", "[release_yaml]") {
  const std::string value = "it's a \"test\" with $HOME, `id`, $(id), \\ and !x\nline 2\t\n\n";
  test::TempDir dir;
  test::write_file(dir / "echo.sh", "printf %s " + shell_quote(value) + " > \"$1\"\n");
  auto status =
      test::run_program({"/bin/bash", (dir / "echo.sh").string(), (dir / "out").string()});
  REQUIRE(status.ok());
  CHECK(test::read_text(dir / "out") == value);
}

TEST_CASE("the profile script exports each config var exactly", "[release_yaml]") {
  Vars vars = {{"SLIPWAY_T_PLAIN", "en_US.UTF-8"},
               {"SLIPWAY_T_QUOTES", "it's \"quoted\" ''"},
               {"SLIPWAY_T_DOLLAR", "$HOME ${PATH} $(id -u) `id` \\$ \\"},
               {"SLIPWAY_T_NEWLINES", "line 1\nline 2\n\n"},
               {"SLIPWAY_T_EMPTY", ""},
               {"SLIPWAY_T_SPACES", "  leading and trailing  "},
               {"SLIPWAY_T_GLOB", "* ? [a] ~"}};
  auto env = exported_after(vars);
  for (const auto& [name, value] : vars) {
    INFO(name);
    REQUIRE(env.contains(name));
    CHECK(env[name] == value);
  }
}

TEST_CASE("the profile script does not override a variable that is already set", "[release_yaml]") {
  Vars vars = {{"SLIPWAY_T_EXPORTED", "default"},
               {"SLIPWAY_T_EMPTY", "default"},
               {"SLIPWAY_T_UNSET", "default"}};
  auto env = exported_after(vars, "export SLIPWAY_T_EXPORTED='from the app'\n"
                                  "export SLIPWAY_T_EMPTY=\n");
  CHECK(env["SLIPWAY_T_EXPORTED"] == "from the app");
  CHECK(env["SLIPWAY_T_EMPTY"] == "");
  CHECK(env["SLIPWAY_T_UNSET"] == "default");
}

TEST_CASE("the profile script for no config vars is only comments", "[release_yaml]") {
  std::string script = config_vars_profile_script({});
  REQUIRE_FALSE(script.empty());
  REQUIRE(script.back() == '\n');
  for (std::size_t start = 0; start < script.size(); start = script.find('\n', start) + 1) {
    CHECK(script[start] == '#');
  }
  auto env = exported_after({});
  CHECK_FALSE(env.contains("SLIPWAY_T_PLAIN"));
}
