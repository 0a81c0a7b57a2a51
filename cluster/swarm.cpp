#include "cluster/swarm.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <charconv>
#include <ctime>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "cluster/image.hpp"
#include "cluster/registry.hpp"
#include "common/hash.hpp"
#include "common/random.hpp"
#include "common/tree.hpp"
#include "compiler/release_yaml.hpp"

namespace slipway::cluster {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr std::string_view k_app_label = "io.slipway.app";
constexpr std::string_view k_release_label = "io.slipway.release";
constexpr std::string_view k_type_label = "io.slipway.type";
constexpr std::string_view k_oneoff_label = "io.slipway.oneoff";
constexpr std::string_view k_secret_file = "slipway-config"; // /run/secrets/slipway-config
constexpr auto k_poll = std::chrono::milliseconds(200);

std::int64_t nanoseconds(std::chrono::milliseconds duration) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(duration).count();
}

std::string label(std::string_view key, std::string_view value) {
  return fmt::format("{}={}", key, value);
}

// Docker's RFC 3339 times drop trailing zeros of the fraction; with nine digits always they
// order as strings do.
std::string normalize_time(std::string_view time) {
  if (time.size() < 20 || !time.ends_with('Z')) {
    return std::string(time);
  }
  std::string_view whole = time.substr(0, 19);
  std::string fraction;
  if (time.size() > 20 && time[19] == '.') {
    fraction = std::string(time.substr(20, time.size() - 21));
  }
  fraction.resize(9, '0');
  return fmt::format("{}.{}Z", whole, fraction.substr(0, 9));
}

