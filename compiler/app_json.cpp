#include "compiler/app_json.hpp"

#include <algorithm>
#include <array>

#include <fmt/ranges.h>

#include "common/output.hpp"
#include "compiler/release_yaml.hpp"

namespace slipway {

namespace {

using nlohmann::json;

// Heroku's descriptive keys, kept as they are.
constexpr std::array k_descriptive_keys = {"name",    "description", "keywords",
                                           "website", "repository",  "logo"};
constexpr int k_max_quantity = 100;
constexpr int k_max_attempts = 100;
constexpr long k_max_seconds = 3600;

// Problems and notes, gathered over the whole document.
struct Report {
  std::vector<std::string> problems;
  std::vector<std::string> notes;

  template <class... Args>
  void problem(fmt::format_string<Args...> format, Args&&... args) {
    problems.push_back(fmt::format(format, std::forward<Args>(args)...));
  }
  template <class... Args>
  void note(fmt::format_string<Args...> format, Args&&... args) {
    notes.push_back(fmt::format(format, std::forward<Args>(args)...));
  }
};

std::string_view kind(const json& value) {
  return value.type_name();
}

bool is_process_type(std::string_view name) {
  return !name.empty() && name.size() <= 63 && std::ranges::all_of(name, [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

// Where byte `offset` (1-based, as nlohmann reports it) is, and that line's text.
std::string locate(std::string_view text, std::size_t offset) {
  std::size_t at = std::min(offset == 0 ? 0 : offset - 1, text.size());
  std::size_t line_start = text.rfind('\n', at == 0 ? std::string_view::npos : at - 1);
  line_start = line_start == std::string_view::npos ? 0 : line_start + 1;
  std::size_t line =
      1 + static_cast<std::size_t>(std::count(text.begin(), text.begin() + line_start, '\n'));
  std::size_t line_end = text.find('\n', line_start);
  std::string_view shown =
      text.substr(line_start, line_end == std::string_view::npos ? std::string_view::npos
                                                                 : line_end - line_start);
  if (shown.size() > 120) {
    shown = shown.substr(0, 120);
  }
  return fmt::format("line {}, column {}:\n  {} | {}", line, at - line_start + 1, line,
                     printable(shown));
}

std::optional<std::string> string_at(const json& object, const char* key, std::string_view where,
                                     Report& report) {
  auto it = object.find(key);
  if (it == object.end()) {
    return std::nullopt;
  }
  if (!it->is_string()) {
    report.problem("'{}.{}' must be a string, got {}", where, key, kind(*it));
    return std::nullopt;
  }
  return it->get<std::string>();
}

std::optional<long> seconds_at(const json& object, const char* key, std::string_view where,
                               long min, Report& report) {
  auto it = object.find(key);
  if (it == object.end()) {
    return std::nullopt;
  }
  if (!it->is_number_integer() || it->get<long>() < min || it->get<long>() > k_max_seconds) {
    report.problem("'{}.{}' must be a whole number from {} to {}, got {}", where, key, min,
                   k_max_seconds, printable(it->dump()));
    return std::nullopt;
  }
  return it->get<long>();
}

// The `url` of each entry of a buildpacks list at `where`.
void parse_buildpacks(const json& value, std::string_view where, std::vector<std::string>& urls,
                      Report& report) {
  if (!value.is_array()) {
    report.problem("'{}' must be a list, got {}", where, kind(value));
    return;
  }
  for (std::size_t i = 0; i < value.size(); ++i) {
    const auto& entry = value[i];
    auto url = entry.is_object() ? entry.find("url") : entry.end();
    if (!entry.is_object() || url == entry.end() || !url->is_string() ||
        url->get<std::string>().empty()) {
      report.problem("'{}[{}]' must be an object with a 'url' string", where, i);
      continue;
    }
    urls.push_back(url->get<std::string>());
  }
}

// Config vars at `where`: each a string (its value) or an object of description, value,
// required and generator.
void parse_env(const json& value, std::string_view where, std::vector<EnvVarSpec>& vars,
               Report& report) {
  if (!value.is_object()) {
    report.problem("'{}' must be an object of config vars, got {}", where, kind(value));
    return;
  }
  for (const auto& [name, spec] : value.items()) {
    std::string at = fmt::format("{}.{}", where, printable(name));
    if (!is_config_var_name(name)) {
      report.problem("'{}': invalid config var name (use letters, digits and _, not starting "
                     "with a digit)",
                     at);
      continue;
    }
    EnvVarSpec var{.name = name};
    if (spec.is_string()) { // the short form: the value itself
      var.value = spec.get<std::string>();
      vars.push_back(std::move(var));
      continue;
    }
    if (!spec.is_object()) {
      report.problem("'{}' must be a string or an object, got {}", at, kind(spec));
      continue;
    }
    for (const auto& [key, field] : spec.items()) {
      if (key == "description") {
        var.description = string_at(spec, "description", at, report).value_or("");
      } else if (key == "value") {
        var.value = string_at(spec, "value", at, report);
      } else if (key == "required") {
        if (!field.is_boolean()) {
          report.problem("'{}.required' must be true or false, got {}", at, kind(field));
        } else {
          var.required = field.get<bool>();
        }
      } else if (key == "generator") {
        if (field != "secret") {
          report.problem("'{}.generator' must be \"secret\", got {}", at, printable(field.dump()));
        } else {
          var.secret = true;
        }
      } else {
        report.note("{}: key '{}' ignored", at, printable(key));
      }
    }
    vars.push_back(std::move(var));
  }
}

// The quantities a formation at some place allows.
struct QuantityRange {
  int min;
  int max;
};

// The process types of a formation object at `where`, each quantity within `range`.
void parse_formation(const json& value, std::string_view where, QuantityRange range,
                     std::vector<FormationSpec>& entries, Report& report) {
  if (!value.is_object()) {
    report.problem("'{}' must be an object of process types, got {}", where, kind(value));
    return;
  }
  bool sized = false;
  for (const auto& [type, spec] : value.items()) {
    std::string at = fmt::format("{}.{}", where, printable(type));
    if (!is_process_type(type)) {
      report.problem("'{}': invalid process type name", at);
      continue;
    }
    if (!spec.is_object()) {
      report.problem("'{}' must be an object such as {{\"quantity\": 1}}, got {}", at, kind(spec));
      continue;
    }
    FormationSpec entry{.type = type};
    for (const auto& [key, field] : spec.items()) {
      if (key == "quantity") {
        if (!field.is_number_integer() || field.get<long>() < range.min ||
            field.get<long>() > range.max) {
          report.problem("'{}.quantity' must be a whole number from {} to {}, got {}", at,
                         range.min, range.max, printable(field.dump()));
        } else {
          entry.quantity = field.get<int>();
        }
      } else if (key == "size") {
        sized = true;
      } else {
        report.note("{}: key '{}' ignored", at, printable(key));
      }
    }
    entries.push_back(std::move(entry));
  }
  if (sized) {
    report.note("{} sizes ignored: every process here has the one size set by [runtime] limits",
                where);
  }
}

// A script of a scripts object and where its command goes (nullptr: validated only).
struct ScriptSlot {
  const char* name;
  std::string* command;
};

// The scripts of `slots` out of the scripts object at `where`, each a string; returns the
// names of its other keys, in order, for the caller to judge.
std::vector<std::string> parse_scripts(const json& value, std::string_view where,
                                       std::initializer_list<ScriptSlot> slots, Report& report) {
  if (!value.is_object()) {
    report.problem("'{}' must be an object, got {}", where, kind(value));
    return {};
  }
  std::vector<std::string> others;
  for (const auto& [name, script] : value.items()) {
    auto slot = std::ranges::find(slots, name, &ScriptSlot::name);
    if (slot == slots.end()) {
      others.push_back(name);
      continue;
    }
    auto command = string_at(value, slot->name, where, report);
    if (slot->command != nullptr) {
      *slot->command = command.value_or("");
    }
  }
  return others;
}

// The top-level scripts: Heroku's postdeploy and pr-predestroy, Dokku's scripts.dokku.
void parse_app_scripts(const json& value, AppScripts& scripts, Report& report) {
  auto others = parse_scripts(
      value, "scripts",
      {{"postdeploy", &scripts.postdeploy}, {"pr-predestroy", &scripts.pr_predestroy}}, report);
  for (const auto& name : others) {
    if (name != "dokku") {
      report.note("scripts.{} ignored: slipway runs postdeploy, pr-predestroy and "
                  "dokku.predeploy/postdeploy",
                  printable(name));
      continue;
    }
    const json& dokku = value["dokku"];
    auto unknown = parse_scripts(
        dokku, "scripts.dokku",
        {{"predeploy", &scripts.dokku_predeploy}, {"postdeploy", &scripts.dokku_postdeploy}},
        report);
    for (const auto& key : unknown) {
      report.note("scripts.dokku.{} ignored: slipway runs predeploy and postdeploy",
                  printable(key));
    }
  }
}

// How an add-on of an `addons` list is shown: its plan.
std::string addon_name(const json& addon) {
  if (addon.is_string()) {
    return addon.get<std::string>();
  }
  if (!addon.is_object()) {
    return addon.dump();
  }
  auto plan = addon.find("plan");
  return plan != addon.end() && plan->is_string() ? plan->get<std::string>() : "?";
}

// An `addons` list at `where`: named for the build output, never provisioned.
void parse_addons(const json& value, std::string_view where, std::vector<std::string>& names,
                  Report& report) {
  if (!value.is_array()) {
    report.note("{} ignored: not a list, and slipway does not provision add-ons", where);
    return;
  }
  std::vector<std::string> listed;
  for (const auto& addon : value) {
    listed.push_back(addon_name(addon));
  }
  if (!listed.empty()) {
    report.note("{}: {} ignored: slipway does not provision add-ons", where,
                printable(fmt::format("{}", fmt::join(listed, ", "))));
  }
  names.insert(names.end(), listed.begin(), listed.end());
}

// `environments.test.formation`: the test process type only, whose quantity is the number
// of test nodes run in parallel.
void parse_test_formation(const json& value, const std::string& where, EnvironmentSpec& test,
                          Report& report) {
  json tested = value.is_object() ? json::object() : value;
  if (value.is_object()) {
    for (const auto& [type, spec] : value.items()) {
      if (type == "test") {
        tested[type] = spec;
      } else {
        report.note("{}.{} ignored: a test run has test dynos only", where, printable(type));
      }
    }
  }
  std::size_t before = report.problems.size();
  std::vector<FormationSpec> entries;
  parse_formation(tested, where, {1, k_max_test_nodes}, entries, report);
  if (report.problems.size() == before && !entries.empty() && tested["test"].contains("quantity")) {
    test.test_nodes = entries.front().quantity;
  }
}

// One environment of `environments`: `test` (Heroku CI) or `review` (review apps).
void parse_environment(const json& value, const std::string& where, bool is_test,
                       EnvironmentSpec& environment, Report& report) {
  environment.declared = true;
  if (!value.is_object()) {
    report.problem("'{}' must be an object, got {}", where, kind(value));
    return;
  }
  for (const auto& [key, field] : value.items()) {
    std::string at = fmt::format("{}.{}", where, printable(key));
    if (key == "buildpacks") {
      parse_buildpacks(field, at, environment.buildpacks, report);
    } else if (key == "env") {
      parse_env(field, at, environment.env, report);
    } else if (key == "addons") {
      parse_addons(field, at, environment.addons, report);
    } else if (key == "formation" && is_test) {
      parse_test_formation(field, at, environment, report);
    } else if (key == "formation") {
      parse_formation(field, at, {0, k_max_quantity}, environment.formation, report);
    } else if (key == "scripts" && is_test) {
      for (const auto& name : parse_scripts(
               field, at, {{"test-setup", &environment.test_setup}, {"test", &environment.test}},
               report)) {
        report.note("{}.{} ignored: a test run runs test-setup and test", at, printable(name));
      }
    } else if (key == "scripts") {
      for (const auto& name : parse_scripts(field, at,
                                            {{"postdeploy", &environment.postdeploy},
                                             {"pr-predestroy", &environment.predestroy}},
                                            report)) {
        report.note("{}.{} ignored: a review app runs postdeploy and pr-predestroy", at,
                    printable(name));
      }
    } else {
      report.note("unknown key '{}' ignored", at);
    }
  }
}

void parse_environments(const json& value, AppJson& manifest, Report& report) {
  if (!value.is_object()) {
    report.problem("'environments' must be an object, got {}", kind(value));
    return;
  }
  for (const auto& [name, environment] : value.items()) {
    if (name == "test") {
      parse_environment(environment, "environments.test", true, manifest.test, report);
    } else if (name == "review") {
      parse_environment(environment, "environments.review", false, manifest.review, report);
    } else {
      report.note("environments.{} ignored: slipway reads environments.test (CI test runs) and "
                  "environments.review (review apps)",
                  printable(name));
    }
  }
}

std::optional<HealthCheck> parse_check(const json& check, const std::string& where,
                                       Report& report) {
  if (!check.is_object()) {
    report.problem("'{}' must be an object, got {}", where, kind(check));
    return std::nullopt;
  }
  std::size_t before = report.problems.size();
  HealthCheck result;
  for (const auto& [key, field] : check.items()) {
    constexpr std::array k_known = {"type", "name",    "path",         "content", "attempts",
                                    "wait", "timeout", "initialDelay", "uptime"};
    if (std::ranges::find(k_known, key) == k_known.end()) {
      report.problem("'{}.{}' is not supported (slipway checks type, name, path, content, "
                     "attempts, wait, timeout, initialDelay, uptime)",
                     where, printable(key));
    }
  }
  result.name = string_at(check, "name", where, report).value_or("");
  result.content = string_at(check, "content", where, report).value_or("");
  if (auto path = string_at(check, "path", where, report)) {
    bool visible = std::ranges::all_of(
        *path, [](char c) { return static_cast<unsigned char>(c) > 0x20 && c != 0x7f; });
    if (!path->starts_with('/') || !visible || path->size() > 1024) {
      report.problem("'{}.path' must be a URL path such as \"/health\", got '{}'", where,
                     printable(*path));
    }
    result.path = *path;
  }
  result.declared = check.contains("path") || check.contains("content");
  if (auto attempts = check.find("attempts"); attempts != check.end()) {
    if (!attempts->is_number_integer() || attempts->get<long>() < 1 ||
        attempts->get<long>() > k_max_attempts) {
      report.problem("'{}.attempts' must be a whole number from 1 to {}, got {}", where,
                     k_max_attempts, printable(attempts->dump()));
    } else {
      result.attempts = attempts->get<int>();
    }
  }
  auto as_seconds = [](std::optional<long> value) {
    return value ? std::optional(std::chrono::seconds(*value)) : std::nullopt;
  };
  result.wait = as_seconds(seconds_at(check, "wait", where, 0, report));
  result.timeout = as_seconds(seconds_at(check, "timeout", where, 1, report));
  result.initial_delay = as_seconds(seconds_at(check, "initialDelay", where, 0, report));
  result.uptime = as_seconds(seconds_at(check, "uptime", where, 0, report));
  if (report.problems.size() != before) {
    return std::nullopt;
  }
  return result;
}

void parse_health_checks(const json& value, AppJson& manifest, Report& report) {
  if (!value.is_object()) {
    report.problem("'healthchecks' must be an object of process types, got {}", kind(value));
    return;
  }
  for (const auto& [type, list] : value.items()) {
    if (type != "web") {
      report.note("healthchecks.{} ignored: only web processes are checked", printable(type));
      continue;
    }
    if (!list.is_array()) {
      report.problem("'healthchecks.web' must be a list of checks, got {}", kind(list));
      continue;
    }
    bool startup = false;
    bool liveness = false;
    for (std::size_t i = 0; i < list.size(); ++i) {
      std::string where = fmt::format("healthchecks.web[{}]", i);
      std::string check_type = "startup";
      if (list[i].is_object() && list[i].contains("type")) {
        check_type = list[i]["type"].is_string() ? list[i]["type"].get<std::string>() : "";
      }
      if (check_type != "startup" && check_type != "liveness") {
        // Dokku's "readiness" has no meaning apart from startup with one router.
        report.problem("'{}.type' must be \"startup\" or \"liveness\", got {}", where,
                       printable(list[i]["type"].dump()));
        continue;
      }
      std::size_t before = report.problems.size();
      auto check = parse_check(list[i], where, report);
      bool& seen = check_type == "startup" ? startup : liveness;
      if (seen) {
        report.problem("'{}': the web process has one {} check; merge them", where, check_type);
      }
      seen = true;
      if (check_type == "startup") {
        if (check) {
          manifest.health_checks.startup = *check;
        }
        continue;
      }
      // A liveness check asks a process that is up, again and again: it has no uptime to
      // wait for, and no wait of 0 (a check after check without pause).
      if (list[i].is_object() && list[i].contains("uptime")) {
        report.problem("'{}.uptime' applies to startup checks only", where);
      }
      if (check && check->wait && check->wait->count() == 0) {
        report.problem("'{}.wait' must be at least 1 for a liveness check: the seconds "
                       "between two checks",
                       where);
      }
      if (check && report.problems.size() == before) {
        manifest.health_checks.liveness = *check;
      }
    }
  }
}

// The JSON of app.json, comments allowed; malformed JSON says where.
Expected<json> parse_document(std::string_view text) {
  try {
    return json::parse(text, nullptr, true, /*ignore_comments=*/true);
  } catch (const json::parse_error& error) {
    std::string reason = error.what();
    if (auto at = reason.find("syntax error while parsing value - "); at != std::string::npos) {
      reason = reason.substr(at + 35);
    } else if (auto colon = reason.rfind(": "); colon != std::string::npos) {
      reason = reason.substr(colon + 2);
    }
    return fail("app.json: malformed JSON at {}\n  ({})", locate(text, error.byte),
                printable(reason.substr(0, 200)));
  } catch (const json::exception& error) { // a number too large, say
    return fail("app.json: malformed JSON: {}",
                printable(std::string(error.what()).substr(0, 200)));
  }
}

} // namespace

Expected<AppJson> parse_app_json(std::string_view text) {
  AppJson manifest;
  manifest.document = TRY(parse_document(text));
  const json& document = manifest.document;
  if (!document.is_object()) {
    return fail("app.json: expected an object at the top level, got {}", kind(document));
  }
  Report report;
  for (const auto& [key, value] : document.items()) {
    if (key == "buildpacks") {
      parse_buildpacks(value, "buildpacks", manifest.buildpacks, report);
    } else if (key == "env") {
      parse_env(value, "env", manifest.env, report);
    } else if (key == "formation") {
      parse_formation(value, "formation", {0, k_max_quantity}, manifest.formation, report);
    } else if (key == "scripts") {
      parse_app_scripts(value, manifest.scripts, report);
    } else if (key == "healthchecks") {
      parse_health_checks(value, manifest, report);
    } else if (key == "stack") {
      manifest.stack = string_at(document, "stack", "app", report).value_or("");
    } else if (key == "environments") {
      parse_environments(value, manifest, report);
    } else if (key == "keywords") {
      if (!value.is_array() || !std::ranges::all_of(value, &json::is_string)) {
        report.problem("'keywords' must be a list of strings");
      }
    } else if (std::ranges::find(k_descriptive_keys, key) != k_descriptive_keys.end()) {
      if (!value.is_string()) {
        report.problem("'{}' must be a string, got {}", key, kind(value));
      }
    } else if (key == "addons") {
      std::vector<std::string> names;
      parse_addons(value, "addons", names, report);
    } else if (key == "image") {
      report.note("image ignored: slipway builds with buildpacks");
    } else if (key == "success_url") {
      report.note("success_url ignored: slipway has no setup page");
    } else {
      report.note("unknown key '{}' ignored", printable(key));
    }
  }
  if (report.problems.size() == 1) {
    return fail("app.json: {}", report.problems.front());
  }
  if (!report.problems.empty()) {
    return fail("app.json has {} problems:\n  {}", report.problems.size(),
                fmt::join(report.problems, "\n  "));
  }
  manifest.notes = std::move(report.notes);
  return manifest;
}

Expected<WebHealthChecks> parse_web_health_checks(std::string_view text) {
  auto document = TRY(parse_document(text));
  AppJson manifest;
  Report report;
  if (auto checks = document.is_object() ? document.find("healthchecks") : document.end();
      checks != document.end()) {
    parse_health_checks(*checks, manifest, report);
  }
  if (!report.problems.empty()) {
    return fail("app.json: {}", fmt::join(report.problems, "; "));
  }
  return manifest.health_checks;
}

} // namespace slipway
