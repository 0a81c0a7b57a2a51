#include "ops/board.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "compiler/git_history.hpp"
#include "ops/apps.hpp"
#include "ops/history.hpp"
#include "ops/processes.hpp"
#include "ops/review_apps.hpp"
#include "ops/rights.hpp"
#include "ops/test_runs.hpp"
#include "runtime/app_name.hpp"
#include "runtime/release_store.hpp"

namespace slipway::ops {

namespace {

// How many of an app's newest test runs are searched for its live commit's.
constexpr std::size_t k_runs_searched = 20;

// The subject of the live release's commit: in the app's repository, or (a promoted release)
// in the one of the app it came from.
std::string subject_of(const Layout& layout, const std::string& app, const Release& release) {
  std::filesystem::path extra;
  if (release.promoted_from && validate_app_name(release.promoted_from->app)) {
    extra = layout.repo_dir(release.promoted_from->app);
  }
  auto commits = git::commits_between(layout.repo_dir(app), release.commit, "", 1, extra);
  return commits && !commits->empty() ? commits->front().subject : "";
}

// A card with what `app`'s own operations say, each with the actor's rights.
Expected<Card> card_of(const Context& context, const std::string& app, std::string stage) {
  auto summary = TRY(app_summary(context, app));
  Card card{.app = summary.name,
            .app_id = summary.id,
            .url = summary.url,
            .stage = std::move(stage),
            .live = summary.live,
            .released_at = summary.released_at,
            .maintenance = summary.maintenance};
  if (auto live = ReleaseStore(context.layout, app).live(); live && *live) {
    card.description = (*live)->description;
    card.commit = (*live)->commit;
    if (!card.commit.empty()) {
      card.subject = subject_of(context.layout, app, **live);
    }
  }
  if (auto builds = list_builds(context, app); builds && !builds->empty()) {
    card.last_build = builds->front().status;
    card.last_build_reason = builds->front().reason;
  }
  if (auto processes = list_processes(context, app)) {
    card.processes = std::move(*processes);
  } else {
    card.processes_problem = processes.error().message;
  }
  if (!card.commit.empty()) {
    if (auto runs = list_test_runs(context, app, "", k_runs_searched)) {
      auto run = std::ranges::find(*runs, card.commit, &TestRun::commit);
      if (run != runs->end()) {
        card.ci = run->status;
        card.ci_run = run->number;
      }
    }
  }
  return card;
}

Expected<Board> board_of(const Context& context, const Pipeline& pipeline) {
  auto info = TRY(pipeline_info(context, pipeline.id));
  Board board{.pipeline = info.pipeline};
  std::map<std::string, ReviewAppStatus> reviews;
  if (auto listed = list_review_apps(context, pipeline.id)) {
    for (auto& review : *listed) {
      reviews.emplace(review.app, std::move(review));
    }
  }
  for (const auto& status : info.apps) {
    auto card =
        card_of(context, status.member.app, std::string(to_string(status.member.coupling.stage)));
    if (!card) {
      continue; // gone since the pipeline was read
    }
    if (auto review = reviews.find(card->app); review != reviews.end()) {
      card->branch = review->second.branch;
      card->pull_request = review->second.pull_request;
      card->review_status = review->second.status;
      if (card->ci.empty()) {
        card->ci = review->second.ci;
      }
    }
    board.cards.push_back(std::move(*card));
  }
  // "Promote to": each downstream app's diff names the upstream apps it was compared with.
  for (const auto& target : info.apps) {
    auto upstream = upstream_of(target.member.coupling.stage);
    if (!upstream || *upstream == Stage::review) {
      continue;
    }
    auto diffs = pipeline_diff(context, target.member.app, k_counted_commits);
    for (auto& card : board.cards) {
      if (card.stage != to_string(*upstream)) {
        continue;
      }
      PromotionTarget promotion{.app = target.member.app, .version = target.live};
      if (!diffs) {
        promotion.problem = diffs.error().message;
      } else if (auto diff = std::ranges::find(*diffs, card.app, &StageDiff::upstream_app);
                 diff != diffs->end()) {
        promotion.problem = diff->problem;
        promotion.count = diff->commits.size();
        diff->commits.resize(std::min(diff->commits.size(), k_board_commits));
        promotion.commits = diff->commits;
      }
      card.promote_to.push_back(std::move(promotion));
    }
  }
  return board;
}

} // namespace

bool Card::failing() const {
  return last_build == "failed" || std::ranges::any_of(processes, [](const auto& process) {
           return process.state == "crashed";
         });
}

Expected<Dashboard> dashboard(const Context& context) {
  Dashboard out;
  std::set<std::string> coupled;
  for (const auto& pipeline : TRY(list_pipelines(context))) {
    auto board = board_of(context, pipeline);
    if (!board) {
      continue; // destroyed since it was listed
    }
    for (const auto& card : board->cards) {
      coupled.insert(card.app);
    }
    if (!board->cards.empty() || context.actor.admin || context.actor.local) {
      out.pipelines.push_back(std::move(*board));
    }
  }
  for (const auto& app : TRY(list_apps(context))) {
    if (!coupled.contains(app)) {
      if (auto card = card_of(context, app, "")) {
        out.apps.push_back(std::move(*card));
      }
    }
  }
  return out;
}

} // namespace slipway::ops
