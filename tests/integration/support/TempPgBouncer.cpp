// TempPgBouncer and the pgbouncer.* run's switches (Harness.h).
#include <signal.h>

#include <cstdlib>
#include <fstream>
#include <thread>

#include "support/Harness.h"

namespace it {

namespace {
// Alive and not a zombie (a daemon's parent is init, which may never reap it here).
bool bouncerAlive(long pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(in, line)) return false;
    const size_t close = line.rfind(')');
    return close != std::string::npos && close + 2 < line.size() && line[close + 2] != 'Z';
}
}  // namespace

bool pgBouncerMode() {
    const char* b = std::getenv("AUTHSVC_TEST_BACKEND");
    return b && std::string(b) == "pgbouncer";
}

int pgServerPort() {
    const char* d = std::getenv("AUTHSVC_TEST_PG_DSN");
    const std::string dsn = d ? d : "";
    const size_t at = dsn.find("port=");
    return at == std::string::npos ? 0 : std::atoi(dsn.c_str() + at + 5);
}

TempPgBouncer::TempPgBouncer(int pgPort, int pool, int queryWaitSeconds)
    : pgPort_(pgPort), pool_(pool), queryWaitSeconds_(queryWaitSeconds) {
    std::string tmpl = (fs::temp_directory_path() / "authsvc-pgb-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    // As root, pgbouncer.sh runs PgBouncer as "postgres", which must reach dir_/b.
    fs::permissions(dir_, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                              fs::perms::others_read | fs::perms::others_exec);
}

TempPgBouncer::~TempPgBouncer() {
    stop();
    std::error_code ec;
    fs::remove_all(dir_, ec);
}

bool TempPgBouncer::start() {
    const std::string script = std::string(AUTHSVC_SOURCE_DIR) + "/scripts/pgbouncer.sh";
    const bool fresh = port_ == 0;
    for (int attempt = 0; attempt < (fresh ? 3 : 1); ++attempt) {
        if (fresh) port_ = freePort();
        const CommandResult r = runCommand(
            {"/bin/bash", script, "start", (dir_ / "b").string(), std::to_string(port_),
             std::to_string(pgPort_), std::to_string(pool_), std::to_string(queryWaitSeconds_)},
            dir_);
        if (r.exitCode == 0 && !r.timedOut) return true;
        lastError_ = "pgbouncer.sh start failed (" + std::to_string(r.exitCode) + "): " + r.err +
                     r.out + readFileBytes(dir_ / "b" / "pgbouncer.log");
    }
    return false;
}

bool TempPgBouncer::stop() {
    const std::string script = std::string(AUTHSVC_SOURCE_DIR) + "/scripts/pgbouncer.sh";
    const CommandResult r = runCommand({"/bin/bash", script, "stop", (dir_ / "b").string()}, dir_);
    return r.exitCode == 0 && !r.timedOut;
}

bool TempPgBouncer::kill9() {
    std::ifstream pidFile(dir_ / "b" / "pgbouncer.pid");
    long pid = 0;
    if (!(pidFile >> pid) || pid <= 1) {
        lastError_ = "no pgbouncer.pid";
        return false;
    }
    ::kill(static_cast<pid_t>(pid), SIGKILL);
    for (int i = 0; i < 1000 && bouncerAlive(pid); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    std::error_code ec;
    fs::remove(dir_ / "b" / "pgbouncer.pid", ec);  // stale: as an operator would
    return true;
}

std::vector<std::string> TempPgBouncer::admin(const std::string& command) {
    return pgExec(dsn("pgbouncer"), command);
}

std::string TempPgBouncer::dsn(const std::string& dbname) const {
    return "host=127.0.0.1 port=" + std::to_string(port_) + " user=app dbname=" + dbname;
}

}  // namespace it
