// bench_framer_pieces: what a request that arrives in pieces costs (issue 21 item 3). Two
// modes (bench/framer_pieces.sh runs both and writes bench/RESULTS.md's section):
//   bench_framer_pieces frame PIECE [REPEAT] [post|get] [framer|none]
//     frames one 4 KiB request (post: request line, header fields, a Content-Length body;
//     get: request line and header fields only) fed in
//     PIECE-byte pieces the way ProtocolHandler::consume feeds its framer (the pending bytes
//     grow; each read frames them again from the request's first byte, the framer resuming
//     where its last scan stopped), REPEAT times; "none": the same reads without framing.
//     The framer's own instructions: callgrind's total for "framer" minus that for "none"
//     (what the framer inlines into its caller counts too).
//   bench_framer_pieces client PORT PID PIECE REQUESTS [CONNECTIONS] [GAP_US]
//     sends REQUESTS requests of 4 KiB (GET /healthz with 4 KiB of header fields) to an
//     authsvc on 127.0.0.1:PORT over CONNECTIONS keep-alive connections, each request in
//     PIECE-byte writes GAP_US microseconds apart (so that the server reads each piece
//     on its own), and prints the server's CPU (utime + stime of process PID, from
//     /proc/PID/stat) per request.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "app/http/RequestFramer.h"

namespace {

constexpr size_t kRequestBytes = 4096;

namespace benchmark {
// Keeps the compiler from dropping the baseline's appends.
inline void doNotOptimize(std::string& s) {
    asm volatile("" : : "r"(s.data()) : "memory");
}
}  // namespace benchmark

// A 4 KiB POST: request line, a dozen header fields, the rest a JSON body.
std::string postRequest() {
    std::string head =
        "POST /api/login HTTP/1.1\r\nHost: auth.example\r\nUser-Agent: bench/1.0\r\n"
        "Accept: application/json\r\nContent-Type: application/json\r\n"
        "X-Request-Id: 0123456789abcdef\r\nX-Forwarded-For: 198.51.100.7, 10.0.0.2\r\n";
    for (int i = 0; i < 8; ++i) {
        head += "X-Field-" + std::to_string(i) + ": " + std::string(40, 'a' + char(i)) + "\r\n";
    }
    // "Content-Length: NNNN\r\n\r\n" is 24 bytes for a body of 1000 to 9999 bytes.
    const size_t bodySize = kRequestBytes - head.size() - 24;
    const std::string prefix = "{\"email\":\"a@example.com\",\"password\":\"";
    const std::string body = prefix + std::string(bodySize - prefix.size() - 2, 'p') + "\"}";
    std::string req = head + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
    req += body;
    return req;
}

// A 4 KiB GET /healthz: the size in header fields (the reactor route: the cheapest answer).
std::string getRequest() {
    std::string req = "GET /healthz HTTP/1.1\r\nHost: auth.example\r\nUser-Agent: bench/1.0\r\n";
    for (int i = 0; kRequestBytes - req.size() > 200; ++i) {
        req += "X-Pad-" + std::to_string(i % 10) + ": " + std::string(100, 'x') + "\r\n";
    }
    // The last field fills up to 4096 bytes with the empty line.
    const size_t room = kRequestBytes - req.size() - 2;
    return req + "X-Pad-z: " + std::string(room - 11, 'y') + "\r\n\r\n";
}

int frameMode(size_t piece, int repeat, const std::string& kind, bool frame) {
    const std::string req = kind == "get" ? getRequest() : postRequest();
    size_t frames = 0;
    for (int r = 0; r < repeat; ++r) {
        authsvc::app::RequestFramer framer({1 << 20, 16384});
        std::string pending;
        pending.reserve(req.size());
        for (size_t at = 0; at < req.size(); at += piece) {
            pending.append(req, at, piece);
            if (!frame) {  // the baseline: the same reads without framing
                benchmark::doNotOptimize(pending);
                continue;
            }
            const authsvc::app::RequestFrame f = framer.frame(pending);
            if (f.status != 0) {
                std::fprintf(stderr, "refused: %d\n", f.status);
                return 1;
            }
            if (f.length != 0) ++frames;
        }
    }
    std::printf("request %zu bytes, pieces of %zu: %zu frames\n", req.size(), piece, frames);
    return !frame || frames == size_t(repeat) ? 0 : 1;
}

// The process's user and system CPU seconds so far (/proc/PID/stat).
std::pair<double, double> processCpuSeconds(int pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::istringstream fields(stat.substr(stat.rfind(')') + 2));
    std::string f;
    unsigned long long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && fields >> f; ++i) {
        if (i == 14) utime = std::stoull(f);
        if (i == 15) stime = std::stoull(f);
    }
    const double tick = double(sysconf(_SC_CLK_TCK));
    return {double(utime) / tick, double(stime) / tick};
}

