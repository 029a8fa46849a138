#include "app/observability/BatchingLogSink.h"

#include <unistd.h>

#include <cerrno>
#include <utility>

namespace authsvc::app {

BatchingLogSink::BatchingLogSink(int fd, std::chrono::milliseconds interval, size_t maxBatchBytes)
    : fd_(fd), interval_(interval), maxBatchBytes_(maxBatchBytes) {
    pending_.reserve(maxBatchBytes_);
    writer_ = std::thread([this] { run(); });
}

BatchingLogSink::~BatchingLogSink() {
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
    }
    wake_.notify_one();
    writer_.join();
}

void BatchingLogSink::sink_it_(const spdlog::details::log_msg& msg) {
    spdlog::memory_buf_t line;
    formatter_->format(msg, line);
    if (pending_.size() + line.size() > maxBatchBytes_) {
        ++dropped_;
        return;
    }
    const bool first = pending_.empty();
    pending_.append(line.data(), line.size());
    // The writer sleeps until a batch starts, then until its deadline or half the bound.
    if (first || pending_.size() >= maxBatchBytes_ / 2) wake_.notify_one();
}

void BatchingLogSink::flush_() {
    urgent_ = true;
    wake_.notify_one();
}

bool BatchingLogSink::waitForBatches(uint64_t count, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return written_.wait_for(lock, timeout, [&] { return batchesWritten_ >= count; });
}

void BatchingLogSink::run() {
    std::string batch;
    batch.reserve(maxBatchBytes_);
    std::unique_lock lock(mutex_);
    while (true) {
        wake_.wait(lock, [&] { return !pending_.empty() || dropped_ > 0 || stop_; });
        const auto deadline = std::chrono::steady_clock::now() + interval_;
        wake_.wait_until(lock, deadline,
                         [&] { return urgent_ || stop_ || pending_.size() >= maxBatchBytes_ / 2; });
        urgent_ = false;
        batch.clear();
        batch.swap(pending_);  // pending_ keeps the other buffer's capacity
        if (dropped_ > 0) {
            const std::string note =
                std::to_string(dropped_) + " log line(s) dropped: the log output did not keep up";
            spdlog::memory_buf_t line;
            formatter_->format(spdlog::details::log_msg("authsvc", spdlog::level::warn, note),
                               line);
            batch.insert(0, line.data(), line.size());
            dropped_ = 0;
        }
        const bool stopping = stop_;
        lock.unlock();
        writeAll(batch);
        lock.lock();
        ++batchesWritten_;
        written_.notify_all();
        if (stopping && pending_.empty() && dropped_ == 0) return;
    }
}

void BatchingLogSink::writeAll(const std::string& bytes) const {
    size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;  // nowhere to log a failure to log: the batch is lost
        done += size_t(n);
    }
}

}  // namespace authsvc::app
