// What the MariaDB/MySQL backend needs beyond what Database does for every backend: how a
// session is opened and set up, and what a server error number means. Kept apart from
// Database.cpp so that the backends' code stays side by side, each small. Any thread may
// call these on a session it holds.
#pragma once

#include <chrono>
#include <string>

#include "models/Soci.h"

namespace authsvc::models {

// Opens `s` on `dsn` (SOCI's MySQL form: "host=... port=... db=... user=... [password=...]")
// with utf8mb4 and timeouts from `timeout`, then sets the session up as every repository
// expects it: READ COMMITTED (a statement sees what others committed, as on PostgreSQL),
// strict SQL mode, InnoDB lock waits bounded by `timeout`, room for roles in GROUP_CONCAT.
void openMysql(soci::session& s, const std::string& dsn, std::chrono::milliseconds timeout);

// The server's (or client library's) error number of a MySQL error; 0 for any other error.
unsigned mysqlErrorNumber(const soci::soci_error& e);

// A MySQL error that is not ours: the server is gone or unreachable (2002, 2003, 2006, 2013,
// 2055), refuses connections (1040), shuts down (1053), is full (1021, 1114), read-only
// (1290), not yet part of a cluster (1047), or a lock wait or deadlock (1205, 1213) lost.
bool mysqlErrorIsUnavailable(const soci::soci_error& e);

// True when `s` is a MariaDB/MySQL session: the repositories pick their SQL by it.
inline bool isMysql(soci::session& s) {
    return s.get_backend_name() == "mysql";
}

// A duplicate key (1062): an INSERT that found its unique key taken.
bool isMysqlDuplicateKey(const soci::soci_error& e);

}  // namespace authsvc::models
