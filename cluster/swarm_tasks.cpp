// Docker Swarm as a cluster engine, the side that watches (swarm.hpp): the app's tasks with
// their published addresses, their output, and one-off jobs run to their end.
#include <algorithm>
#include <arpa/inet.h>
#include <map>
#include <thread>

#include <fmt/format.h>

#include "cluster/swarm.hpp"
#include "cluster/swarm_internal.hpp"
#include "common/random.hpp"

namespace slipway::cluster {

using nlohmann::json;
using namespace swarm;

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
