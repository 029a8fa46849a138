// ResponseNudger: works around Pistache 0.0.5's lost wakeup when a response is sent
// from a worker thread (upstream PollableQueue::pop race, fixed in 2024): a response
// could sit in the transport queue until the next request on that reactor. A zero-byte
// write to a peer of the same reactor (transport) forces that reactor to drain its whole
// write queue (see LIBRARIES.md, section 1), so nudges are coalesced per reactor: the
// first response sent in a window opens it, every response sent on the same reactor
// before the window closes (about 2 ms later) joins it, and one zero-byte write to a peer
// of that reactor that is still alive drains them all. Each such write is pushed after
// every response that joined its window was pushed, which is all a drain needs.
// A response whose every window-mate closed its connection before the nudge is not
// nudged: no peer of that window is alive, so its own connection is gone too.
// Thread-safe. stop() nudges what is pending at once, then joins.
#pragma once

#include <pistache/peer.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace authsvc::app {

class ResponseNudger {
  public:
    // Writes the zero-byte nudge to a live peer; the default sends an empty RawBuffer.
    using Send = std::function<void(Pistache::Tcp::Peer&)>;
    // Identifies the reactor (so the transport) that owns a peer: Pistache 0.0.5 gives each
    // reactor thread its own Transport, and keeps Peer::transport() private.
    using Reactor = std::thread::id;

    explicit ResponseNudger(std::chrono::milliseconds delay = std::chrono::milliseconds(2),
                            Send send = {});
    ~ResponseNudger();
    // After a response was sent to `peer` from a worker thread; `reactor` is the thread that
    // received its request.
    void poke(std::weak_ptr<Pistache::Tcp::Peer> peer, Reactor reactor);
    void stop();

  private:
    void run();

    struct Window {
        std::chrono::steady_clock::time_point due;
        // Peers poked in this window, newest last; the newest live one gets the nudge.
        std::vector<std::weak_ptr<Pistache::Tcp::Peer>> peers;
    };
    void nudge(Window& w);

    const std::chrono::milliseconds delay_;
    const Send send_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::map<Reactor, Window> windows_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace authsvc::app
