#include "runtime/control.hpp"

#include <limits>
#include <set>
#include <type_traits>

#include "runtime/app_name.hpp"

namespace slipway::control {

using json = nlohmann::json;
using std::chrono::milliseconds;

namespace {

template <class T>
constexpr std::string_view kind_of() {
  if constexpr (std::is_same_v<T, std::string>) {
    return "a string";
  } else if constexpr (std::is_same_v<T, bool>) {
    return "true or false";
  } else {
    return "an integer";
  }
}

// Reads one JSON object's fields by name. Each error starts with `context` and names the
// field; done() refuses a field that was never read.
class Fields {
 public:
  Fields(const json& object, std::string context)
      : m_object(object), m_context(std::move(context)) {}

  template <class T>
  Expected<std::optional<T>> optional(const char* key) {
    m_read.insert(key);
    auto it = m_object.find(key);
    if (it == m_object.end()) {
      return std::nullopt;
    }
    if constexpr (std::is_same_v<T, std::string>) {
      if (it->is_string()) {
        return it->get<std::string>();
      }
    } else if constexpr (std::is_same_v<T, bool>) {
      if (it->is_boolean()) {
        return it->get<bool>();
      }
    } else {
      if (it->is_number_unsigned() &&
          it->get<std::uint64_t>() <= static_cast<std::uint64_t>(std::numeric_limits<T>::max())) {
        return static_cast<T>(it->get<std::uint64_t>());
      }
      if (it->is_number_integer() && std::is_signed_v<T> &&
          it->get<std::int64_t>() >= static_cast<std::int64_t>(std::numeric_limits<T>::min()) &&
          it->get<std::int64_t>() <= static_cast<std::int64_t>(std::numeric_limits<T>::max())) {
        return static_cast<T>(it->get<std::int64_t>());
      }
    }
    return fail("{}: \"{}\" must be {}", m_context, key, kind_of<T>());
  }

  template <class T>
  Expected<T> required(const char* key) {
    auto value = TRY(optional<T>(key));
    if (!value) {
      return fail("{} needs a \"{}\"", m_context, key);
    }
    return std::move(*value);
  }

  // A field read elsewhere.
  void skip(const char* key) { m_read.insert(key); }

  Expected<void> done() const {
    for (const auto& [key, value] : m_object.items()) {
      if (!m_read.contains(key)) {
        return fail("{}: unknown field \"{}\"", m_context, key);
      }
    }
    return {};
  }

