#include "hooks/receive.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <unistd.h>

#include <fmt/ranges.h>

#include "common/files.hpp"
#include "common/output.hpp"
#include "common/paths.hpp"
#include "common/proc.hpp"
#include "common/subprocess.hpp"
#include "compiler/app_json.hpp"
#include "compiler/git_export.hpp"
#include "compiler/git_history.hpp"
#include "hooks/ref_update.hpp"
#include "ops/context.hpp"
#include "ops/review_apps.hpp"
#include "ops/rights.hpp"
#include "ops/test_runs.hpp"
#include "runtime/apps.hpp"
#include "runtime/builds.hpp"
#include "runtime/events.hpp"
#include "runtime/housekeeping.hpp"
#include "runtime/pipelines.hpp"
#include "runtime/releaser.hpp"
#include "runtime/repo.hpp"
#include "runtime/test_runner.hpp"

namespace slipway {

namespace fs = std::filesystem;

namespace {

// git relays the hook's stderr to the pusher line by line, as "remote: ...".
void say(std::string_view line) {
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fputc('\n', stderr);
  std::fflush(stderr);
}

std::string ref_value(git_repository* repo, const RefUpdate& update) {
  git_oid current;
  if (libgit2::git_reference_name_to_id(&current, repo, update.ref.c_str()) != 0) {
    return std::string(update.old_id.size(), '0');
  }
  return git::oid_hex(current);
}

// Runs under the deploy lock, before building, once the previous push to the app has
// settled (Operation::begin waits for its branch to move): the branch must be where this
// push found it, or git would refuse this push after it went live.
Expected<void> check_ref_unchanged(git_repository* repo, const RefUpdate& update) {
  std::string now = ref_value(repo, update);
  if (now != update.old_id) {
    return fail("{} moved to {} while this push waited; fetch, merge and push again",
                describe_ref(update.ref), now.substr(0, 7));
  }
  return {};
}

// Builds and releases one pushed commit, keeping the whole log as a build.
// git receive-pack, which runs the hook and moves the refs once it exits: named by pid
// and start time as soon as the hook begins, before a pid could be reused.
struct ReceivePack {
  int pid = static_cast<int>(getppid());
  long start_time = process_start_time(pid);
};

// wait_for_ci: the pushed commit's tests, run before it is built (its objects are still in
// the push's quarantine: exported from `repo`). A red run refuses the push.
bool tests_pass(const Layout& layout, const Config& config, const std::string& app,
                git_repository* repo, const RefUpdate& update, const char* user) {
  auto run = [&]() -> Expected<TestRun> {
    auto context = TRY(ops::open_context(layout, user ? user : "", say));
    auto created = TRY(ops::create_test_run(
        context,
        {.app = app, .gates = true, .commit = update.new_id, .branch = update.ref.substr(11)}));
    say(step_line(fmt::format("wait_for_ci: running the tests of {} first (test run #{})",
                              update.new_id.substr(0, 7), created.number)));
    return execute_test_run(layout, config, created.number, say,
                            [&](const fs::path& dir) -> Expected<void> {
                              TRY(git::export_commit(repo, update.new_id, dir));
                              return {};
                            });
  }();
  if (!run) {
    say(failure_line(run.error().message));
    return false;
  }
  if (run->status != "succeeded") {
    say(failure_line(fmt::format("tests {}: run #{}, {}", run->status, run->number, run->message)));
    return false;
  }
  say(step_line(fmt::format("Test run #{} passed ({}): deploying", run->number, run->message)));
  return true;
}

// A push the connection worker makes for a git host (ops/connections.hpp) names the host
// and who pushed there: "github" and "octocat".
struct HostPush {
  std::string source;
  std::string pusher;

