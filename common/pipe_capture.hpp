// A pipe whose write end a child inherits, read on a thread of its own while the child runs
// (a writer never waits on it), keeping at most a limit of what was written.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <thread>
#include <utility>

#include "common/error.hpp"
#include "common/fd.hpp"

namespace slipway {

class PipeCapture {
 public:
  static Expected<std::unique_ptr<PipeCapture>> open(std::size_t limit);
  PipeCapture(const PipeCapture&) = delete;
  PipeCapture& operator=(const PipeCapture&) = delete;
  // Lets go of the write end and waits for the reader: whoever holds a Command with the
  // write end must let go of it first (declare the capture before the command).
  ~PipeCapture();

  // For the child's inherit list (ChildSetup::inherit), and its number there.
  const std::shared_ptr<UniqueFd>& write_end() const { return m_write; }
  std::string descriptor() const;

  // Once the child is gone: what was written (at most the limit), and whether there was
  // more. A process it left behind that still holds the write end is not waited for past
  // `grace`: what it has written by then is what was written.
  std::pair<std::string, bool> finish(std::chrono::milliseconds grace = std::chrono::seconds(2));

 private:
  PipeCapture(UniqueFd read, UniqueFd write, std::size_t limit);

  UniqueFd m_read;
  std::shared_ptr<UniqueFd> m_write;
  std::size_t m_limit;
  // Set by finish: the reader stops at EOF, or once this passes (steady clock, ns).
  std::atomic<std::int64_t> m_stop_at{0};
  std::string m_text;
  bool m_overflow = false;
  std::thread m_reader;
};

} // namespace slipway
