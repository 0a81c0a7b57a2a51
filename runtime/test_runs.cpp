#include "runtime/test_runs.hpp"

#include <algorithm>
#include <charconv>
#include <sstream>

#include <toml++/toml.h>

#include "common/files.hpp"
#include "common/random.hpp"
#include "runtime/app_name.hpp"

namespace slipway {

namespace fs = std::filesystem;

bool is_finished_status(std::string_view status) {
  return status == "succeeded" || status == "failed" || status == "errored";
}

namespace {

bool known_status(std::string_view status) {
  return status == "pending" || status == "building" || status == "running" ||
         is_finished_status(status);
}

} // namespace

std::string test_run_to_toml(const TestRun& run) {
  toml::table table{{"number", run.number},
                    {"id", run.id},
                    {"app", run.app},
                    {"app_id", run.app_id},
                    {"pipeline", run.pipeline_id},
                    {"commit", run.commit},
                    {"branch", run.branch},
                    {"actor", run.actor},
                    {"status", run.status},
                    {"message", run.message},
                    {"gates", run.gates},
                    {"created_at", to_toml_time(run.created_at)},
                    {"updated_at", to_toml_time(run.updated_at)},
                    {"started", run.started}};
  if (run.finished_at) {
    table.insert("finished_at", to_toml_time(*run.finished_at));
  }
  toml::array nodes;
  for (const TestNode& node : run.nodes) {
    toml::table entry{{"index", node.index},   {"status", node.status}, {"message", node.message},
                      {"passed", node.passed}, {"failed", node.failed}, {"skipped", node.skipped},
                      {"tap", node.tap}};
    if (node.exit_code) {
      entry.insert("exit_code", *node.exit_code);
    }
    if (node.planned) {
      entry.insert("planned", *node.planned);
    }
    nodes.push_back(std::move(entry));
  }
  table.insert("node", std::move(nodes));
  std::ostringstream out;
  out << table << "\n";
  return out.str();
}

Expected<TestRun> test_run_from_toml(std::string_view text, std::string_view origin) {
  TestRun run;
  try {
    auto table = toml::parse(text, origin);
    auto string = [&](const toml::table& from, std::string_view key,
                      std::string& into) -> Expected<void> {
      auto value = from[key].value_exact<std::string>();
      if (!value) {
        return fail("{}: '{}' must be a string", origin, key);
      }
      into = *value;
      return {};
    };
    auto integer = [&](const toml::table& from, std::string_view key) -> Expected<int> {
      auto value = from[key].value_exact<int64_t>();
      if (!value || *value < 0 || *value > 1'000'000'000) {
        return fail("{}: '{}' must be a whole number", origin, key);
      }
      return static_cast<int>(*value);
    };
    auto boolean = [&](const toml::table& from, std::string_view key) -> Expected<bool> {
      auto value = from[key].value_exact<bool>();
      if (!value) {
        return fail("{}: '{}' must be true or false", origin, key);
      }
      return *value;
    };
    auto time = [&](std::string_view key) -> Expected<TimePoint> {
      auto value = table[key].value_exact<toml::date_time>();
      if (!value) {
        return fail("{}: '{}' must be a date-time", origin, key);
      }
      return from_toml_time(*value);
    };
    run.number = TRY(integer(table, "number"));
    for (auto [key, field] : {std::pair{"id", &run.id},
                              {"app", &run.app},
                              {"app_id", &run.app_id},
                              {"pipeline", &run.pipeline_id},
                              {"commit", &run.commit},
                              {"branch", &run.branch},
                              {"actor", &run.actor},
                              {"status", &run.status},
                              {"message", &run.message}}) {
      TRY(string(table, key, *field));
    }
    run.gates = TRY(boolean(table, "gates"));
    run.started = TRY(boolean(table, "started"));
    run.created_at = TRY(time("created_at"));
    run.updated_at = TRY(time("updated_at"));
    if (table.contains("finished_at")) {
      run.finished_at = TRY(time("finished_at"));
    }
    if (!is_uuid(run.id) || !validate_app_name(run.app) || !known_status(run.status)) {
      return fail("{}: a test run needs a UUID id, an app name and a known status", origin);
    }
    const toml::array* nodes = table["node"].as_array();
    if (!nodes) {
      return fail("{}: 'node' must be a list of tables ([[node]])", origin);
    }
    for (const auto& item : *nodes) {
      const toml::table* entry = item.as_table();
      if (!entry) {
        return fail("{}: every node must be a table", origin);
      }
      TestNode node;
      node.index = TRY(integer(*entry, "index"));
      TRY(string(*entry, "status", node.status));
      TRY(string(*entry, "message", node.message));
      node.passed = TRY(integer(*entry, "passed"));
      node.failed = TRY(integer(*entry, "failed"));
      node.skipped = TRY(integer(*entry, "skipped"));
      node.tap = TRY(boolean(*entry, "tap"));
      if (entry->contains("exit_code")) {
        node.exit_code = TRY(integer(*entry, "exit_code"));
      }
      if (entry->contains("planned")) {
        node.planned = TRY(integer(*entry, "planned"));
      }
      if (!known_status(node.status)) {
        return fail("{}: node {} has an unknown status", origin, node.index);
      }
      run.nodes.push_back(std::move(node));
    }
  } catch (const toml::parse_error& error) {
    return fail("{} is corrupt: {}", origin, error.description());
  }
  return run;
}

namespace {

// The numbers of the runs on record, in no order.
std::vector<int> run_numbers(const Layout& layout) {
  std::vector<int> numbers;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(layout.ci_dir(), ec)) {
    if (entry.path().extension() != ".toml") {
      continue;
    }
    std::string stem = entry.path().stem().string();
    int number = 0;
    auto [end, error] = std::from_chars(stem.data(), stem.data() + stem.size(), number);
    if (error == std::errc() && end == stem.data() + stem.size() && number > 0) {
      numbers.push_back(number);
    }
  }
  return numbers;
}

Expected<TestRun> read_run(const Layout& layout, int number) {
  return test_run_from_toml(TRY(read_file(layout.test_run_file(number))),
                            layout.test_run_file(number).string());
}

} // namespace

