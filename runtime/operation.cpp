#include "runtime/operation.hpp"

#include <chrono>
#include <csignal>
#include <thread>
#include <unistd.h>

#include <fmt/ranges.h>

#include "common/output.hpp"
#include "common/proc.hpp"
#include "common/subprocess.hpp"
#include "common/tree.hpp"
#include "compiler/git.hpp"
#include "runtime/app_log.hpp"
#include "runtime/apps.hpp"
#include "runtime/daemon_client.hpp"
#include "runtime/deploy_lock.hpp"
#include "runtime/events.hpp"
#include "runtime/launch.hpp"
#include "runtime/release_phase.hpp"
#include "runtime/releaser.hpp"
#include "runtime/retention.hpp"

namespace slipway {

namespace fs = std::filesystem;

namespace {

using namespace std::chrono_literals;

// How long an operation waits for a push's receive-pack to move its branch.
constexpr auto k_push_grace = 30s;
// A receive-pack that has not moved the branch this long after its release went live is
// stopped for good, and the push rolled back.
constexpr auto k_push_abandoned = std::chrono::minutes(5);

// The push output's last line: the URL, or why nothing answers at it.
std::string deployed_line(const ReleaseContext& context, const Release& release) {
  std::string url = app_url(context.config, context.app);
  if (!release.has_slug()) {
    return fmt::format("{} deployed (v{})", url, release.version);
  }
  auto info = app_info(context.layout, context.app);
  auto counts =
      process_counts(info ? info->formation : std::map<std::string, int>{}, release.process_types);
  auto web = std::ranges::find(counts, "web", &std::pair<std::string, int>::first);
  if (web != counts.end() && web->second > 0) {
    return fmt::format("{} deployed (v{})", url, release.version);
  }
  std::vector<std::string> running;
  for (const auto& [type, count] : counts) {
    if (count > 0) {
      running.push_back(fmt::format("{}@{}", type, count));
    }
  }
  std::string runs = running.empty() ? std::string("nothing runs")
                                     : fmt::format("running {}", fmt::join(running, ", "));
  if (web == counts.end()) {
    return fmt::format("v{} deployed with no web process (the Procfile declares none; {}): {} "
                       "answers 503",
                       release.version, runs, url);
  }
  return fmt::format("v{} deployed with web scaled to 0 ({}): {} answers 503 until slipway "
                     "ps:scale -a {} web=1",
                     release.version, runs, url, context.app);
}

std::string branch_of(const std::string& ref) {
  return ref.starts_with("refs/heads/") ? ref.substr(11) : ref;
}

} // namespace

Operation::Operation(const ReleaseContext& context, FileLock lock)
    : m_context(context), m_lock(std::move(lock)), m_releases(context.layout, context.app),
      m_slugs(context.layout) {}

Expected<Operation> Operation::begin(const ReleaseContext& context) {
  auto lock = lock_app(context.layout, context.app, context.wait, context.on_output);
  if (!lock) {
    return std::unexpected(lock.error());
  }
  Operation operation(context, std::move(*lock));
  if (auto settled = operation.settle_push(); !settled) {
    return std::unexpected(settled.error());
  }
  auto settled = operation.m_releases.recover();
  if (!settled) {
    return std::unexpected(settled.error());
  }
  for (int version : *settled) {
    context.on_output(step_line(fmt::format("Settled v{}, left pending by an interrupted "
                                            "operation",
                                            version)));
  }
  if (auto repaired = operation.repair_link(); !repaired) {
    return std::unexpected(repaired.error());
  }
  return operation;
}

// The push recorded in push.inflight either completed (git moved the branch to its
// commit) or never will (receive-pack is gone and the branch did not move).
Expected<void> Operation::settle_push() {
  const Layout& layout = m_context.layout;
  auto inflight = read_push_inflight(layout, m_context.app);
  if (!inflight) {
    m_context.on_output(
        failure_line(fmt::format("warning: {}; removed", inflight.error().message)));
    remove_push_inflight(layout, m_context.app);
    return settle_unrecorded_push();
  }
  if (!*inflight) {
    return {};
  }
  const PushInFlight& push = **inflight;
  // Run by post-receive of the same receive-pack: git's ref updates are over.
  const bool ours = push.pid == static_cast<int>(getppid());
  std::error_code ec;
  auto written_at = fs::last_write_time(layout.push_inflight(m_context.app), ec);
  auto give_up = std::chrono::steady_clock::now() + (m_context.wait ? k_push_grace : 0s);
  auto moved = [&]() -> Expected<bool> {
    auto ref = git::read_ref(layout.repo_dir(m_context.app), push.ref);
    if (!ref) {
      return std::unexpected(ref.error());
    }
    return *ref == push.new_id;
  };
  bool completed = false;
  while (true) {
    auto now_moved = moved();
    if (!now_moved) {
      return std::unexpected(now_moved.error());
    }
    if (*now_moved) {
      completed = true;
      break;
    }
    if (ours) {
      completed = false; // post-receive runs after the ref updates: they failed
      break;
    }
    if (!process_alive(push.pid, push.start_time)) {
      // It may have moved the branch and exited since the read above.
      auto finally_moved = moved();
      if (!finally_moved) {
        return std::unexpected(finally_moved.error());
      }
      completed = *finally_moved;
      // Killed mid-update, it may have left its locks, which would refuse every later push
      // to the branch. No other receive-pack can be updating it: a push to it records
      // itself here first, under the app's lock.
      auto removed = git::remove_stale_locks(layout.repo_dir(m_context.app), push.ref);
      if (!removed) {
        return std::unexpected(removed.error());
      }
      for (const auto& name : *removed) {
        std::string text = fmt::format(
            "Removed {}, left in the repository by git receive-pack (pid {}) when it died", name,
            push.pid);
        m_context.on_output(step_line(text));
        record("app", "repaired", {{"message", text}});
      }
      break;
    }
    if (!ec && fs::file_time_type::clock::now() - written_at > k_push_abandoned) {
      // A receive-pack this late (stopped?) would move the branch whenever it resumes:
      // end it first, then decide.
      ::kill(push.pid, SIGKILL);
      for (int i = 0; i < 100 && process_alive(push.pid, push.start_time); ++i) {
        std::this_thread::sleep_for(10ms);
      }
      continue;
    }
    if (std::chrono::steady_clock::now() > give_up) {
      return fail("a push to {} is still finishing (git receive-pack, pid {}); try again",
                  m_context.app, push.pid);
    }
    std::this_thread::sleep_for(20ms);
  }
  if (completed) {
    auto release = m_releases.get(push.version);
    if (release && release->status == ReleaseStatus::pending) {
      release->status = ReleaseStatus::succeeded;
      if (auto written = m_releases.finish(*release); !written) {
        return written;
      }
      record("release", "succeeded",
             {{"version", push.version}, {"branch", branch_of(push.ref)}, {"commit", push.new_id}});
    }
    remove_push_inflight(layout, m_context.app);
    return {};
  }
  auto rolled = roll_back_push(push.version, push.previous,
                               fmt::format("the push did not complete: git left {} at {}",
                                           branch_of(push.ref), push.old_id.substr(0, 7)));
  if (!rolled) {
    return rolled;
  }
  remove_push_inflight(layout, m_context.app);
  return {};
}

// push.inflight was unreadable: a pending live release is judged by the deploy branch
// itself. If it does not name the release's commit, the push never completed.
Expected<void> Operation::settle_unrecorded_push() {
  auto linked = m_releases.linked_version();
  auto release = linked ? m_releases.get(*linked) : Expected<Release>(fail("none"));
  if (!release || release->status != ReleaseStatus::pending || release->commit.empty()) {
    return {};
  }
  auto info = app_info(m_context.layout, m_context.app);
  if (!info) {
    return std::unexpected(info.error());
  }
  std::string tips;
  for (const auto& branch : deploy_branches(m_context.config, *info)) {
    auto ref = git::read_ref(m_context.layout.repo_dir(m_context.app), "refs/heads/" + branch);
    if (!ref) {
      return std::unexpected(ref.error());
    }
    if (*ref == release->commit) {
      return {}; // recover() marks it succeeded
    }
    tips += fmt::format("{}{} at {}", tips.empty() ? "" : ", ", branch,
                        ref->value_or("nothing").substr(0, 7));
  }
  std::optional<int> previous;
  for (const auto& other : m_releases.list()) {
    if (other.version != *linked && other.status == ReleaseStatus::succeeded) {
      previous = other.version;
    }
  }
  return roll_back_push(*linked, previous,
                        fmt::format("the push did not complete: git left {}", tips));
}

// The release of a push that did not complete is no longer live nor pending: `previous`
// (or nothing) is live again, and the release is recorded failed with `reason`.
Expected<void> Operation::roll_back_push(int version, std::optional<int> previous,
                                         const std::string& reason) {
  if (m_releases.linked_version() == version) {
    std::optional<int> back;
    if (previous) {
      auto record = m_releases.get(*previous);
      if (record && record->status == ReleaseStatus::succeeded) {
        back = previous;
      }
    }
    auto restored = back ? activate(*back) : deactivate();
    if (!restored) {
      return fail("cannot roll back v{}, whose push did not complete: {}", version,
                  restored.error().message);
    }
  }
  auto release = m_releases.get(version);
  if (release && release->status != ReleaseStatus::failed) {
    release->status = ReleaseStatus::failed;
    release->reason = reason;
    if (auto written = m_releases.finish(*release); !written) {
      return written;
    }
  }
  auto live = m_releases.live_version();
  nlohmann::json data{{"version", version}, {"reason", reason}};
  if (live) {
    data["live"] = *live;
  }
  auto event = record("release", "rolled_back", std::move(data));
  m_context.on_output(step_line(describe_event(event).text));
  return {};
}

// `current` names the live release, or nothing when nothing is live.
Expected<void> Operation::repair_link() {
  if (m_releases.link_is_sound()) {
    return {};
  }
  std::error_code ec;
  auto linked = m_releases.linked_version();
  std::string was =
      linked ? fmt::format("it named v{}, which failed", *linked)
      : fs::exists(fs::symlink_status(m_context.layout.current_link(m_context.app), ec))
          ? "it was damaged"
          : "it was missing";
  auto live = m_releases.live_version();
  auto repaired = live ? activate(*live) : deactivate();
  if (!repaired) {
    return fail("cannot repair apps/{}/current ({}): {}", m_context.app, was,
                repaired.error().message);
  }
  std::string text =
      fmt::format("Repaired apps/{}/current ({}): {}", m_context.app, was,
                  live ? fmt::format("v{}, the newest succeeded release, is live", *live)
                       : "no release is live");
  m_context.on_output(step_line(text));
  record("app", "repaired", {{"message", text}});
  return {};
}

Expected<Release> Operation::publish(Release release, const fs::path& phase_dir,
                                     const std::optional<PushRef>& push) {
  auto live = m_releases.live_version();
  auto failed = [&](const Error& error) -> Expected<Release> {
    release.status = ReleaseStatus::failed;
    release.reason = error.message;
    if (auto written = m_releases.finish(release); !written) {
      return std::unexpected(written.error());
    }
    record("release", "failed", {{"version", release.version}, {"reason", error.message}});
    return fail("{}; {}", error.message,
                live ? fmt::format("v{} is still live", *live) : "no release is live");
  };
  // A cluster app's release command runs on the cluster, as the daemon's first step of the
  // activation.
  if (!release.release_command.empty() && !on_cluster()) {
    auto ran = run_phase(release, phase_dir);
    if (!ran) {
      return failed(ran.error());
    }
  }
  if (push) {
    // Nobody would move the branch for a receive-pack that is gone (the client hung up).
    if (!process_alive(push->receive_pack_pid, push->receive_pack_start)) {
      return failed(Error{"the push was interrupted: git receive-pack is gone"});
    }
    PushInFlight record{.ref = push->ref,
                        .old_id = push->old_id,
                        .new_id = push->new_id,
                        .version = release.version,
                        .previous = live,
                        .pid = push->receive_pack_pid,
                        .start_time = push->receive_pack_start};
    if (auto written = write_push_inflight(m_context.layout, m_context.app, record); !written) {
      return failed(written.error());
    }
  }
  if (auto activated = activate(release.version, true); !activated) {
    if (push) {
      remove_push_inflight(m_context.layout, m_context.app);
    }
    return failed(activated.error());
  }
  if (!push) {
    release.status = ReleaseStatus::succeeded;
    if (auto written = m_releases.finish(release); !written) {
      return std::unexpected(written.error());
    }
  }
  if (!m_context.defer_deletions) {
    prune_unpacked(m_context.layout, m_context.config, m_context.app);
    if (auto pruned = prune_slugs(m_context.layout, m_context.config); !pruned) {
      m_context.on_output(failure_line("warning: " + pruned.error().message));
    }
  }
  record("release", "created",
         {{"version", release.version},
          {"description", release.description},
          {"status", std::string(to_string(release.status))}});
  m_context.on_output(detail_line(deployed_line(m_context, release)));
  return release;
}

// Puts `version` live. With the daemon running, it starts the release's processes, and
// switches the router and `current` only once they answer; without it, `current` moves
// and a daemon started later runs it.
Expected<void> Operation::activate(int version, bool release_phase) {
  using namespace std::chrono;
  // The daemon gives up rather than switch after we stopped waiting for it: once the
  // connection is gone, or past a deadline that leaves room for unpacking, copying and
  // starting a large release and its health check.
  auto daemon_deadline =
      system_clock::now() + m_context.config.runtime.health_timeout + minutes(10);
  bool cluster = on_cluster();
  auto answer = activate_release(m_context.layout, m_context.app, version, daemon_deadline,
                                 m_context.on_output, cluster && release_phase);
  if (answer && !*answer && cluster) {
    return fail("{} runs on swarm, where only the daemon starts releases, and no daemon is "
                "running",
                m_context.app);
  }
  if (!answer) {
    // The daemon may have switched just before the connection broke.
    if (m_releases.linked_version() == version) {
      return {};
    }
    return std::unexpected(answer.error());
  }
  if (!*answer) {
    TRY(m_releases.activate(version));
    m_context.on_output(step_line(fmt::format("Launching v{}... done", version)));
    return {};
  }
  const control::ActivateResult& result = **answer;
  if (result.web == 0) {
    m_context.on_output(step_line(fmt::format("Launching v{}... done", version)));
    return {};
  }
  m_context.on_output(step_line(
      fmt::format("Launching v{}... health check passed ({:.1f}s), traffic switched in {} ms",
                  version, result.health_ms / 1000.0, result.switch_ms)));
  return {};
}

bool Operation::on_cluster() const {
  auto info = app_info(m_context.layout, m_context.app);
  return info && app_engine(m_context.config, *info) != Engine::local;
}

// Nothing live: the daemon stops the app's processes and answers 503 for it.
Expected<void> Operation::deactivate() {
  TRY(deactivate_release(m_context.layout, m_context.app, m_context.on_output));
  return m_releases.deactivate();
}

Event Operation::record(std::string resource, std::string action, nlohmann::json data) {
  Event event{.app = m_context.app,
              .resource = std::move(resource),
              .action = std::move(action),
              .actor = m_context.user.empty() ? local_actor() : m_context.user,
              .data = std::move(data)};
  auto recorded = record_event(m_context.layout, m_context.config, event);
  if (!recorded) {
    m_context.on_output(failure_line("warning: " + recorded.error().message));
    return event;
  }
  return *recorded;
}

Expected<void> Operation::run_postdeploy(const Release& release, const std::string& name,
                                         const std::string& command) {
  return run_phase(release, {},
                   Script{.dyno = name + ".1",
                          .what = name + " script",
                          .command = command,
                          .log = m_releases.script_log(release.version, name)});
}

Expected<void> Operation::run_phase(const Release& release, const fs::path& given_dir,
                                    const std::optional<Script>& script) {
  fs::path app_dir = given_dir;
  fs::path scratch;
  auto sandbox = process_sandbox(m_context.layout, m_context.config, m_context.app,
                                 fmt::format("release-v{}-{}", release.version, getpid()));
  if (!sandbox) {
    return std::unexpected(sandbox.error());
  }
  if (app_dir.empty()) {
    // A one-off copy of the release's files: the command's writes are thrown away.
    scratch = m_context.layout.tmp_dir(m_context.app) /
              fmt::format("release-v{}-{}", release.version, getpid());
    [[maybe_unused]] auto cleared = remove_tree(scratch);
    if (auto unpacked = m_slugs.unpack(release, scratch); !unpacked) {
      return unpacked;
    }
    if (sandbox_switches_user()) {
      if (auto given = chown_tree(scratch, sandbox->identity); !given) {
        return given;
      }
    }
    app_dir = scratch;
  }
  ReleasePhase phase{.sandbox = *sandbox,
                     .app_dir = app_dir,
                     .release = release,
                     .timeout = m_context.config.release.phase_timeout,
                     .log = m_releases.output_log(release.version),
                     .on_output = m_context.on_output};
  if (script) {
    phase.dyno = script->dyno;
    phase.what = script->what;
    phase.command = script->command;
    phase.log = script->log;
  }
  auto ran = run_release_phase(phase);
  if (sandbox->cgroups) {
    sandbox->cgroups->remove();
  }
  if (!scratch.empty()) {
    [[maybe_unused]] auto removed = remove_tree(scratch);
  }
  return ran;
}

Expected<void> settle_app(const ReleaseContext& context) {
  auto operation = Operation::begin(context);
  if (!operation) {
    return std::unexpected(operation.error());
  }
  return {};
}

bool needs_settling(const Layout& layout, const std::string& app) {
  std::error_code ec;
  if (fs::exists(layout.push_inflight(app), ec)) {
    return true;
  }
  ReleaseStore releases(layout, app);
  if (!releases.link_is_sound()) {
    return true;
  }
  // A record still pending, or a release dir whose record was never written.
  auto newest = releases.newest_version();
  if (!newest) {
    return false;
  }
  auto release = releases.get(*newest);
  return !release || release->status == ReleaseStatus::pending;
}

} // namespace slipway
