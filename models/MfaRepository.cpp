#include "models/MfaRepository.h"

namespace authsvc::models {

std::optional<TotpRecord> MfaRepository::findTotp(soci::session& s, int64_t userId) const {
    long long id = userId, step = 0;
    int confirmed = 0;
    std::string secret;
    soci::indicator stepInd = soci::i_null;
    s << "SELECT secret, confirmed, last_step FROM user_totp WHERE user_id = :u", soci::use(id),
        soci::into(secret), soci::into(confirmed), soci::into(step, stepInd);
    if (!s.got_data()) return std::nullopt;
    TotpRecord r;
    r.sealedSecret = secret;
    r.confirmed = confirmed != 0;
    if (stepInd == soci::i_ok) r.lastStep = step;
    return r;
}

void MfaRepository::putPendingTotp(soci::session& s, int64_t userId,
                                   const std::string& sealedSecret, int64_t nowMs) const {
    long long id = userId, now = nowMs;
    s << "DELETE FROM user_totp WHERE user_id = :u", soci::use(id);
    s << "DELETE FROM mfa_recovery_codes WHERE user_id = :u", soci::use(id);
    s << "INSERT INTO user_totp (user_id, secret, confirmed, created_ms) VALUES (:u, :s, 0, :n)",
        soci::use(id), soci::use(sealedSecret), soci::use(now);
}

bool MfaRepository::acceptStep(soci::session& s, int64_t userId, int64_t step) const {
    long long id = userId, st = step, st2 = step;
    soci::statement q = (s.prepare << "UPDATE user_totp SET last_step = :s WHERE user_id = :u "
                                      "AND (last_step IS NULL OR last_step < :s2)",
                         soci::use(st), soci::use(id), soci::use(st2));
    q.execute(true);
    return q.get_affected_rows() > 0;
}

void MfaRepository::confirmTotp(soci::session& s, int64_t userId) const {
    long long id = userId;
    s << "UPDATE user_totp SET confirmed = 1 WHERE user_id = :u", soci::use(id);
}

bool MfaRepository::removeTotp(soci::session& s, int64_t userId) const {
    long long id = userId;
    s << "DELETE FROM mfa_recovery_codes WHERE user_id = :u", soci::use(id);
    soci::statement q = (s.prepare << "DELETE FROM user_totp WHERE user_id = :u", soci::use(id));
    q.execute(true);
    return q.get_affected_rows() > 0;
}

bool MfaRepository::hasConfirmedTotp(soci::session& s, int64_t userId) const {
    long long id = userId, n = 0;
    s << "SELECT COUNT(*) FROM user_totp WHERE user_id = :u AND confirmed = 1", soci::use(id),
        soci::into(n);
    return n > 0;
}

void MfaRepository::replaceRecoveryCodes(soci::session& s, int64_t userId,
                                         const std::vector<std::string>& hashes) const {
    long long id = userId;
    s << "DELETE FROM mfa_recovery_codes WHERE user_id = :u", soci::use(id);
    for (const auto& h : hashes) {
        s << "INSERT INTO mfa_recovery_codes (code_hash, user_id) VALUES (:h, :u)", soci::use(h),
            soci::use(id);
    }
}

bool MfaRepository::consumeRecoveryCode(soci::session& s, int64_t userId,
                                        const std::string& hash) const {
    long long id = userId;
    soci::statement q =
        (s.prepare << "DELETE FROM mfa_recovery_codes WHERE code_hash = :h AND user_id = :u",
         soci::use(hash), soci::use(id));
    q.execute(true);
    return q.get_affected_rows() > 0;
}

void MfaRepository::insertMfaToken(soci::session& s, const std::string& tokenHash, int64_t userId,
                                   int64_t expiresMs) const {
    long long id = userId, expires = expiresMs;
    s << "INSERT INTO mfa_tokens (token_hash, user_id, expires_ms, failures) VALUES (:h, :u, :e, "
         "0)",
        soci::use(tokenHash), soci::use(id), soci::use(expires);
}

std::optional<MfaTokenRecord> MfaRepository::findMfaToken(soci::session& s,
                                                          const std::string& tokenHash) const {
    long long id = 0, expires = 0, used = 0;
    int failures = 0;
    soci::indicator usedInd = soci::i_null;
    s << "SELECT user_id, expires_ms, failures, used_ms FROM mfa_tokens WHERE token_hash = :h",
        soci::use(tokenHash), soci::into(id), soci::into(expires), soci::into(failures),
        soci::into(used, usedInd);
    if (!s.got_data()) return std::nullopt;
    return MfaTokenRecord{id, expires, failures, usedInd == soci::i_ok};
}

int MfaRepository::addMfaFailure(soci::session& s, const std::string& tokenHash, int limit,
                                 int64_t nowMs) const {
    long long now = nowMs;
    int failures = 0;
    s << "UPDATE mfa_tokens SET failures = failures + 1 WHERE token_hash = :h",
        soci::use(tokenHash);
    s << "SELECT failures FROM mfa_tokens WHERE token_hash = :h", soci::use(tokenHash),
        soci::into(failures);
    if (failures >= limit) {
        s << "UPDATE mfa_tokens SET used_ms = :n WHERE token_hash = :h AND used_ms IS NULL",
            soci::use(now), soci::use(tokenHash);
    }
    return failures;
}

bool MfaRepository::useMfaToken(soci::session& s, const std::string& tokenHash,
                                int64_t nowMs) const {
    long long now = nowMs, now2 = nowMs;
    soci::statement q = (s.prepare << "UPDATE mfa_tokens SET used_ms = :n WHERE token_hash = :h "
                                      "AND used_ms IS NULL AND expires_ms > :n2",
                         soci::use(now), soci::use(tokenHash), soci::use(now2));
    q.execute(true);
    return q.get_affected_rows() > 0;
}

int64_t MfaRepository::purgeMfaTokens(soci::session& s, int64_t nowMs) const {
    long long now = nowMs;
    soci::statement q =
        (s.prepare << "DELETE FROM mfa_tokens WHERE expires_ms <= :n", soci::use(now));
    q.execute(true);
    return q.get_affected_rows();
}

void MfaRepository::setFamilyAmr(soci::session& s, const std::string& familyId,
                                 const std::string& amr) const {
    s << "UPDATE refresh_families SET amr = :a WHERE id = :f", soci::use(amr), soci::use(familyId);
}

std::string MfaRepository::familyAmr(soci::session& s, const std::string& familyId) const {
    std::string amr;
    soci::indicator ind = soci::i_null;
    s << "SELECT amr FROM refresh_families WHERE id = :f", soci::use(familyId),
        soci::into(amr, ind);
    return s.got_data() && ind == soci::i_ok ? amr : "pwd";
}

}  // namespace authsvc::models
