#include "ops/self_push.hpp"

#include <algorithm>

#include "common/subprocess.hpp"
#include "compiler/git.hpp"

namespace slipway::ops {

namespace {

// The last line of a push's output that says why it failed.
std::string failure_of(const std::vector<std::string>& lines) {
  for (auto line = lines.rbegin(); line != lines.rend(); ++line) {
    std::string_view text = *line;
    if (text.starts_with("remote: ")) {
      text.remove_prefix(8);
    }
    if (text.find(" !     ") != std::string_view::npos || text.starts_with(" !")) {
      std::string_view why = text.substr(text.find('!') + 1);
      while (!why.empty() && why.front() == ' ') {
        why.remove_prefix(1);
      }
      return std::string(why.substr(0, 300));
    }
  }
  return lines.empty() ? "the push failed" : lines.back().substr(0, 300);
}

} // namespace

std::string deploy_target_branch(const Layout& layout, const Config& config, const AppInfo& info,
                                 const std::string& branch) {
  auto branches = deploy_branches(config, info);
  if (std::ranges::find(branches, branch) != branches.end()) {
    return branch;
  }
  for (const auto& each : branches) {
    if (auto tip = git::read_ref(layout.repo_dir(info.name), "refs/heads/" + each); tip && *tip) {
      return each;
    }
  }
  return branches.front();
}

Expected<SelfPushResult> push_to_deploy_branch(const Layout& layout, const SelfPush& push,
                                               const OutputFn& on_line) {
  std::string repo = layout.repo_dir(push.app).string();
  std::map<std::string, std::string> env{{"SLIPWAY_PUSH_SOURCE", push.source},
                                         {"SLIPWAY_PUSHER", push.pusher}};
  std::vector<std::string> env_remove{"GIT_DIR", "GIT_WORK_TREE", "GIT_QUARANTINE_PATH"};
  if (push.key.empty()) {
    env_remove.push_back("SLIPWAY_USER");
  } else {
    env["SLIPWAY_USER"] = push.key;
  }
  std::vector<std::string> lines;
  auto pushed = run({.argv = {"git", "-C", repo, "push", "--porcelain", repo,
                              "+" + push.commit + ":refs/heads/" + push.target},
                     .env = std::move(env),
                     .env_remove = std::move(env_remove),
                     .on_line = [&](std::string_view line) {
                       lines.emplace_back(line);
                       on_line(line);
                     }});
  if (!pushed) {
    return std::unexpected(pushed.error());
  }
  if (!pushed->ok()) {
    return SelfPushResult{.failure = failure_of(lines)};
  }
  return SelfPushResult{.deployed = true};
}

} // namespace slipway::ops