// "2026-12-04T09:00:00.5Z" as whole seconds since the epoch, for a `since` query; 0 if it
// is not such a time.
long unix_seconds(std::string_view time) {
  std::tm tm{};
  if (std::sscanf(std::string(time).c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon,
                  &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6) {
    return 0;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<long>(timegm(&tm));
}

std::optional<TimePoint> parse_docker_time(std::string_view time) {
  long seconds = unix_seconds(time);
  if (seconds <= 0) {
    return std::nullopt;
  }
  return TimePoint(std::chrono::seconds(seconds));
}

// A member of a JSON answer by its path, or null when any step is missing: the engine's
// answers are read without trusting their shape (a const json's operator[] would be undefined
// for a missing key, and get<> throws).
const json& at(const json& object, std::initializer_list<std::string_view> path) {
  static const json none;
  const json* here = &object;
  for (std::string_view key : path) {
    if (!here->is_object()) {
      return none;
    }
    auto found = here->find(key);
    if (found == here->end()) {
      return none;
    }
    here = &*found;
  }
  return *here;
}

std::string text(const json& object, std::initializer_list<std::string_view> path) {
  const json& value = at(object, path);
  return value.is_string() ? value.get<std::string>() : "";
}

long number(const json& object, std::initializer_list<std::string_view> path, long fallback = 0) {
  const json& value = at(object, path);
  return value.is_number_integer() ? value.get<long>() : fallback;
}

std::string label_of(const json& object, std::string_view key) {
  return text(object, {"Spec", "Labels", key});
}

int int_label(const json& object, std::string_view key) {
  std::string text = label_of(object, key);
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && end == text.data() + text.size() ? value : 0;
}

// A task's end, as Swarm says it: its error, else its message.
std::string task_message(const json& task) {
  std::string error = text(task, {"Status", "Err"});
  return error.empty() ? text(task, {"Status", "Message"}) : error;
}

} // namespace

fs::path scratch_dir(const Layout& layout) {
  return layout.root() / "images" / "tmp";
}

std::string service_name(const std::string& app, const std::string& type, int version) {
  std::string name = fmt::format("{}-{}-v{}", app, type, version);
  std::ranges::replace(name, '_', '-');
  return name;
}

std::string config_file(const ConfigVars& config) {
  std::string out = "# the release's config vars (slipway)\n"; // a secret is never empty
  for (const auto& [name, value] : config) {
    if (!is_config_var_name(name)) {
      continue; // never written by config:set; a record edited by hand is not a shell line
    }
    std::string quoted;
    for (char c : value) {
      quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    }
    out += fmt::format("export {}='{}'\n", name, quoted);
  }
  return out;
}

SwarmEngine::SwarmEngine(const Layout& layout, const Config& config, std::string socket)
    : m_layout(layout), m_config(config), m_docker(std::move(socket)) {}

Expected<std::unique_ptr<SwarmEngine>> SwarmEngine::open(const Layout& layout,
                                                         const Config& config) {
  auto socket = TRY(docker_socket(config.scheduler.docker_host));
  // What a daemon killed mid-push left.
  [[maybe_unused]] auto cleared = remove_tree(scratch_dir(layout));
  return std::unique_ptr<SwarmEngine>(new SwarmEngine(layout, config, std::move(socket)));
}

Expected<std::string>
SwarmEngine::push_release_image(const std::string& app, const Release& release,
                                const std::function<void(std::string_view)>& on_output) {
  if (m_config.scheduler.registry.empty()) {
    return fail("[scheduler] registry is not set: a swarm's nodes pull images from one");
  }
  std::string base = TRY(registry_url(m_config.scheduler.registry));
  // Not in the app's tmp/: housekeeping empties that whenever no operation holds the app,
  // and the daemon also pushes images outside operations (adopting, scaling).
  fs::path scratch =
      scratch_dir(m_layout) / fmt::format("{}-v{}-{}", app, release.version, TRY(random_hex(4)));
  auto image = write_release_image(m_layout, app, release, scratch);
  if (!image) {
    [[maybe_unused]] auto removed = remove_tree(scratch);
    return std::unexpected(image.error());
  }
  std::string tag = fmt::format("v{}", release.version);
  auto digest = push_image({.layout = scratch,
                            .image = *image,
                            .registry = base,
                            .repository = app,
                            .tag = tag,
                            .on_output = on_output});
  [[maybe_unused]] auto removed = remove_tree(scratch);
  if (!digest) {
    return std::unexpected(digest.error());
  }
  std::string host = base.substr(base.find("://") + 3);
  return fmt::format("{}/{}:{}@{}", host, app, tag, *digest);
}

Expected<SwarmEngine::Prepared> SwarmEngine::make_secret(const std::string& app,
                                                         const Release& release) {
  std::string content = config_file(release.config);
  std::string name = fmt::format("{}-config-{}", app, sha256_hex(content).substr(0, 12));
  json filters = {{"name", {name}}};
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto found = TRY(m_docker.get("/secrets?filters=" + docker_filters(filters)));
    for (const auto& secret : found) {
      if (text(secret, {"Spec", "Name"}) == name && !text(secret, {"ID"}).empty()) {
        return Prepared{.secret_id = text(secret, {"ID"}), .secret_name = name};
      }
    }
    auto made = m_docker.post(
        "/secrets/create",
        {{"Name", name}, {"Labels", {{k_app_label, app}}}, {"Data", base64(content)}});
    if (made && !text(*made, {"ID"}).empty()) {
      return Prepared{.secret_id = text(*made, {"ID"}), .secret_name = name};
    }
    if (!made && made.error().kind != ErrorKind::conflict) {
      return std::unexpected(made.error());
    }
    // Another call made it first: it is found the second time.
  }
  return fail("cannot make the secret {}", name);
}

Expected<SwarmEngine::Prepared>
SwarmEngine::prepared(const std::string& app, const Release& release,
                      const std::function<void(std::string_view)>& on_output) {
  std::string key = fmt::format("{}/v{}", app, release.version);
  {
    std::lock_guard lock(m_mutex);
    if (auto found = m_prepared.find(key); found != m_prepared.end()) {
      return found->second;
    }
  }
  auto secret = TRY(make_secret(app, release));
  secret.image = TRY(push_release_image(app, release, on_output));
  std::lock_guard lock(m_mutex);
  m_prepared[key] = secret;
  return secret;
}

Expected<void> SwarmEngine::prepare(const std::string& app, const Release& release,
                                    const std::function<void(std::string_view)>& on_output) {
  {
    // Made again: the registry or the secrets may have been cleared since.
    std::lock_guard lock(m_mutex);
    m_prepared.erase(fmt::format("{}/v{}", app, release.version));
  }
  TRY(prepared(app, release, on_output));
  return {};
}

