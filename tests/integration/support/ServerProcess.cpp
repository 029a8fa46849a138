// Starting and stopping the authsvc binary, running its CLI, and opening its SQLite file.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "support/Harness.h"

// SOCI only through this guard: Debian's soci-config.h wants Boost, which is not a dependency.
#include <soci/soci-config.h>
#undef SOCI_HAVE_BOOST
#undef SOCI_HAVE_BOOST_DATE_TIME
#include <soci/mysql/soci-mysql.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <libpq-fe.h>

extern char** environ;

namespace it {

namespace {

using Clock = std::chrono::steady_clock;

// The binary under test: AUTHSVC_BINARY from the build, unless AUTHSVC_TEST_BINARY names another
// (e.g. a sanitizer build).
const char* binaryUnderTest() {
    const char* override = std::getenv("AUTHSVC_TEST_BINARY");
    return override && *override ? override : AUTHSVC_BINARY;
}

}  // namespace

// ---------------------------------------------------------------- config / server

namespace {
void emitYaml(std::ostream& os, const json& node, int indent) {
    for (const auto& [key, value] : node.items()) {
        os << std::string(static_cast<size_t>(indent), ' ') << key << ":";
        if (value.is_object()) {
            os << "\n";
            emitYaml(os, value, indent + 2);
        } else {
            // Scalars and arrays in flow style; JSON strings are valid YAML double-quoted strings.
            os << " " << value.dump() << "\n";
        }
    }
}

// This process's environment without AUTHSVC_* and without the names in `extra`, then `extra`.
std::vector<std::string> childEnvironment(const std::map<std::string, std::string>& extra) {
    std::vector<std::string> env;
    for (char** e = environ; e && *e; ++e) {
        if (std::strncmp(*e, "AUTHSVC_", 8) == 0) continue;
        const char* eq = std::strchr(*e, '=');
        if (eq && extra.count(std::string(*e, size_t(eq - *e)))) continue;
        env.emplace_back(*e);
    }
    for (const auto& [k, v] : extra) env.push_back(k + "=" + v);
    return env;
}

// fork + exec with stdin/stdout/stderr redirected to the given paths (stdin may be empty);
// `fileLimit` > 0: the child's RLIMIT_NOFILE.
pid_t spawn(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
            const fs::path& workDir, const fs::path& stdinPath, const fs::path& stdoutPath,
            const fs::path& stderrPath, long fileLimit = 0) {
    std::vector<std::string> envStrings = childEnvironment(env);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    std::vector<char*> envp;
    for (auto& e : envStrings) envp.push_back(e.data());
    envp.push_back(nullptr);
    const std::string in = stdinPath.empty() ? "/dev/null" : stdinPath.string();
    const std::string out = stdoutPath.string();
    const std::string err = stderrPath.string();
    const std::string wd = workDir.string();

    const pid_t pid = fork();
    if (pid != 0) return pid;
    // Child: only async-signal-safe calls from here on.
    const int inFd = ::open(in.c_str(), O_RDONLY);
    const int outFd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    const int errFd = err == out ? outFd : ::open(err.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (inFd < 0 || outFd < 0 || errFd < 0) _exit(126);
    dup2(inFd, 0);
    dup2(outFd, 1);
    dup2(errFd, 2);
    if (chdir(wd.c_str()) != 0) _exit(126);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    signal(SIGPIPE, SIG_DFL);
    if (fileLimit > 0) {
        const rlimit limit{static_cast<rlim_t>(fileLimit), static_cast<rlim_t>(fileLimit)};
        if (setrlimit(RLIMIT_NOFILE, &limit) != 0) _exit(126);
    }
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
}

// Waits up to `timeout` for pid; returns the wait status, or nullopt if still running.
std::optional<int> waitFor(pid_t pid, std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (true) {
        int status = 0;
        const pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) return status;
        if (r < 0 && errno != EINTR) return -1;
        if (Clock::now() >= deadline) return std::nullopt;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

int decodeStatus(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
}
}  // namespace

std::string toYaml(const json& config) {
    std::ostringstream os;
    emitYaml(os, config, 0);
    return os.str();
}

int freePort() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    int port = 0;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
        socklen_t len = sizeof addr;
        getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
        port = ntohs(addr.sin_port);
    }
    ::close(fd);
    return port;
}

// ---------------------------------------------------------------- backends

bool pgMode() {
    const char* b = std::getenv("AUTHSVC_TEST_BACKEND");
    return b && (std::string(b) == "postgresql" || std::string(b) == "pgbouncer");
}

bool mysqlMode() {
    const char* b = std::getenv("AUTHSVC_TEST_BACKEND");
    return b && std::string(b) == "mysql";
}

namespace {
// The MariaDB server that test databases are created on (no db=).
std::string mysqlServerDsn() {
    const char* d = std::getenv("AUTHSVC_TEST_MYSQL_DSN");
    if (!d || !*d) {
        throw std::runtime_error(
            "AUTHSVC_TEST_BACKEND=mysql needs AUTHSVC_TEST_MYSQL_DSN (e.g. \"host=127.0.0.1 "
            "port=3307 user=app\"): start one with scripts/mariadb.sh");
    }
    return d;
}

// A column of a row as text ("" for NULL).
std::string columnText(const soci::row& r, size_t i, const std::string& sql) {
    if (r.get_indicator(i) == soci::i_null) return "";
    switch (r.get_properties(i).get_data_type()) {
        case soci::dt_string:
            return r.get<std::string>(i);
        case soci::dt_integer:
            return std::to_string(r.get<int>(i));
        case soci::dt_long_long:
            return std::to_string(r.get<long long>(i));
        case soci::dt_unsigned_long_long:
            return std::to_string(r.get<unsigned long long>(i));
        case soci::dt_double:
            return std::to_string(r.get<double>(i));
        default:
            throw std::runtime_error("unsupported column type in: " + sql);
    }
}

// The statements of `sql`, split at each ";" outside quotes.
std::vector<std::string> splitSql(const std::string& sql) {
    std::vector<std::string> out;
    std::string current;
    char quote = 0;
    for (char ch : sql) {
        if (quote) {
            if (ch == quote) quote = 0;
        } else if (ch == '\'' || ch == '"' || ch == '`') {
            quote = ch;
        } else if (ch == ';') {
            out.push_back(current);
            current.clear();
            continue;
        }
        current += ch;
    }
    out.push_back(current);
    out.erase(std::remove_if(out.begin(), out.end(),
                             [](const std::string& x) {
                                 return x.find_first_not_of(" \t\r\n") == std::string::npos;
                             }),
              out.end());
    return out;
}
}  // namespace

std::vector<std::string> mysqlExec(const std::string& dsn, const std::string& sql) {
    std::vector<std::string> rows;
    try {
        soci::session s(soci::mysql, dsn + " charset=utf8mb4 connect_timeout=5");
        s << "SET SESSION sql_mode = CONCAT(@@sql_mode, ',PIPES_AS_CONCAT')";
        for (const auto& statement : splitSql(sql)) {
            rows.clear();
            const auto first = statement.find_first_not_of(" \t\r\n");
            const std::string verb = lower(statement.substr(first, 4));
            if (verb == "sele" || verb == "show") {
                soci::rowset<soci::row> rs = (s.prepare << statement);
                for (const soci::row& r : rs) rows.push_back(columnText(r, 0, statement));
            } else {
                s << statement;
            }
        }
    } catch (const soci::soci_error& e) {
        throw std::runtime_error("MariaDB: " + std::string(e.what()) + " in: " + sql);
    }
    return rows;
}

namespace {
// The server that test databases are created on (no dbname).
std::string pgServerDsn() {
    const char* d = std::getenv("AUTHSVC_TEST_PG_DSN");
    if (!d || !*d) {
        throw std::runtime_error(
            "AUTHSVC_TEST_BACKEND=postgresql needs AUTHSVC_TEST_PG_DSN (e.g. \"host=127.0.0.1 "
            "port=55440 user=app\"): start one with scripts/pg.sh");
    }
    return d;
}

// The pgbouncer.* run (tests/CMakeLists.txt, AUTHSVC_TEST_BACKEND=pgbouncer) points every
// server at its database through the PgBouncer of AUTHSVC_TEST_PGBOUNCER_DSN (transaction
// pooling, started by scripts/test.sh) with database.postgresql.prepared_statements false,
// or true with AUTHSVC_TEST_PGBOUNCER_PREPARED_STATEMENTS=true (what fails behind it: 500s).
// The test databases are still created and dropped on the server itself.
std::string pgBouncerDsn() {
    const char* d = std::getenv("AUTHSVC_TEST_PGBOUNCER_DSN");
    if (!d || !*d) {
        throw std::runtime_error(
            "AUTHSVC_TEST_BACKEND=pgbouncer needs AUTHSVC_TEST_PGBOUNCER_DSN (\"host=127.0.0.1 "
            "port=PORT user=app\"): start one with scripts/pgbouncer.sh");
    }
    return d;
}
}  // namespace

std::vector<std::string> pgExec(const std::string& dsn, const std::string& sql) {
    PGconn* conn = PQconnectdb((dsn + " connect_timeout=5").c_str());
    std::vector<std::string> rows;
    if (PQstatus(conn) != CONNECTION_OK) {
        std::string err = PQerrorMessage(conn);
        PQfinish(conn);
        throw std::runtime_error("cannot connect to PostgreSQL (" + dsn + "): " + err);
    }
    PGresult* res = PQexec(conn, sql.c_str());
    const auto st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        std::string err = PQerrorMessage(conn);
        PQclear(res);
        PQfinish(conn);
        throw std::runtime_error("PostgreSQL: " + err + " in: " + sql);
    }
    for (int i = 0; i < PQntuples(res); ++i) rows.emplace_back(PQgetvalue(res, i, 0));
    PQclear(res);
    PQfinish(conn);
    return rows;
}

