// smepilot-server: the bounded FIFO queue in front of the engine
// (admission.h).
#include "admission.h"

#include <algorithm>

namespace smepilot::server {

std::unique_ptr<admission_queue::ticket> admission_queue::try_enter() {
  std::lock_guard<std::mutex> lock(mutex_);
  if ((running_ ? 1 : 0) + waiting_.size() >= 1 + max_waiting_)
    return nullptr;
  std::unique_ptr<ticket> t(new ticket(*this));
  waiting_.push_back(t.get());
  return t;
}

admission_queue::counts admission_queue::current() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return {running_ ? size_t(1) : size_t(0), waiting_.size()};
}

bool admission_queue::ticket::wait_turn(const std::function<bool()> &cancelled,
                                        std::chrono::milliseconds poll) {
  std::unique_lock<std::mutex> lock(q_.mutex_);
  while (q_.running_ || q_.waiting_.front() != this) {
    q_.turn_.wait_for(lock, poll);
    if (q_.running_ || q_.waiting_.front() != this) {
      // Asked without the lock: `cancelled` may take its time.
      lock.unlock();
      const bool gone = cancelled();
      lock.lock();
      if (gone) {
        q_.waiting_.erase(
            std::find(q_.waiting_.begin(), q_.waiting_.end(), this));
        waiting_ = false;
        q_.turn_.notify_all();
        return false;
      }
    }
  }
  q_.waiting_.pop_front();
  waiting_ = false;
  q_.running_ = running_ = true;
  return true;
}

admission_queue::ticket::~ticket() {
  std::lock_guard<std::mutex> lock(q_.mutex_);
  if (running_)
    q_.running_ = false;
  if (waiting_)
    q_.waiting_.erase(std::find(q_.waiting_.begin(), q_.waiting_.end(), this));
  q_.turn_.notify_all();
}

} // namespace smepilot::server
