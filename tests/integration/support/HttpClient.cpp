// The HTTP client (libcurl, one easy handle so connections are reused) and raw TCP connections.
#include <arpa/inet.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <unordered_set>

#include "support/Harness.h"

namespace it {

namespace {
using Clock = std::chrono::steady_clock;
}  // namespace

// ---------------------------------------------------------------- HTTP

std::optional<std::string> HttpResponse::header(std::string_view name) const {
    const std::string n = lower(std::string(name));
    for (const auto& [k, v] : headers) {
        if (k == n) return v;
    }
    return std::nullopt;
}

json HttpResponse::jsonBody() const {
    return json::parse(body, nullptr, false);
}

std::string HttpResponse::errorCode() const {
    auto j = jsonBody();
    if (j.is_object() && j.contains("error") && j["error"].is_string()) return j["error"];
    return {};
}

std::string HttpResponse::message() const {
    auto j = jsonBody();
    if (j.is_object() && j.contains("message") && j["message"].is_string()) return j["message"];
    return {};
}

std::ostream& operator<<(std::ostream& os, const HttpResponse& r) {
    os << "HTTP " << r.status;
    if (!r.error.empty()) os << " (transport error: " << r.error << ")";
    for (const auto& [k, v] : r.headers) os << "\n  " << k << ": " << v;
    os << "\n  body: " << r.body.substr(0, 2000);
    return os;
}

namespace {
size_t onBody(char* ptr, size_t size, size_t n, void* user) {
    static_cast<std::string*>(user)->append(ptr, size * n);
    return size * n;
}

size_t onHeader(char* ptr, size_t size, size_t n, void* user) {
    auto* headers = static_cast<std::vector<std::pair<std::string, std::string>>*>(user);
    std::string line(ptr, size * n);
    while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.pop_back();
    if (line.rfind("HTTP/", 0) == 0) {
        headers->clear();  // a new response (e.g. after 100 Continue)
    } else if (auto colon = line.find(':'); colon != std::string::npos) {
        std::string value = line.substr(colon + 1);
        const auto first = value.find_first_not_of(" \t");
        value = first == std::string::npos ? "" : value.substr(first);
        headers->emplace_back(lower(line.substr(0, colon)), value);
    }
    return size * n;
}

// The file named by AUTHSVC_TEST_RESPONSE_LOG, opened once per process. A response that
// repeats one already recorded by this process (the same method, path, status, headers and
// body; only the request id differs: a stress loop's thousands of identical answers) is
// written once: checking it again could not find anything new.
class ResponseLog {
  public:
    // nullptr when responses are not recorded.
    static ResponseLog* instance() {
        static const std::unique_ptr<ResponseLog> log = []() -> std::unique_ptr<ResponseLog> {
            const char* path = std::getenv("AUTHSVC_TEST_RESPONSE_LOG");
            if (!path || !*path) return nullptr;
            return std::unique_ptr<ResponseLog>(new ResponseLog(path));
        }();
        return log.get();
    }

    // One line, written by one write() under an exclusive flock: lines of other threads and
    // of the parallel test processes never interleave. A failure to record fails the test.
    void record(const std::string& method, const std::string& path, const HttpResponse& r) {
        json headers = json::array();
        std::string key = method + ' ' + path + ' ' + std::to_string(r.status) + '\n';
        for (const auto& [name, value] : r.headers) {
            headers.push_back({name, value});
            key += name + ':' + (name == "x-request-id" ? std::to_string(value.empty()) : value);
            key += '\n';
        }
        key += r.body;
        std::lock_guard lock(mu_);
        if (!seen_.insert(std::move(key)).second) return;
        const json record = {{"method", method},   {"path", path},   {"status", r.status},
                             {"headers", headers}, {"body", r.body}, {"test", currentTest()}};
        const std::string line = record.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
        if (fd_ < 0) {
            ADD_FAILURE() << "cannot open " << path_ << ": " << std::strerror(openErrno_);
            return;
        }
        while (::flock(fd_, LOCK_EX) != 0 && errno == EINTR) {
        }
        std::string_view rest = line;
        while (!rest.empty()) {
            const ssize_t n = ::write(fd_, rest.data(), rest.size());
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                ADD_FAILURE() << "cannot write " << path_ << ": " << std::strerror(errno);
                break;
            }
            rest.remove_prefix(static_cast<size_t>(n));
        }
        ::flock(fd_, LOCK_UN);
    }

  private:
    explicit ResponseLog(std::string path) : path_(std::move(path)) {
        fd_ = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        openErrno_ = errno;
    }
    static std::string currentTest() {
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        return info ? std::string(info->test_suite_name()) + "." + info->name() : "";
    }

    std::string path_;
    int fd_ = -1;
    int openErrno_ = 0;
    std::mutex mu_;
    std::unordered_set<std::string> seen_;
};
}  // namespace

HttpClient::HttpClient(int port, Peer peer) : curl_(curl_easy_init()), port_(port), peer_(peer) {}

HttpClient::~HttpClient() {
    curl_easy_cleanup(static_cast<CURL*>(curl_));
}

