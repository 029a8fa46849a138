#include "models/MysqlDialect.h"

#include <soci/mysql/soci-mysql.h>

#include <algorithm>

namespace authsvc::models {

namespace {
bool hasKey(const std::string& dsn, const std::string& key) {
    for (size_t at = dsn.find(key + "="); at != std::string::npos;
         at = dsn.find(key + "=", at + 1)) {
        if (at == 0 || dsn[at - 1] == ' ') return true;
    }
    return false;
}
}  // namespace

void openMysql(soci::session& s, const std::string& dsn, std::chrono::milliseconds timeout) {
    const long seconds = std::max<long>(1, long(timeout.count() / 1000));
    std::string cs = dsn;
    if (!hasKey(cs, "charset")) cs += " charset=utf8mb4";
    if (!hasKey(cs, "connect_timeout")) cs += " connect_timeout=" + std::to_string(seconds);
    // A statement waits at most for a lock (below) and then some: a server that stops
    // answering is seen as gone instead of holding the request.
    const std::string io = std::to_string(std::max<long>(30, 3 * seconds));
    if (!hasKey(cs, "read_timeout")) cs += " read_timeout=" + io;
    if (!hasKey(cs, "write_timeout")) cs += " write_timeout=" + io;
    s.open(soci::mysql, cs);
    s << "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED";
    s << "SET SESSION sql_mode = 'STRICT_ALL_TABLES,ERROR_FOR_DIVISION_BY_ZERO,"
         "NO_ENGINE_SUBSTITUTION'";
    s << "SET SESSION innodb_lock_wait_timeout = " + std::to_string(seconds);
    s << "SET SESSION group_concat_max_len = 1048576";
}

unsigned mysqlErrorNumber(const soci::soci_error& e) {
    if (auto* my = dynamic_cast<const soci::mysql_soci_error*>(&e)) return my->err_num_;
    return 0;
}

bool mysqlErrorIsUnavailable(const soci::soci_error& e) {
    switch (mysqlErrorNumber(e)) {
        case 1021:  // ER_DISK_FULL
        case 1040:  // ER_CON_COUNT_ERROR: too many connections
        case 1047:  // ER_UNKNOWN_COM_ERROR: a Galera node not ready (WSREP not prepared)
        case 1053:  // ER_SERVER_SHUTDOWN
        case 1114:  // ER_RECORD_FILE_FULL: the table is full
        case 1205:  // ER_LOCK_WAIT_TIMEOUT
        case 1213:  // ER_LOCK_DEADLOCK (on Galera also a lost certification)
        case 1290:  // ER_OPTION_PREVENTS_STATEMENT: --read-only
        case 1927:  // ER_CONNECTION_KILLED
        case 2002:  // CR_CONNECTION_ERROR (socket)
        case 2003:  // CR_CONN_HOST_ERROR
        case 2006:  // CR_SERVER_GONE_ERROR
        case 2013:  // CR_SERVER_LOST
        case 2055:  // CR_SERVER_LOST_EXTENDED
            return true;
        default:
            return false;
    }
}

bool isMysqlDuplicateKey(const soci::soci_error& e) {
    return mysqlErrorNumber(e) == 1062;  // ER_DUP_ENTRY
}

}  // namespace authsvc::models
