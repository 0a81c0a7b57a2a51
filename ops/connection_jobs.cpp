// The connection worker (connections.hpp): a connected app's queued jobs, one at a time.
#include <algorithm>

#include "common/output.hpp"
#include "common/subprocess.hpp"
#include "compiler/git.hpp"
#include "ops/connection_fetch.hpp"
#include "ops/connections.hpp"
#include "ops/review_app_lifecycle.hpp"
#include "ops/rights.hpp"
#include "ops/self_push.hpp"
#include "ops/settings.hpp"
#include "runtime/apps.hpp"
#include "runtime/events.hpp"

namespace slipway::ops {

namespace fs = std::filesystem;

namespace {

// One job's doing: the connection (its pinned host key may be learned on the way), the
// context of the key that connected the app, and where its progress goes.
struct JobRun {
  Connection connection;
  const Context& context;
  const ConnectionJob& job;

  const Layout& layout() const { return context.layout; }
  const std::string& app() const { return connection.app; }
  void say(std::string_view line) const { context.on_output(line); }

  void record(const std::string& action, nlohmann::json data) const {
    data["host"] = to_string(connection.host);
    data["job"] = job.id;
    ops::record(
        context,
        {.app = app(), .resource = "connection", .action = action, .data = std::move(data)});
  }

