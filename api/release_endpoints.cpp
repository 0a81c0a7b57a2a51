// Releases (list, info, create = rollback), config vars (of the app and of a release; PATCH
// with null unsetting), and builds with their output stream.
#include <charconv>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "api/endpoints.hpp"
#include "api/shapes.hpp"
#include "common/files.hpp"
#include "ops/config.hpp"
#include "ops/history.hpp"
#include "ops/releases.hpp"

namespace slipway::api {

namespace {

using nlohmann::json;

constexpr auto k_stream_valid_for = std::chrono::hours(1);

std::optional<int> number(std::string_view text) {
  if (text.starts_with('v')) {
    text.remove_prefix(1);
  }
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < 1) {
    return std::nullopt;
  }
  return value;
}

// A release as the path or a body names it: its version ("3", "v3") or its id.
Expected<int> release_version(const Call& call, const ops::AppRef& app, std::string_view named) {
  if (auto version = number(named)) {
    return *version;
  }
  auto list = TRY(ops::list_releases(call.context, {.app = app.name, .count = 0}));
  for (const auto& details : list.releases) {
    if (release_id(app, details.release.version) == named) {
      return details.release.version;
    }
  }
  return fail_as(ErrorKind::not_found, "{} has no release '{}'", app.name, named.substr(0, 64));
}

// Pages of release lists as they were answered, by what they were made from: the app's id,
// the Range asked for, the users' emails, and each release's version, status and whether it
// is live (a record changes only in its status; a destroyed app's name gets a new id). A
// list is asked for often (the heroku CLI, a dashboard) and changes rarely; rendering it is
// most of an answer's cost. Bounded: emptied when full.
class PageCache {
 public:
  std::optional<Response> find(const std::string& key) {
    std::lock_guard lock(m_mutex);
    auto found = m_pages.find(key);
    return found == m_pages.end() ? std::nullopt : std::optional<Response>(found->second);
  }
  void keep(const std::string& key, const Response& response) {
    std::lock_guard lock(m_mutex);
    if (m_pages.size() >= 256) {
      m_pages.clear();
    }
    m_pages[key] = response;
  }