Expected<TestRun> create_test_run(const Layout& layout, TestRun run) {
  std::error_code ec;
  fs::create_directories(layout.ci_dir(), ec);
  auto lock = TRY(FileLock::acquire(layout.test_runs_lock(), FileLock::Mode::exclusive));
  auto numbers = run_numbers(layout);
  run.number = numbers.empty() ? 1 : *std::ranges::max_element(numbers) + 1;
  fs::create_directories(layout.test_run_dir(run.number), ec);
  if (ec) {
    return fail("cannot create '{}': {}", layout.test_run_dir(run.number).string(), ec.message());
  }
  TRY(save_test_run(layout, run));
  return run;
}

Expected<void> save_test_run(const Layout& layout, const TestRun& run) {
  return write_file_atomic(layout.test_run_file(run.number), test_run_to_toml(run), 0600);
}

Expected<FileLock> claim_test_run(const Layout& layout, int number) {
  // Readers hold it for a moment (load_test_run): wait for them.
  return FileLock::acquire(layout.test_run_lock(number), FileLock::Mode::exclusive);
}

Expected<TestRun> load_test_run(const Layout& layout, int number) {
  std::error_code ec;
  if (number <= 0 || !fs::exists(layout.test_run_file(number), ec)) {
    return fail_as(ErrorKind::not_found, "test run #{} does not exist", number);
  }
  auto run = TRY(read_run(layout, number));
  if (is_finished_status(run.status)) {
    return run;
  }
  auto lock = TRY(FileLock::try_acquire(layout.test_run_lock(number), FileLock::Mode::exclusive));
  if (!lock) {
    return run; // its runner is at work
  }
  run = TRY(read_run(layout, number));
  auto now = std::chrono::system_clock::now();
  if (is_finished_status(run.status) ||
      (!run.started && now - run.created_at < std::chrono::seconds(60))) {
    return run; // a queued run whose runner may be starting
  }
  run.status = "errored";
  run.message =
      run.started ? "the run was interrupted (its runner ended)" : "the run never started";
  for (TestNode& node : run.nodes) {
    if (!is_finished_status(node.status)) {
      node.status = "errored";
      node.message = run.message;
    }
  }
  run.finished_at = now;
  run.updated_at = now;
  TRY(save_test_run(layout, run));
  return run;
}

std::vector<TestRun> list_test_runs(const Layout& layout, const std::string& app,
                                    const std::string& pipeline_id, std::size_t limit) {
  auto numbers = run_numbers(layout);
  std::ranges::sort(numbers, std::greater<>());
  std::vector<TestRun> runs;
  for (int number : numbers) {
    auto run = load_test_run(layout, number);
    if (!run || (!app.empty() && run->app != app) ||
        (!pipeline_id.empty() && run->pipeline_id != pipeline_id)) {
      continue;
    }
    runs.push_back(std::move(*run));
    if (limit > 0 && runs.size() >= limit) {
      break;
    }
  }
  return runs;
}

} // namespace slipway
