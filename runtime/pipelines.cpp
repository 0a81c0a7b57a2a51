#include "runtime/pipelines.hpp"

#include <algorithm>
#include <sstream>

#include <toml++/toml.h>

#include "common/files.hpp"
#include "common/output.hpp"
#include "common/random.hpp"
#include "common/stamped_cache.hpp"
#include "runtime/app_name.hpp"
#include "runtime/apps.hpp"

namespace slipway {

namespace fs = std::filesystem;

std::string_view to_string(Stage stage) {
  switch (stage) {
  case Stage::review:
    return "review";
  case Stage::development:
    return "development";
  case Stage::staging:
    return "staging";
  case Stage::production:
    return "production";
  }
  return "development";
}

Expected<Stage> parse_stage(std::string_view text) {
  for (Stage stage : k_stages) {
    if (to_string(stage) == text) {
      return stage;
    }
  }
  return usage_error("unknown stage '{}' (use review, development, staging or production)",
                     printable(text));
}

std::optional<Stage> downstream_of(Stage stage) {
  switch (stage) {
  case Stage::development:
    return Stage::staging;
  case Stage::staging:
    return Stage::production;
  default:
    return std::nullopt;
  }
}

std::optional<Stage> upstream_of(Stage stage) {
  switch (stage) {
  case Stage::staging:
    return Stage::development;
  case Stage::production:
    return Stage::staging;
  default:
    return std::nullopt;
  }
}

namespace {

// One [[pipeline]] entry of pipelines.toml.
Expected<Pipeline> read_pipeline(const toml::table* entry, const std::string& origin,
                                 std::size_t index) {
  auto id = entry ? (*entry)["id"].value_exact<std::string>() : std::nullopt;
  auto name = entry ? (*entry)["name"].value_exact<std::string>() : std::nullopt;
  auto created = entry ? (*entry)["created_at"].value_exact<toml::date_time>() : std::nullopt;
  auto updated = entry ? (*entry)["updated_at"].value_exact<toml::date_time>() : std::nullopt;
  const toml::node* gated = entry ? entry->get("wait_for_ci") : nullptr;
  const toml::node* review = entry ? entry->get("review_apps") : nullptr;
  if (!entry || entry->size() != 4u + (gated ? 1 : 0) + (review ? 1 : 0) || !id || !is_uuid(*id) ||
      !name || !validate_pipeline_name(*name) || !created || !updated) {
    return fail("{}: pipeline {} must hold id (a UUID), name (a pipeline name), created_at, "
                "updated_at and optionally wait_for_ci and review_apps, and nothing else",
                origin, index);
  }
  Pipeline pipeline{.id = *id,
                    .name = *name,
                    .created_at = from_toml_time(*created),
                    .updated_at = from_toml_time(*updated)};
  const toml::array* stages = gated ? gated->as_array() : nullptr;
  if (gated && !stages) {
    return fail("{}: pipeline {}'s wait_for_ci must be a list of stages", origin, index);
  }
  for (std::size_t i = 0; stages && i < stages->size(); ++i) {
    auto text = stages->get(i)->value_exact<std::string>();
    Expected<Stage> stage = text ? parse_stage(*text) : usage_error("not a string");
    if (!stage) {
      return fail("{}: pipeline {}'s wait_for_ci: {}", origin, index, stage.error().message);
    }
    pipeline.wait_for_ci.push_back(*stage);
  }
  std::ranges::sort(pipeline.wait_for_ci);
  if (std::ranges::adjacent_find(pipeline.wait_for_ci) != pipeline.wait_for_ci.end()) {
    return fail("{}: pipeline {}'s wait_for_ci names a stage twice", origin, index);
  }
  if (review) {
    const toml::table* settings = review->as_table();
    auto flag = [&](std::string_view key) {
      const toml::node* node = settings ? settings->get(key) : nullptr;
      return node ? node->value_exact<bool>() : std::nullopt;
    };
    auto count = [&](std::string_view key) {
      const toml::node* node = settings ? settings->get(key) : nullptr;
      return node ? node->value_exact<int64_t>() : std::nullopt;
    };
    auto autodeploy = flag("autodeploy");
    auto autodestroy = flag("autodestroy");
    auto stale_days = count("stale_days");
    auto max = count("max");
    if (!settings || settings->size() != 4 || !autodeploy || !autodestroy || !stale_days ||
        *stale_days < 0 || *stale_days > k_max_stale_days || !max || *max < 0 ||
        *max > k_max_review_apps) {
      return fail("{}: pipeline {}'s review_apps must hold autodeploy and autodestroy (true or "
                  "false), stale_days (0 to {}) and max (0 to {})",
                  origin, index, k_max_stale_days, k_max_review_apps);
    }
    pipeline.review_apps = ReviewAppsSettings{.autodeploy = *autodeploy,
                                              .autodestroy = *autodestroy,
                                              .stale_days = static_cast<int>(*stale_days),
                                              .max = static_cast<int>(*max)};
  }
  return pipeline;
}

Expected<std::vector<Pipeline>> read_pipelines(const fs::path& file) {
  std::vector<Pipeline> pipelines;
  std::error_code ec;
  if (!fs::exists(file, ec)) {
    return pipelines;
  }
  auto text = TRY(read_file(file));
  std::string origin = file.string();
  try {
    auto table = toml::parse(text, origin);
    for (const auto& [key, value] : table) {
      if (key.str() != "pipeline") {
        return fail("{}: unknown key '{}'", origin, key.str());
      }
    }
    const toml::array* list = table.get("pipeline") ? table.get("pipeline")->as_array() : nullptr;
    if (table.get("pipeline") && !list) {
      return fail("{}: 'pipeline' must be a list of tables ([[pipeline]])", origin);
    }
    for (std::size_t i = 0; list && i < list->size(); ++i) {
      pipelines.push_back(TRY(read_pipeline(list->get(i)->as_table(), origin, i + 1)));
    }
  } catch (const toml::parse_error& error) {
    return fail("{} is corrupt: {}", origin, error.description());
  }
  std::ranges::sort(pipelines, {}, &Pipeline::name);
  return pipelines;
}

StampedCache<std::vector<Pipeline>>& pipelines_cache() {
  static StampedCache<std::vector<Pipeline>> cache(16);
  return cache;
}

} // namespace

Expected<std::vector<Pipeline>> load_pipelines(const Layout& layout) {
  fs::path file = layout.pipelines_file();
  auto stamp = file_stamp(file);
  if (auto cached = stamp ? pipelines_cache().find(file, *stamp) : std::nullopt) {
    return std::move(*cached);
  }
  auto pipelines = read_pipelines(file);
  if (pipelines && stamp) {
    pipelines_cache().keep(file, *stamp, *pipelines);
  }
  return pipelines;
}

Expected<void> save_pipelines(const Layout& layout, const std::vector<Pipeline>& pipelines) {
  toml::array list;
  for (const Pipeline& pipeline : pipelines) {
    toml::table entry{{"id", pipeline.id},
                      {"name", pipeline.name},
                      {"created_at", to_toml_time(pipeline.created_at)},
                      {"updated_at", to_toml_time(pipeline.updated_at)}};
    if (!pipeline.wait_for_ci.empty()) {
      toml::array stages;
      for (Stage stage : pipeline.wait_for_ci) {
        stages.push_back(std::string(to_string(stage)));
      }
      entry.insert("wait_for_ci", std::move(stages));
    }
    if (const auto& review = pipeline.review_apps) {
      entry.insert("review_apps", toml::table{{"autodeploy", review->autodeploy},
                                              {"autodestroy", review->autodestroy},
                                              {"stale_days", review->stale_days},
                                              {"max", review->max}});
    }
    list.push_back(std::move(entry));
  }
  toml::table table;
  if (!list.empty()) {
    table.insert("pipeline", std::move(list));
  }
  std::ostringstream out;
  out << table << "\n";
  std::error_code ec;
  fs::create_directories(layout.pipelines_dir(), ec);
  return write_file_atomic(layout.pipelines_file(), out.str());
}

Expected<Pipeline> find_pipeline(const Layout& layout, std::string_view name_or_id) {
  auto pipelines = TRY(load_pipelines(layout));
  auto found = std::ranges::find_if(pipelines, [&](const Pipeline& pipeline) {
    return pipeline.name == name_or_id || pipeline.id == name_or_id;
  });
  if (found == pipelines.end()) {
    return fail_as(ErrorKind::not_found, "pipeline '{}' does not exist", printable(name_or_id));
  }
  return *found;
}

std::vector<PipelineMember> pipeline_members(const Layout& layout, const std::string& pipeline_id) {
  std::vector<PipelineMember> members;
  for (const auto& app : list_apps(layout)) {
    auto info = app_info(layout, app);
    if (info && info->coupling && info->coupling->pipeline == pipeline_id) {
      members.push_back({.app = app,
                         .app_id = info->id,
                         .coupling = *info->coupling,
                         .promotion_only = info->promotion_only});
    }
  }
  std::ranges::stable_sort(members, {}, [](const PipelineMember& member) {
    return static_cast<int>(member.coupling.stage);
  });
  return members;
}

Expected<std::optional<PipelineMember>> pipeline_member(const Layout& layout,
                                                        const std::string& app) {
  auto info = TRY(app_info(layout, app));
  if (!info.coupling) {
    return std::nullopt;
  }
  auto pipelines = TRY(load_pipelines(layout));
  if (std::ranges::find(pipelines, info.coupling->pipeline, &Pipeline::id) == pipelines.end()) {
    return std::nullopt;
  }
  return PipelineMember{.app = app,
                        .app_id = info.id,
                        .coupling = *info.coupling,
                        .promotion_only = info.promotion_only};
}

bool set_wait_for_ci(Pipeline& pipeline, Stage stage, bool on) {
  auto& stages = pipeline.wait_for_ci;
  if ((std::ranges::find(stages, stage) != stages.end()) == on) {
    return false;
  }
  if (on) {
    stages.push_back(stage);
    std::ranges::sort(stages);
  } else {
    std::erase(stages, stage);
  }
  return true;
}

bool waits_for_ci(const Layout& layout, const std::string& app) {
  auto info = app_info(layout, app);
  if (!info || info->wait_for_ci) {
    return info.has_value();
  }
  auto member = pipeline_member(layout, app);
  if (!member || !*member) {
    return false;
  }
  auto pipeline = find_pipeline(layout, (*member)->coupling.pipeline);
  return pipeline && std::ranges::find(pipeline->wait_for_ci, (*member)->coupling.stage) !=
                         pipeline->wait_for_ci.end();
}

std::vector<PipelineMember> stage_members(const Layout& layout, const PipelineMember& member,
                                          Stage stage) {
  auto members = pipeline_members(layout, member.coupling.pipeline);
  std::erase_if(members, [&](const PipelineMember& other) {
    return other.coupling.stage != stage || other.app == member.app;
  });
  return members;
}

std::optional<std::string> direct_deploy_refusal(const Layout& layout, const std::string& app) {
  auto member = pipeline_member(layout, app);
  if (!member || !*member || !(*member)->promotion_only ||
      (*member)->coupling.stage != Stage::production) {
    return std::nullopt;
  }
  // Where its code comes from: the stage upstream, else any app of the pipeline.
  std::string from = "STAGING_APP";
  auto upstream = stage_members(layout, **member, Stage::staging);
  if (upstream.empty()) {
    upstream = stage_members(layout, **member, Stage::development);
  }
  if (!upstream.empty()) {
    from = upstream.front().app;
  }
  return fmt::format("production changes only by promotion: slipway pipelines:promote -a {}", from);
}

} // namespace slipway