ServerProcess::ServerProcess(const json& overrides, std::map<std::string, std::string> env)
    : secret_(randomString(48)), env_(std::move(env)) {
    std::string tmpl = (fs::temp_directory_path() / "authsvc-it-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    config_ = json{
        {"server", {{"host", "127.0.0.1"}, {"port", 0}}},
        {"database", {{"sqlite", {{"path", dbPath().string()}}}}},
        {"jwt", {{"secret", secret_}}},
        {"refresh", {{"secret", randomString(48)}}},  // required beside jwt.secret
        // Tests register many accounts from 127.0.0.1: the registration limit is off unless a
        // test sets it (ThrottleTest).
        {"auth",
         {{"argon2id", {{"memory_kib", 64}, {"iterations", 1}, {"parallelism", 1}}},
          {"register_rate_limit", {{"per_ip_per_hour", 0}}}}},
        {"log", {{"level", "info"}}},
    };
    config_.merge_patch(overrides);
    if (config_["jwt"].contains("secret") && config_["jwt"]["secret"].is_string()) {
        secret_ = config_["jwt"]["secret"];
    }
    // In PostgreSQL mode a server gets a database of its own unless the overrides chose a backend.
    createPgDatabase_ =
        serverDbMode() && !(overrides.contains("database") && overrides["database"].is_object() &&
                            overrides["database"].contains("backend"));
}

