#include "models/PostgresqlErrors.h"

#include <array>
#include <string_view>

namespace authsvc::models {

namespace {

bool startsWith(const std::string& s, std::string_view prefix) {
    return s.compare(0, prefix.size(), prefix) == 0;
}

// Texts of libpq when the connection broke (no SQLSTATE), and of PgBouncer 1.18, which sends
// its own errors as 08P01 and closes the client connection: matched too in case one reaches
// us without its SQLSTATE.
constexpr std::array<std::string_view, 16> kUnavailableTexts = {
    "server closed the connection unexpectedly",
    "no connection to the server",
    "could not receive data from server",
    "could not send data to server",
    "connection to server",  // "... failed", "... was lost"
    "terminating connection",
    "the database system is",  // starting up, shutting down, in recovery mode
    "query_wait_timeout",
    "server conn crashed",
    "no more connections allowed",
    "pgbouncer cannot connect to server",
    "server login has been failing",
    "client_login_timeout",
    "database is paused",  // pgbouncer: PAUSE/SUSPEND
    "pooler error",
    "SSL SYSCALL error",
};

}  // namespace

bool isPostgresqlUnavailable(const std::string& sqlstate, const std::string& message) {
    // 08: connection exception (08P01 is PgBouncer's own errors: pool exhausted past
    // query_wait_timeout, no more connections allowed, cannot connect to the server);
    // 57P: operator intervention (admin shutdown, crash shutdown, cannot connect now);
    // 53: insufficient resources (too many connections, out of memory, disk full);
    // 58: system error (I/O) of the server.
    for (std::string_view cls : {"08", "57P", "53", "58"}) {
        if (startsWith(sqlstate, cls)) return true;
    }
    // The texts only when the server sent no SQLSTATE: a server's message may quote values
    // of the request (DETAIL: Key (email)=(...)), which must not decide this.
    if (sqlstate.find_first_not_of(' ') != std::string::npos) return false;
    for (std::string_view text : kUnavailableTexts) {
        if (message.find(text) != std::string::npos) return true;
    }
    return false;
}

std::string namedStatementHint(const std::string& sqlstate) {
    if (sqlstate != "26000" && sqlstate != "42P05") return "";
    return " (a connection pooler in transaction mode in front of PostgreSQL, e.g. PgBouncer? "
           "set database.postgresql.prepared_statements: false)";
}

}  // namespace authsvc::models
