// Black-box harness for the authsvc integration tests: starts the real binary on a free port
// with its own temp dir, SQLite file and config; speaks HTTP (libcurl) and raw TCP to it;
// mints JWTs by hand. Every object here is for one thread, except where said otherwise.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "verify/Base64Url.h"
#include "verify/Sha256.h"

namespace it {

using json = nlohmann::json;
using Headers = std::vector<std::string>;  // "Name: value" lines, as curl takes them
namespace fs = std::filesystem;

// ---------------------------------------------------------------- small utilities

std::string randomString(size_t length);  // [A-Za-z0-9]
std::string uniqueEmail(const std::string& prefix = "user");
std::string lower(std::string s);
bool containsI(std::string_view haystack, std::string_view needle);  // case-insensitive
std::string readFileBytes(const fs::path& path);
std::vector<std::string> splitLines(const std::string& text);
long long nowSeconds();
// Sleeps until 20 ms past the next whole wall-clock second, so that a token or family with a
// 1 s lifetime stored in whole seconds really lives about a second.
void alignToSecondBoundary();

// The verify library's codec (the project has one).
using authsvc::verify::base64UrlDecode;
using authsvc::verify::base64UrlEncode;

// ---------------------------------------------------------------- JWT

// header.payload.signature with HMAC-SHA256 over `secret` (whatever header["alg"] says).
std::string signHs256(const json& header, const json& payload, std::string_view secret);
// The same over header and payload given as text (JSON no json object can hold, e.g. a
// member named twice).
std::string signHs256Text(std::string_view header, std::string_view payload,
                          std::string_view secret);
// header.payload.signature signed with the private key in `privatePem` (EC P-256: ES256 as
// JOSE R||S; RSA: RS256), whatever header["alg"] says.
std::string signWithPem(const json& header, const json& payload, const std::string& privatePem);
// The SPKI PEM of the public half of `privatePem`.
std::string publicPemOf(const std::string& privatePem);
// Claims the service accepts with its default config: iss, aud, sub, iat, exp (+300 s), jti, sid.
json validClaims(const std::string& sub);
json defaultJwtHeader();  // {"alg":"HS256","typ":"JWT"}
// The decoded header and payload of a compact JWT; nullopt if malformed.
std::optional<std::pair<json, json>> decodeJwt(const std::string& token);
// True if the token's signature is a valid HMAC-SHA256 under `secret`.
bool verifyHs256(const std::string& token, std::string_view secret);

// ---------------------------------------------------------------- HTTP

struct HttpResponse {
    long status = 0;  // 0: transport failure (see error)
    std::string error;
    std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
    std::string body;
    long newConnections = 0;  // CURLINFO_NUM_CONNECTS for this request
    double seconds = 0;

    std::optional<std::string> header(std::string_view name) const;
    bool hasHeader(std::string_view name) const { return header(name).has_value(); }
    json jsonBody() const;          // discarded value if the body is not JSON
    std::string errorCode() const;  // body["error"] or ""
    std::string message() const;    // body["message"] or ""
};

std::ostream& operator<<(std::ostream& os, const HttpResponse& r);

// Whose answers a client receives. authsvc's are recorded for scripts/check-openapi.py
// when AUTHSVC_TEST_RESPONSE_LOG names a file: one JSON line per response (method, path as
// requested, status, headers, body, the current test), appended under an exclusive flock so
// that threads and the parallel test processes never interleave lines. Raw TCP
// (RawConnection) is never recorded: its requests are often not HTTP a path can be read from.
enum class Peer { Authsvc, OtherService };

class HttpClient {
  public:
    explicit HttpClient(int port, Peer peer = Peer::Authsvc);
    ~HttpClient();
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    void setPort(int port) { port_ = port; }
    void setTimeoutMs(long ms) { timeoutMs_ = ms; }

