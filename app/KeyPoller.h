// KeyPoller: jwt.key_store: database. A thread of its own calls DatabaseKeys::sync() every
// jwt.key_poll (and at once after wake(): SIGHUP), so that every instance takes the due
// steps of the key schedule and picks up those of the others without a restart or a
// signal; the request threads read the KeyRing it fills and never wait for it. A failed
// sync is logged (once until its message changes) and retried at the next turn; the keys
// in force stay. Log lines name kids and states only, never key material.
// start(), wake() and stop() from the main thread.
#pragma once

#include <spdlog/logger.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "services/DatabaseKeys.h"

namespace authsvc::app {

class KeyPoller {
  public:
    // `changed` is called on the poller thread after each sync that installed other keys.
    KeyPoller(models::DatabaseKeys& keys, std::chrono::milliseconds period, spdlog::logger& log,
              std::function<void()> changed);
    ~KeyPoller();  // stops and joins
    KeyPoller(const KeyPoller&) = delete;
    KeyPoller& operator=(const KeyPoller&) = delete;

    void start();
    void wake();
    void stop();
    // One sync with its logging (the thread's turn; also for the start-up wait). False when
    // it failed.
    bool pollOnce();

  private:
    void run();

    models::DatabaseKeys& keys_;
    std::chrono::milliseconds period_;
    spdlog::logger& log_;
    std::function<void()> changed_;
    std::string lastError_;
    std::mutex mu_;
    std::condition_variable cv_;
    bool stop_ = false;
    bool woken_ = false;
    std::thread thread_;
};

}  // namespace authsvc::app