json SwarmEngine::container_spec(const std::string& app, const Prepared& prepared,
                                 std::vector<std::string> args) const {
  std::string uid = std::to_string(k_image_uid);
  return {{"Image", prepared.image},
          {"Args", std::move(args)},
          {"Env", {fmt::format("PORT={}", k_container_port)}},
          {"User", fmt::format("{}:{}", uid, uid)},
          {"Labels", {{k_app_label, app}}},
          {"Init", true},
          {"CapabilityDrop", {"ALL"}},
          {"StopGracePeriod", nanoseconds(m_config.runtime.stop_grace)},
          {"Secrets",
           {{{"File", {{"Name", k_secret_file}, {"UID", uid}, {"GID", uid}, {"Mode", 0400}}},
             {"SecretID", prepared.secret_id},
             {"SecretName", prepared.secret_name}}}}};
}

Expected<json> SwarmEngine::services(const std::string& app, int release) {
  json labels = {label(k_app_label, app)};
  if (release != 0) {
    labels.push_back(label(k_release_label, std::to_string(release)));
  }
  auto all = TRY(m_docker.get("/services?filters=" + docker_filters({{"label", labels}})));
  json kept = json::array();
  for (auto& service : all) {
    if (label_of(service, k_oneoff_label).empty()) {
      kept.push_back(std::move(service));
    }
  }
  return kept;
}

Expected<void> SwarmEngine::apply(const ClusterRelease& request) {
  const Release& release = request.release;
  std::optional<Prepared> ready; // only made when a service is
  auto existing = TRY(services(request.app, release.version));
  for (const auto& [type, count] : request.formation) {
    const json* service = nullptr;
    for (const auto& candidate : existing) {
      if (label_of(candidate, k_type_label) == type) {
        service = &candidate;
      }
    }
    if (service) {
      json spec = at(*service, {"Spec"});
      if (number(spec, {"Mode", "Replicated", "Replicas"}, -1) == count) {
        continue;
      }
      spec["Mode"]["Replicated"]["Replicas"] = count;
      TRY(m_docker.post(fmt::format("/services/{}/update?version={}", text(*service, {"ID"}),
                                    number(*service, {"Version", "Index"})),
                        spec));
      continue;
    }
    if (!ready) {
      ready = TRY(prepared(request.app, release, [](std::string_view) {}));
    }
    json container = container_spec(request.app, *ready, {type});
    container["Env"].push_back(fmt::format("DYNO={}.{{{{.Task.Slot}}}}", type));
    json spec = {
        {"Name", service_name(request.app, type, release.version)},
        {"Labels",
         {{k_app_label, request.app},
          {k_release_label, std::to_string(release.version)},
          {k_type_label, type}}},
        {"TaskTemplate",
         {{"ContainerSpec", container},
          {"Resources",
           {{"Limits",
             {{"MemoryBytes", m_config.runtime.memory}, {"Pids", m_config.runtime.processes}}}}},
          {"RestartPolicy",
           {{"Condition", "any"}, {"Delay", nanoseconds(std::chrono::seconds(1))}}}}},
        {"Mode", {{"Replicated", {{"Replicas", count}}}}},
        {"UpdateConfig",
         {{"Parallelism", 1},
          {"Order", "start-first"},
          {"FailureAction", "pause"},
          {"Monitor", nanoseconds(std::chrono::seconds(2))}}},
    };
    if (type == "web") {
      // The app's check as the container's: a task is "running" only once it passes, and one
      // that stops passing is replaced. Exec form, so no shell reads the path, and -g, so
      // curl does not expand braces and brackets in it into many requests. A declared
      // check wants 2xx or 3xx; the default one any answer.
      json test = {"CMD",
                   "curl",
                   "-s",
                   "-g",
                   "-o",
                   "/dev/null",
                   "--max-time",
                   "5",
                   "-H",
                   "Host: " + request.host,
                   fmt::format("http://127.0.0.1:{}{}", k_container_port, request.health.path)};
      if (request.health.declared) {
        test.push_back("-f");
      }
      spec["TaskTemplate"]["ContainerSpec"]["Healthcheck"] = {
          {"Test", test},
          {"Interval", nanoseconds(std::chrono::seconds(2))},
          {"Timeout", nanoseconds(std::chrono::seconds(5))},
          {"Retries", 3},
          {"StartPeriod", nanoseconds(m_config.runtime.health_timeout)}};
      spec["EndpointSpec"] = {
          {"Ports",
           {{{"Protocol", "tcp"}, {"TargetPort", k_container_port}, {"PublishMode", "host"}}}}};
    }
    TRY(m_docker.post("/services/create", spec));
  }
  return {};
}