    // body nullopt: no body. A body without a Content-Type in `headers` is sent without one.
    HttpResponse request(const std::string& method, const std::string& path,
                         const std::optional<std::string>& body = std::nullopt,
                         const Headers& headers = {});
    HttpResponse get(const std::string& path, const Headers& headers = {});
    HttpResponse postJson(const std::string& path, const json& body, const Headers& headers = {});
    HttpResponse postRaw(const std::string& path, const std::string& body,
                         const std::string& contentType, const Headers& headers = {});
    HttpResponse getWithToken(const std::string& path, const std::string& accessToken);

  private:
    void* curl_;
    int port_;
    Peer peer_;
    long timeoutMs_ = 15000;
};

// ---------------------------------------------------------------- raw TCP

struct RawResponse {
    std::string raw;
    int status = 0;  // 0 if no status line was read
    bool closed = false;
    bool timedOut = false;
    std::string body() const;
};

class RawConnection {
  public:
    explicit RawConnection(int port);  // connects to 127.0.0.1:port; ok() tells if it did
    ~RawConnection();
    RawConnection(const RawConnection&) = delete;
    RawConnection& operator=(const RawConnection&) = delete;

    bool ok() const { return fd_ >= 0; }
    bool send(std::string_view data);
    // Reads one HTTP response (headers + Content-Length body), or until EOF / timeout.
    RawResponse readResponse(std::chrono::milliseconds timeout);
    // Reads until the peer closes or the timeout passes.
    RawResponse readUntilClosed(std::chrono::milliseconds timeout);
    // shutdown(SHUT_WR): the server reads EOF, this side can still read (nc -N).
    void shutdownWrite();
    void close();

  private:
    enum class ReadStep { Data, Closed, TimedOut };
    // Waits until `deadline` for bytes and appends what arrives to buffer_.
    ReadStep readSome(std::chrono::steady_clock::time_point deadline);

    int fd_ = -1;
    std::string buffer_;
};

// ---------------------------------------------------------------- the server

std::string toYaml(const json& config);  // block-style YAML with JSON-quoted strings

class ServerProcess {
  public:
    // `overrides` is merged (RFC 7396) over the default test config.
    explicit ServerProcess(const json& overrides = json::object(),
                           std::map<std::string, std::string> env = {});
    ~ServerProcess();
    ServerProcess(const ServerProcess&) = delete;
    ServerProcess& operator=(const ServerProcess&) = delete;

    // Writes the config, forks, waits (bounded) until /healthz and /readyz are 200.
    bool start();
    // Like start(), but waits only for /healthz (the database may be down: /readyz may be 503).
    bool startLive();
    int stop(int signal = 15 /*SIGTERM*/);    // exit status; 128+N if killed by signal N; -1 hung
    bool restart(int* stopStatus = nullptr);  // same DB file, same port if possible
    bool running();
    void kill9();
    // Sends `signal` (e.g. SIGHUP: reload the keys) without waiting for anything.
    bool signal(int signal);

    int port() const { return port_; }
    pid_t pid() const { return pid_; }
    const fs::path& dir() const { return dir_; }
    fs::path dbPath() const { return dir_ / "authsvc.db"; }
    fs::path configPath() const { return dir_ / "config.yaml"; }
    fs::path logPath() const { return dir_ / "server.log"; }
    const std::string& secret() const { return secret_; }
    json& config() { return config_; }
    std::string log() const;
    std::string logTail(size_t bytes = 4000) const;
    // Waits until the log contains `needle` (up to timeout); returns the log.
    std::string waitForLog(const std::string& needle, std::chrono::milliseconds timeout);

    // Writes config.yaml (with a free port) without starting; for CLI tests.
    void writeConfig();
    // Wait for /healthz on this port instead of the config file's (environment override tests).
    void probeOn(int port) { probePort_ = port; }
    // Starts the server with RLIMIT_NOFILE (soft and hard) set to `limit` (0: inherited).
    void setFileLimit(long limit) { fileLimit_ = limit; }

