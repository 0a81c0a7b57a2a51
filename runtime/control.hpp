// The control socket's requests and results as types (docs/CONTRACTS.md, "The control
// socket"): the daemon (runtime/daemon/control_server.hpp) and its clients
// (daemon_client.hpp) convert them to and from JSON here and nowhere else, so a field is
// named once. Reading refuses what the wire format does not allow, naming it: an unknown
// command, a missing field, a field of the wrong type, a field the command does not have.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.hpp"

namespace slipway::control {

// {"pid": N, "apps": N}
struct StatusResult {
  long pid = 0;
  std::size_t apps = 0; // apps the daemon knows
};
// {"command": "status"}
struct StatusRequest {
  using Result = StatusResult;
  static constexpr std::string_view command = "status";
};

// {"web": N, "unpack_ms": N, "start_ms": N, "health_ms": N, "switch_ms": N}: where the
// activation's time went (unpack_ms and start_ms are optional on the wire: a daemon from
// before them answers without).
struct ActivateResult {
  long web = 0;       // web processes started; 0: none (nothing to health-check)
  long unpack_ms = 0; // the slug unpacked (0 when it already was)
  long start_ms = 0;  // each process's copy of the app made and its command started
  long health_ms = 0; // from then until every web process answered
  long switch_ms = 0; // the router reconfigured to send them the traffic
};
// {"command": "activate", "app": A, "version": N, "deadline_ms": MS, "release_phase": B}
// (deadline and release_phase optional)
struct ActivateRequest {
  using Result = ActivateResult;
  static constexpr std::string_view command = "activate";
  std::string app;
  int version = 0;
  // A cluster app's release command is run by the daemon, as a one-off task, before the
  // release starts; the daemon's own processes have theirs run by the operation.
  bool release_phase = false;
  // The daemon does not switch after it: ms since the epoch on the wire.
  std::optional<std::chrono::system_clock::time_point> deadline;
};

// {"deactivated": true}
struct DeactivateResult {};
// {"command": "deactivate", "app": A}
struct DeactivateRequest {
  using Result = DeactivateResult;
  static constexpr std::string_view command = "deactivate";
  std::string app;
};

// {"processes": N}, or {"removed": true} for an app that no longer exists
struct SyncResult {
  bool removed = false;
  std::size_t processes = 0;
};
// {"command": "sync", "app": A}
struct SyncRequest {
  using Result = SyncResult;
  static constexpr std::string_view command = "sync";
  std::string app;
};

// {"restarted": N}
struct RestartResult {
  int restarted = 0;
};
// {"command": "restart", "app": A, "type": T, "stop": B} (type optional: a process type,
// or one process "web.1"; "" or absent: every process. stop: each is stopped before its
// replacement starts, instead of a rolling restart of web processes)
struct RestartRequest {
  using Result = RestartResult;
  static constexpr std::string_view command = "restart";
  std::string app;
  std::string type;
  bool stop = false;
};

// One process, as `ps` lists it and `slipway ps --json` prints it.
struct ProcessStatus {
  std::string name;  // "web.1"
  std::string type;  // "web"
  std::string state; // starting, up, crashed, stopping, down
  int release = 0;   // the version it runs
  std::string command;
  int crashes = 0;                       // in a row
  std::optional<int> pid;                // while it runs
  std::optional<std::string> started_at; // while it runs: "2026-12-02T16:00:00Z"
  std::optional<long> uptime_seconds;    // while it runs
  std::optional<int> port;               // a web process's
};
// [ProcessStatus...]
struct PsRequest {
  using Result = std::vector<ProcessStatus>;
  static constexpr std::string_view command = "ps";
  std::string app;
};

// {"status": N}: the one-off process's exit status
struct RunResult {
  int status = 0;
};
// {"command": "run", "app": A, "run": COMMAND}: a cluster app's one-off task, its output
// streamed as the daemon's output lines.
struct RunRequest {
  using Result = RunResult;
  static constexpr std::string_view command = "run";
  std::string app;
  std::string run;
};

using Request = std::variant<StatusRequest, ActivateRequest, DeactivateRequest, SyncRequest,
                             RestartRequest, PsRequest, RunRequest>;

nlohmann::json to_json(const Request& request);
// A request line's JSON; the error is the daemon's answer ("unknown command 'x'",
// "malformed request: 'activate' needs a \"version\"").
Expected<Request> parse_request(const nlohmann::json& message);

nlohmann::json to_json(const StatusResult& result);
nlohmann::json to_json(const ActivateResult& result);
nlohmann::json to_json(const DeactivateResult& result);
nlohmann::json to_json(const SyncResult& result);
nlohmann::json to_json(const RestartResult& result);
nlohmann::json to_json(const RunResult& result);
nlohmann::json to_json(const ProcessStatus& process);
nlohmann::json to_json(const std::vector<ProcessStatus>& processes);

// A `result` as the daemon answered it; the error says what is wrong with it.
template <class Result>
Expected<Result> parse_result(const nlohmann::json& result);

} // namespace slipway::control