std::string SwarmEngine::node_address(const std::string& node_id) {
  {
    std::lock_guard lock(m_mutex);
    if (auto found = m_nodes.find(node_id); found != m_nodes.end()) {
      return found->second;
    }
  }
  auto node = m_docker.get("/nodes/" + node_id);
  if (!node) {
    return "";
  }
  std::string address = text(*node, {"Status", "Addr"});
  if (address == "0.0.0.0" && !text(*node, {"ManagerStatus", "Addr"}).empty()) {
    std::string manager = text(*node, {"ManagerStatus", "Addr"});
    address = manager.substr(0, manager.rfind(':'));
  }
  // It goes into nginx's configuration: an IP address, nothing else.
  unsigned char parsed[16];
  if (inet_pton(AF_INET, address.c_str(), parsed) == 1) {
  } else if (inet_pton(AF_INET6, address.c_str(), parsed) == 1) {
    address = "[" + address + "]";
  } else {
    return "";
  }
  std::lock_guard lock(m_mutex);
  m_nodes[node_id] = address;
  return address;
}

Expected<std::vector<ClusterTask>> SwarmEngine::tasks(const std::string& app) {
  auto all_services = TRY(services(app));
  std::vector<ClusterTask> tasks;
  if (all_services.empty()) {
    return tasks;
  }
  std::map<std::string, const json*> by_id;
  json ids = json::array();
  for (const auto& service : all_services) {
    by_id[text(service, {"ID"})] = &service;
    ids.push_back(text(service, {"ID"}));
  }
  auto listed = TRY(m_docker.get("/tasks?filters=" + docker_filters({{"service", ids}})));
  for (const auto& task : listed) {
    auto service = by_id.find(text(task, {"ServiceID"}));
    if (service == by_id.end()) {
      continue;
    }
    const json& spec = *service->second;
    ClusterTask entry{.id = text(task, {"ID"}),
                      .type = label_of(spec, k_type_label),
                      .index = static_cast<int>(number(task, {"Slot"})),
                      .release = int_label(spec, k_release_label),
                      .state = text(task, {"Status", "State"}),
                      .message = task_message(task),
                      .wanted = text(task, {"DesiredState"}) == "running"};
    if (entry.state == "running") {
      entry.started_at = parse_docker_time(text(task, {"Status", "Timestamp"}));
    }
    const json& ports = at(task, {"Status", "PortStatus", "Ports"});
    long published = ports.is_array() && !ports.empty() ? number(ports[0], {"PublishedPort"}) : 0;
    if (published > 0 && published < 65536 && !text(task, {"NodeID"}).empty()) {
      std::string address = node_address(text(task, {"NodeID"}));
      if (!address.empty()) {
        entry.address = fmt::format("{}:{}", address, published);
      }
    }
    tasks.push_back(std::move(entry));
  }
  std::ranges::sort(tasks, [](const ClusterTask& a, const ClusterTask& b) {
    return std::tie(a.release, a.type, a.index) < std::tie(b.release, b.type, b.index);
  });
  return tasks;
}

Expected<std::vector<int>> SwarmEngine::releases(const std::string& app) {
  std::set<int> versions;
  for (const auto& service : TRY(services(app))) {
    if (int version = int_label(service, k_release_label); version > 0) {
      versions.insert(version);
    }
  }
  return std::vector<int>(versions.begin(), versions.end());
}