    // The database section of this server's config, with its backend named explicitly (creating
    // the PostgreSQL database now if it is not there yet). Merge it into the overrides of a
    // second ServerProcess to run it on the SAME database (scale-out); only the first one drops
    // the database.
    json sharedDatabaseOverrides();
    // The PostgreSQL database this server owns ("" on SQLite, or before writeConfig/start).
    const std::string& pgDatabase() const { return pgDatabase_; }
    // The DSN of this server's PostgreSQL database ("" on SQLite).
    std::string pgDsn() const;
    // The DSN of this server's MariaDB/MySQL database ("" on the others).
    std::string mysqlDsn() const;
    // The name of a table (PostgreSQL, schema public) containing `containing` and not
    // `notContaining` in its name.
    std::optional<std::string> pgFindTable(const std::string& containing,
                                           const std::string& notContaining = "");

  private:
    bool startOnce();
    void ensureDatabase();

    bool createPgDatabase_ = false;
    std::string pgDatabase_;     // created by this object in PostgreSQL mode; dropped at the end
    std::string mysqlDatabase_;  // the same in MariaDB mode
    bool waitForReady_ = true;

    fs::path dir_;
    std::string secret_;
    json config_;
    std::map<std::string, std::string> env_;
    int port_ = 0;
    pid_t pid_ = -1;
    int probePort_ = 0;
    long fileLimit_ = 0;
};

int freePort();

// The example resource service (examples/resource_service, RESOURCE_SERVICE_BINARY) on a
// port of its own choosing; its stdout and stderr go to a log file in a temp dir.
class ResourceServiceProcess {
  public:
    ResourceServiceProcess(std::string jwksUrl, std::string issuer, std::string audience);
    ~ResourceServiceProcess();
    ResourceServiceProcess(const ResourceServiceProcess&) = delete;
    ResourceServiceProcess& operator=(const ResourceServiceProcess&) = delete;

    // Starts it with --port 0 and waits (bounded) for its "listening on HOST:PORT" line.
    bool start();
    int stop();  // exit status as ServerProcess::stop
    int port() const { return port_; }
    std::string log() const;

  private:
    std::vector<std::string> args_;
    fs::path dir_;
    pid_t pid_ = -1;
    int port_ = 0;
};

// ---------------------------------------------------------------- mail

// A real SMTP server (tests/integration/support/smtp_sink.py on Debian's python3-aiosmtpd) on
// 127.0.0.1:port (0: a free one) that writes each message it accepts to a file. start() and
// stop() may be called repeatedly (an outage); the messages stay across them.
class SmtpSink {
  public:
    explicit SmtpSink(int port = 0);
    ~SmtpSink();
    SmtpSink(const SmtpSink&) = delete;
    SmtpSink& operator=(const SmtpSink&) = delete;

    bool start();  // waits (bounded) until it listens
    void stop();
    int port() const { return port_; }
    std::string url() const { return "smtp://127.0.0.1:" + std::to_string(port_); }
    // Every message received so far, in arrival order, each with an "X-Envelope-To:" line first.
    std::vector<std::string> messages() const;
    // Waits until `n` messages containing `containing` arrived (or the timeout); returns them.
    std::vector<std::string> waitForMessages(size_t n, std::chrono::milliseconds timeout,
                                             const std::string& containing = "") const;

