#include "models/GaleraSession.h"

#include <string>

namespace authsvc::models {

bool useCausalReadsOnGalera(soci::session& s) {
    // MySQL without Galera has no wsrep_on (no row); MariaDB has it, OFF without a cluster.
    std::string value;
    soci::indicator ind = soci::i_null;
    s << "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_VARIABLES"
         " WHERE VARIABLE_NAME = 'WSREP_ON'",
        soci::into(value, ind);
    if (!s.got_data() || ind != soci::i_ok || value != "ON") return false;
    s << "SET SESSION wsrep_sync_wait = 1";
    return true;
}

}  // namespace authsvc::models
