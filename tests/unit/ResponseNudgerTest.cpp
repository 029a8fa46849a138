// ResponseNudger with an injected send: nudges are coalesced per reactor and window, go to a
// live peer of that reactor, and every window is nudged (at its time, or at stop()).
#include "app/ResponseNudger.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace {

using authsvc::app::ResponseNudger;
using Pistache::Tcp::Peer;

std::shared_ptr<Peer> makePeer() {
    return Peer::Create(-1, Pistache::Address("127.0.0.1", Pistache::Port(1)));
}

// Records every nudge (the peer it went to) and lets a test wait for a count.
class Recorder {
  public:
    ResponseNudger::Send send() {
        return [this](Peer& p) {
            std::lock_guard<std::mutex> lock(mu_);
            nudged_.push_back(&p);
            cv_.notify_all();
        };
    }
    std::vector<Peer*> nudged() {
        std::lock_guard<std::mutex> lock(mu_);
        return nudged_;
    }
    bool waitFor(size_t n) {
        std::unique_lock<std::mutex> lock(mu_);
        return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return nudged_.size() >= n; });
    }

  private:
    std::mutex mu_;
    std::condition_variable cv_;
    std::vector<Peer*> nudged_;
};

// Two distinct reactor identities.
std::pair<ResponseNudger::Reactor, ResponseNudger::Reactor> twoReactors() {
    ResponseNudger::Reactor other;
    std::thread t([&] { other = std::this_thread::get_id(); });
    t.join();
    return {std::this_thread::get_id(), other};
}

constexpr auto kNever = std::chrono::hours(1);  // windows close only at stop()

TEST(ResponseNudgerTest, ManyResponsesOnOneReactorCostOneNudgeToTheNewestPeer) {
    Recorder rec;
    ResponseNudger nudger(kNever, rec.send());
    const auto reactor = std::this_thread::get_id();
    std::vector<std::shared_ptr<Peer>> peers;
    for (int i = 0; i < 50; ++i) {
        peers.push_back(makePeer());
        nudger.poke(peers.back(), reactor);
    }
    nudger.stop();
    EXPECT_EQ(rec.nudged(), std::vector<Peer*>{peers.back().get()});
}

TEST(ResponseNudgerTest, EachReactorGetsItsOwnNudge) {
    Recorder rec;
    ResponseNudger nudger(kNever, rec.send());
    auto [r1, r2] = twoReactors();
    auto a = makePeer(), b = makePeer(), c = makePeer();
    nudger.poke(a, r1);
    nudger.poke(b, r2);
    nudger.poke(c, r1);
    nudger.stop();
    auto got = rec.nudged();
    ASSERT_EQ(got.size(), 2u);
    EXPECT_NE(std::find(got.begin(), got.end(), c.get()), got.end());  // r1's newest
    EXPECT_NE(std::find(got.begin(), got.end(), b.get()), got.end());
}

TEST(ResponseNudgerTest, TheNudgeGoesToAPeerStillAlive) {
    Recorder rec;
    ResponseNudger nudger(kNever, rec.send());
    const auto reactor = std::this_thread::get_id();
    auto older = makePeer(), newer = makePeer();
    nudger.poke(older, reactor);
    nudger.poke(newer, reactor);
    newer.reset();  // closed its connection before the nudge
    nudger.stop();
    EXPECT_EQ(rec.nudged(), std::vector<Peer*>{older.get()});
}

TEST(ResponseNudgerTest, AWindowWhosePeersAreAllGoneIsDroppedQuietly) {
    Recorder rec;
    ResponseNudger nudger(kNever, rec.send());
    nudger.poke(makePeer(), std::this_thread::get_id());  // the peer dies at once
    nudger.stop();
    EXPECT_TRUE(rec.nudged().empty());
}

TEST(ResponseNudgerTest, EveryWindowIsNudgedInTimeAndANewOneOpensAfterwards) {
    Recorder rec;
    ResponseNudger nudger(std::chrono::milliseconds(1), rec.send());
    const auto reactor = std::this_thread::get_id();
    auto a = makePeer();
    nudger.poke(a, reactor);
    ASSERT_TRUE(rec.waitFor(1)) << "the first window was never nudged";
    auto b = makePeer();
    nudger.poke(b, reactor);  // after the first window closed: a window of its own
    ASSERT_TRUE(rec.waitFor(2)) << "a later response was never nudged";
    EXPECT_EQ(rec.nudged(), (std::vector<Peer*>{a.get(), b.get()}));
}

TEST(ResponseNudgerTest, AFailingSendFallsBackToAnOlderPeer) {
    std::mutex mu;
    std::vector<Peer*> nudged;
    auto older = makePeer(), newer = makePeer();
    ResponseNudger nudger(kNever, [&](Peer& p) {
        if (&p == newer.get()) throw std::runtime_error("broken pipe");
        std::lock_guard<std::mutex> lock(mu);
        nudged.push_back(&p);
    });
    nudger.poke(older, std::this_thread::get_id());
    nudger.poke(newer, std::this_thread::get_id());
    nudger.stop();
    EXPECT_EQ(nudged, std::vector<Peer*>{older.get()});
}

}  // namespace
