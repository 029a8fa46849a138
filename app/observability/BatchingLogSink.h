// BatchingLogSink: the server's spdlog sink. Each line is formatted by the logging thread
// into an in-memory batch; the sink's own writer thread writes the batch to a file
// descriptor with one write(2): at the latest `interval` after the first line of a batch,
// at once after flush() (the logger flushes on warn and above), when the batch reaches
// half its bound, and on destruction (which writes everything logged before it). Lines
// are appended whole under the sink's mutex and written by one thread, so they never
// interleave. A logging thread never waits for I/O and wakes the writer at most once per
// batch: while the batch is at its bound (the output does not keep up), new lines are
// dropped, counted, and reported by a warning line once the output catches up.
//
// Why our own sink: spdlog 1.10's async logger wakes its thread for every message (a
// condition-variable signal per enqueue) and its stdout/stderr sinks fflush every line
// (one write(2) per line), a cost every request would pay (bench/PROFILE.md). spdlog has
// no batching sink; its logger, levels and
// pattern formatting are kept (this is a base_sink).
// Thread-safe (spdlog's base_sink locks around sink_it_ and flush_).
#pragma once

#include <spdlog/sinks/base_sink.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace authsvc::app {

class BatchingLogSink final : public spdlog::sinks::base_sink<std::mutex> {
  public:
    BatchingLogSink(int fd, std::chrono::milliseconds interval, size_t maxBatchBytes);
    ~BatchingLogSink() override;
    BatchingLogSink(const BatchingLogSink&) = delete;
    BatchingLogSink& operator=(const BatchingLogSink&) = delete;

    // For tests: waits until `count` batches have been written (true) or `timeout` passed.
    bool waitForBatches(uint64_t count, std::chrono::milliseconds timeout);

  protected:
    void sink_it_(const spdlog::details::log_msg& msg) override;
    void flush_() override;

  private:
    void run();
    void writeAll(const std::string& bytes) const;

    const int fd_;
    const std::chrono::milliseconds interval_;
    const size_t maxBatchBytes_;
    // All guarded by base_sink's mutex_.
    std::string pending_;
    size_t dropped_ = 0;
    bool urgent_ = false;
    bool stop_ = false;
    uint64_t batchesWritten_ = 0;
    std::condition_variable wake_;     // the writer waits on it
    std::condition_variable written_;  // waitForBatches waits on it
    std::thread writer_;
};

}  // namespace authsvc::app