HttpResponse HttpClient::request(const std::string& method, const std::string& path,
                                 const std::optional<std::string>& body, const Headers& headers) {
    CURL* c = static_cast<CURL*>(curl_);
    curl_easy_reset(c);  // keeps the connection cache
    HttpResponse r;
    const std::string url = "http://127.0.0.1:" + std::to_string(port_) + path;
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeoutMs_);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, onBody);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r.body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, onHeader);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &r.headers);

    bool callerSetContentType = false;
    for (const auto& h : headers) {
        if (lower(h).rfind("content-type:", 0) == 0) callerSetContentType = true;
    }
    curl_slist* list = nullptr;
    list = curl_slist_append(list, "Expect:");
    // curl would add a form Content-Type to any POST: only what the caller asks for is sent.
    if (!callerSetContentType) list = curl_slist_append(list, "Content-Type:");
    for (const auto& h : headers) list = curl_slist_append(list, h.c_str());
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);

    if (method == "GET" && !body) {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    } else if (method == "HEAD") {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else {
        if (body) {
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->size()));
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, body->data());
        } else if (method == "POST") {
            curl_easy_setopt(c, CURLOPT_POST, 1L);
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
        }
        if (method != "POST") curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
    }

    const auto t0 = Clock::now();
    const CURLcode rc = curl_easy_perform(c);
    r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    curl_slist_free_all(list);
    if (rc != CURLE_OK) {
        r.status = 0;
        r.error = curl_easy_strerror(rc);
        return r;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &r.newConnections);
    if (peer_ == Peer::Authsvc) {
        if (auto* log = ResponseLog::instance()) log->record(method, path, r);
    }
    return r;
}

HttpResponse HttpClient::get(const std::string& path, const Headers& headers) {
    return request("GET", path, std::nullopt, headers);
}

HttpResponse HttpClient::postJson(const std::string& path, const json& body,
                                  const Headers& headers) {
    Headers h = headers;
    h.push_back("Content-Type: application/json");
    return request("POST", path, body.dump(), h);
}

HttpResponse HttpClient::postRaw(const std::string& path, const std::string& body,
                                 const std::string& contentType, const Headers& headers) {
    Headers h = headers;
    if (!contentType.empty()) h.push_back("Content-Type: " + contentType);
    return request("POST", path, body, h);
}

HttpResponse HttpClient::getWithToken(const std::string& path, const std::string& accessToken) {
    return get(path, {"Authorization: Bearer " + accessToken});
}

// ---------------------------------------------------------------- raw TCP

std::string RawResponse::body() const {
    const auto p = raw.find("\r\n\r\n");
    return p == std::string::npos ? std::string() : raw.substr(p + 4);
}

RawConnection::RawConnection(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd_);
        fd_ = -1;
        return;
    }
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

RawConnection::~RawConnection() {
    close();
}

void RawConnection::shutdownWrite() {
    if (fd_ >= 0) ::shutdown(fd_, SHUT_WR);
}

void RawConnection::close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

bool RawConnection::send(std::string_view data) {
    if (fd_ < 0) return false;
    while (!data.empty()) {
        const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
}

namespace {
int parseStatus(const std::string& raw) {
    if (raw.rfind("HTTP/1.", 0) != 0 || raw.size() < 12) return 0;
    return std::atoi(raw.substr(9, 3).c_str());
}

// Returns true once `raw` holds a whole response (headers + Content-Length body).
bool completeResponse(const std::string& raw) {
    const auto end = raw.find("\r\n\r\n");
    if (end == std::string::npos) return false;
    size_t length = 0;
    for (const auto& line : splitLines(raw.substr(0, end))) {
        if (containsI(line.substr(0, 15), "content-length:")) {
            length = std::strtoull(line.substr(15).c_str(), nullptr, 10);
        }
    }
    return raw.size() >= end + 4 + length;
}
}  // namespace

RawConnection::ReadStep RawConnection::readSome(std::chrono::steady_clock::time_point deadline) {
    char buf[8192];
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                              deadline - std::chrono::steady_clock::now())
                              .count();
        if (left <= 0) return ReadStep::TimedOut;
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;  // EINTR or time: see above
        const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return ReadStep::Closed;
        buffer_.append(buf, static_cast<size_t>(n));
        return ReadStep::Data;
    }
}

RawResponse RawConnection::readResponse(std::chrono::milliseconds timeout) {
    RawResponse r;
    const auto deadline = Clock::now() + timeout;
    while (!completeResponse(buffer_) && fd_ >= 0) {
        const ReadStep step = readSome(deadline);
        r.timedOut = step == ReadStep::TimedOut;
        r.closed = step == ReadStep::Closed;
        if (step != ReadStep::Data) break;
    }
    r.raw = buffer_;
    r.status = parseStatus(r.raw);
    if (completeResponse(buffer_)) {
        // Keep anything after this response for the next read.
        const auto end = buffer_.find("\r\n\r\n");
        size_t length = 0;
        for (const auto& line : splitLines(buffer_.substr(0, end))) {
            if (containsI(line.substr(0, 15), "content-length:")) {
                length = std::strtoull(line.substr(15).c_str(), nullptr, 10);
            }
        }
        r.raw = buffer_.substr(0, end + 4 + length);
        buffer_.erase(0, end + 4 + length);
        r.timedOut = false;
    } else {
        buffer_.clear();
    }
    return r;
}

RawResponse RawConnection::readUntilClosed(std::chrono::milliseconds timeout) {
    RawResponse r;
    const auto deadline = Clock::now() + timeout;
    while (fd_ >= 0) {
        const ReadStep step = readSome(deadline);
        r.timedOut = step == ReadStep::TimedOut;
        r.closed = step == ReadStep::Closed;
        if (step != ReadStep::Data) break;
    }
    r.raw = buffer_;
    buffer_.clear();
    r.status = parseStatus(r.raw);
    return r;
}

}  // namespace it
