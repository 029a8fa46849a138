// Which PostgreSQL errors are not ours: the server, a pooler in front of it (PgBouncer) or
// the network between failed or is overloaded, and the same request may well succeed a
// moment later (Database maps them to DatabaseUnavailable: 503 + Retry-After). Everything
// else (a constraint, a syntax error, a type the code got wrong) is ours: 500.
// A pure function; any thread.
#pragma once

#include <string>

namespace authsvc::models {

// `sqlstate`: the five characters of the error ("     " or "" when libpq had none: the
// connection broke before an answer); `message`: the error's text.
bool isPostgresqlUnavailable(const std::string& sqlstate, const std::string& message);

// For the log line of a prepared statement missing (26000) or already there (42P05): what
// it almost always means (a pooler in transaction mode in front of PostgreSQL, with
// prepared_statements true) and the setting; "" for any other error.
std::string namedStatementHint(const std::string& sqlstate);

}  // namespace authsvc::models
