#include "models/UnnamedStatements.h"

#include <libpq-fe.h>
#include <soci/postgresql/soci-postgresql.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

// libsoci_postgresql exports only its factory and error class, not its backend classes: the
// wrappers below hold SOCI's PostgreSQL backend through pointers to SOCI's base classes and
// reach it by virtual calls only (and the session's public conn_), never by deriving from it
// or by a call the compiler could turn into a direct one to an unexported symbol.
namespace authsvc::models {

namespace {

using soci::details::statement_backend;
using soci::details::statement_type;

// SOCI's statement, every query prepared as one-time: executed as PQexecParams (or PQexec
// without parameters), never PQprepare'd.
class UnnamedStatement final : public statement_backend {
  public:
    explicit UnnamedStatement(statement_backend* inner) : inner_(inner) {}

    void prepare(std::string const& query, statement_type) override {
        inner_->prepare(query, soci::details::st_one_time_query);
    }

    void alloc() override { inner_->alloc(); }
    void clean_up() override { inner_->clean_up(); }
    exec_fetch_result execute(int number) override { return inner_->execute(number); }
    exec_fetch_result fetch(int number) override { return inner_->fetch(number); }
    long long get_affected_rows() override { return inner_->get_affected_rows(); }
    int get_number_of_rows() override { return inner_->get_number_of_rows(); }
    std::string get_parameter_name(int index) const override {
        return inner_->get_parameter_name(index);
    }
    std::string rewrite_for_procedure_call(std::string const& query) override {
        return inner_->rewrite_for_procedure_call(query);
    }
    int prepare_for_describe() override { return inner_->prepare_for_describe(); }
    void describe_column(int colNum, soci::data_type& dtype, std::string& name) override {
        inner_->describe_column(colNum, dtype, name);
    }
    soci::details::standard_into_type_backend* make_into_type_backend() override {
        return inner_->make_into_type_backend();
    }
    soci::details::standard_use_type_backend* make_use_type_backend() override {
        return inner_->make_use_type_backend();
    }
    soci::details::vector_into_type_backend* make_vector_into_type_backend() override {
        return inner_->make_vector_into_type_backend();
    }
    soci::details::vector_use_type_backend* make_vector_use_type_backend() override {
        return inner_->make_vector_use_type_backend();
    }

  private:
    std::unique_ptr<statement_backend> inner_;
};

// Server messages below WARNING are dropped; the others printed as libpq would.
void warningsOnly(void*, const PGresult* res) {
    const char* severity = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
    if (severity && (std::strcmp(severity, "NOTICE") == 0 || std::strcmp(severity, "INFO") == 0 ||
                     std::strcmp(severity, "LOG") == 0 || std::strcmp(severity, "DEBUG") == 0)) {
        return;
    }
    std::fputs(PQresultErrorMessage(res), stderr);
}

// SOCI's PostgreSQL session; its statements are UnnamedStatement.
class UnnamedSession final : public soci::details::session_backend {
  public:
    UnnamedSession(soci::details::session_backend* inner, PGconn* conn) : inner_(inner) {
        if (conn) PQsetNoticeReceiver(conn, warningsOnly, nullptr);
    }

    statement_backend* make_statement_backend() override {
        return new UnnamedStatement(inner_->make_statement_backend());
    }

    bool is_connected() override { return inner_->is_connected(); }
    void begin() override { inner_->begin(); }
    void commit() override { inner_->commit(); }
    void rollback() override { inner_->rollback(); }
    bool get_next_sequence_value(soci::session& s, std::string const& sequence,
                                 long long& value) override {
        return inner_->get_next_sequence_value(s, sequence, value);
    }
    bool get_last_insert_id(soci::session& s, std::string const& table, long long& value) override {
        return inner_->get_last_insert_id(s, table, value);
    }
    std::string get_dummy_from_table() const override { return inner_->get_dummy_from_table(); }
    std::string get_backend_name() const override { return inner_->get_backend_name(); }
    soci::details::rowid_backend* make_rowid_backend() override {
        return inner_->make_rowid_backend();
    }
    soci::details::blob_backend* make_blob_backend() override {
        return inner_->make_blob_backend();
    }

  private:
    std::unique_ptr<soci::details::session_backend> inner_;
};

class UnnamedFactory final : public soci::backend_factory {
  public:
    soci::details::session_backend* make_session(
        soci::connection_parameters const& parameters) const override {
        // The factory as SOCI's dynamic loader gets it: an opaque pointer, so the call
        // stays virtual (soci::postgresql.make_session() would be a direct, unexported call).
        soci::details::session_backend* inner =
            soci::factory_postgresql()->make_session(parameters);
        PGconn* conn = static_cast<soci::postgresql_session_backend*>(inner)->conn_;
        return new UnnamedSession(inner, conn);
    }
};

}  // namespace

const soci::backend_factory& postgresqlWithoutNamedStatements() {
    static const UnnamedFactory factory;
    return factory;
}

}  // namespace authsvc::models
