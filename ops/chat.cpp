#include "ops/chat.hpp"

#include <algorithm>
#include <charconv>
#include <sstream>

#include <fmt/ranges.h>

#include "common/files.hpp"
#include "common/hash.hpp"
#include "common/output.hpp"
#include "common/paths.hpp"
#include "common/random.hpp"
#include "common/subprocess.hpp"
#include "compiler/git.hpp"
#include "ops/apps.hpp"
#include "ops/pipelines.hpp"
#include "ops/processes.hpp"
#include "ops/releases.hpp"
#include "ops/review_apps.hpp"
#include "ops/rights.hpp"
#include "ops/self_push.hpp"
#include "ops/settings.hpp"
#include "ops/test_runs.hpp"
#include "runtime/apps.hpp"
#include "runtime/keys.hpp"

namespace slipway::ops {

namespace fs = std::filesystem;

namespace {

constexpr long k_max_skew_seconds = 300;

fs::path outbox_dir(const Layout& layout) {
  return layout.root() / "chat" / "outbox";
}

std::vector<std::string> words_of(std::string_view text) {
  std::vector<std::string> words;
  std::istringstream in{std::string(text.substr(0, 1000))};
  for (std::string word; in >> word;) {
    words.push_back(word);
  }
  return words;
}

std::string help_text() {
  return "slipway commands:\n"
         "  releases APP                  the app's last releases\n"
         "  ps APP                        its processes\n"
         "  ci APP                        its last test runs\n"
         "  reviewapps PIPELINE           the pipeline's review apps\n"
         "  deploy APP [BRANCH]           deploy a branch of the app's repository\n"
         "  rollback APP [vN]             roll back (to vN)\n"
         "  promote PIPELINE|APP [--to APP,...]   promote staging's release onward\n"
         "  help";
}

bool verified(const Config& config, const ChatSettings& settings, const ChatCommand& command) {
  (void)config;
  if (command.platform == "slack") {
    if (settings.slack_signing_secret.empty()) {
      return false;
    }
    std::string_view stamp = command.header("X-Slack-Request-Timestamp");
    std::string_view signature = command.header("X-Slack-Signature");
    long seconds = 0;
    auto [end, ec] = std::from_chars(stamp.data(), stamp.data() + stamp.size(), seconds);
    long now = std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
    if (stamp.empty() || ec != std::errc() || end != stamp.data() + stamp.size() ||
        std::abs(now - seconds) > k_max_skew_seconds) {
      return false;
    }
    std::string expected = "v0=" + hmac_sha256_hex(settings.slack_signing_secret,
                                                   fmt::format("v0:{}:{}", stamp, command.body));
    return equal_in_constant_time(expected, signature);
  }
  auto token = command.fields.find("token");
  return !settings.mattermost_token.empty() && token != command.fields.end() &&
         equal_in_constant_time(settings.mattermost_token, token->second);
}

Expected<std::string> releases_text(const Context& context, const std::string& app) {
  auto list = TRY(list_releases(context, {.app = app, .count = 10}));
  std::string out = fmt::format("{} releases:", app);
  for (const auto& details : list.releases) {
    out += fmt::format("\n  v{}  {}  {}{}", details.release.version, details.release.description,
                       details.status, details.live ? " (live)" : "");
  }
  return out;
}

Expected<std::string> ps_text(const Context& context, const std::string& app) {
  auto processes = TRY(list_processes(context, app));
  std::string out = fmt::format("{} processes:", app);
  for (const auto& process : processes) {
    out += fmt::format("\n  {}  {}  v{}", process.name, process.state, process.release);
  }
  return processes.empty() ? fmt::format("{} has no processes running", app) : out;
}

Expected<std::string> ci_text(const Context& context, const std::string& app) {
  auto runs = TRY(list_test_runs(context, app, "", 5));
  std::string out = fmt::format("{} test runs:", app);
  for (const auto& run : runs) {
    out += fmt::format("\n  #{}  {}  {} ({})", run.number, run.status, run.commit.substr(0, 7),
                       run.branch);
  }
  return runs.empty() ? fmt::format("{} has no test runs", app) : out;
}

Expected<std::string> reviewapps_text(const Context& context, const std::string& pipeline) {
  auto apps = TRY(list_review_apps(context, pipeline));
  std::string out = fmt::format("{} review apps:", pipeline);
  for (const auto& app : apps) {
    out += fmt::format("\n  {}  {}  {}", app.branch, app.status, app.url);
  }
  return apps.empty() ? fmt::format("{} has no review apps", pipeline) : out;
}

// The app `promote NAME` starts from: NAME itself, or the staging app of pipeline NAME.
Expected<std::string> promotion_source(const Context& context, const std::string& name) {
  if (auto app = find_app(context, name)) {
    return app->name;
  }
  auto pipeline = find_pipeline(context, name);
  if (!pipeline) {
    return fail_as(ErrorKind::not_found, "no app or pipeline named {} that you may use",
                   printable(name.substr(0, 64)));
  }
  for (const auto& member : TRY(list_couplings(context, pipeline->id))) {
    if (member.coupling.stage == Stage::staging) {
      return member.app;
    }
  }
  return fail_as(ErrorKind::not_found, "pipeline {} has no staging app", pipeline->name);
}

Expected<void> queue_reply(const Layout& layout, const std::string& url, const std::string& text) {
  std::error_code ec;
  fs::create_directories(outbox_dir(layout), ec);
  std::string id = TRY(random_uuid());
  return write_file_atomic(outbox_dir(layout) / (id + ".json"),
                           nlohmann::json{{"url", url}, {"text", text}}.dump() + "\n", 0600);
}

} // namespace

Expected<void> link_chat_user(const Context& context, const ChatLink& link) {
  TRY(authorize(context, "chat:link"));
  TRY(validate_chat_platform(link.platform));
  TRY(validate_chat_user(link.user));
  TRY(find_key(context.layout, link.key));
  auto settings = TRY(load_chat_settings(context.layout));
  std::erase_if(settings.links, [&](const ChatLink& other) {
    return other.platform == link.platform && other.user == link.user;
  });
  settings.links.push_back(link);
  TRY(save_chat_settings(context.layout, settings));
  record(context, {.resource = "chat-link",
                   .action = "created",
                   .data = {{"platform", link.platform},
                            {"user", link.user},
                            {"key", link.key},
                            {"message", fmt::format("{} user {} acts as key {}", link.platform,
                                                    link.user, link.key)}}});
  return {};
}

Expected<void> unlink_chat_user(const Context& context, const std::string& platform,
                                const std::string& user) {
  TRY(authorize(context, "chat:unlink"));
  auto settings = TRY(load_chat_settings(context.layout));
  auto removed = std::erase_if(settings.links, [&](const ChatLink& link) {
    return link.platform == platform && link.user == user;
  });
  if (removed == 0) {
    return fail_as(ErrorKind::not_found, "{} user {} is not linked", printable(platform),
                   printable(user.substr(0, 64)));
  }
  TRY(save_chat_settings(context.layout, settings));
  record(context, {.resource = "chat-link",
                   .action = "destroyed",
                   .data = {{"platform", platform},
                            {"user", user},
                            {"message", fmt::format("{} user {} unlinked", platform, user)}}});
  return {};
}

Expected<std::vector<ChatLink>> chat_links(const Context& context) {
  TRY(authorize(context, "chat:links"));
  return TRY(load_chat_settings(context.layout)).links;
}

Expected<void> set_chat_secret(const Context& context, const std::string& platform,
                               const std::string& secret) {
  TRY(authorize(context, "chat:setup"));
  TRY(validate_chat_platform(platform));
  if (secret.empty() || secret.size() > 256 ||
      std::ranges::any_of(secret, [](char c) { return c < 0x21 || c > 0x7e; })) {
    return usage_error("a signing secret or token is 1 to 256 printable characters");
  }
  auto settings = TRY(load_chat_settings(context.layout));
  (platform == "slack" ? settings.slack_signing_secret : settings.mattermost_token) = secret;
  TRY(save_chat_settings(context.layout, settings));
  record(context,
         {.resource = "chat",
          .action = "updated",
          .data = {{"platform", platform}, {"message", fmt::format("{}'s secret set", platform)}}});
  return {};
}

ChatReply receive_chat_command(const Layout& layout, const Config& config,
                               const ChatCommand& command) {
  auto settings = load_chat_settings(layout);
  if (!settings || !verified(config, *settings, command)) {
    return {.status = 401,
            .text = "The request's signature (or token) is missing, wrong or too old."};
  }
  auto field = [&](const char* name) {
    auto found = command.fields.find(name);
    return found == command.fields.end() ? std::string() : found->second;
  };
  std::string user = field("user_id");
  auto key = settings->key_of(command.platform, user);
  if (!key) {
    return {.text = fmt::format("You are not linked to a slipway key. An admin links you with: "
                                "slipway chat:link KEY --{}-user {}",
                                command.platform, printable(user.substr(0, 64)))};
  }
  auto context = open_context(layout, *key, {});
  if (!context) {
    return {.text = context.error().message};
  }
  auto words = words_of(field("text"));
  if (words.empty() || words[0] == "help") {
    return {.text = help_text()};
  }
  const std::string& verb = words[0];
  auto answer = [&](Expected<std::string> text) -> ChatReply {
    return {.text = text ? *text : "Refused: " + text.error().message};
  };
  if (words.size() < 2) {
    return {.text = fmt::format("`{}` needs a name: /slipway help", printable(verb.substr(0, 40)))};
  }
  if (verb == "releases") {
    return answer(releases_text(*context, words[1]));
  }
  if (verb == "ps") {
    return answer(ps_text(*context, words[1]));
  }
  if (verb == "ci") {
    return answer(ci_text(*context, words[1]));
  }
  if (verb == "reviewapps") {
    return answer(reviewapps_text(*context, words[1]));
  }
  if (verb == "rollback" || verb == "promote" || verb == "deploy") {
    // Checked now, so that a refusal is said at once; done by a process of its own.
    Expected<void> allowed = {};
    if (verb == "rollback") {
      allowed = authorize(*context, "rollback", words[1]);
    } else if (verb == "deploy") {
      allowed = authorize(*context, "git-receive-pack", words[1]);
    } else if (auto source = promotion_source(*context, words[1]); !source) {
      allowed = std::unexpected(source.error());
    }
    if (!allowed) {
      return {.text = "Refused: " + allowed.error().message};
    }
    std::string url = field("response_url");
    if (url.empty()) {
      return {.text = "This request has no response_url to post the result to."};
    }
    std::vector<std::string> argv = {self_executable().string(),
                                     "--root",
                                     layout.root().string(),
                                     "chat:run",
                                     "--platform",
                                     command.platform,
                                     "--user",
                                     user,
                                     "--response-url",
                                     url,
                                     "--"};
    argv.insert(argv.end(), words.begin(), words.end());
    if (auto started = spawn_detached(argv); !started) {
      return {.text = started.error().message};
    }
    std::string doing = verb == "rollback" ? "Rolling back"
                        : verb == "deploy" ? "Deploying"
                                           : "Promoting";
    return {.text = fmt::format("{} {}… I'll post the result here.", doing, words[1])};
  }
  return {.text =
              fmt::format("Unknown command `{}`.\n{}", printable(verb.substr(0, 40)), help_text())};
}

namespace {

// `deploy APP [BRANCH]`: the branch's head in the app's repository (its deploy branch's by
// default) pushed to the deploy branch on the server, as the key.
Expected<std::string> deploy_from_repository(const Context& context, const std::string& app,
                                             std::string branch, const std::string& user) {
  TRY(authorize(context, "git-receive-pack", app));
  auto info = TRY(app_info(context.layout, app));
  if (branch.empty()) {
    branch = deploy_target_branch(context.layout, context.config, info, "");
  }
  if (!is_branch_name(branch)) {
    return usage_error("'{}' is not a branch name", printable(branch.substr(0, 64)));
  }
  auto head = TRY(git::read_ref(context.layout.repo_dir(app), "refs/heads/" + branch));
  if (!head) {
    return fail_as(ErrorKind::not_found, "{}'s repository has no branch {}", app, branch);
  }
  std::string target = deploy_target_branch(context.layout, context.config, info, branch);
  auto live = TRY(git::read_ref(context.layout.repo_dir(app), "refs/heads/" + target));
  if (live == head) {
    return fmt::format("{} runs {} of {} already", app, head->substr(0, 7), branch);
  }
  auto pushed = TRY(push_to_deploy_branch(context.layout,
                                          {.app = app,
                                           .commit = *head,
                                           .target = target,
                                           .key = context.actor.local ? "" : context.actor.name,
                                           .source = "chat",
                                           .pusher = user},
                                          [](std::string_view) {}));
  if (!pushed.deployed) {
    return fmt::format("Deploy of {} ({}) to {} failed: {}", branch, head->substr(0, 7), app,
                       pushed.failure);
  }
  return fmt::format("{} deployed {} ({}): {}", app, branch, head->substr(0, 7),
                     app_url(context.config, app));
}

Expected<std::string> chat_command_result(const Layout& layout, const std::string& platform,
                                          const std::string& user,
                                          const std::vector<std::string>& words) {
  auto settings = TRY(load_chat_settings(layout));
  auto key = settings.key_of(platform, user);
  if (!key) {
    return fail_as(ErrorKind::forbidden, "{} user {} is not linked", platform, user);
  }
  auto context = TRY(open_context(layout, *key, {}));
  std::string text;
  if (words.size() >= 2 && words[0] == "rollback") {
    std::optional<int> version;
    if (words.size() >= 3) {
      std::string_view digits = words[2];
      if (digits.starts_with('v')) {
        digits.remove_prefix(1);
      }
      int parsed = 0;
      auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), parsed);
      if (ec != std::errc() || end != digits.data() + digits.size()) {
        return fmt::format("`{}` is not a release (v7)", printable(words[2]));
      }
      version = parsed;
    }
    auto release = rollback(context, {.app = words[1], .version = version});
    text = release ? fmt::format("{} rolled back: v{} is live ({})", words[1], release->version,
                                 release->description)
                   : fmt::format("Rollback of {} failed: {}", words[1], release.error().message);
  } else if (words.size() >= 2 && words[0] == "promote") {
    Promote request{.app = words[1]};
    for (std::size_t i = 2; i + 1 < words.size(); ++i) {
      if (words[i] == "--to") {
        std::istringstream targets(words[i + 1]);
        for (std::string target; std::getline(targets, target, ',');) {
          request.to.push_back(target);
        }
      }
    }
    auto result = [&]() -> Expected<Promotion> {
      request.app = TRY(promotion_source(context, words[1]));
      auto started = TRY(start_promotion(context, request));
      return run_promotion(context, started.id, {});
    }();
    if (!result) {
      text = fmt::format("Promotion from {} failed: {}", words[1], result.error().message);
    } else {
      std::vector<std::string> outcomes;
      for (const auto& target : result->targets) {
        outcomes.push_back(fmt::format("{} {}", target.app, target.status));
      }
      text = fmt::format("{} v{} promoted: {}", result->source_app, result->source_version,
                         fmt::join(outcomes, ", "));
    }
  } else if (words.size() >= 2 && words[0] == "deploy") {
    text = TRY(deploy_from_repository(context, words[1], words.size() >= 3 ? words[2] : "", user));
  } else {
    text = help_text();
  }
  return text;
}

} // namespace

Expected<void> run_chat_command(const Layout& layout, const std::string& platform,
                                const std::string& user, const std::string& response_url,
                                const std::vector<std::string>& words) {
  // Whatever happens is said where the command was asked.
  auto text = chat_command_result(layout, platform, user, words);
  return queue_reply(layout, response_url, text ? *text : "Failed: " + text.error().message);
}

std::vector<ChatOutboxItem> chat_outbox(const Layout& layout) {
  std::vector<ChatOutboxItem> items;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(outbox_dir(layout), ec)) {
    auto text = read_file(entry.path());
    auto json = text ? nlohmann::json::parse(*text, nullptr, false) : nlohmann::json();
    items.push_back({.file = entry.path(),
                     .url = json.is_object() ? json.value("url", "") : "",
                     .text = json.is_object() ? json.value("text", "") : ""});
  }
  return items;
}

} // namespace slipway::ops
