// smepilot-server: who may use the engine, and when.
//
// Requests are queued, not batched: the engine serves one at a time, in the
// order they were admitted. At most 1 + max_waiting requests are admitted at
// once (the one generating and those waiting for it); a request that finds
// the queue full is refused at once (the server answers 503), so that the
// waiting is bounded whatever cpp-httplib's own connection queue holds. A
// waiting request whose client has gone leaves the queue.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>

namespace smepilot::server {

class admission_queue {
public:
  explicit admission_queue(size_t max_waiting) : max_waiting_(max_waiting) {}

  /// An admitted request's place. Destroying it leaves the queue (or ends
  /// the turn).
  class ticket {
  public:
    ~ticket();
    ticket(const ticket &) = delete;
    ticket &operator=(const ticket &) = delete;

    /// Waits until this request may use the engine. `cancelled` is asked
    /// every `poll` while waiting; when it says true the request leaves the
    /// queue and wait_turn returns false.
    bool
    wait_turn(const std::function<bool()> &cancelled,
              std::chrono::milliseconds poll = std::chrono::milliseconds(50));

  private:
    friend class admission_queue;
    explicit ticket(admission_queue &q) : q_(q) {}
    admission_queue &q_;
    bool running_ = false;
    bool waiting_ = true;
  };

  /// A ticket, or null when 1 + max_waiting requests are admitted already.
  std::unique_ptr<ticket> try_enter();

  struct counts {
    size_t running = 0, waiting = 0;
  };
  counts current() const;
  size_t max_waiting() const { return max_waiting_; }

private:
  const size_t max_waiting_;
  mutable std::mutex mutex_;
  std::condition_variable turn_;
  std::deque<const ticket *> waiting_; ///< In order of admission.
  bool running_ = false;
};

} // namespace smepilot::server