  static std::optional<HostPush> from_environment() {
    const char* source = std::getenv("SLIPWAY_PUSH_SOURCE");
    const char* pusher = std::getenv("SLIPWAY_PUSHER");
    if (!source || !*source) {
      return std::nullopt;
    }
    return HostPush{.source = printable(std::string_view(source).substr(0, 16)),
                    .pusher = printable(std::string_view(pusher ? pusher : "").substr(0, 64))};
  }
};

bool deploy_commit(const Layout& layout, const Config& config, const std::string& app,
                   git_repository* repo, const RefUpdate& update, const ReceivePack& receive_pack) {
  // The build's time limit covers every step, the export of the tree included.
  Deadline deadline(config.build.timeout);
  const char* user = std::getenv("SLIPWAY_USER");
  const auto host_push = HostPush::from_environment();
  ReleaseContext context{.layout = layout,
                         .config = config,
                         .app = app,
                         .user = user ? user : "",
                         .on_output = say,
                         .defer_deletions = true};
  // An app that changes only by promotion refuses the push before anything is built.
  if (auto allowed = check_direct_deploy(context); !allowed) {
    say(failure_line(allowed.error().message));
    return false;
  }
  if (waits_for_ci(layout, app) && !tests_pass(layout, config, app, repo, update, user)) {
    return false;
  }
  auto log = BuildLog::start(layout, app, update.new_id, update.ref);
  if (!log) {
    say(failure_line(log.error().message));
    return false;
  }
  auto output = [&](std::string_view line) {
    say(line);
    log->line(line);
  };
  auto record = [&](std::string action, nlohmann::json data) {
    data["build"] = log->id();
    data["commit"] = update.new_id;
    if (host_push) {
      data["source"] = host_push->source;
      data["pusher"] = host_push->pusher;
    }
    Event event{.app = app,
                .resource = "build",
                .action = std::move(action),
                .actor = local_actor(),
                .data = std::move(data)};
    if (auto recorded = record_event(layout, config, std::move(event)); !recorded) {
      output(failure_line("warning: " + recorded.error().message));
    }
  };
  record("started", {{"ref", update.ref}});
  output(step_line(fmt::format("Building {} from {} ({})", app, update.new_id.substr(0, 7),
                               describe_ref(update.ref))));
  context.on_output = output;
  auto pusher = ops::open_context(layout, user ? user : "", {});
  auto may_reuse_slug_of = [&](const std::string& other) {
    return pusher && ops::may_reuse_build(*pusher, other, app);
  };
  std::string short_id = update.new_id.substr(0, 7);
  auto release = deploy(
      context,
      {.fill_source = [&](const fs::path& build_dir) -> Expected<void> {
         // Another push may have moved the branch while this one waited for
         // the lock: git would then refuse this push after it went live.
         TRY(check_ref_unchanged(repo, update));
         TRY(git::export_commit(repo, update.new_id, build_dir));
         return {};
       },
       .commit = update.new_id,
       .description = host_push ? fmt::format("Deploy {} by {} ({})", short_id, host_push->pusher,
                                              host_push->source)
                      : user && *user ? fmt::format("Deploy {} by {}", short_id, user)
                                      : fmt::format("Deploy {}", short_id),
       .on_built = [&](const BuildResult& built) { log->set_compile_time(built.compile_time); },
       // Live, but git moves the branch only after this hook exits: until it has, the
       // release is a push in flight (operation.hpp).
       .push = PushRef{.ref = update.ref,
                       .old_id = update.old_id,
                       .new_id = update.new_id,
                       .receive_pack_pid = receive_pack.pid,
                       .receive_pack_start = receive_pack.start_time},
       .deadline = deadline,
       .may_reuse_slug_of = may_reuse_slug_of});
  auto recorded = release ? log->finish(release->version, "")
                          : log->finish(std::nullopt, release.error().message);
  if (release) {
    record("succeeded", {{"version", release->version}});
  } else {
    record("failed", {{"reason", release.error().message}});
  }
  if (!release) {
    output(failure_line(release.error().message));
  }
  if (!recorded) {
    output(failure_line("warning: the build's record: " + recorded.error().message));
  }
  return release.has_value();
}

} // namespace

int run_pre_receive(const Layout& layout, const Config& config, std::string_view input) {
  const ReceivePack receive_pack;
  auto app = app_of_repo(layout, fs::current_path());
  if (!app) {
    say(failure_line(app.error().message));
    return 1;
  }
  auto updates = parse_ref_updates(input);
  if (!updates) {
    say(failure_line(updates.error().message));
    return 1;
  }
  auto info = app_info(layout, *app);
  if (!info) {
    say(failure_line(info.error().message));
    return 1;
  }
  const auto branches = deploy_branches(config, *info);
  auto deploys = [&](const RefUpdate& update) {
    return update.ref.starts_with("refs/heads/") &&
           std::ranges::find(branches, update.ref.substr(11)) != branches.end();
  };
  auto deleted = [&](const std::string& branch) {
    return std::ranges::any_of(*updates, [&](const RefUpdate& update) {
      return update.ref == "refs/heads/" + branch && update.is_deletion();
    });
  };
  // Refusals first: a refused push deploys nothing. The last deploy branch may not be
  // deleted, and one push deploys one commit.
  for (const auto& update : *updates) {
    if (!deploys(update) || !update.is_deletion()) {
      continue;
    }
    bool another_remains = std::ranges::any_of(branches, [&](const std::string& branch) {
      if (update.ref == "refs/heads/" + branch || deleted(branch)) {
        return false;
      }
      auto tip = git::read_ref(layout.repo_dir(*app), "refs/heads/" + branch);
      bool pushed = std::ranges::any_of(
          *updates, [&](const RefUpdate& other) { return other.ref == "refs/heads/" + branch; });
      return pushed || (tip && tip->has_value());
    });
    if (!another_remains) {
      say(failure_line(
          fmt::format("deleting the deploy branch '{}' is not allowed", update.ref.substr(11))));
      return 1;
    }
  }
  std::vector<const RefUpdate*> to_deploy;
  for (const auto& update : *updates) {
    if (deploys(update) && !update.is_deletion()) {
      to_deploy.push_back(&update);
    }
  }
  if (to_deploy.size() > 1) {
    say(failure_line(fmt::format("this push updates {} and {}: push one deploy branch at a time",
                                 describe_ref(to_deploy[0]->ref),
                                 describe_ref(to_deploy[1]->ref))));
    return 1;
  }
  std::string which = fmt::format("{}", fmt::join(branches, " and "));
  for (const auto& update : *updates) {
    if (deploys(update)) {
      if (update.is_deletion()) {
        say(step_line(fmt::format("Deleted {}", describe_ref(update.ref))));
      }
      continue;
    }
    say(step_line(fmt::format("Accepted {} without deploying: only {} {}", describe_ref(update.ref),
                              which, branches.size() == 1 ? "deploys" : "deploy")));
  }
  for (const RefUpdate* update : to_deploy) {
    auto repo = git::open_from_environment();
    if (!repo) {
      say(failure_line(repo.error().message));
      return 1;
    }
    if (!deploy_commit(layout, config, *app, repo->get(), *update, receive_pack)) {
      return 1;
    }
  }
  return 0;
}

namespace {

// HEAD names the branch a clone checks out: the deploy branch pushed last, so that a clone
// has what is live (an app deployed only from master is not cloned empty, and the other
// deploy branch may be deleted).
void follow_deploy_branch(const Layout& layout, const Config& config, const std::string& app,
                          std::string_view input) {
  auto updates = parse_ref_updates(input);
  auto info = app_info(layout, app);
  if (!updates || !info) {
    return;
  }
  // HEAD of a repository slipway made is a file naming the branch ("ref: refs/heads/main").
  auto head = read_file(layout.repo_dir(app) / "HEAD");
  if (!head || !head->starts_with("ref: ")) {
    return;
  }
  std::string named = head->substr(5, head->find('\n') - 5);
  for (const auto& branch : deploy_branches(config, *info)) {
    for (const auto& update : *updates) {
      if (update.ref == "refs/heads/" + branch && !update.is_deletion() && update.ref != named) {
        [[maybe_unused]] auto moved =
            run({.argv = {"git", "symbolic-ref", "HEAD", update.ref}, .cwd = layout.repo_dir(app)});
        return;
      }
    }
  }
}

} // namespace

namespace {

// Whether `commit`'s app.json declares tests (environments.test).
bool declares_tests(const Layout& layout, const std::string& app, const std::string& commit) {
  auto text = git::file_at(layout.repo_dir(app), commit, "app.json");
  if (!text || !*text) {
    return false;
  }
  auto manifest = parse_app_json(**text);
  return manifest && manifest->test.declared;
}

// Queues a test run of each pushed branch's commit, run by a process of its own: for an app
// with `ci` on, and for an app of a pipeline whose commit declares tests. A deploy that
// waited for its tests was tested already.
void queue_test_runs(const Layout& layout, const Config& config, const std::string& app,
                     std::string_view input) {
  auto updates = parse_ref_updates(input);
  auto info = app_info(layout, app);
  if (!updates || !info) {
    return;
  }
  auto member = pipeline_member(layout, app);
  bool in_pipeline = member && *member;
  const auto branches = deploy_branches(config, *info);
  const char* user = std::getenv("SLIPWAY_USER");
  const bool gated = waits_for_ci(layout, app);
  for (const auto& update : *updates) {
    if (update.is_deletion() || !update.ref.starts_with("refs/heads/")) {
      continue;
    }
    std::string branch = update.ref.substr(11);
    bool deploys = std::ranges::find(branches, branch) != branches.end();
    if ((deploys && gated) || (!deploys && ops::tests_on_review_app(layout, app, branch)) ||
        !(info->ci || (in_pipeline && declares_tests(layout, app, update.new_id)))) {
      continue;
    }
    auto queued = [&]() -> Expected<TestRun> {
      auto context = TRY(ops::open_context(layout, user ? user : "", say));
      auto created = TRY(
          ops::create_test_run(context, {.app = app, .commit = update.new_id, .branch = branch}));
      TRY(ops::spawn_test_run(context, created.number));
      return created;
    }();
    say(queued ? step_line(fmt::format("Test run #{} of {} queued: slipway ci:info {}",
                                       queued->number, update.new_id.substr(0, 7), queued->number))
               : failure_line("warning: no test run: " + queued.error().message));
  }
}

// Review apps (ops/review_apps.hpp): each moved branch told, once git moved it.
void update_review_apps(const Layout& layout, const Config& config, const std::string& app,
                        std::string_view input) {
  auto updates = parse_ref_updates(input);
  auto info = app_info(layout, app);
  if (!updates || !info) {
    return;
  }
  const auto branches = deploy_branches(config, *info);
  std::vector<ops::BranchPush> pushes;
  for (const auto& update : *updates) {
    if (!update.ref.starts_with("refs/heads/")) {
      continue;
    }
    std::string branch = update.ref.substr(11);
    pushes.push_back({.branch = branch,
                      .commit = update.is_deletion() ? "" : update.new_id,
                      .deploy_branch = std::ranges::find(branches, branch) != branches.end()});
  }
  const char* user = std::getenv("SLIPWAY_USER");
  auto context = ops::open_context(layout, user ? user : "", say);
  if (!context) {
    say(failure_line("warning: review apps: " + context.error().message));
    return;
  }
  ops::review_apps_after_push(*context, app, pushes);
}

} // namespace

int run_post_receive(const Layout& layout, const Config& config, std::string_view input) {
  auto app = app_of_repo(layout, fs::current_path());
  if (!app) {
    say(failure_line(app.error().message));
    return 1;
  }
  follow_deploy_branch(layout, config, *app, input);
  // git has moved the branch: the push's release is no longer in flight. If an operation
  // on the app is already running, it settles the push itself.
  ReleaseContext context{.layout = layout,
                         .config = config,
                         .app = *app,
                         .wait = false,
                         .on_output = say,
                         .defer_deletions = true};
  if (auto settled = settle_app(context); !settled) {
    // The push stays recorded in flight: the daemon's sweep settles it within seconds.
    say(failure_line("warning: " + settled.error().message));
  }
  queue_test_runs(layout, config, *app, input);
  update_review_apps(layout, config, *app, input);
  auto started = spawn_detached(
      {self_executable().string(), "--root", layout.root().string(), "housekeep", "-a", *app});
  if (!started) {
    say(failure_line(started.error().message));
    return 1;
  }
  return 0;
}

Expected<void> housekeep_after_push(const Layout& layout, const Config& config,
                                    const std::string& app) {
  TRY(require_app(layout, app));
  auto kept = housekeep(layout, config, app);
  // git's own housekeeping runs even when ours failed; the first error is reported. It runs
  // here, off the push's path: receive-pack would run it before the push returns (a
  // repository made by an earlier slipway gets receive.autogc = false here).
  auto autogc =
      run({.argv = {"git", "config", "--get", "receive.autogc"}, .cwd = layout.repo_dir(app)});
  if (autogc && autogc->output != "false\n") {
    [[maybe_unused]] auto set =
        run({.argv = {"git", "config", "receive.autogc", "false"}, .cwd = layout.repo_dir(app)});
  }
  auto gc = run({.argv = {"git", "gc", "--auto", "--quiet"},
                 .cwd = layout.repo_dir(app),
                 .timeout = std::chrono::minutes(30)});
  TRY(kept);
  TRY(gc);
  return {};
}

} // namespace slipway
