// BatchingLogSink: every line arrives whole and once by the sink's destruction, even
// from several threads; flush (warn) and a half-full batch are written without waiting
// for the interval; a log output that does not keep up never blocks the logging thread,
// and the dropped lines are counted. The interval is an hour, so nothing here depends
// on timing: each wait ends as soon as the writer has done its part.
#include "app/observability/BatchingLogSink.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <spdlog/logger.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <thread>

#include "support/TestSupport.h"

namespace {

using authsvc::app::BatchingLogSink;
using namespace std::chrono_literals;

constexpr auto kNever = std::chrono::hours(1);

std::vector<std::string> lines(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

std::string readAll(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

class BatchingLogSinkTest : public ::testing::Test {
  protected:
    void SetUp() override {
        path = dir.path() / "log";
        fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        ASSERT_GE(fd, 0);
    }
    void TearDown() override { ::close(fd); }
    std::shared_ptr<spdlog::logger> loggerFor(std::shared_ptr<BatchingLogSink> sink) {
        auto logger = std::make_shared<spdlog::logger>("test", std::move(sink));
        logger->set_pattern("%l %v");
        logger->flush_on(spdlog::level::warn);
        return logger;
    }

    authsvc::testing::TempDir dir;
    std::filesystem::path path;
    int fd = -1;
};

TEST_F(BatchingLogSinkTest, EveryLineArrivesWholeAndOnceByDestruction) {
    constexpr int kThreads = 4, kLines = 5000;
    {
        // 2 MiB hold every line: the writer may well fall behind these four threads.
        auto logger = loggerFor(std::make_shared<BatchingLogSink>(fd, kNever, 2 << 20));
        std::vector<std::thread> threads;
        for (int t = 0; t < kThreads; ++t) {
            threads.emplace_back([&logger, t] {
                for (int i = 0; i < kLines; ++i) {
                    logger->info("thread {} line {} {}", t, i, std::string(size_t(i % 97), 'x'));
                }
            });
        }
        for (auto& th : threads) th.join();
    }  // the logger and its sink are destroyed here
    const auto all = lines(readAll(path));
    ASSERT_EQ(all.size(), size_t(kThreads * kLines));
    const std::regex shape("info thread ([0-9]+) line ([0-9]+) (x*)");
    std::map<int, int> nextOf;  // per thread, the next line number expected (order kept)
    for (const auto& line : all) {
        std::smatch m;
        ASSERT_TRUE(std::regex_match(line, m, shape)) << "mangled line: " << line;
        const int t = std::stoi(m[1]), i = std::stoi(m[2]);
        EXPECT_EQ(m[3].length(), i % 97) << line;
        EXPECT_EQ(i, nextOf[t]) << "thread " << t;
        nextOf[t] = i + 1;
    }
}

TEST_F(BatchingLogSinkTest, AWarningIsWrittenAtOnceWithTheLinesBeforeIt) {
    auto sink = std::make_shared<BatchingLogSink>(fd, kNever, 64 * 1024);
    auto logger = loggerFor(sink);
    logger->info("first");
    logger->warn("second");
    ASSERT_TRUE(sink->waitForBatches(1, 10s)) << "the warning waited for the interval";
    EXPECT_EQ(readAll(path), "info first\nwarning second\n");
}

TEST_F(BatchingLogSinkTest, AHalfFullBatchIsWrittenWithoutWaitingForTheInterval) {
    auto sink = std::make_shared<BatchingLogSink>(fd, kNever, 4096);
    auto logger = loggerFor(sink);
    for (int i = 0; i < 30; ++i) logger->info("{}", std::string(99, 'a'));  // 3000 bytes
    ASSERT_TRUE(sink->waitForBatches(1, 10s)) << "a half-full batch waited for the interval";
    EXPECT_GE(readAll(path).size(), 2048u);
}

TEST_F(BatchingLogSinkTest, AStuckOutputDropsAndCountsLinesWithoutBlocking) {
    int p[2];
    ASSERT_EQ(::pipe(p), 0);
    ::fcntl(p[1], F_SETPIPE_SZ, 4096);
    constexpr int kLines = 1000;  // 100 kB: far more than the pipe and two batches hold
    auto sink = std::make_shared<BatchingLogSink>(p[1], kNever, 4096);
    auto logger = loggerFor(sink);
    // Nobody reads the pipe yet: if logging waited for the output, this would hang.
    for (int i = 0; i < kLines; ++i) logger->info("line {} {}", i, std::string(90, 'b'));
    std::string out;
    std::thread reader([&] {
        char buf[4096];
        for (ssize_t n; (n = ::read(p[0], buf, sizeof buf)) > 0;) out.append(buf, size_t(n));
    });
    logger.reset();
    sink.reset();  // writes the rest, then the writer stops
    ::close(p[1]);
    reader.join();
    ::close(p[0]);

    int received = 0, dropped = 0, notes = 0;
    const std::regex note(
        "warning ([0-9]+) log line\\(s\\) dropped: the log output did not keep up");
    for (const auto& line : lines(out)) {
        std::smatch m;
        if (std::regex_match(line, m, note)) {
            ++notes;  // one per batch that follows drops
            dropped += std::stoi(m[1]);
        } else {
            ASSERT_TRUE(std::regex_match(line, std::regex("info line [0-9]+ b{90}"))) << line;
            ++received;
        }
    }
    EXPECT_GT(notes, 0);
    EXPECT_GT(dropped, 0);
    EXPECT_EQ(received + dropped, kLines);
}

}  // namespace
