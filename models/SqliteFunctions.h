// SQL functions the migrations use on SQLite that Debian 12's SQLite (3.40) lacks.
#pragma once

#include "models/Soci.h"

namespace authsvc::models {

// Defines unhex(X) on this SQLite session, as SQLite 3.41 has it for what the migrations
// feed it: the BLOB of the bytes of even-length hex text X (either case); NULL for NULL,
// for odd-length text and for any character that is not a hex digit. Replaces a built-in
// unhex() on newer SQLite for this session, with the same result for those inputs. The
// session must be an SQLite one.
void defineSqliteUnhex(soci::session& s);

}  // namespace authsvc::models
