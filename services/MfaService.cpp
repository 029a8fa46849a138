#include "services/MfaService.h"

#include <sodium.h>

#include <cctype>
#include <stdexcept>

#include "common/Base32.h"
#include "common/Validation.h"
#include "services/OneTimeToken.h"
#include "services/Totp.h"
#include "verify/Sha256.h"

namespace authsvc::models {
namespace {

constexpr size_t kSecretBytes = 20;          // 160 bits, as RFC 4226 recommends for HMAC-SHA1
constexpr size_t kRecoveryCodeLetters = 10;  // 50 bits of base32

Error noTotp() {
    return makeError(ErrorCode::InvalidRequest,
                     "TOTP is not on for this account (POST /api/mfa/totp enrols)");
}
Error invalidCode() {
    return makeError(ErrorCode::InvalidCode, "The code is wrong, expired or already used");
}
Error mfaWrongPassword() {
    return makeError(ErrorCode::InvalidCredentials, "Invalid email or password");
}
Error voidMfaToken() {
    return makeError(ErrorCode::InvalidGrant,
                     "The mfa_token is unknown, expired, used or void: log in again");
}

// RFC 3986 unreserved characters stay; '@' too (as authenticator apps show addresses).
std::string percentEncode(const std::string& s) {
    static const char* kHex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '@') {
            out.push_back(char(c));
        } else {
            out.push_back('%');
            out.push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 15]);
        }
    }
    return out;
}

// A recovery code as typed: without dashes and spaces, lower case.
std::string normalizeRecoveryCode(const std::string& code) {
    std::string out;
    for (unsigned char c : code) {
        if (c == '-' || c == ' ') continue;
        out.push_back(char(std::tolower(c)));
    }
    return out;
}

bool isTotpCode(const std::string& code) {
    if (code.size() != size_t(kTotpDigits)) return false;
    for (unsigned char c : code) {
        if (!std::isdigit(c)) return false;
    }
    return true;
}

std::string associatedData(int64_t userId) {
    return "authsvc totp v1 user " + std::to_string(userId);
}

}  // namespace

MfaService::MfaService(Database& db, const UserRepository& users, const MfaRepository& mfa,
                       const PasswordHasher& hasher, AuthService& auth, const verify::Clock& clock,
                       MfaSettings settings)
    : db_(db),
      users_(users),
      mfa_(mfa),
      hasher_(hasher),
      auth_(auth),
      clock_(clock),
      settings_(std::move(settings)),
      recoveryMac_(verify::sha256("authsvc recovery codes v1\n" + settings_.encryptionKey)) {
    crypto::init();
    if (settings_.encryptionKey.size() != crypto_aead_xchacha20poly1305_ietf_KEYBYTES) {
        throw std::invalid_argument("auth.mfa.encryption_key must be 32 bytes");
    }
}

std::string MfaService::seal(int64_t userId, const std::string& secret) const {
    return crypto::aeadSeal(settings_.encryptionKey, secret, associatedData(userId));
}

std::optional<std::string> MfaService::open(int64_t userId, const std::string& stored) const {
    // nullopt: another key, or another user's row.
    return crypto::aeadOpen(settings_.encryptionKey, stored, associatedData(userId));
}

bool MfaService::acceptCode(soci::session& s, int64_t userId, const TotpRecord& totp,
                            const std::string& code) const {
    if (!isTotpCode(code)) return false;
    auto secret = open(userId, totp.sealedSecret);
    if (!secret) return false;
    const int64_t now = totpStep(clock_.nowSeconds());
    for (int64_t step = now - 1; step <= now + 1; ++step) {
        if (totp.lastStep && step <= *totp.lastStep) continue;
        if (crypto::constantTimeEquals(hotpCode(*secret, uint64_t(step)), code)) {
            return mfa_.acceptStep(s, userId, step);
        }
    }
    return false;
}