  private:
    int port_;
    fs::path dir_;
    pid_t pid_ = -1;
};

// The token of the first link "<path>?token=..." in a message ("" if there is none).
std::string linkTokenIn(const std::string& message, const std::string& path = "/reset");

// ---------------------------------------------------------------- backends

// The suite runs once per backend (AUTHSVC_TEST_BACKEND: sqlite, postgresql). A suite whose
// servers behave the same on either backend (it tests the connection layer, tokens and keys,
// configuration or logging; or it brings its own database, as PgOutageAnyBackendTest) says so
// in its name: it ends in "AnyBackendTest" (for a parameterized suite, the fixture's name:
// Keys/ResourceServiceAlgorithmAnyBackendTest). The PostgreSQL run leaves out
// *AnyBackendTest.* (tests/CMakeLists.txt); every other suite runs on both backends.

// True when AUTHSVC_TEST_BACKEND=postgresql (or pgbouncer): every ServerProcess whose overrides
// do not name a database.backend gets a fresh database t_<random> on AUTHSVC_TEST_PG_DSN's server.
bool pgMode();
// True when AUTHSVC_TEST_BACKEND=mysql: the same with a database on the MariaDB server of
// AUTHSVC_TEST_MYSQL_DSN (SOCI's form, without db=; scripts/mariadb.sh starts one).
bool mysqlMode();
// PostgreSQL or MariaDB: a database server that several instances may share.
inline bool serverDbMode() {
    return pgMode() || mysqlMode();
}
// Skips the current test on a database server (use as `SKIP_IF_POSTGRESQL("reads the file");`).
#define SKIP_IF_POSTGRESQL(reason)                                             \
    do {                                                                       \
        if (::it::serverDbMode()) GTEST_SKIP() << "SQLite only: " << (reason); \
    } while (0)

// Runs SQL statements on a PostgreSQL server through libpq; throws std::runtime_error on failure.
// Returns the first column of the last statement's rows.
std::vector<std::string> pgExec(const std::string& dsn, const std::string& sql);
// The same on MariaDB/MySQL (SOCI): `sql` may hold several statements separated by ";" (one
// session, in order); the session has PIPES_AS_CONCAT, so || concatenates as elsewhere.
std::vector<std::string> mysqlExec(const std::string& dsn, const std::string& sql);

// A database server of a test's own in a temp dir on a free port, which the test stops, kills
// and starts again through a script of scripts/ ("start DIR PORT" prints the DSN, "stop DIR").
// Stopped, and its directory removed, in the destructor.
class TempDatabaseServer {
  public:
    TempDatabaseServer(const std::string& script, const std::string& prefix);
    virtual ~TempDatabaseServer();
    TempDatabaseServer(const TempDatabaseServer&) = delete;
    TempDatabaseServer& operator=(const TempDatabaseServer&) = delete;

    // Initialises on first use; false (with lastError()) if the script failed.
    bool start();
    bool stop();
    // SIGKILL (a crash) of the server's processes, waiting until they are gone; start() then
    // runs crash recovery. False (with lastError()) if it was not running.
    virtual bool kill9() = 0;
    const std::string& dsn() const { return dsn_; }  // of database "authsvc"
    int port() const { return port_; }
    const std::string& lastError() const { return lastError_; }

  protected:
    // The server's log, shown when start() fails.
    virtual fs::path logFile() const = 0;
    // Waits until `pid` is gone (or a zombie nobody reaps).
    bool waitGone(pid_t pid);

    const std::string script_;
    fs::path dir_;
    fs::path data_;  // dir_/db: the script's DIR
    int port_ = 0;
    std::string dsn_;
    std::string lastError_;
    bool started_ = false;
};

// True in the pgbouncer.* run (AUTHSVC_TEST_BACKEND=pgbouncer, tests/CMakeLists.txt): pgMode()
// too, and every server reaches its database through the PgBouncer of
// AUTHSVC_TEST_PGBOUNCER_DSN (prepared_statements false; true with
// AUTHSVC_TEST_PGBOUNCER_PREPARED_STATEMENTS=true, to see what fails behind it).
bool pgBouncerMode();
// The port of the PostgreSQL server of AUTHSVC_TEST_PG_DSN (0 if it names none).
int pgServerPort();

// A throwaway PgBouncer of its own (scripts/pgbouncer.sh: transaction pooling, every database
// of the PostgreSQL server on `pgPort` under its name) in a temp dir on a free port, for
// tests that kill, restart or pause it. Stopped, and its directory removed, in the destructor.
class TempPgBouncer {
  public:
    // `pool`: server connections per database; `queryWaitSeconds`: query_wait_timeout.
    TempPgBouncer(int pgPort, int pool, int queryWaitSeconds);
    ~TempPgBouncer();
    TempPgBouncer(const TempPgBouncer&) = delete;
    TempPgBouncer& operator=(const TempPgBouncer&) = delete;

