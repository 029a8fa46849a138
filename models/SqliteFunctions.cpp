#include "models/SqliteFunctions.h"

#include <soci/sqlite3/soci-sqlite3.h>  // declares SQLite's API in namespace sqlite_api

#include <stdexcept>
#include <string_view>

#include "common/Crypto.h"

namespace authsvc::models {
namespace {

using namespace sqlite_api;

void unhexFunction(sqlite3_context* ctx, int /*argc*/, sqlite3_value** argv) {
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
        sqlite3_result_null(ctx);
        return;
    }
    const auto* text = reinterpret_cast<const char*>(sqlite3_value_text(argv[0]));
    const int length = sqlite3_value_bytes(argv[0]);
    if (!text) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    auto bytes = crypto::unhex(std::string_view(text, size_t(length)));
    if (!bytes) {
        sqlite3_result_null(ctx);
        return;
    }
    sqlite3_result_blob(ctx, bytes->data(), int(bytes->size()), SQLITE_TRANSIENT);
}

}  // namespace

void defineSqliteUnhex(soci::session& s) {
    // By name: Debian's SOCI exports no type information for its backends.
    if (!s.get_backend() || s.get_backend_name() != "sqlite3") {
        throw std::logic_error("defineSqliteUnhex: not an SQLite session");
    }
    auto* backend = static_cast<soci::sqlite3_session_backend*>(s.get_backend());
    if (sqlite3_create_function_v2(backend->conn_, "unhex", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
                                   nullptr, &unhexFunction, nullptr, nullptr,
                                   nullptr) != SQLITE_OK) {
        throw std::runtime_error(std::string("cannot define unhex(): ") +
                                 sqlite3_errmsg(backend->conn_));
    }
}

}  // namespace authsvc::models