 private:
  const json& m_object;
  std::string m_context;
  std::set<std::string> m_read;
};

// Every command but `status` names a valid app.
Expected<std::string> app_of(Fields& fields, std::string_view command) {
  auto app = fields.optional<std::string>("app");
  if (!app || !*app || !validate_app_name(**app)) {
    return fail("malformed request: '{}' needs a valid \"app\"", command);
  }
  return std::move(**app);
}

template <class Request>
Expected<Request> parse_app_request(Fields& fields) {
  Request request;
  request.app = TRY(app_of(fields, Request::command));
  return request;
}

Expected<Request> parse_fields(Fields& fields, const std::string& command) {
  if (command == StatusRequest::command) {
    return StatusRequest{};
  }
  if (command == ActivateRequest::command) {
    auto request = TRY(parse_app_request<ActivateRequest>(fields));
    request.version = TRY(fields.required<int>("version"));
    if (auto ms = TRY(fields.optional<long>("deadline_ms"))) {
      request.deadline = std::chrono::system_clock::time_point(milliseconds(*ms));
    }
    request.release_phase = TRY(fields.optional<bool>("release_phase")).value_or(false);
    return request;
  }
  if (command == DeactivateRequest::command) {
    return TRY(parse_app_request<DeactivateRequest>(fields));
  }
  if (command == SyncRequest::command) {
    return TRY(parse_app_request<SyncRequest>(fields));
  }
  if (command == RestartRequest::command) {
    auto request = TRY(parse_app_request<RestartRequest>(fields));
    request.type = TRY(fields.optional<std::string>("type")).value_or("");
    request.stop = TRY(fields.optional<bool>("stop")).value_or(false);
    return request;
  }
  if (command == PsRequest::command) {
    return TRY(parse_app_request<PsRequest>(fields));
  }
  if (command == RunRequest::command) {
    auto request = TRY(parse_app_request<RunRequest>(fields));
    request.run = TRY(fields.required<std::string>("run"));
    if (request.run.empty() || request.run.size() > 64 * 1024) {
      return fail("malformed request: 'run' needs a command of 1 to 65536 bytes");
    }
    return request;
  }
  return fail("unknown command '{}'", command);
}

std::string answer_context(std::string_view command) {
  return fmt::format("the daemon's answer to '{}'", command);
}

template <class Result, class Parse>
Expected<Result> parse_object(const json& result, std::string_view command, Parse parse) {
  if (!result.is_object()) {
    return fail("{}: not an object", answer_context(command));
  }
  Fields fields(result, answer_context(command));
  Result parsed = TRY(parse(fields));
  TRY(fields.done());
  return parsed;
}

Expected<ProcessStatus> parse_process(Fields& fields) {
  ProcessStatus process;
  process.name = TRY(fields.required<std::string>("name"));
  process.type = TRY(fields.required<std::string>("type"));
  process.state = TRY(fields.required<std::string>("state"));
  process.release = TRY(fields.required<int>("release"));
  process.command = TRY(fields.required<std::string>("command"));
  process.crashes = TRY(fields.required<int>("crashes"));
  process.pid = TRY(fields.optional<int>("pid"));
  process.started_at = TRY(fields.optional<std::string>("started_at"));
  process.uptime_seconds = TRY(fields.optional<long>("uptime_seconds"));
  process.port = TRY(fields.optional<int>("port"));
  return process;
}

} // namespace

json to_json(const Request& request) {
  json message = json::object();
  std::visit(
      [&](const auto& typed) {
        using T = std::decay_t<decltype(typed)>;
        message["command"] = std::string(T::command);
        if constexpr (!std::is_same_v<T, StatusRequest>) {
          message["app"] = typed.app;
        }
        if constexpr (std::is_same_v<T, ActivateRequest>) {
          message["version"] = typed.version;
          if (typed.deadline) {
            message["deadline_ms"] =
                std::chrono::duration_cast<milliseconds>(typed.deadline->time_since_epoch())
                    .count();
          }
          if (typed.release_phase) {
            message["release_phase"] = true;
          }
        }
        if constexpr (std::is_same_v<T, RunRequest>) {
          message["run"] = typed.run;
        }
        if constexpr (std::is_same_v<T, RestartRequest>) {
          message["type"] = typed.type;
          if (typed.stop) {
            message["stop"] = true;
          }
        }
      },
      request);
  return message;
}

Expected<Request> parse_request(const json& message) {
  if (!message.is_object() || !message.contains("command") || !message["command"].is_string()) {
    return fail("malformed request: expected {{\"command\": ...}}");
  }
  std::string command = message["command"];
  Fields fields(message, fmt::format("malformed request: '{}'", command));
  fields.skip("command");
  Request request = TRY(parse_fields(fields, command));
  TRY(fields.done());
  return request;
}

json to_json(const StatusResult& result) {
  return {{"pid", result.pid}, {"apps", result.apps}};
}

json to_json(const ActivateResult& result) {
  return {{"web", result.web},
          {"unpack_ms", result.unpack_ms},
          {"start_ms", result.start_ms},
          {"health_ms", result.health_ms},
          {"switch_ms", result.switch_ms}};
}

json to_json(const DeactivateResult&) {
  return {{"deactivated", true}};
}

json to_json(const SyncResult& result) {
  if (result.removed) {
    return {{"removed", true}};
  }
  return {{"processes", result.processes}};
}

json to_json(const RestartResult& result) {
  return {{"restarted", result.restarted}};
}

json to_json(const RunResult& result) {
  return {{"status", result.status}};
}

json to_json(const ProcessStatus& process) {
  json entry{{"name", process.name},       {"type", process.type},
             {"state", process.state},     {"release", process.release},
             {"command", process.command}, {"crashes", process.crashes}};
  if (process.pid) {
    entry["pid"] = *process.pid;
  }
  if (process.started_at) {
    entry["started_at"] = *process.started_at;
  }
  if (process.uptime_seconds) {
    entry["uptime_seconds"] = *process.uptime_seconds;
  }
  if (process.port) {
    entry["port"] = *process.port;
  }
  return entry;
}

json to_json(const std::vector<ProcessStatus>& processes) {
  json list = json::array();
  for (const auto& process : processes) {
    list.push_back(to_json(process));
  }
  return list;
}

template <>
Expected<StatusResult> parse_result<StatusResult>(const json& result) {
  return parse_object<StatusResult>(result, StatusRequest::command,
                                    [](Fields& fields) -> Expected<StatusResult> {
                                      StatusResult status;
                                      status.pid = TRY(fields.required<long>("pid"));
                                      status.apps = TRY(fields.required<std::size_t>("apps"));
                                      return status;
                                    });
}

template <>
Expected<ActivateResult> parse_result<ActivateResult>(const json& result) {
  return parse_object<ActivateResult>(
      result, ActivateRequest::command, [](Fields& fields) -> Expected<ActivateResult> {
        ActivateResult activated;
        activated.web = TRY(fields.required<long>("web"));
        activated.unpack_ms = TRY(fields.optional<long>("unpack_ms")).value_or(0);
        activated.start_ms = TRY(fields.optional<long>("start_ms")).value_or(0);
        activated.health_ms = TRY(fields.required<long>("health_ms"));
        activated.switch_ms = TRY(fields.required<long>("switch_ms"));
        return activated;
      });
}

template <>
Expected<DeactivateResult> parse_result<DeactivateResult>(const json& result) {
  return parse_object<DeactivateResult>(
      result, DeactivateRequest::command, [](Fields& fields) -> Expected<DeactivateResult> {
        if (!TRY(fields.required<bool>("deactivated"))) {
          return fail("{}: \"deactivated\" is false", answer_context(DeactivateRequest::command));
        }
        return DeactivateResult{};
      });
}

template <>
Expected<SyncResult> parse_result<SyncResult>(const json& result) {
  return parse_object<SyncResult>(
      result, SyncRequest::command, [](Fields& fields) -> Expected<SyncResult> {
        SyncResult synced;
        synced.removed = TRY(fields.optional<bool>("removed")).value_or(false);
        if (!synced.removed) {
          synced.processes = TRY(fields.required<std::size_t>("processes"));
        }
        return synced;
      });
}

template <>
Expected<RestartResult> parse_result<RestartResult>(const json& result) {
  return parse_object<RestartResult>(result, RestartRequest::command,
                                     [](Fields& fields) -> Expected<RestartResult> {
                                       RestartResult restarted;
                                       restarted.restarted = TRY(fields.required<int>("restarted"));
                                       return restarted;
                                     });
}

template <>
Expected<RunResult> parse_result<RunResult>(const json& result) {
  return parse_object<RunResult>(result, RunRequest::command,
                                 [](Fields& fields) -> Expected<RunResult> {
                                   return RunResult{.status = TRY(fields.required<int>("status"))};
                                 });
}

template <>
Expected<std::vector<ProcessStatus>> parse_result<std::vector<ProcessStatus>>(const json& result) {
  if (!result.is_array()) {
    return fail("{}: not a list", answer_context(PsRequest::command));
  }
  std::vector<ProcessStatus> processes;
  for (const auto& entry : result) {
    processes.push_back(TRY(parse_object<ProcessStatus>(entry, PsRequest::command, parse_process)));
  }
  return processes;
}

} // namespace slipway::control