    bool start();  // on the same port as before once it ran; false (lastError()) on failure
    bool stop();
    bool kill9();  // SIGKILL, and waits until it is gone
    // A command on its admin console (PAUSE, RESUME, SHOW POOLS ...); throws on failure.
    std::vector<std::string> admin(const std::string& command);
    std::string dsn(const std::string& dbname) const;
    const std::string& lastError() const { return lastError_; }

  private:
    fs::path dir_;
    int pgPort_, pool_, queryWaitSeconds_;
    int port_ = 0;
    std::string lastError_;
};

// A throwaway PostgreSQL of its own (scripts/pg.sh). kill9() kills the postmaster and every
// process it started (a crash of the whole server: no shutdown checkpoint, a stale
// postmaster.pid).
class TempPostgres : public TempDatabaseServer {
  public:
    TempPostgres();
    bool kill9() override;

  private:
    fs::path logFile() const override { return data_ / "log" / "pg.log"; }
};

// A throwaway MariaDB of its own (scripts/mariadb.sh): one mariadbd process.
class TempMariadb : public TempDatabaseServer {
  public:
    TempMariadb() : TempDatabaseServer("mariadb.sh", "authsvc-mariadb-") {}
    bool kill9() override;

  private:
    fs::path logFile() const override { return data_ / "err.log"; }
};

// ---------------------------------------------------------------- the CLI

struct CommandResult {
    int exitCode = -1;  // 128+N if killed by signal N
    bool timedOut = false;
    std::string out;
    std::string err;
};

// Runs AUTHSVC_BINARY with args in `workDir`, stdin from `stdinData`, AUTHSVC_* removed from the
// environment and `env` added.
CommandResult runAuthsvc(const std::vector<std::string>& args, const fs::path& workDir,
                         const std::string& stdinData = "",
                         const std::map<std::string, std::string>& env = {},
                         std::chrono::milliseconds timeout = std::chrono::seconds(20));
// Runs any program (argv[0] a path) the same way.
CommandResult runCommand(const std::vector<std::string>& argv, const fs::path& workDir,
                         std::chrono::milliseconds timeout = std::chrono::seconds(60));

// ---------------------------------------------------------------- SQLite, from outside

// Opens the service's SQLite file directly (for tests that simulate an operator or a fault).
class SqliteAdmin {
  public:
    explicit SqliteAdmin(const fs::path& dbPath);
    ~SqliteAdmin();
    void exec(const std::string& sql);  // throws std::exception on failure
    // The first column of each row as text ("" for NULL), like pgExec.
    std::vector<std::string> column(const std::string& sql);
    std::vector<std::string> tables();
    std::optional<std::string> findTable(const std::string& containing,
                                         const std::string& notContaining = "");

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// ---------------------------------------------------------------- domain helpers

struct Tokens {
    std::string access;
    std::string refresh;
    json body;
};

HttpResponse registerUser(HttpClient& c, const std::string& email, const std::string& password);
HttpResponse loginRaw(HttpClient& c, const std::string& email, const std::string& password,
                      const std::string& path = "/api/login");
// Logs in and returns the tokens; records a gtest failure if the login did not give 200.
Tokens login(HttpClient& c, const std::string& email, const std::string& password);
HttpResponse refresh(HttpClient& c, const std::string& refreshToken,
                     const std::string& path = "/api/refresh_token",
                     const std::string& field = "refresh_token");

// ---------------------------------------------------------------- OAuth 2.0 forms

// The two routes that rotate a refresh token under the same rules (retry grace, reuse
// detection, one successor): POST /api/refresh_token (JSON) and POST /oauth/token with
// grant_type=refresh_token (a form, RFC 6749 6). The rotation tests run through both
// (TEST_P over RefreshRoute, named by refreshRouteName); only the refusals differ
// (docs/API.md): 401 invalid_grant there, 400 invalid_grant in the RFC's envelope here.
enum class RefreshRoute { Json, OAuthToken };
::testing::internal::ParamGenerator<RefreshRoute> bothRefreshRoutes();  // Json, OAuthToken
std::string refreshRouteName(const ::testing::TestParamInfo<RefreshRoute>& info);
HttpResponse refreshVia(HttpClient& c, RefreshRoute route, const std::string& refreshToken);
// The route's refusal of a refresh token: 401 / 400 invalid_grant, nothing issued.
void expectRefreshRefused(const HttpResponse& r, RefreshRoute route, const std::string& label = "");

// a=b&c=d with the values percent-encoded (every byte but unreserved ones).
std::string formOf(const std::vector<std::pair<std::string, std::string>>& fields);
inline const std::string kForm = "application/x-www-form-urlencoded";
// Cache-Control: no-store and Pragma: no-cache (RFC 6749 5.1).
void expectNoStore(const HttpResponse& r);
// The RFC 6749 5.2 answer: status, error, error_description == message, no caching.
void expectOAuthError(const HttpResponse& r, long status, const std::string& error);

// `perInstance` refreshes of `token` at each port at once, each from its own thread and
// connection, released together so that they really overlap (races on one token). With
// several `routes`, each instance gets them in turn.
std::vector<HttpResponse> refreshEverywhere(const std::vector<int>& ports, const std::string& token,
                                            int perInstance,
                                            const std::vector<RefreshRoute>& routes = {
                                                RefreshRoute::Json});

inline const std::string kPassword = "correct horse battery";
inline const std::string kRealm = "Bearer realm=\"authsvc\"";

// ---------------------------------------------------------------- load during an outage

// Why a response seen while the database (or PgBouncer before it) may be away is wrong, or ""
// if it is acceptable: one of `allowed`, or 503 `unavailable` with a numeric Retry-After;
// either within `maxSeconds`.
std::string problemDuringOutage(const HttpResponse& r, std::initializer_list<long> allowed,
                                double maxSeconds = 3.0);

// Threads calling login, refresh and /api/me in a loop, one per email (registered with
// kPassword), recording every answer and what is wrong with it (problemDuringOutage; a
// refresh may be 401 only right after a failed one). Counters may be read from any thread.
class OutageLoad {
  public:
    OutageLoad(int port, const std::vector<std::string>& emails);
    ~OutageLoad();
    OutageLoad(const OutageLoad&) = delete;
    OutageLoad& operator=(const OutageLoad&) = delete;
    void stop();
    int ok() const { return ok_; }
    int unavailable() const { return unavailable_; }
    int total() const { return total_; }
    std::vector<std::string> problems();
    std::map<long, int> statuses();  // how many answers of each status

  private:
    void record(const char* what, const HttpResponse& r, std::initializer_list<long> allowed);
    void run(int port, const std::string& email);

    std::vector<std::thread> threads_;
    std::atomic<bool> stop_{false};
    std::atomic<int> ok_{0}, unavailable_{0}, total_{0};
    std::mutex mu_;
    std::vector<std::string> problems_;
    std::map<long, int> statuses_;
};

// A fresh server per test; subclasses override overrides() to change config keys.
class ServiceTest : public ::testing::Test {
  protected:
    virtual json overrides() const { return json::object(); }
    virtual std::map<std::string, std::string> environment() const { return {}; }

    void SetUp() override;
    void TearDown() override;
    bool restartServer(int* stopStatus = nullptr);

    // Registers a fresh user (201 asserted by EXPECT) and returns {email, id}.
    std::pair<std::string, long long> newUser(const std::string& password = kPassword);

    std::unique_ptr<ServerProcess> server;
    std::unique_ptr<HttpClient> client;
};

// Expects the shared error envelope {"error": code, "message": non-empty string}.
void expectError(const HttpResponse& r, long status, const std::string& code);

}  // namespace it