Expected<void> SwarmEngine::remove(const std::string& app, int release) {
  for (const auto& service : TRY(services(app, release))) {
    TRY(m_docker.remove("/services/" + text(service, {"ID"})));
  }
  prune_secrets(app);
  return {};
}

void SwarmEngine::prune_secrets(const std::string& app) {
  auto all = services(app);
  auto secrets =
      m_docker.get("/secrets?filters=" + docker_filters({{"label", {label(k_app_label, app)}}}));
  if (!all || !secrets) {
    return;
  }
  std::set<std::string> used;
  for (const auto& service : *all) {
    const json& secrets = at(service, {"Spec", "TaskTemplate", "ContainerSpec", "Secrets"});
    for (const auto& secret : secrets.is_array() ? secrets : json::array()) {
      used.insert(text(secret, {"SecretID"}));
    }
  }
  std::lock_guard lock(m_mutex);
  for (const auto& secret : *secrets) {
    std::string id = text(secret, {"ID"});
    if (id.empty() || used.contains(id)) {
      continue;
    }
    // A removal Docker refuses (a one-off task still uses it) is tried again next time.
    if (m_docker.remove("/secrets/" + id)) {
      std::erase_if(m_prepared, [&](const auto& entry) { return entry.second.secret_id == id; });
    }
  }
}

Expected<void> SwarmEngine::restart(const std::string& app, int release, const std::string& type) {
  std::vector<std::string> updated;
  for (const auto& service : TRY(services(app, release))) {
    if (!type.empty() && label_of(service, k_type_label) != type) {
      continue;
    }
    json spec = at(service, {"Spec"});
    spec["TaskTemplate"]["ForceUpdate"] = number(spec, {"TaskTemplate", "ForceUpdate"}) + 1;
    std::string id = text(service, {"ID"});
    TRY(m_docker.post(
        fmt::format("/services/{}/update?version={}", id, number(service, {"Version", "Index"})),
        spec));
    updated.push_back(id);
  }
  // Until each update is done: a new task healthy before each old one stops.
  auto deadline = std::chrono::steady_clock::now() + m_config.runtime.health_timeout +
                  std::chrono::seconds(30) * static_cast<long>(updated.size() + 1);
  for (const auto& id : updated) {
    while (true) {
      auto service = TRY(m_docker.get("/services/" + id));
      std::string state = text(service, {"UpdateStatus", "State"});
      std::string name = text(service, {"Spec", "Name"});
      if (state == "completed") {
        break;
      }
      if (state == "paused" || state == "rollback_completed" || state == "rollback_paused") {
        std::string message = text(service, {"UpdateStatus", "Message"});
        return fail("the restart of {} stopped: {}", name, message.empty() ? state : message);
      }
      if (std::chrono::steady_clock::now() > deadline) {
        return fail("the restart of {} did not finish in time", name);
      }
      std::this_thread::sleep_for(k_poll);
    }
  }
  return {};
}

Expected<std::vector<ClusterLogLine>> SwarmEngine::logs(const std::string& app,
                                                        const std::string& since) {
  auto all_services = TRY(services(app));
  std::vector<ClusterLogLine> lines;
  if (all_services.empty()) {
    return lines;
  }
  std::map<std::string, std::pair<std::string, int>> kinds; // type and release by service
  json ids = json::array();
  for (const auto& service : all_services) {
    kinds[text(service, {"ID"})] = {label_of(service, k_type_label),
                                    int_label(service, k_release_label)};
    ids.push_back(text(service, {"ID"}));
  }
  // Tasks that ended too: what a crashed process said is its log's most useful part.
  auto listed = TRY(m_docker.get("/tasks?filters=" + docker_filters({{"service", ids}})));
  long from = unix_seconds(since);
  for (const auto& task : listed) {
    std::string state = text(task, {"Status", "State"});
    std::string id = text(task, {"ID"});
    if (state == "new" || state == "pending" || state == "assigned" || state == "rejected" ||
        number(task, {"Slot"}) <= 0 || id.empty()) {
      continue;
    }
    const auto& [type, release] = kinds[text(task, {"ServiceID"})];
    std::string dyno = fmt::format("{}.{}", type, number(task, {"Slot"}));
    auto stream = m_docker.get_raw(
        fmt::format("/tasks/{}/logs?stdout=1&stderr=1&timestamps=1&since={}", id, from), 1u << 20);
    if (!stream) {
      continue; // a task whose node is gone has no logs to give
    }
    for (auto& line : parse_docker_logs(*stream)) {
      std::string time = normalize_time(line.time);
      if (time > since) {
        lines.push_back({.dyno = dyno,
                         .release = release,
                         .time = std::move(time),
                         .text = std::move(line.text)});
      }
    }
  }
  std::ranges::stable_sort(lines, {}, &ClusterLogLine::time);
  return lines;
}