  Expected<void> fetch(const std::vector<std::string>& refspecs) {
    std::string pinned = connection.host_key;
    TRY(fetch_connected(layout(), context.config, connection, refspecs));
    if (connection.host_key != pinned) {
      TRY(save_connection(layout(), connection));
    }
    return {};
  }
};

// A push or a poll: the connected branch fetched, and pushed to the deploy branch when it
// moved.
Expected<void> deploy_branch_head(JobRun& run) {
  const std::string& branch = run.connection.branch;
  fs::path repo = run.layout().repo_dir(run.app());
  TRY(run.fetch({"+refs/heads/" + branch + ":" + connected_ref(branch)}));
  auto head = TRY(git::read_ref(repo, connected_ref(branch)));
  if (!head) {
    return fail("{} has no branch {}", run.connection.repo.url, branch);
  }
  auto info = TRY(app_info(run.layout(), run.app()));
  std::string target = deploy_target_branch(run.layout(), run.context.config, info, branch);
  auto live = TRY(git::read_ref(repo, "refs/heads/" + target));
  ConnectionState state = load_connection_state(run.layout(), run.app());
  if (live == head) {
    if (run.job.kind != "poll") { // a poll that finds nothing new says nothing
      run.say(step_line(fmt::format("{} is at {} already", target, head->substr(0, 7))));
    }
    return {};
  }
  if (run.job.kind == "poll" && state.failed_commit == *head) {
    // Tried and failed: the next push (or a webhook) tries again, not every poll.
    return {};
  }
  run.say(step_line(
      fmt::format("Deploying {} of {} ({})", head->substr(0, 7), branch, run.connection.repo.url)));
  auto pushed = TRY(push_to_deploy_branch(run.layout(),
                                          {.app = run.app(),
                                           .commit = *head,
                                           .target = target,
                                           .key = run.connection.owner,
                                           .source = std::string(to_string(run.connection.host)),
                                           .pusher = run.job.actor},
                                          run.context.on_output));
  if (!pushed.deployed) {
    state.failed_commit = *head;
    [[maybe_unused]] auto saved = save_connection_state(run.layout(), run.app(), state);
    run.record("failed", {{"commit", *head},
                          {"reason", pushed.failure},
                          {"message", fmt::format("Deploy of {} from {} failed: {}",
                                                  head->substr(0, 7), branch, pushed.failure)}});
    return {};
  }
  if (!state.failed_commit.empty()) {
    state.failed_commit.clear();
    [[maybe_unused]] auto saved = save_connection_state(run.layout(), run.app(), state);
  }
  return {};
}

// A pull request's review app: made or updated from its head, or destroyed.
Expected<void> review_pull_request(JobRun& run) {
  const ConnectionJob& job = run.job;
  const ReviewHead head{.branch = job.head_branch, .pull_request = job.number};
  auto pipeline = parent_pipeline(run.layout(), run.app());
  fs::path repo = run.layout().repo_dir(run.app());
  auto drop_ref = [&] {
    [[maybe_unused]] auto dropped =
        slipway::run({.argv = {"git", "-C", repo.string(), "update-ref", "-d", head.ref()}});
  };
  if (job.action == "closed" || job.action == "merged") {
    auto review = pipeline ? review_app_of(run.layout(), *pipeline, run.app(), head) : std::nullopt;
    if (review) {
      remove_review_app(run.context, review->app,
                        fmt::format("pull request #{} {}", job.number, job.action));
    }
    drop_ref();
    return {};
  }
  if (!pipeline || !pipeline->review_apps) {
    run.say(step_line(fmt::format("{} has no pipeline with review apps: pull request #{} "
                                  "gets none",
                                  run.app(), job.number)));
    return {};
  }
  TRY(run.fetch({"+" + host_pull_ref(run.connection.host, job.number) + ":" + head.ref()}));
  auto commit = TRY(git::read_ref(repo, head.ref()));
  if (!commit) {
    return fail("{} has no pull request #{}", run.connection.repo.url, job.number);
  }
  auto existing = review_app_of(run.layout(), *pipeline, run.app(), head);
  if (existing && existing->origin.commit == *commit &&
      existing->origin.last_build == "succeeded") {
    run.say(step_line(fmt::format("{} runs {} already", existing->app, commit->substr(0, 7))));
    return {};
  }
  auto deployed = deploy_review_app(run.context, *pipeline, run.app(), head, *commit, true);
  if (!deployed) {
    run.say(failure_line(deployed.error().message));
  }
  return {};
}

Expected<void> do_job(const Layout& layout, const Config& config, const std::string& app,
                      const ConnectionJob& job, const OutputFn& on_output) {
  auto connection = TRY(load_connection(layout, app));
  if (!connection) {
    return {}; // disconnected since: nothing to do
  }
  auto context = open_context(layout, connection->owner, on_output);
  auto refused = [&](const std::string& why) -> Expected<void> {
    Event event{.app = app,
                .resource = "connection",
                .action = "failed",
                .actor = std::string(to_string(connection->host)),
                .data = {{"job", job.id},
                         {"reason", why},
                         {"message", fmt::format("{} cannot deploy: {}", app, why)}}};
    [[maybe_unused]] auto recorded = record_event(layout, config, std::move(event));
    return fail("{}", why);
  };
  if (!context) {
    return refused(fmt::format("the key that connected it is gone ({}): apps:connect again",
                               context.error().message));
  }
  if (auto allowed = authorize(*context, "git-receive-pack", app); !allowed) {
    return refused(fmt::format("{} may not push to it any more: apps:connect again",
                               context->actor.describe()));
  }
  JobRun run{.connection = std::move(*connection), .context = *context, .job = job};
  if (job.kind == "pull-request") {
    return review_pull_request(run);
  }
  auto deployed = deploy_branch_head(run);
  if (!deployed) {
    run.record("failed",
               {{"reason", deployed.error().message},
                {"message", fmt::format("{} cannot deploy from {}: {}", app,
                                        run.connection.repo.url, deployed.error().message)}});
  }
  return deployed;
}

} // namespace

Expected<void> work_connection_jobs(const Layout& layout, const Config& config,
                                    const std::string& app, const OutputFn& on_output) {
  for (;;) {
    {
      auto lock = try_lock_connection_worker(layout, app);
      if (!lock) {
        return {}; // another worker has them
      }
      for (;;) {
        auto jobs = queued_connection_jobs(layout, app);
        if (jobs.empty()) {
          break;
        }
        auto& next = jobs.front();
        if (!next.job) {
          on_output(failure_line(fmt::format("dropping {}: {}", next.file.filename().string(),
                                             next.job.error().message)));
        } else if (auto done = do_job(layout, config, app, *next.job, on_output); !done) {
          on_output(failure_line(done.error().message));
        }
        std::error_code ec;
        fs::remove(next.file, ec);
      }
    }
    // A job queued after the last look and before the lock went would wait for the daemon's
    // next round: look once more.
    if (queued_connection_jobs(layout, app).empty()) {
      return {};
    }
  }
}

} // namespace slipway::ops
