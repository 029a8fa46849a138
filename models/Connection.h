// Connection: a leased SOCI session together with the statements prepared on it, so that
// a hot statement is parsed (SQLite) or PQprepare'd (PostgreSQL) once per pooled session
// instead of once per call. Handed out by Database::read()/write(); converts to
// soci::session& for code that runs one-off statements. Belongs to one thread, like a lease.
//
// A prepared statement is a struct T with the statement and the variables it is bound to
// (soci::use/soci::into keep references): T(soci::session&) prepares it, callers set the
// use-variables, execute, and read the into-variables. Database forgets every statement of
// a session when anything on it throws, and before the session is reopened after a failure
// (a statement must not outlive the connection it was prepared on).
#pragma once

#include <memory>
#include <unordered_map>

#include "models/Soci.h"

namespace authsvc::models {

class PreparedStatements {
  public:
    PreparedStatements() = default;
    PreparedStatements(const PreparedStatements&) = delete;
    PreparedStatements& operator=(const PreparedStatements&) = delete;

    template <typename T>
    T& get(soci::session& s) {
        const void* key = &typeid(T);
        auto it = byKey_.find(key);
        if (it == byKey_.end()) it = byKey_.emplace(key, std::make_shared<T>(s)).first;
        return *static_cast<T*>(it->second.get());
    }
    void clear() { byKey_.clear(); }
    size_t size() const { return byKey_.size(); }

  private:
    std::unordered_map<const void*, std::shared_ptr<void>> byKey_;
};

class Connection {
  public:
    Connection(soci::session& s, PreparedStatements& prepared, bool sqlite)
        : s_(s), prepared_(prepared), sqlite_(sqlite) {}
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    soci::session& session() { return s_; }
    operator soci::session&() { return s_; }  // NOLINT(google-explicit-constructor)

    // The statement T prepared on this session (prepared now if it is not yet).
    template <typename T>
    T& prepared() {
        return prepared_.get<T>(s_);
    }
    // Forgets the statements prepared on this session (they are prepared again on use).
    void forgetPrepared() { prepared_.clear(); }
    // Executes a prepared statement that returns no rows.
    void execute(soci::statement& st) { st.execute(true); }
    // Executes a prepared INSERT, UPDATE or DELETE; returns the rows it changed.
    long long change(soci::statement& st) {
        st.execute(true);
        return st.get_affected_rows();
    }
    // Executes a prepared query of at most one row; when there is one, read() takes the
    // into-variables. Returns whether there was a row. On SQLite the statement is then run
    // to its end: a statement left on a row keeps its read transaction (and so an old WAL
    // snapshot) open after COMMIT, which would pin checkpoints and make the next
    // BEGIN IMMEDIATE on this connection fail.
    template <typename F>
    bool queryOne(soci::statement& st, F&& read) {
        if (!st.execute(true)) return false;
        read();
        if (sqlite_) st.fetch();
        return true;
    }

  private:
    soci::session& s_;
    PreparedStatements& prepared_;
    const bool sqlite_;
};

}  // namespace authsvc::models
