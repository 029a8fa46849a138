#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <thread>

#include "support/Harness.h"

extern char** environ;

namespace it {

SmtpSink::SmtpSink(int port) : port_(port == 0 ? freePort() : port) {
    std::string tmpl = (fs::temp_directory_path() / "authsvc-smtp-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    fs::create_directories(dir_ / "mail");
}

SmtpSink::~SmtpSink() {
    stop();
    std::error_code ec;
    fs::remove_all(dir_, ec);
}

bool SmtpSink::start() {
    if (pid_ > 0) return true;
    const std::string script =
        std::string(AUTHSVC_SOURCE_DIR) + "/tests/integration/support/smtp_sink.py";
    const std::string log = (dir_ / "sink.log").string();
    std::vector<std::string> args = {"/usr/bin/python3", script, std::to_string(port_),
                                     (dir_ / "mail").string()};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    pid_t pid = -1;
    const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) return false;
    pid_ = pid;
    // Ready once it printed so (aiosmtpd's controller listens by then).
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
        if (readFileBytes(log).find("ready") != std::string::npos) return true;
        int status = 0;
        if (waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
}

void SmtpSink::stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    for (int i = 0; i < 500; ++i) {
        if (waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        pid_ = -1;
    }
    // The log holds "ready" of this run: a restart waits for a new one.
    std::error_code ec;
    fs::remove(dir_ / "sink.log", ec);
}

std::vector<std::string> SmtpSink::messages() const {
    std::vector<fs::path> files;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir_ / "mail", ec)) {
        const auto name = e.path().filename().string();
        if (!name.empty() && name[0] != '.' && e.path().extension() == ".eml") {
            files.push_back(e.path());
        }
    }
    std::sort(files.begin(), files.end());
    std::vector<std::string> out;
    for (const auto& f : files) out.push_back(readFileBytes(f));
    return out;
}

std::vector<std::string> SmtpSink::waitForMessages(size_t n, std::chrono::milliseconds timeout,
                                                   const std::string& containing) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
        std::vector<std::string> matching;
        for (auto& m : messages()) {
            if (containing.empty() || m.find(containing) != std::string::npos) {
                matching.push_back(std::move(m));
            }
        }
        if (matching.size() >= n || std::chrono::steady_clock::now() >= deadline) return matching;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

std::string linkTokenIn(const std::string& message, const std::string& path) {
    const std::string marker = path + "?token=";
    const auto pos = message.find(marker);
    if (pos == std::string::npos) return "";
    const auto start = pos + marker.size();
    size_t end = start;
    while (end < message.size() && (std::isalnum(static_cast<unsigned char>(message[end])) ||
                                    message[end] == '-' || message[end] == '_')) {
        ++end;
    }
    return message.substr(start, end - start);
}

}  // namespace it