 private:
  std::mutex m_mutex;
  std::unordered_map<std::string, Response> m_pages;
};

PageCache& release_pages() {
  static PageCache cache;
  return cache;
}

Expected<Response> list_releases(Call& call) {
  auto app = TRY(app_param(call));
  auto range = TRY(call.range(std::array<std::string_view, 2>{"version", "id"}));
  auto list = TRY(ops::list_releases(call.context, {.app = app.name, .count = 0}));
  std::string key =
      fmt::format("{}\n{}\n{}\n{}\n", app.id, to_std(call.request[http::field::range]),
                  call.context.config.server.domain,
                  users_generation(call.context.layout, call.context.config));
  for (const auto& details : list.releases) {
    key += fmt::format("{}:{}:{};", details.release.version, details.status, details.live);
  }
  if (auto cached = release_pages().find(key)) {
    return std::move(*cached);
  }
  auto value = [&](const ops::ReleaseDetails& details) {
    return range.field == "id" ? release_id(app, details.release.version)
                               : std::to_string(details.release.version);
  };
  auto response = page_response<ops::ReleaseDetails>(
      paginate<ops::ReleaseDetails>(std::move(list.releases), range, value), range,
      [&](const ops::ReleaseDetails& details) {
        return release_json(call.context.layout, call.context.config, app, details);
      },
      value);
  release_pages().keep(key, response);
  return response;
}

Expected<Response> show_release(Call& call) {
  auto app = TRY(app_param(call));
  int version = TRY(release_version(call, app, call.params[1]));
  auto details = TRY(ops::release_details(call.context, {.app = app.name, .version = version}));
  return json_response(release_json(call.context.layout, call.context.config, app, details));
}

Expected<Response> release_config(Call& call) {
  auto app = TRY(app_param(call));
  int version = TRY(release_version(call, app, call.params[1]));
  auto details = TRY(ops::release_details(call.context, {.app = app.name, .version = version}));
  return json_response(details.release.config);
}

// POST /apps/{app}/releases {"release": ID or version}: a rollback to that release.
Expected<Response> create_release(Call& call) {
  auto app = TRY(app_param(call));
  auto body = TRY(call.body());
  auto target = TRY(string_member(body, "release"));
  if (!target) {
    if (body.contains("slug")) {
      return usage_error("a release of a slug by id is not supported: push, or roll back with "
                         "{{\"release\": ID}}");
    }
    return usage_error("'release' is required: the id or version of the release to roll back to");
  }
  int version = TRY(release_version(call, app, *target));
  auto made = TRY(ops::rollback(call.context, {.app = app.name, .version = version}));
  auto details =
      TRY(ops::release_details(call.context, {.app = app.name, .version = made.version}));
  return json_response(release_json(call.context.layout, call.context.config, app, details),
                       http::status::created);
}

Expected<Response> config_vars(Call& call) {
  auto app = TRY(app_param(call));
  return json_response(TRY(ops::config_vars(call.context, app.name)));
}

// PATCH /apps/{app}/config-vars {"A": "1", "B": null}: one release with every change.
Expected<Response> update_config_vars(Call& call) {
  auto app = TRY(app_param(call));
  auto body = TRY(call.body());
  ops::ChangeConfig change{.app = app.name};
  for (const auto& [name, value] : body.items()) {
    if (value.is_null()) {
      change.unset.push_back(name);
    } else if (value.is_string()) {
      change.set[name] = value.get<std::string>();
    } else if (value.is_number() || value.is_boolean()) {
      change.set[name] = value.dump(); // as Heroku: 2 and true become "2" and "true"
    } else {
      return usage_error("config var {} must be a string or null", name.substr(0, 64));
    }
  }
  TRY(ops::change_config(call.context, change));
  return json_response(TRY(ops::config_vars(call.context, app.name)));
}

std::string stream_url(const Call& call, const ops::AppRef& app, int build) {
  return call.base_url + call.signer.sign(fmt::format("/streams/builds/{}/{}?key={}", app.name,
                                                      build, call.context.actor.name),
                                          k_stream_valid_for);
}

// A build as the path names it: its number or its id.
Expected<BuildRecord> find_build(const Call& call, const ops::AppRef& app, std::string_view named) {
  for (auto& build : TRY(ops::list_builds(call.context, app.name))) {
    if (number(named) == build.id || build_id(app, build.id) == named) {
      return std::move(build);
    }
  }
  return fail_as(ErrorKind::not_found, "{} has no build '{}'", app.name, named.substr(0, 64));
}

Expected<Response> list_builds(Call& call) {
  auto app = TRY(app_param(call));
  auto range = TRY(call.range(std::array<std::string_view, 2>{"created_at", "id"}));
  auto builds = TRY(ops::list_builds(call.context, app.name));
  auto value = [&](const BuildRecord& build) {
    return range.field == "id" ? build_id(app, build.id) : format_time(build.created_at);
  };
  return page_response<BuildRecord>(
      paginate<BuildRecord>(std::move(builds), range, value), range,
      [&](const BuildRecord& build) {
        return build_json(call.context.layout, call.context.config, app, build,
                          stream_url(call, app, build.id));
      },
      value);
}

Expected<Response> show_build(Call& call) {
  auto app = TRY(app_param(call));
  auto build = TRY(find_build(call, app, call.params[1]));
  return json_response(build_json(call.context.layout, call.context.config, app, build,
                                  stream_url(call, app, build.id)));
}

// The signed output_stream_url: the build's log so far, then what it writes until it ends.
Expected<Response> stream_build(Call& call) {
  auto app = TRY(app_param(call));
  int id = TRY(find_build(call, app, call.params[1])).id;
  TRY(ops::build_output(call.context, {.app = app.name, .id = id})); // the right, and it exists
  const ops::Context& context = call.context;
  return follow_text(
      [context, app, id] {
        auto builds = ops::list_builds(context, app.name);
        return builds && std::ranges::any_of(*builds, [&](const BuildRecord& build) {
                 return build.id == id && build.status == "pending";
               });
      },
      [context, app, id] { return ops::build_output(context, {.app = app.name, .id = id}); });
}

} // namespace

void add_release_routes(std::vector<Route>& routes) {
  routes.push_back({http::verb::get, "/apps/{}/releases", list_releases});
  routes.push_back({http::verb::post, "/apps/{}/releases", create_release});
  routes.push_back({http::verb::get, "/apps/{}/releases/{}", show_release});
  routes.push_back({http::verb::get, "/apps/{}/releases/{}/config-vars", release_config});
  routes.push_back({http::verb::get, "/apps/{}/config-vars", config_vars});
  routes.push_back({http::verb::patch, "/apps/{}/config-vars", update_config_vars});
  routes.push_back({http::verb::get, "/apps/{}/builds", list_builds});
  routes.push_back({http::verb::get, "/apps/{}/builds/{}", show_build});
  routes.push_back({http::verb::get, "/streams/builds/{}/{}", stream_build, true});
}

} // namespace slipway::api