Expected<int> SwarmEngine::run_once(const std::string& app, const Release& release,
                                    const std::string& dyno, const std::string& command,
                                    std::chrono::milliseconds timeout,
                                    const std::function<void(std::string_view)>& on_output) {
  auto ready = TRY(prepared(app, release, on_output));
  std::string name = fmt::format("{}-{}-{}", app, dyno, TRY(random_hex(4)));
  std::ranges::replace(name, '.', '-');
  std::ranges::replace(name, '_', '-');
  json container = container_spec(app, ready, {command});
  container["Env"].push_back("DYNO=" + dyno);
  json spec = {
      {"Name", name},
      {"Labels",
       {{k_app_label, app},
        {k_release_label, std::to_string(release.version)},
        {k_oneoff_label, dyno}}},
      {"TaskTemplate",
       {{"ContainerSpec", container},
        {"Resources",
         {{"Limits",
           {{"MemoryBytes", m_config.runtime.memory}, {"Pids", m_config.runtime.processes}}}}},
        {"RestartPolicy", {{"Condition", "none"}}}}},
      {"Mode", {{"ReplicatedJob", {{"MaxConcurrent", 1}, {"TotalCompletions", 1}}}}}};
  auto made = TRY(m_docker.post("/services/create", spec));
  std::string id = text(made, {"ID"});
  if (id.empty()) {
    return fail("the Docker engine did not say which service it made for {}", dyno);
  }
  std::string filters = docker_filters({{"service", {id}}});
  std::string seen; // the time of the last line passed on
  auto pass_output = [&](const std::string& task) {
    auto stream =
        m_docker.get_raw(fmt::format("/tasks/{}/logs?stdout=1&stderr=1&timestamps=1&since={}", task,
                                     unix_seconds(seen)),
                         1u << 20);
    if (!stream) {
      return;
    }
    for (const auto& line : parse_docker_logs(*stream)) {
      std::string time = normalize_time(line.time);
      if (time > seen) {
        on_output(line.text);
        seen = time;
      }
    }
  };
  auto deadline = std::chrono::steady_clock::now() + timeout;
  Expected<int> outcome = fail("{} did not start", dyno);
  while (true) {
    auto listed = m_docker.get("/tasks?filters=" + filters);
    if (!listed) {
      outcome = std::unexpected(listed.error());
      break;
    }
    if (listed->is_array() && !listed->empty()) {
      const json& task = (*listed)[0];
      std::string state = text(task, {"Status", "State"});
      if (state == "running" || state == "complete" || state == "failed") {
        pass_output(text(task, {"ID"}));
      }
      if (state == "complete" || state == "failed" || state == "shutdown") {
        const json& exit = at(task, {"Status", "ContainerStatus", "ExitCode"});
        outcome = exit.is_number() ? Expected<int>(exit.get<int>())
                                   : Expected<int>(state == "complete" ? 0 : 1);
        break;
      }
      if (state == "rejected" || state == "orphaned") {
        outcome = fail("{} could not start: {}", dyno, task_message(task));
        break;
      }
    }
    if (std::chrono::steady_clock::now() > deadline) {
      outcome = fail("{} timed out after {}s", dyno,
                     std::chrono::duration_cast<std::chrono::seconds>(timeout).count());
      break;
    }
    std::this_thread::sleep_for(k_poll);
  }
  [[maybe_unused]] auto removed = m_docker.remove("/services/" + id);
  return outcome;
}

} // namespace slipway::cluster
