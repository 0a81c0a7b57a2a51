// The dashboard's board (Heroku Pipelines' columns, one card per app) and its list of the apps
// in no pipeline: what each card shows, gathered from the other operations with the actor's
// rights, so a card holds nothing its reader could not ask for one by one.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "common/time.hpp"
#include "ops/context.hpp"
#include "ops/pipelines.hpp"
#include "runtime/control.hpp"

namespace slipway::ops {

// "Promote to APP": what the downstream app lacks of this card's live release.
struct PromotionTarget {
  std::string app;
  std::optional<int> version;      // its live release
  std::vector<DiffCommit> commits; // newest first, at most k_board_commits
  std::size_t count = 0;           // all of them, up to k_counted_commits (then "at least")
  std::string problem;             // not empty: they could not be compared, and why
};

// The most commits a card lists for a promotion (the count says how many there are).
inline constexpr std::size_t k_board_commits = 20;

struct Card {
  std::string app;
  std::string app_id;
  std::string url;
  std::string stage; // "" for an app in no pipeline
  std::optional<int> live;
  std::string description;              // the live release's
  std::optional<TimePoint> released_at; // the live release's
  std::string commit;                   // the live release's
  std::string subject;                  // that commit's, when the repository has it
  std::string ci;                       // the newest test run of that commit: its status
  int ci_run = 0;                       // and its number
  std::string last_build;               // the newest build's status
  std::string last_build_reason;
  std::vector<control::ProcessStatus> processes;
  std::string processes_problem; // not empty: why the processes are not known
  bool maintenance = false;
  std::vector<PromotionTarget> promote_to;
  // A review app's:
  std::string branch;
  int pull_request = 0;
  std::string review_status;

  // A red badge: the last build failed or a process crashed.
  bool failing() const;
};

struct Board {
  Pipeline pipeline;
  std::vector<Card> cards; // by stage (review first), then name
};

struct Dashboard {
  std::vector<Board> pipelines; // the ones with an app the actor may use (an admin: all)
  std::vector<Card> apps;       // the actor's apps that are in no pipeline, by name
};

Expected<Dashboard> dashboard(const Context& context);

} // namespace slipway::ops
