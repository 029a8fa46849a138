#include "models/SigningKeyRepository.h"

#include "models/MysqlDialect.h"

namespace authsvc::models {

namespace {

constexpr const char* kListKeys =
    "SELECT kid, algorithm, state, sealed_key, public_jwk, thumbprint, created_ms, promoted_ms, "
    "retired_ms FROM signing_keys ORDER BY created_ms, kid";
constexpr const char* kKeySlotTaken = "SELECT COUNT(*) FROM signing_keys WHERE slot = :slot";
constexpr const char* kInsertKey =
    "INSERT INTO signing_keys (kid, algorithm, state, slot, sealed_key, public_jwk, thumbprint, "
    "created_ms, promoted_ms, retired_ms) VALUES (:kid, :alg, :state, :slot, :sealed, :jwk, "
    ":tp, :created, :promoted, :retired)";
constexpr const char* kRetireKey =
    "UPDATE signing_keys SET state = 'retired', slot = NULL, retired_ms = :now "
    "WHERE kid = :kid AND state = 'current'";
constexpr const char* kPromoteKey =
    "UPDATE signing_keys SET state = 'current', slot = 'current', promoted_ms = :now "
    "WHERE kid = :kid AND state = 'next'";
constexpr const char* kDeleteRetiredKey =
    "DELETE FROM signing_keys WHERE kid = :kid AND state = 'retired'";

int64_t affectedRows(soci::statement& st) {
    st.execute(true);
    return st.get_affected_rows();
}

}  // namespace

std::vector<SigningKeyRow> SigningKeyRepository::list(soci::session& s) const {
    SigningKeyRow r;
    long long created = 0, promoted = 0, retired = 0;
    soci::indicator promotedInd = soci::i_null, retiredInd = soci::i_null;
    soci::statement st =
        (s.prepare << kListKeys, soci::into(r.kid), soci::into(r.algorithm), soci::into(r.state),
         soci::into(r.sealedKey), soci::into(r.publicJwk), soci::into(r.thumbprint),
         soci::into(created), soci::into(promoted, promotedInd), soci::into(retired, retiredInd));
    st.execute();
    std::vector<SigningKeyRow> out;
    while (st.fetch()) {
        SigningKeyRow row = r;
        row.createdMs = created;
        row.promotedMs =
            promotedInd == soci::i_ok ? std::optional<int64_t>(promoted) : std::nullopt;
        row.retiredMs = retiredInd == soci::i_ok ? std::optional<int64_t>(retired) : std::nullopt;
        out.push_back(std::move(row));
    }
    return out;
}

bool SigningKeyRepository::insert(soci::session& s, const SigningKeyRow& row) const {
    const bool slotted = row.state == "next" || row.state == "current";
    std::string slot = slotted ? row.state : std::string();
    soci::indicator slotInd = slotted ? soci::i_ok : soci::i_null;
    if (slotted) {
        long long taken = 0;
        s << kKeySlotTaken, soci::use(slot), soci::into(taken);
        if (taken > 0) return false;
    }
    long long created = row.createdMs, promoted = row.promotedMs.value_or(0),
              retired = row.retiredMs.value_or(0);
    soci::indicator promotedInd = row.promotedMs ? soci::i_ok : soci::i_null;
    soci::indicator retiredInd = row.retiredMs ? soci::i_ok : soci::i_null;
    try {
        s << kInsertKey, soci::use(row.kid), soci::use(row.algorithm), soci::use(row.state),
            soci::use(slot, slotInd), soci::use(row.sealedKey), soci::use(row.publicJwk),
            soci::use(row.thumbprint), soci::use(created), soci::use(promoted, promotedInd),
            soci::use(retired, retiredInd);
    } catch (const soci::soci_error& e) {
        // MySQL: another instance took the slot since the count above (1062, duplicate
        // key; only the statement is undone, the transaction goes on). PostgreSQL's 23505
        // aborts the transaction: it goes to the caller, who takes it as the step lost.
        if (slotted && isMysql(s) && isMysqlDuplicateKey(e)) return false;
        throw;
    }
    return true;
}

bool SigningKeyRepository::promote(soci::session& s, const std::string& nextKid,
                                   const std::string& currentKid, int64_t nowMs) const {
    long long now = nowMs;
    if (!currentKid.empty()) {
        // The current key leaves its slot first: the unique slot is checked per statement.
        soci::statement retire = (s.prepare << kRetireKey, soci::use(now), soci::use(currentKid));
        if (affectedRows(retire) != 1) return false;
    }
    soci::statement promote = (s.prepare << kPromoteKey, soci::use(now), soci::use(nextKid));
    return affectedRows(promote) == 1;
}

bool SigningKeyRepository::deleteRetired(soci::session& s, const std::string& kid) const {
    soci::statement del = (s.prepare << kDeleteRetiredKey, soci::use(kid));
    return affectedRows(del) == 1;
}

}  // namespace authsvc::models