void ServerProcess::ensureDatabase() {
    if (createPgDatabase_ && mysqlMode() && mysqlDatabase_.empty()) {
        const std::string server = mysqlServerDsn();
        const std::string name = "t_" + lower(randomString(16));
        mysqlExec(server, "CREATE DATABASE " + name);
        mysqlDatabase_ = name;
        config_["database"]["backend"] = "mysql";
        config_["database"]["mysql"]["dsn"] = server + " db=" + name;
        return;
    }
    if (!createPgDatabase_ || !pgDatabase_.empty() || !mysqlDatabase_.empty()) return;
    const std::string server = pgServerDsn();
    const std::string name = "t_" + lower(randomString(16));
    pgExec(server + " dbname=postgres", "CREATE DATABASE " + name);
    pgDatabase_ = name;
    config_["database"]["backend"] = "postgresql";
    config_["database"]["postgresql"]["dsn"] = server + " dbname=" + name;
    if (pgBouncerMode()) {
        const char* prepared = std::getenv("AUTHSVC_TEST_PGBOUNCER_PREPARED_STATEMENTS");
        config_["database"]["postgresql"]["dsn"] = pgBouncerDsn() + " dbname=" + name;
        config_["database"]["postgresql"]["prepared_statements"] =
            prepared && std::string(prepared) == "true";
    }
}

