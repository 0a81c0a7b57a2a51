#include <catch2/catch.hpp>

#include "compiler/procfile.hpp"
#include "tests/support/test_support.hpp"

using namespace slipway;
using test::contains;

namespace {

std::string procfile_error(std::string_view text) {
  auto types = parse_procfile(text);
  REQUIRE_FALSE(types);
  return types.error().message;
}

} // namespace

TEST_CASE("process types are read in the order they are declared", "[procfile]") {
  auto types = parse_procfile("web: bundle exec puma -p $PORT\n"
                              "worker: bundle exec sidekiq\n"
                              "release: ./bin/migrate\n");
  REQUIRE(types);
  CHECK(*types == ProcessTypes{{"web", "bundle exec puma -p $PORT"},
                               {"worker", "bundle exec sidekiq"},
                               {"release", "./bin/migrate"}});
}

TEST_CASE("an empty Procfile has no process types", "[procfile]") {
  auto empty = parse_procfile("");
  REQUIRE(empty);
  CHECK(empty->empty());
  auto blank = parse_procfile("\n\n   \n\t\n# nothing here\n");
  REQUIRE(blank);
  CHECK(blank->empty());
}

TEST_CASE("comments, blank lines and surrounding whitespace are ignored", "[procfile]") {
  auto types = parse_procfile("# the web server\n"
                              "\n"
                              "   web  :   node server.js  \n"
                              "\t# indented comment\n"
                              "\n"
                              "\tclock:\tnode clock.js\t\n");
  REQUIRE(types);
  CHECK(*types == ProcessTypes{{"web", "node server.js"}, {"clock", "node clock.js"}});
}

TEST_CASE("CRLF line endings are accepted", "[procfile]") {
  auto types = parse_procfile("web: node server.js\r\n\r\nworker: node worker.js\r\n");
  REQUIRE(types);
  CHECK(*types == ProcessTypes{{"web", "node server.js"}, {"worker", "node worker.js"}});
}

TEST_CASE("a last line without a newline is read", "[procfile]") {
  auto types = parse_procfile("web: node server.js");
  REQUIRE(types);
  CHECK(*types == ProcessTypes{{"web", "node server.js"}});
}

TEST_CASE("a command keeps everything after the first colon", "[procfile]") {
  auto types = parse_procfile("web: gunicorn -b 0.0.0.0:$PORT app:wsgi # not a comment\n");
  REQUIRE(types);
  CHECK(*types == ProcessTypes{{"web", "gunicorn -b 0.0.0.0:$PORT app:wsgi # not a comment"}});
}

TEST_CASE("names may use letters, digits, underscores and dashes", "[procfile]") {
  auto types = parse_procfile("Web_2-a: run\n9: nine\n");
  REQUIRE(types);
  CHECK(*types == ProcessTypes{{"Web_2-a", "run"}, {"9", "nine"}});
  CHECK(is_process_type_name("web"));
  CHECK(is_process_type_name("my-worker_2"));
  CHECK_FALSE(is_process_type_name(""));
  CHECK_FALSE(is_process_type_name("we b"));
  CHECK_FALSE(is_process_type_name("web.1"));
  CHECK_FALSE(is_process_type_name("wéb"));
  CHECK_FALSE(is_process_type_name("web/x"));
}

TEST_CASE("a line without a colon is an error that names the line", "[procfile]") {
  auto message = procfile_error("web: node server.js\n\nworker node worker.js\n");
  CHECK(contains(message, "Procfile line 3"));
  CHECK(contains(message, "malformed entry 'worker node worker.js'"));
  CHECK(contains(message, "expected 'name: command'"));
}

TEST_CASE("a bad process type name is an error that names the line and the name", "[procfile]") {
  auto spaced = procfile_error("web: a\nmy worker: b\n");
  CHECK(contains(spaced, "Procfile line 2"));
  CHECK(contains(spaced, "invalid process type name 'my worker'"));
  auto dotted = procfile_error("web.1: a\n");
  CHECK(contains(dotted, "Procfile line 1"));
  CHECK(contains(dotted, "invalid process type name 'web.1'"));
  auto missing = procfile_error(": node server.js\n");
  CHECK(contains(missing, "Procfile line 1"));
  CHECK(contains(missing, "invalid process type name ''"));
}

TEST_CASE("an empty command is an error that names the line and the process type", "[procfile]") {
  auto message = procfile_error("web: node server.js\nworker:\n");
  CHECK(contains(message, "Procfile line 2"));
  CHECK(contains(message, "process type 'worker' has no command"));
  auto blank = procfile_error("# header\nweb:   \t \r\n");
  CHECK(contains(blank, "Procfile line 2"));
  CHECK(contains(blank, "process type 'web' has no command"));
}

TEST_CASE("a duplicate process type is an error that names the line", "[procfile]") {
  auto message = procfile_error("web: a\nworker: b\n# again\nweb: c\n");
  CHECK(contains(message, "Procfile line 4"));
  CHECK(contains(message, "duplicate process type 'web'"));
}

TEST_CASE("line numbers count blank and comment lines and CRLF endings", "[procfile]") {
  CHECK(contains(procfile_error("\r\n# c\r\n\r\nweb: a\r\nbroken\r\n"), "Procfile line 5"));
  CHECK(contains(procfile_error("broken"), "Procfile line 1"));
}

TEST_CASE("process type names are case-sensitive", "[procfile]") {
  auto types = parse_procfile("web: a\nWeb: b\n");
  REQUIRE(types);
  CHECK(types->size() == 2);
}

TEST_CASE("defaults fill in only the process types the Procfile lacks", "[procfile]") {
  ProcessTypes types = {{"web", "node server.js"}};
  merge_defaults(types, {{"web", "npm start"}, {"worker", "npm run worker"}});
  CHECK(types == ProcessTypes{{"web", "node server.js"}, {"worker", "npm run worker"}});
  ProcessTypes none;
  merge_defaults(none, {{"web", "npm start"}});
  CHECK(none == ProcessTypes{{"web", "npm start"}});
  ProcessTypes unchanged = {{"web", "a"}};
  merge_defaults(unchanged, {});
  CHECK(unchanged == ProcessTypes{{"web", "a"}});
}
