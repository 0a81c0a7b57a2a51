#include "common/proc.hpp"

#include <charconv>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string_view>

#include <fmt/format.h>

namespace slipway {

std::optional<ProcessStat> process_stat(int pid) {
  std::ifstream in(fmt::format("/proc/{}/stat", pid));
  std::string text;
  if (!std::getline(in, text)) {
    return std::nullopt;
  }
  // "PID (COMM) STATE PPID PGRP ...": COMM may hold spaces and parentheses.
  auto open_paren = text.find('(');
  auto close_paren = text.rfind(')');
  if (open_paren == std::string::npos || close_paren == std::string::npos ||
      close_paren + 2 > text.size()) {
    return std::nullopt;
  }
  ProcessStat stat;
  stat.comm = text.substr(open_paren + 1, close_paren - open_paren - 1);
  std::string_view rest = std::string_view(text).substr(close_paren + 2);
  // Fields 3 (state) to 22 (starttime), space-separated.
  std::vector<std::string_view> fields;
  while (!rest.empty() && fields.size() < 20) {
    auto space = rest.find(' ');
    fields.push_back(rest.substr(0, space));
    rest.remove_prefix(space == std::string_view::npos ? rest.size() : space + 1);
  }
  if (fields.size() < 20 || fields[0].empty()) {
    return std::nullopt;
  }
  auto number = [](std::string_view field, auto& out) {
    std::from_chars(field.data(), field.data() + field.size(), out);
  };
  stat.state = fields[0].front();
  number(fields[1], stat.ppid);
  number(fields[2], stat.pgid);
  number(fields[19], stat.start_time);
  return stat;
}

long process_start_time(int pid) {
  auto stat = process_stat(pid);
  return stat ? stat->start_time : -1;
}

bool process_alive(int pid, long start_time) {
  if (pid <= 0) {
    return false;
  }
  auto stat = process_stat(pid);
  return stat && stat->start_time == start_time && stat->state != 'Z' && stat->state != 'X';
}

std::vector<int> descendant_pids(int pid) {
  // Parent of every process, then a walk down from `pid`.
  std::multimap<int, int> children;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) {
      continue;
    }
    std::ifstream stat(entry.path() / "stat");
    std::string text;
    std::getline(stat, text);
    // "PID (COMM) STATE PPID ...": COMM may hold spaces and parentheses.
    auto close_paren = text.rfind(')');
    if (close_paren == std::string::npos) {
      continue;
    }
    int ppid = 0;
    char state = 0;
    if (std::sscanf(text.c_str() + close_paren + 1, " %c %d", &state, &ppid) == 2) {
      children.emplace(ppid, std::stoi(name));
    }
  }
  std::vector<int> found;
  std::vector<int> queue{pid};
  std::set<int> seen{pid};
  while (!queue.empty()) {
    int parent = queue.back();
    queue.pop_back();
    auto [begin, end] = children.equal_range(parent);
    for (auto it = begin; it != end; ++it) {
      if (seen.insert(it->second).second) {
        found.push_back(it->second);
        queue.push_back(it->second);
      }
    }
  }
  return found;
}

} // namespace slipway
