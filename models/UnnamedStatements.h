// PostgreSQL sessions whose statements never outlive their execution on the server, for
// connection poolers in transaction mode (PgBouncer before 1.21, without protocol-level
// prepared statement support): database.postgresql.prepared_statements: false.
//
// SOCI's PostgreSQL backend PQprepare's every `session.prepare << ...` statement under a
// name of its session ("st_N") and executes it later by name; behind a pooler in transaction
// mode the PREPARE and the EXECUTE (and the statement of another authsvc session of the same
// name) land on different server connections: `prepared statement "st_1" already exists`,
// `"st_9" does not exist`. A session opened with this factory is SOCI's own PostgreSQL
// session, except that every statement is prepared as SOCI's one-time query: each execution
// sends its SQL and values together through libpq's unnamed statement (PQexecParams: parse,
// bind and execute in one round trip, in one transaction of the pooler), and nothing is
// left on the server connection. Repositories and Connection::prepared<T>() work unchanged
// (the statement object, with its bound variables, is still kept per pooled session).
// Also: NOTICE and lower from the server are dropped on the client (the session does not
// SET client_min_messages: a SET would stay on whichever server connection the pooler gave).
//
// The factory is stateless; any thread may open sessions with it.
#pragma once

#include "models/Soci.h"

namespace authsvc::models {

// The backend factory to open a PostgreSQL session with (`session.open(factory, dsn)`):
// lives as long as the program (SOCI's reconnect() keeps a pointer to it).
const soci::backend_factory& postgresqlWithoutNamedStatements();

}  // namespace authsvc::models