json ServerProcess::sharedDatabaseOverrides() {
    ensureDatabase();
    json db = config_["database"];
    if (!db.contains("backend")) db["backend"] = "sqlite";
    return json{{"database", db}};
}

std::string ServerProcess::pgDsn() const {
    if (config_["database"].value("backend", "") != "postgresql") return "";
    return config_["database"]["postgresql"].value("dsn", "");
}

std::string ServerProcess::mysqlDsn() const {
    if (config_["database"].value("backend", "") != "mysql") return "";
    return config_["database"]["mysql"].value("dsn", "");
}

std::optional<std::string> ServerProcess::pgFindTable(const std::string& containing,
                                                      const std::string& notContaining) {
    for (const auto& t : pgExec(pgDsn(),
                                "SELECT table_name FROM information_schema.tables WHERE "
                                "table_schema = 'public' ORDER BY table_name")) {
        if (containsI(t, containing) && (notContaining.empty() || !containsI(t, notContaining))) {
            return t;
        }
    }
    return std::nullopt;
}

ServerProcess::~ServerProcess() {
    if (pid_ > 0) kill9();
    if (!pgDatabase_.empty()) {
        try {
            pgExec(pgServerDsn() + " dbname=postgres",
                   "DROP DATABASE IF EXISTS " + pgDatabase_ + " WITH (FORCE)");
        } catch (const std::exception& e) {
            std::cerr << "could not drop test database " << pgDatabase_ << ": " << e.what() << "\n";
        }
    }
    if (!mysqlDatabase_.empty()) {
        try {
            mysqlExec(mysqlServerDsn(), "DROP DATABASE IF EXISTS " + mysqlDatabase_);
        } catch (const std::exception& e) {
            std::cerr << "could not drop test database " << mysqlDatabase_ << ": " << e.what()
                      << "\n";
        }
    }
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    const bool failed = info && info->result() && info->result()->Failed();
    if (failed) {
        std::cerr << "---- authsvc log (" << logPath() << "), last 4000 bytes:\n"
                  << logTail() << "\n---- end of log; test dir kept: " << dir_ << "\n";
    } else {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }
}

void ServerProcess::writeConfig() {
    ensureDatabase();
    if (port_ == 0) port_ = freePort();
    config_["server"]["port"] = port_;
    std::ofstream(configPath()) << toYaml(config_);
}

bool ServerProcess::startOnce() {
    writeConfig();
    { std::ofstream(logPath(), std::ios::app) << ""; }
    pid_ = spawn({binaryUnderTest(), "serve", "--config", configPath().string()}, env_, dir_, {},
                 logPath(), logPath(), fileLimit_);
    if (pid_ < 0) return false;
    HttpClient probe(probePort_ ? probePort_ : port_);
    probe.setTimeoutMs(500);
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    while (Clock::now() < deadline) {
        int status = 0;
        if (waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;  // exited during start-up
            return false;
        }
        // Live, and ready: the service may apply migrations after it starts listening, and says
        // so with /readyz.
        if (probe.get("/healthz").status == 200 &&
            (!waitForReady_ || probe.get("/readyz").status == 200)) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    kill9();
    return false;
}

bool ServerProcess::startLive() {
    waitForReady_ = false;
    const bool ok = start();
    waitForReady_ = true;
    return ok;
}

bool ServerProcess::start() {
    for (int attempt = 0; attempt < 4; ++attempt) {
        if (port_ == 0 || attempt > 0) port_ = freePort();
        if (startOnce()) return true;
    }
    return false;
}

bool ServerProcess::running() {
    if (pid_ <= 0) return false;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
    }
    return true;
}

