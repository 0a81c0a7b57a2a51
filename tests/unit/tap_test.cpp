#include <catch2/catch.hpp>

#include "compiler/tap.hpp"
#include "tests/support/test_support.hpp"

using namespace slipway;

namespace {

// The counts of `text`, fed one line at a time as a test program prints it.
TapCounts parse(std::string_view text) {
  TapParser parser;
  while (!text.empty()) {
    auto newline = text.find('\n');
    parser.line(text.substr(0, newline == std::string_view::npos ? text.size() : newline + 1));
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
  }
  return parser.counts();
}

} // namespace

TEST_CASE("TAP: a plan, passes, a failure and a skip", "[tap]") {
  auto counts = parse("1..4\n"
                      "ok 1\n"
                      "not ok 2 - x\n"
                      "ok 3\n"
                      "ok 4 # SKIP reason\n");
  CHECK(counts.planned == 4);
  CHECK(counts.passed == 2);
  CHECK(counts.failed == 1);
  CHECK(counts.skipped == 1);
  CHECK(counts.todo == 0);
  CHECK(counts.total() == 4);
  CHECK(counts.seen());
  CHECK_FALSE(counts.bailed_out);
  CHECK(tap_summary(counts) == "1 of 4 failed, 1 skipped");
}

TEST_CASE("TAP: version 13's example, YAML diagnostics and a TODO", "[tap]") {
  auto counts = parse("TAP version 13\n"
                      "1..4\n"
                      "ok 1 - Input file opened\n"
                      "not ok 2 - First line of the input valid\n"
                      "  ---\n"
                      "  message: 'First line invalid'\n"
                      "  severity: fail\n"
                      "  data:\n"
                      "    got: 'Flirble'\n"
                      "    expect: 'Fnible'\n"
                      "  ...\n"
                      "ok 3 - Read the rest of the file\n"
                      "not ok 4 - Summarized correctly # TODO Not written yet\n"
                      "  ---\n"
                      "  message: \"Can't make summary yet\"\n"
                      "  severity: todo\n"
                      "  ...\n");
  CHECK(counts.version == 13);
  CHECK(counts.planned == 4);
  CHECK(counts.passed == 2);
  CHECK(counts.failed == 1);
  CHECK(counts.todo == 1);
  CHECK(counts.skipped == 0);
  CHECK(tap_summary(counts) == "1 of 4 failed, 1 todo");
}

TEST_CASE("TAP: test points with and without numbers and descriptions", "[tap]") {
  auto counts = parse("ok\n"
                      "ok 2\n"
                      "ok 3 - with a dash\n"
                      "ok 4 without a dash\n"
                      "ok - no number\n"
                      "not ok\n"
                      "not ok 7\n"
                      "not ok 8 - failed\n"
                      "ok\t9\n"
                      "ok 10 -\n"
                      "1..10\n");
  CHECK(counts.passed == 7);
  CHECK(counts.failed == 3);
  CHECK(counts.planned == 10); // the plan at the end
  CHECK(tap_summary(counts) == "3 of 10 failed");
}

TEST_CASE("TAP: only 'ok' and 'not ok' as words at the start of a line are test points", "[tap]") {
  auto counts = parse("okay\n"
                      "ok1\n"
                      "ok_2\n"
                      "notok\n"
                      "not okay\n"
                      "not  ok 3\n"
                      "Ok 4\n"
                      "OK 5\n"
                      "NOT OK 6\n"
                      " ok 7\n"
                      "\tnot ok 8\n"
                      "# ok 9\n"
                      "the tests say ok\n"
                      "1..4 tests\n"
                      "1..x\n"
                      "2..5\n"
                      "TAP version thirteen\n");
  CHECK(counts.total() == 0);
  CHECK_FALSE(counts.planned);
  CHECK_FALSE(counts.version);
  CHECK_FALSE(counts.seen());
  CHECK(tap_summary(counts) == "no tests ran");
}

TEST_CASE("TAP: directives in any case - SKIP and TODO whether ok or not", "[tap]") {
  auto counts = parse("ok 1 # SKIP no database\n"
                      "ok 2 # skip\n"
                      "ok 3 - mung the gums # Skipped: leave them unmunged\n"
                      "not ok 4 # SKIP it would fail\n"
                      "not ok 5 # TODO bend space and time\n"
                      "ok 6 # todo done already\n"
                      "not ok 7 #TODO\n"
                      "ok 8 - a # in the description # SKIP later\n");
  CHECK(counts.skipped == 5);
  CHECK(counts.todo == 3);
  CHECK(counts.passed == 0);
  CHECK(counts.failed == 0);
  CHECK(tap_summary(counts) == "5 skipped, 3 todo");
}

TEST_CASE("TAP: a '#' that is no directive leaves the test point as it is", "[tap]") {
  auto counts = parse("ok 1 - issue #12 fixed\n"
                      "ok 2 - # skipper is a word\n"
                      "not ok 3 - # todos are words too\n"
                      "ok 4 - escaped \\# SKIP is a description\n"
                      "not ok 5 - \\\\# TODO after an escaped backslash\n"
                      "ok 6 # TODOs\n");
  CHECK(counts.passed == 4);
  CHECK(counts.failed == 1);
  CHECK(counts.todo == 1);
  CHECK(counts.skipped == 0);
}

