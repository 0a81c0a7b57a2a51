// What /proc says about processes: their state, start time, and descendants. Reading it
// is how slipway tells a process from a later one that reuses its pid.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace slipway {

// What /proc/PID/stat says of a process: its name, parent, process group, state, and
// when it started (clock ticks since boot), which with the pid tells a process from a
// later one that reuses its pid.
struct ProcessStat {
  std::string comm;
  char state = '?';
  int ppid = 0;
  int pgid = 0;
  long start_time = -1;
};
std::optional<ProcessStat> process_stat(int pid);

// process_stat(pid)->start_time; -1 when it is gone.
long process_start_time(int pid);

// Whether the process `pid` that started at `start_time` still runs (a zombie does not).
bool process_alive(int pid, long start_time);

// Every process below `pid` in the process tree (children, their children, ...), read from
// /proc; `pid` itself is not included.
std::vector<int> descendant_pids(int pid);

} // namespace slipway