std::string MfaService::recoveryHash(int64_t userId, const std::string& code) const {
    return crypto::hex(
        recoveryMac_.mac(std::to_string(userId) + ":" + normalizeRecoveryCode(code)));
}

std::vector<std::string> MfaService::storeRecoveryCodes(soci::session& s, int64_t userId) const {
    std::vector<std::string> codes, hashes;
    for (int i = 0; i < settings_.recoveryCodes; ++i) {
        std::string letters = base32Encode(crypto::randomBytes(8)).substr(0, kRecoveryCodeLetters);
        for (char& c : letters) c = char(std::tolower(static_cast<unsigned char>(c)));
        const std::string code = letters.substr(0, 5) + "-" + letters.substr(5);
        hashes.push_back(recoveryHash(userId, code));
        codes.push_back(code);
    }
    mfa_.replaceRecoveryCodes(s, userId, hashes);
    return codes;
}

Result<TotpEnrolment> MfaService::enrol(int64_t userId, const std::string& password) {
    auto user = db_.read([&](Connection& c) { return users_.findById(c, userId); });
    if (!user) return makeError(ErrorCode::InvalidToken, "The user no longer exists");
    if (password.size() > kMaxPasswordBytes || !hasher_.verify(password, user->passwordHash)) {
        return mfaWrongPassword();
    }
    const std::string secret = crypto::randomBytes(kSecretBytes);
    const std::string sealed = seal(userId, secret);
    const bool on = db_.write([&](Connection& c) {
        if (mfa_.hasConfirmedTotp(c, userId)) return true;
        mfa_.putPendingTotp(c, userId, sealed, clock_.nowMs());
        return false;
    });
    if (on) {
        return makeError(ErrorCode::InvalidRequest,
                         "TOTP is already on for this account (DELETE /api/mfa/totp first)");
    }
    TotpEnrolment e;
    e.secret = base32Encode(secret);
    const std::string issuer = percentEncode(settings_.issuer);
    e.otpauthUri = "otpauth://totp/" + issuer + ":" + percentEncode(user->email) +
                   "?secret=" + e.secret + "&issuer=" + issuer +
                   "&algorithm=SHA1&digits=6&period=30";
    return e;
}

Result<std::vector<std::string>> MfaService::confirm(int64_t userId, const std::string& code) {
    return db_.write([&](Connection& c) -> Result<std::vector<std::string>> {
        auto totp = mfa_.findTotp(c, userId);
        if (!totp || totp->confirmed) {
            return makeError(ErrorCode::InvalidRequest,
                             "No TOTP enrolment is pending (POST /api/mfa/totp starts one)");
        }
        if (!acceptCode(c, userId, *totp, code)) return invalidCode();
        mfa_.confirmTotp(c, userId);
        return storeRecoveryCodes(c, userId);
    });
}

template <typename F>
Result<bool> MfaService::withCode(int64_t userId, const std::string& code, F&& then) {
    return db_.write([&](Connection& c) -> Result<bool> {
        auto totp = mfa_.findTotp(c, userId);
        if (!totp || !totp->confirmed) return noTotp();
        if (!acceptCode(c, userId, *totp, code)) return invalidCode();
        then(c);
        return true;
    });
}

Result<bool> MfaService::disable(int64_t userId, const std::string& password,
                                 const std::string& code) {
    auto user = db_.read([&](Connection& c) { return users_.findById(c, userId); });
    if (!user) return makeError(ErrorCode::InvalidToken, "The user no longer exists");
    if (password.size() > kMaxPasswordBytes || !hasher_.verify(password, user->passwordHash)) {
        return mfaWrongPassword();
    }
    return withCode(userId, code, [&](soci::session& s) { mfa_.removeTotp(s, userId); });
}

Result<std::vector<std::string>> MfaService::newRecoveryCodes(int64_t userId,
                                                              const std::string& code) {
    std::vector<std::string> codes;
    auto done =
        withCode(userId, code, [&](soci::session& s) { codes = storeRecoveryCodes(s, userId); });
    if (!done) return done.error();
    return codes;
}

