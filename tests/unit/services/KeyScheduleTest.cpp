// KeySchedule: the rules of database-kept signing keys, as pure functions of (now, keys,
// settings): no clock, no database.
#include "services/KeySchedule.h"

#include <gtest/gtest.h>

namespace {

using authsvc::models::dueKeySteps;
using authsvc::models::KeyScheduleSettings;
using authsvc::models::keyScheduleSettings;
using authsvc::models::KeyStep;
using authsvc::models::KeyStepKind;
using authsvc::models::nextStepAtMs;
using authsvc::models::SigningKeyRow;

constexpr int64_t kKeysT0 = 1'800'000'000'000;
constexpr int64_t kSec = 1000;
constexpr int64_t kOneDay = 24 * 3600 * kSec;

// The defaults: period 30 d, key_poll 10 s, jwks_max_age 5 min, access_ttl 15 min, leeway 30 s.
KeyScheduleSettings defaults() {
    return keyScheduleSettings(30 * kOneDay, 10 * kSec, 300 * kSec, 900 * kSec, 30 * kSec);
}

SigningKeyRow key(const std::string& kid, const std::string& state, int64_t createdMs,
                  std::optional<int64_t> retiredMs = std::nullopt) {
    SigningKeyRow r;
    r.kid = kid;
    r.state = state;
    r.createdMs = createdMs;
    r.retiredMs = retiredMs;
    return r;
}

TEST(KeyScheduleTest, SettingsAddTwiceKeyPollToPublicationAndRetention) {
    const KeyScheduleSettings s = defaults();
    EXPECT_EQ(s.periodMs, 30 * kOneDay);
    EXPECT_EQ(s.publishMs, 320 * kSec);      // 2 key_poll + jwks_max_age
    EXPECT_EQ(s.keepRetiredMs, 950 * kSec);  // 2 key_poll + access_ttl + leeway
}

TEST(KeyScheduleTest, AnEmptyStoreGetsAFirstKeyCurrentAtOnce) {
    EXPECT_EQ(dueKeySteps(kKeysT0, {}, defaults()),
              (std::vector<KeyStep>{{KeyStepKind::CreateCurrent, "", ""}}));
}

TEST(KeyScheduleTest, NothingIsDueWhileTheCurrentKeyIsYoungerThanThePeriod) {
    const std::vector<SigningKeyRow> keys{key("a", "current", kKeysT0)};
    EXPECT_TRUE(dueKeySteps(kKeysT0, keys, defaults()).empty());
    EXPECT_TRUE(dueKeySteps(kKeysT0 + 30 * kOneDay - 1, keys, defaults()).empty());
}

TEST(KeyScheduleTest, ACurrentKeyAsOldAsThePeriodGetsANextKey) {
    const std::vector<SigningKeyRow> keys{key("a", "current", kKeysT0)};
    EXPECT_EQ(dueKeySteps(kKeysT0 + 30 * kOneDay, keys, defaults()),
              (std::vector<KeyStep>{{KeyStepKind::CreateNext, "", ""}}));
}

TEST(KeyScheduleTest, TheNextKeyIsPromotedOnlyAfterTwiceKeyPollAndJwksMaxAge) {
    const int64_t created = kKeysT0 + 30 * kOneDay;
    const std::vector<SigningKeyRow> keys{key("a", "current", kKeysT0), key("b", "next", created)};
    // Neither a second before nor a period later creates another next key.
    EXPECT_TRUE(dueKeySteps(created + 319 * kSec, keys, defaults()).empty());
    EXPECT_TRUE(dueKeySteps(created + 320 * kSec - 1, keys, defaults()).empty());
    EXPECT_EQ(dueKeySteps(created + 320 * kSec, keys, defaults()),
              (std::vector<KeyStep>{{KeyStepKind::Promote, "b", "a"}}));
}

TEST(KeyScheduleTest, ARetiredKeyIsDeletedAfterTwiceKeyPollAccessTtlAndLeeway) {
    const int64_t retired = kKeysT0 + 30 * kOneDay;
    const std::vector<SigningKeyRow> keys{key("a", "retired", kKeysT0, retired),
                                          key("b", "current", retired)};
    EXPECT_TRUE(dueKeySteps(retired + 950 * kSec - 1, keys, defaults()).empty());
    EXPECT_EQ(dueKeySteps(retired + 950 * kSec, keys, defaults()),
              (std::vector<KeyStep>{{KeyStepKind::Delete, "a", ""}}));
}

TEST(KeyScheduleTest, DeletionsComeFirstThenOneOfCreateOrPromote) {
    const std::vector<SigningKeyRow> keys{key("a", "retired", kKeysT0, kKeysT0),
                                          key("b", "current", kKeysT0), key("c", "next", kKeysT0)};
    EXPECT_EQ(
        dueKeySteps(kKeysT0 + 31 * kOneDay, keys, defaults()),
        (std::vector<KeyStep>{{KeyStepKind::Delete, "a", ""}, {KeyStepKind::Promote, "c", "b"}}));
}

TEST(KeyScheduleTest, ANextKeyWithoutACurrentOneIsPromotedAtOnce) {
    const std::vector<SigningKeyRow> keys{key("c", "next", kKeysT0)};
    EXPECT_EQ(dueKeySteps(kKeysT0, keys, defaults()),
              (std::vector<KeyStep>{{KeyStepKind::Promote, "c", ""}}));
}

TEST(KeyScheduleTest, UnknownStatesAreLeftAlone) {
    const std::vector<SigningKeyRow> keys{key("a", "current", kKeysT0), key("x", "weird", kKeysT0)};
    EXPECT_TRUE(dueKeySteps(kKeysT0 + kSec, keys, defaults()).empty());
}

TEST(KeyScheduleTest, AWholeRotationWithSecondPeriods) {
    // period 3 s, key_poll 500 ms, jwks_max_age 1 s, access_ttl 2 s, leeway 0: publication
    // 2 s, retention 3 s.
    const KeyScheduleSettings s = keyScheduleSettings(3000, 500, 1000, 2000, 0);
    std::vector<SigningKeyRow> keys{key("a", "current", kKeysT0)};
    EXPECT_TRUE(dueKeySteps(kKeysT0 + 2999, keys, s).empty());
    EXPECT_EQ(dueKeySteps(kKeysT0 + 3000, keys, s)[0].kind, KeyStepKind::CreateNext);
    keys.push_back(key("b", "next", kKeysT0 + 3000));
    EXPECT_EQ(nextStepAtMs(keys[1], s), kKeysT0 + 5000);
    EXPECT_TRUE(dueKeySteps(kKeysT0 + 4999, keys, s).empty());
    EXPECT_EQ(dueKeySteps(kKeysT0 + 5000, keys, s),
              (std::vector<KeyStep>{{KeyStepKind::Promote, "b", "a"}}));
    keys[0].state = "retired";
    keys[0].retiredMs = kKeysT0 + 5000;
    keys[1].state = "current";
    keys[1].promotedMs = kKeysT0 + 5000;
    EXPECT_EQ(nextStepAtMs(keys[0], s), kKeysT0 + 8000);
    EXPECT_EQ(nextStepAtMs(keys[1], s), kKeysT0 + 8000);  // b's successor: created at 6 s, +2 s
    EXPECT_EQ(dueKeySteps(kKeysT0 + 6000, keys, s),
              (std::vector<KeyStep>{{KeyStepKind::CreateNext, "", ""}}));
    EXPECT_EQ(dueKeySteps(kKeysT0 + 8000, keys, s)[0], (KeyStep{KeyStepKind::Delete, "a", ""}));
}

}  // namespace