TEST_CASE("TAP: a plan of 0 skips everything", "[tap]") {
  auto skipped = parse("1..0 # skip no database here\n");
  CHECK(skipped.planned == 0);
  CHECK(skipped.total() == 0);
  CHECK(skipped.seen());
  CHECK(skipped.skip_reason == "no database here");
  CHECK(tap_summary(skipped) == "all tests skipped: no database here");
  auto version14 = parse("TAP version 14\n1..0 # WWW::Mechanize not installed\n");
  CHECK(version14.skip_reason == "WWW::Mechanize not installed");
  auto bare = parse("1..0\n");
  CHECK(bare.planned == 0);
  CHECK(bare.skip_reason.empty());
  CHECK(tap_summary(bare) == "all tests skipped");
  auto skip_word = parse("1..0 # SKIP\n");
  CHECK(skip_word.skip_reason.empty());
}

TEST_CASE("TAP: Bail out! stops the counts", "[tap]") {
  auto counts = parse("1..5\n"
                      "ok 1\n"
                      "ok 2\n"
                      "Bail out! MySQL is not running.\n"
                      "ok 3\n"
                      "not ok 4\n");
  CHECK(counts.bailed_out);
  CHECK(counts.bail_reason == "MySQL is not running.");
  CHECK(counts.passed == 2);
  CHECK(counts.failed == 0);
  CHECK(tap_summary(counts) == "2 passed; 5 planned; bailed out: MySQL is not running.");
  auto lower = parse("bail out!\n");
  CHECK(lower.bailed_out);
  CHECK(lower.bail_reason.empty());
  CHECK(lower.seen());
  CHECK(tap_summary(lower) == "no tests ran; bailed out");
  CHECK_FALSE(parse("  Bail out! in a subtest\n").bailed_out);
  CHECK_FALSE(parse("Bail out\n").bailed_out);
}

TEST_CASE("TAP: indented subtests and comments leave the top-level counts", "[tap]") {
  auto counts = parse("TAP version 14\n"
                      "# Subtest: parser\n"
                      "    1..3\n"
                      "    ok 1 - a\n"
                      "    not ok 2 - b\n"
                      "    ok 3 - c # SKIP\n"
                      "not ok 1 - parser\n"
                      "# a comment\n"
                      "  # an indented comment\n"
                      "pragma +strict\n"
                      "\n"
                      "   \n"
                      "ok 2 - writer\n"
                      "1..2\n");
  CHECK(counts.version == 14);
  CHECK(counts.planned == 2);
  CHECK(counts.passed == 1);
  CHECK(counts.failed == 1);
  CHECK(counts.skipped == 0);
}

TEST_CASE("TAP: other output between the lines is ignored", "[tap]") {
  auto counts = parse("> my-app@1.0.0 test\n"
                      "> tape test/*.js\n"
                      "Server listening on 5000\n"
                      "TAP version 13\n"
                      "ok 1 should be equal\n"
                      "npm WARN something\n"
                      "ok 2 should be truthy\n"
                      "\n"
                      "1..2\n"
                      "# tests 2\n"
                      "# pass  2\n"
                      "\n"
                      "# ok\n");
  CHECK(counts.passed == 2);
  CHECK(counts.planned == 2);
  CHECK(tap_summary(counts) == "2 passed");
}

TEST_CASE("TAP: lines with CRLF, with or without their newline", "[tap]") {
  TapParser parser;
  parser.line("1..3\r\n");
  parser.line("ok 1\r");
  parser.line("not ok 2");
  parser.line("ok 3 # SKIP\r\n");
  CHECK(parser.counts().planned == 3);
  CHECK(parser.counts().passed == 1);
  CHECK(parser.counts().failed == 1);
  CHECK(parser.counts().skipped == 1);
  // Incremental: the counts so far, at every line.
  TapParser live;
  CHECK_FALSE(live.counts().seen());
  live.line("some output");
  CHECK_FALSE(live.counts().seen());
  live.line("ok 1");
  CHECK(live.counts().seen());
  CHECK(live.counts().passed == 1);
}

TEST_CASE("TAP: the plans of programs run one after another add up", "[tap]") {
  auto counts = parse("TAP version 13\n"
                      "1..2\n"
                      "ok 1\n"
                      "ok 2\n"
                      "TAP version 13\n"
                      "ok 1\n"
                      "not ok 2\n"
                      "ok 3\n"
                      "1..3\n");
  CHECK(counts.planned == 5);
  CHECK(counts.passed == 4);
  CHECK(counts.failed == 1);
  CHECK(tap_summary(counts) == "1 of 5 failed");
  auto huge = parse("1..2147483647\n1..2147483647\n");
  CHECK(huge.planned == 2147483647);
  CHECK_FALSE(parse("1..99999999999\n").planned);
}

TEST_CASE("TAP summaries", "[tap]") {
  TapCounts counts;
  counts.passed = 37;
  counts.failed = 3;
  CHECK(tap_summary(counts) == "3 of 40 failed");
  counts = {};
  counts.passed = 40;
  counts.planned = 40;
  CHECK(tap_summary(counts) == "40 passed");
  counts = {};
  counts.passed = 38;
  counts.skipped = 2;
  CHECK(tap_summary(counts) == "38 passed, 2 skipped");
  counts = {};
  counts.passed = 30;
  counts.planned = 40;
  CHECK(tap_summary(counts) == "30 passed; 40 planned");
  counts = {};
  counts.planned = 3;
  CHECK(tap_summary(counts) == "no tests ran; 3 planned");
  counts = {};
  counts.passed = 1;
  counts.failed = 1;
  counts.skipped = 1;
  counts.todo = 1;
  CHECK(tap_summary(counts) == "1 of 4 failed, 1 skipped, 1 todo");
  counts = {};
  counts.bailed_out = true;
  counts.bail_reason = "a\x1b[31m";
  CHECK(tap_summary(counts) == "no tests ran; bailed out: a\\x1b[31m");
}