std::optional<Error> MfaService::challenge(int64_t userId) {
    const MintedToken token = mintOneTimeToken();
    const int64_t expires = clock_.nowMs() + settings_.tokenTtlMs;
    const bool on = db_.write([&](Connection& c) {
        if (!mfa_.hasConfirmedTotp(c, userId)) return false;
        mfa_.insertMfaToken(c, token.hashHex, userId, expires);
        return true;
    });
    if (!on) return std::nullopt;
    Error e = makeError(ErrorCode::MfaRequired,
                        "A second factor is required: POST /api/login/mfa with the mfa_token "
                        "and a code from the authenticator app (or a recovery code)");
    e.mfaToken = token.token;
    e.mfaExpiresIn = int(settings_.tokenTtlMs / 1000);
    return e;
}

std::vector<std::string> MfaService::sessionAmr(const std::string& familyId) {
    const std::string amr = db_.read([&](Connection& c) { return mfa_.familyAmr(c, familyId); });
    std::vector<std::string> out;
    size_t start = 0;
    while (start < amr.size()) {
        size_t end = amr.find(' ', start);
        if (end == std::string::npos) end = amr.size();
        if (end > start) out.push_back(amr.substr(start, end - start));
        start = end + 1;
    }
    if (out.empty()) out.emplace_back("pwd");
    return out;
}

Result<PendingLogin> MfaService::pending(const std::string& mfaToken) {
    auto hash = oneTimeTokenHash(mfaToken);
    if (!hash) return voidMfaToken();
    const int64_t now = clock_.nowMs();
    auto found = db_.read([&](Connection& c) -> std::optional<PendingLogin> {
        auto rec = mfa_.findMfaToken(c, *hash);
        if (!rec || rec->used || now >= rec->expiresMs) return std::nullopt;
        auto user = users_.findById(c, rec->userId);
        if (!user) return std::nullopt;
        return PendingLogin{user->id, user->email};
    });
    if (!found) return voidMfaToken();
    return *found;
}

Result<TokenPair> MfaService::completeLogin(const std::string& mfaToken, const MfaProof& proof,
                                            const LoginClient& client) {
    auto hash = oneTimeTokenHash(mfaToken);
    if (!hash) return voidMfaToken();
    const int64_t now = clock_.nowMs();
    enum class Outcome { VoidToken, WrongCode, Passed };
    int64_t userId = 0;
    const Outcome outcome = db_.write([&](Connection& c) {
        auto rec = mfa_.findMfaToken(c, *hash);
        if (!rec || rec->used || now >= rec->expiresMs) return Outcome::VoidToken;
        userId = rec->userId;
        bool passed = false;
        if (proof.recoveryCode) {
            passed = mfa_.consumeRecoveryCode(c, userId, recoveryHash(userId, proof.code));
        } else {
            auto totp = mfa_.findTotp(c, userId);
            passed = totp && totp->confirmed && acceptCode(c, userId, *totp, proof.code);
        }
        if (!passed) {
            mfa_.addMfaFailure(c, *hash, settings_.maxFailures, now);
            return Outcome::WrongCode;
        }
        return mfa_.useMfaToken(c, *hash, now) ? Outcome::Passed : Outcome::VoidToken;
    });
    if (outcome == Outcome::VoidToken) return voidMfaToken();
    if (outcome == Outcome::WrongCode) return invalidCode();
    const std::vector<std::string> amr{"pwd", "otp"};
    return auth_.startSession(userId, client, amr, [this](soci::session& s, const std::string& f) {
        mfa_.setFamilyAmr(s, f, "pwd otp");
    });
}

bool MfaService::reset(int64_t userId) {
    return db_.write([&](Connection& c) { return mfa_.removeTotp(c, userId); });
}

int64_t MfaService::purgeExpired() {
    const int64_t now = clock_.nowMs();
    return db_.write([&](Connection& c) { return mfa_.purgeMfaTokens(c, now); });
}

}  // namespace authsvc::models
