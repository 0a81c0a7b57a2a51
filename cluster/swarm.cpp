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
#include "cluster/swarm_internal.hpp"
#include "common/hash.hpp"
#include "common/random.hpp"
#include "common/tree.hpp"
#include "compiler/release_yaml.hpp"

namespace slipway::cluster {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace swarm;

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

} // namespace slipway::cluster
