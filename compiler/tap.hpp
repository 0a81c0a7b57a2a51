// TAP, the Test Anything Protocol (versions 12, 13 and 14), read line by line as a test
// program prints it: the counts of the top-level test points, for a test run's summary.
//
// What counts, at the start of a line only:
//   "TAP version N"          the header (optional)
//   "1..N" ["# reason"]      the plan, first or last; "1..0 # SKIP reason": all skipped.
//                            Several plans (programs run one after another) add up.
//   "ok" / "not ok"          a test point: not followed by a letter, digit or _ ("okay",
//                            "ok1" and "notok" are not), then an optional number and
//                            description; "# SKIP" (or "skipped") after an unescaped '#'
//                            counts it as skipped, "# TODO" as todo, whether ok or not,
//                            any case
//   "Bail out!" [reason]     any case; the lines after it are not read
// Everything else is ignored: indented lines (YAML diagnostics between "  ---" and "  ...",
// subtests), comments, pragmas, blank lines and whatever else the tests print.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace slipway {

struct TapCounts {
  std::optional<int> planned; // the plan(s), summed
  int passed = 0;
  int failed = 0;
  int skipped = 0;
  int todo = 0;
  bool bailed_out = false;
  std::string bail_reason;
  std::optional<int> version; // "TAP version N"
  std::string skip_reason;    // of a "1..0 # SKIP reason" plan

  int total() const { return passed + failed + skipped + todo; }
  // Any TAP line seen: a version, a plan, a test point or a bail out.
  bool seen() const { return version || planned || total() > 0 || bailed_out; }
};

class TapParser {
 public:
  // One line of output, with or without its "\n" or "\r\n".
  void line(std::string_view line);
  const TapCounts& counts() const { return counts_; }

 private:
  TapCounts counts_;
};

// "3 of 40 failed", "40 passed", "38 passed, 2 skipped", "1 of 5 failed, 1 todo"; a plan
// the tests did not meet adds "; 40 planned", a bail out "; bailed out: reason". A plan of
// 0 with no tests: "all tests skipped" (": reason"); nothing at all: "no tests ran".
std::string tap_summary(const TapCounts& counts);

} // namespace slipway
