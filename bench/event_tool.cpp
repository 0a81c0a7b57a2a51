// bench/webhooks' event source: records COUNT events of an app's formation (entity
// api:formation) into ROOT's event stream, one every INTERVAL_US microseconds, each carrying
// the wall-clock nanosecond it was recorded at (data.sent_ns), so that a receiver can tell
// how long each took to reach it.
//
//   event_tool ROOT APP COUNT INTERVAL_US
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "runtime/events.hpp"

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: event_tool ROOT APP COUNT INTERVAL_US\n");
    return 2;
  }
  slipway::Layout layout(argv[1]);
  auto config = layout.config();
  if (!config) {
    std::fprintf(stderr, "event_tool: %s\n", config.error().message.c_str());
    return 1;
  }
  int count = std::stoi(argv[3]);
  auto interval = std::chrono::microseconds(std::stol(argv[4]));
  for (int i = 0; i < count; ++i) {
    auto sent = std::chrono::duration_cast<std::chrono::nanoseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
    slipway::Event event{.app = argv[2],
                         .resource = "formation",
                         .action = "changed",
                         .actor = "bench",
                         .data = {{"sent_ns", sent}, {"n", i}, {"message", "bench"}}};
    if (auto recorded = slipway::record_event(layout, *config, std::move(event)); !recorded) {
      std::fprintf(stderr, "event_tool: %s\n", recorded.error().message.c_str());
      return 1;
    }
    std::this_thread::sleep_for(interval);
  }
  return 0;
}
