// The second factor's rules on a real SQLite file with a ManualClock (no test waits for a
// time step): enrolment and confirmation, ±1 step, a code once (also an earlier step's),
// the two-step login with amr kept by refreshes, recovery codes once, five wrong codes void
// the mfa_token, the mfa_token's expiry, and the secret never stored in clear.
#include "services/MfaService.h"

#include <gtest/gtest.h>

#include "common/Base32.h"
#include "models/Migrator.h"
#include "services/Totp.h"
#include "support/TestSupport.h"

namespace {

using namespace authsvc::models;
using authsvc::testing::jwtSegment;
using authsvc::testing::kEmail;
using authsvc::testing::kPassword;

class MfaServiceTest : public ::testing::Test, protected authsvc::testing::SqliteServiceParts {
  protected:
    MfaServiceTest() : SqliteServiceParts("mfa.db") {
        makeAuth();
        MfaSettings ms;
        ms.encryptionKey = std::string(32, 'k');
        ms.issuer = "Example App";
        mfa = std::make_unique<MfaService>(*db, users, mfaRepo, hasher, *auth, clock, ms);
        auth->useSecondFactor(mfa.get());
        userId = auth->registerUser(kEmail, kPassword)->id;
    }
    // The code of the step `offset` steps from now.
    std::string code(int offset = 0) const {
        return hotpCode(secret, uint64_t(totpStep(clock.nowSeconds()) + offset));
    }
    // Enrols and confirms; returns the recovery codes.
    std::vector<std::string> turnOn() {
        auto e = mfa->enrol(userId, kPassword);
        EXPECT_TRUE(e);
        secret = base32Decode(e->secret).value();
        auto codes = mfa->confirm(userId, code());
        EXPECT_TRUE(codes) << codes.error().message;
        clock.advanceMs(30'000);  // the next step: its code is new
        return codes ? *codes : std::vector<std::string>{};
    }
    std::string mfaToken() {
        auto r = auth->login(kEmail, kPassword);
        EXPECT_FALSE(r);
        if (r) return "";
        EXPECT_EQ(r.error().code, ErrorCode::MfaRequired);
        EXPECT_EQ(r.error().mfaExpiresIn, 300);
        return r.error().mfaToken;
    }
    static nlohmann::json amrOf(const TokenPair& pair) {
        return jwtSegment(pair.accessToken, 1).value("amr", nlohmann::json());
    }

    MfaRepository mfaRepo;
    std::unique_ptr<MfaService> mfa;
    int64_t userId = 0;
    std::string secret;
};

TEST_F(MfaServiceTest, EnrolmentNeedsThePasswordAndGivesAnOtpauthUri) {
    EXPECT_EQ(mfa->enrol(userId, "wrong password").error().code, ErrorCode::InvalidCredentials);
    auto e = mfa->enrol(userId, kPassword);
    ASSERT_TRUE(e);
    EXPECT_EQ(base32Decode(e->secret)->size(), 20u);
    EXPECT_EQ(e->otpauthUri, "otpauth://totp/Example%20App:alice@example.com?secret=" + e->secret +
                                 "&issuer=Example%20App&algorithm=SHA1&digits=6&period=30");
    // Pending: a login still needs the password only.
    EXPECT_TRUE(auth->login(kEmail, kPassword));
}

TEST_F(MfaServiceTest, TheSecretIsStoredSealedNeverInClear) {
    auto e = mfa->enrol(userId, kPassword);
    ASSERT_TRUE(e);
    const std::string raw = base32Decode(e->secret).value();
    auto stored = db->read([&](Connection& c) { return mfaRepo.findTotp(c, userId); });
    ASSERT_TRUE(stored);
    EXPECT_EQ(stored->sealedSecret.find(crypto::hex(raw)), std::string::npos);
    EXPECT_EQ(stored->sealedSecret.find(e->secret), std::string::npos);
    // Nonce (24) + secret (20) + tag (16), as hex.
    EXPECT_EQ(stored->sealedSecret.size(), 2u * (24 + 20 + 16));
}

TEST_F(MfaServiceTest, ACodeIsAcceptedForOneStepEitherSide) {
    auto e = mfa->enrol(userId, kPassword);
    secret = base32Decode(e->secret).value();
    EXPECT_EQ(mfa->confirm(userId, code(2)).error().code, ErrorCode::InvalidCode);
    EXPECT_EQ(mfa->confirm(userId, code(-2)).error().code, ErrorCode::InvalidCode);
    EXPECT_EQ(mfa->confirm(userId, "12345").error().code, ErrorCode::InvalidCode);
    auto codes = mfa->confirm(userId, code(-1));
    ASSERT_TRUE(codes);
    EXPECT_EQ(codes->size(), 10u);
    clock.advanceMs(30'000);
    EXPECT_TRUE(mfa->newRecoveryCodes(userId, code(1)));
}

TEST_F(MfaServiceTest, ACodeWorksOnceAndAnEarlierStepsCodeIsRefusedAfter) {
    turnOn();
    const std::string now = code(), before = code(-1);
    EXPECT_TRUE(mfa->newRecoveryCodes(userId, now));
    EXPECT_EQ(mfa->newRecoveryCodes(userId, now).error().code, ErrorCode::InvalidCode);
    EXPECT_EQ(mfa->newRecoveryCodes(userId, before).error().code, ErrorCode::InvalidCode);
    // The same code again at login, too.
    EXPECT_EQ(mfa->completeLogin(mfaToken(), {now, false}, {}).error().code,
              ErrorCode::InvalidCode);
    clock.advanceMs(30'000);
    EXPECT_TRUE(mfa->completeLogin(mfaToken(), {code(), false}, {}));
}

TEST_F(MfaServiceTest, LoginTakesTwoStepsAndRefreshesKeepAmr) {
    turnOn();
    const std::string token = mfaToken();
    ASSERT_EQ(token.size(), 43u);
    auto pair = mfa->completeLogin(token, {code(), false}, {});
    ASSERT_TRUE(pair) << pair.error().message;
    EXPECT_EQ(amrOf(*pair), nlohmann::json::array({"pwd", "otp"}));
    auto next = auth->refresh(pair->refreshToken);
    ASSERT_TRUE(next);
    EXPECT_EQ(amrOf(*next), nlohmann::json::array({"pwd", "otp"}));
    // The mfa_token is used now.
    clock.advanceMs(30'000);
    EXPECT_EQ(mfa->completeLogin(token, {code(), false}, {}).error().code, ErrorCode::InvalidGrant);
}

TEST_F(MfaServiceTest, WithoutTotpTokensCarryPwd) {
    auto pair = auth->login(kEmail, kPassword);
    ASSERT_TRUE(pair);
    EXPECT_EQ(amrOf(*pair), nlohmann::json::array({"pwd"}));
    EXPECT_EQ(amrOf(*auth->refresh(pair->refreshToken)), nlohmann::json::array({"pwd"}));
}

TEST_F(MfaServiceTest, ARecoveryCodeWorksOnce) {
    auto codes = turnOn();
    ASSERT_EQ(codes.size(), 10u);
    EXPECT_EQ(codes[0].size(), 11u);  // xxxxx-xxxxx
    auto pair = mfa->completeLogin(mfaToken(), {codes[0], true}, {});
    ASSERT_TRUE(pair);
    EXPECT_EQ(amrOf(*pair), nlohmann::json::array({"pwd", "otp"}));
    EXPECT_EQ(mfa->completeLogin(mfaToken(), {codes[0], true}, {}).error().code,
              ErrorCode::InvalidCode);
    // Typed in upper case without the dash: the same code.
    std::string typed = codes[1];
    typed.erase(5, 1);
    for (char& c : typed) c = char(std::toupper(static_cast<unsigned char>(c)));
    EXPECT_TRUE(mfa->completeLogin(mfaToken(), {typed, true}, {}));
}

TEST_F(MfaServiceTest, FiveWrongCodesVoidTheMfaToken) {
    turnOn();
    const std::string token = mfaToken();
    std::string wrong = "000000";
    while (wrong == code(-1) || wrong == code() || wrong == code(1)) ++wrong[0];
    for (int i = 0; i < 5; ++i) {
        EXPECT_EQ(mfa->completeLogin(token, {wrong, false}, {}).error().code,
                  ErrorCode::InvalidCode)
            << i;
    }
    EXPECT_EQ(mfa->pending(token).error().code, ErrorCode::InvalidGrant);
    EXPECT_EQ(mfa->completeLogin(token, {code(), false}, {}).error().code, ErrorCode::InvalidGrant);
}

TEST_F(MfaServiceTest, TheMfaTokenExpiresAfterFiveMinutes) {
    turnOn();
    const std::string token = mfaToken();
    clock.advanceMs(299'000);
    EXPECT_TRUE(mfa->pending(token));
    clock.advanceMs(1'000);
    EXPECT_EQ(mfa->pending(token).error().code, ErrorCode::InvalidGrant);
    EXPECT_EQ(mfa->completeLogin(token, {code(), false}, {}).error().code, ErrorCode::InvalidGrant);
}

TEST_F(MfaServiceTest, DisablingNeedsPasswordAndCodeThenLoginIsOneStep) {
    turnOn();
    EXPECT_EQ(mfa->disable(userId, "wrong password", code()).error().code,
              ErrorCode::InvalidCredentials);
    EXPECT_TRUE(mfa->disable(userId, kPassword, code()));
    auto pair = auth->login(kEmail, kPassword);
    ASSERT_TRUE(pair);
    EXPECT_EQ(amrOf(*pair), nlohmann::json::array({"pwd"}));
}

TEST_F(MfaServiceTest, TheOperatorResetRemovesTheSecondFactor) {
    turnOn();
    EXPECT_TRUE(mfa->reset(userId));
    EXPECT_TRUE(auth->login(kEmail, kPassword));
    EXPECT_FALSE(mfa->reset(userId));
}

}  // namespace