int connectTo(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(uint16_t(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return -1;
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

// Reads one answer (header block and Content-Length body); false if the server closed.
bool readAnswer(int fd, std::string& buf) {
    for (;;) {
        const size_t end = buf.find("\r\n\r\n");
        if (end != std::string::npos) {
            const size_t cl = buf.find("Content-Length: ");
            const size_t length = cl < end ? std::strtoul(buf.c_str() + cl + 16, nullptr, 10) : 0;
            if (buf.size() >= end + 4 + length) {
                const bool ok = buf.compare(0, 12, "HTTP/1.1 200") == 0;
                buf.erase(0, end + 4 + length);
                return ok;
            }
        }
        char chunk[8192];
        const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
        if (n <= 0) return false;
        buf.append(chunk, size_t(n));
    }
}

int clientMode(int port, int pid, size_t piece, int requests, int connections, int gapUs) {
    const std::string req = getRequest();
    std::atomic<int> next{0};
    std::atomic<int> failed{0};
    const auto cpuBefore = processCpuSeconds(pid);
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> threads;
    for (int t = 0; t < connections; ++t) {
        threads.emplace_back([&] {
            const int fd = connectTo(port);
            if (fd < 0) {
                ++failed;
                return;
            }
            std::string buf;
            while (next.fetch_add(1) < requests) {
                for (size_t at = 0; at < req.size(); at += piece) {
                    const size_t n = std::min(piece, req.size() - at);
                    if (::send(fd, req.data() + at, n, MSG_NOSIGNAL) != ssize_t(n)) {
                        ++failed;
                        break;
                    }
                    if (gapUs > 0 && at + n < req.size()) {
                        std::this_thread::sleep_for(std::chrono::microseconds(gapUs));
                    }
                }
                if (!readAnswer(fd, buf)) {
                    ++failed;
                    break;
                }
            }
            ::close(fd);
        });
    }
    for (auto& t : threads) t.join();
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const auto [user, system] = processCpuSeconds(pid);
    const double cpu = user + system - cpuBefore.first - cpuBefore.second;
    std::printf("| %zu | %d | %d | %d | %.2f | %.2f (%.2f user) | %.0f |\n", piece, gapUs, requests,
                connections, seconds, cpu, user - cpuBefore.first, cpu * 1e6 / requests);
    if (failed != 0) std::printf("%d requests failed\n", failed.load());
    return failed == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "frame" && argc >= 3) {
        return frameMode(std::strtoul(argv[2], nullptr, 10), argc > 3 ? std::atoi(argv[3]) : 1,
                         argc > 4 ? argv[4] : "post", argc <= 5 || std::string(argv[5]) != "none");
    }
    if (mode == "client" && argc >= 6) {
        return clientMode(std::atoi(argv[2]), std::atoi(argv[3]),
                          std::strtoul(argv[4], nullptr, 10), std::atoi(argv[5]),
                          argc > 6 ? std::atoi(argv[6]) : 4, argc > 7 ? std::atoi(argv[7]) : 200);
    }
    std::fprintf(stderr,
                 "usage: %s frame PIECE [REPEAT] [post|get] [framer|none]\n"
                 "       %s client PORT PID PIECE REQUESTS [CONNECTIONS] [GAP_US]\n",
                 argv[0], argv[0]);
    return 2;
}