int ServerProcess::stop(int sig) {
    if (pid_ <= 0) return -1;
    ::kill(pid_, sig);
    auto status = waitFor(pid_, std::chrono::seconds(10));
    if (!status) {
        kill9();
        return -1;
    }
    pid_ = -1;
    return decodeStatus(*status);
}

void ServerProcess::kill9() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    waitFor(pid_, std::chrono::seconds(5));
    pid_ = -1;
}

bool ServerProcess::signal(int sig) {
    return pid_ > 0 && ::kill(pid_, sig) == 0;
}

bool ServerProcess::restart(int* stopStatus) {
    const int s = stop();
    if (stopStatus) *stopStatus = s;
    if (startOnce()) return true;  // same port first
    return start();
}

std::string ServerProcess::log() const {
    return readFileBytes(logPath());
}

std::string ServerProcess::logTail(size_t bytes) const {
    const std::string all = log();
    return all.size() <= bytes ? all : all.substr(all.size() - bytes);
}

std::string ServerProcess::waitForLog(const std::string& needle,
                                      std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (true) {
        std::string l = log();
        if (l.find(needle) != std::string::npos || Clock::now() >= deadline) return l;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

// ---------------------------------------------------------------- the example resource service

namespace {
// RESOURCE_SERVICE_BINARY from the build, unless RESOURCE_SERVICE_TEST_BINARY names another.
std::string resourceServiceBinary() {
    const char* override = std::getenv("RESOURCE_SERVICE_TEST_BINARY");
    return override && *override ? override : RESOURCE_SERVICE_BINARY;
}
}  // namespace

ResourceServiceProcess::ResourceServiceProcess(std::string jwksUrl, std::string issuer,
                                               std::string audience)
    : args_{resourceServiceBinary(),
            "--jwks-url",
            std::move(jwksUrl),
            "--issuer",
            std::move(issuer),
            "--audience",
            std::move(audience),
            "--port",
            "0"} {
    std::string tmpl = (fs::temp_directory_path() / "resource-service-it-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
}

ResourceServiceProcess::~ResourceServiceProcess() {
    if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        waitFor(pid_, std::chrono::seconds(5));
    }
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    if (info && info->result() && info->result()->Failed()) {
        std::cerr << "---- resource-service log:\n" << log() << "\n---- end of log\n";
    }
    std::error_code ec;
    fs::remove_all(dir_, ec);
}

bool ResourceServiceProcess::start() {
    const fs::path out = dir_ / "service.log";
    pid_ = spawn(args_, {}, dir_, {}, out, out);
    if (pid_ < 0) return false;
    const std::string prefix = "listening on 127.0.0.1:";
    const auto deadline = Clock::now() + std::chrono::seconds(15);
    while (Clock::now() < deadline) {
        const std::string text = log();
        if (const size_t at = text.find(prefix); at != std::string::npos) {
            const size_t eol = text.find('\n', at);
            if (eol != std::string::npos) {
                port_ = std::stoi(text.substr(at + prefix.size(), eol - at - prefix.size()));
                return port_ > 0;
            }
        }
        int status = 0;
        if (waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
}

int ResourceServiceProcess::stop() {
    if (pid_ <= 0) return -1;
    ::kill(pid_, SIGTERM);
    auto status = waitFor(pid_, std::chrono::seconds(10));
    if (!status) {
        ::kill(pid_, SIGKILL);
        waitFor(pid_, std::chrono::seconds(5));
        pid_ = -1;
        return -1;
    }
    pid_ = -1;
    return decodeStatus(*status);
}

std::string ResourceServiceProcess::log() const {
    return readFileBytes(dir_ / "service.log");
}

// ---------------------------------------------------------------- the CLI

namespace {
CommandResult runProgram(const std::vector<std::string>& argv, const fs::path& workDir,
                         const std::string& stdinData,
                         const std::map<std::string, std::string>& env,
                         std::chrono::milliseconds timeout) {
    static std::atomic<int> counter{0};
    const std::string tag = std::to_string(getpid()) + "-" + std::to_string(++counter);
    const fs::path in = workDir / ("cli-" + tag + ".in");
    const fs::path out = workDir / ("cli-" + tag + ".out");
    const fs::path err = workDir / ("cli-" + tag + ".err");
    std::ofstream(in, std::ios::binary) << stdinData;
    CommandResult r;
    const pid_t pid = spawn(argv, env, workDir, in, out, err);
    auto status = waitFor(pid, timeout);
    if (!status) {
        r.timedOut = true;
        ::kill(pid, SIGKILL);
        status = waitFor(pid, std::chrono::seconds(5));
    }
    r.exitCode = status ? decodeStatus(*status) : -1;
    r.out = readFileBytes(out);
    r.err = readFileBytes(err);
    std::error_code ec;
    fs::remove(in, ec);
    fs::remove(out, ec);
    fs::remove(err, ec);
    return r;
}
}  // namespace

CommandResult runAuthsvc(const std::vector<std::string>& args, const fs::path& workDir,
                         const std::string& stdinData,
                         const std::map<std::string, std::string>& env,
                         std::chrono::milliseconds timeout) {
    std::vector<std::string> argv{binaryUnderTest()};
    argv.insert(argv.end(), args.begin(), args.end());
    return runProgram(argv, workDir, stdinData, env, timeout);
}

CommandResult runCommand(const std::vector<std::string>& argv, const fs::path& workDir,
                         std::chrono::milliseconds timeout) {
    return runProgram(argv, workDir, "", {}, timeout);
}

// ---------------------------------------------------------------- a PostgreSQL of its own

TempDatabaseServer::TempDatabaseServer(const std::string& script, const std::string& prefix)
    : script_(std::string(AUTHSVC_SOURCE_DIR) + "/scripts/" + script) {
    std::string tmpl = (fs::temp_directory_path() / (prefix + "XXXXXX")).string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    data_ = dir_ / "db";
    // As root, pg.sh runs PostgreSQL as "postgres", which must reach dir_/db.
    fs::permissions(dir_, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                              fs::perms::others_read | fs::perms::others_exec);
}

TempDatabaseServer::~TempDatabaseServer() {
    stop();
    std::error_code ec;
    fs::remove_all(dir_, ec);
}

bool TempDatabaseServer::start() {
    const bool fresh = port_ == 0;
    for (int attempt = 0; attempt < (fresh ? 3 : 1); ++attempt) {
        if (fresh) port_ = freePort();
        const CommandResult r = runCommand(
            {"/bin/bash", script_, "start", data_.string(), std::to_string(port_)}, dir_);
        if (r.exitCode == 0 && !r.timedOut) {
            started_ = true;
            dsn_.clear();
            for (const auto& l : splitLines(r.out)) {
                if (l.find("host=") != std::string::npos) dsn_ = l;
            }
            return !dsn_.empty();
        }
        lastError_ = script_ + " start failed (" + std::to_string(r.exitCode) + "): " + r.err +
                     r.out + readFileBytes(logFile());
    }
    return false;
}

bool TempDatabaseServer::stop() {
    if (!started_) return true;
    const CommandResult r = runCommand({"/bin/bash", script_, "stop", data_.string()}, dir_);
    started_ = false;
    return r.exitCode == 0 && !r.timedOut;
}

TempPostgres::TempPostgres() : TempDatabaseServer("pg.sh", "authsvc-pg-") {}

namespace {
// The state letter of /proc/PID/stat ('Z' zombie, 'R', 'S' ...), or 0 if there is no such
// process.
char processState(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(in, line)) return 0;
    const size_t close = line.rfind(')');  // the command name may hold spaces and ')'
    return close == std::string::npos || close + 2 >= line.size() ? 0 : line[close + 2];
}

pid_t parentOf(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(in, line)) return 0;
    const size_t close = line.rfind(')');
    if (close == std::string::npos) return 0;
    std::istringstream rest(line.substr(close + 2));
    char state = 0;
    long ppid = 0;
    rest >> state >> ppid;
    return static_cast<pid_t>(ppid);
}

std::vector<pid_t> childrenOf(pid_t parent) {
    std::vector<pid_t> out;
    for (const auto& entry : fs::directory_iterator("/proc")) {
        const std::string name = entry.path().filename().string();
        if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
        const auto pid = static_cast<pid_t>(std::stol(name));
        if (parentOf(pid) == parent) out.push_back(pid);
    }
    return out;
}
}  // namespace

bool TempPostgres::kill9() {
    if (!started_) {
        lastError_ = "not started";
        return false;
    }
    std::ifstream pidFile(data_ / "data" / "postmaster.pid");
    long postmaster = 0;
    if (!(pidFile >> postmaster) || postmaster <= 1) {
        lastError_ = "no postmaster.pid";
        return false;
    }
    // The children first collected, then all killed at once: once the postmaster is gone
    // they would belong to init and could not be told apart.
    std::vector<pid_t> victims{static_cast<pid_t>(postmaster)};
    for (pid_t child : childrenOf(victims.front())) victims.push_back(child);
    for (pid_t pid : victims) ::kill(pid, SIGKILL);
    started_ = false;
    for (pid_t pid : victims) {
        if (!waitGone(pid)) return false;
    }
    // A zombie postmaster would look alive to the next one's lock-file checks (data directory
    // and socket); remove the stale locks as an operator would after making sure the server
    // is dead.
    std::error_code ec;
    fs::remove(data_ / "data" / "postmaster.pid", ec);
    fs::remove(data_ / "sock" / (".s.PGSQL." + std::to_string(port_) + ".lock"), ec);
    return true;
}

bool TempDatabaseServer::waitGone(pid_t pid) {
    // Gone, or a zombie nobody reaps (they are not our children): either way holding no
    // memory or socket any more.
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    while (processState(pid) != 0 && processState(pid) != 'Z') {
        if (Clock::now() >= deadline) {
            lastError_ = "process " + std::to_string(pid) + " survived SIGKILL";
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return true;
}

// ---------------------------------------------------------------- a MariaDB of its own

bool TempMariadb::kill9() {
    if (!started_) {
        lastError_ = "not started";
        return false;
    }
    std::ifstream pidFile(data_ / "pid");
    long pid = 0;
    if (!(pidFile >> pid) || pid <= 1) {
        lastError_ = "no pid file";
        return false;
    }
    ::kill(static_cast<pid_t>(pid), SIGKILL);
    started_ = false;
    if (!waitGone(static_cast<pid_t>(pid))) return false;
    std::error_code ec;
    fs::remove(data_ / "pid", ec);
    return true;
}

// ---------------------------------------------------------------- SQLite

struct SqliteAdmin::Impl {
    soci::session sql;
};

SqliteAdmin::SqliteAdmin(const fs::path& dbPath) : impl_(std::make_unique<Impl>()) {
    impl_->sql.open(soci::sqlite3, "db=" + dbPath.string() + " timeout=5");
}

SqliteAdmin::~SqliteAdmin() = default;

void SqliteAdmin::exec(const std::string& sql) {
    impl_->sql << sql;
}

std::vector<std::string> SqliteAdmin::column(const std::string& sql) {
    std::vector<std::string> out;
    soci::rowset<soci::row> rows = (impl_->sql.prepare << sql);
    for (const soci::row& r : rows) out.push_back(columnText(r, 0, sql));
    return out;
}

std::vector<std::string> SqliteAdmin::tables() {
    std::vector<std::string> names(100);
    impl_->sql << "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
        soci::into(names);
    return names;
}

std::optional<std::string> SqliteAdmin::findTable(const std::string& containing,
                                                  const std::string& notContaining) {
    for (const auto& t : tables()) {
        if (containsI(t, containing) && (notContaining.empty() || !containsI(t, notContaining))) {
            return t;
        }
    }
    return std::nullopt;
}

}  // namespace it
