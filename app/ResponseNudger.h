// ResponseNudger: works around Pistache 0.0.5's lost wakeup when a response is sent
// from a worker thread (upstream PollableQueue::pop race, fixed in 2024): a response
// could sit in the transport queue until the next request on that reactor. About 2 ms
// after a worker's send, a zero-byte write to the same peer forces the queue to drain
// (see LIBRARIES.md, section 1). Thread-safe.
#pragma once

#include <pistache/peer.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

namespace authsvc::app {

class ResponseNudger {
  public:
    ResponseNudger();
    ~ResponseNudger();
    void poke(std::weak_ptr<Pistache::Tcp::Peer> peer);
    void stop();

  private:
    void run();

    struct Item {
        std::chrono::steady_clock::time_point due;
        std::weak_ptr<Pistache::Tcp::Peer> peer;
    };
    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<Item> items_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace authsvc::app
