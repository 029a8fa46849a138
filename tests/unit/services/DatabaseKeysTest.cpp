// DatabaseKeys over a real SQLite store with a manual clock: the first key, a whole
// rotation, two "instances" agreeing, a wrong encryption key refused with nothing written,
// rotate and import.
#include "services/DatabaseKeys.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "models/Migrator.h"
#include "support/TestSupport.h"
#include "verify/Verifier.h"

namespace {

using namespace authsvc::models;
using authsvc::testing::TempDir;
using authsvc::verify::KeyError;
using authsvc::verify::ManualClock;

constexpr int64_t kKeySecond = 1000;

class DatabaseKeysTest : public ::testing::Test {
  protected:
    DatabaseKeysTest() {
        DatabaseSettings ds;
        ds.sqlitePath = (dir.path() / "keys.db").string();
        ds.poolSize = 2;
        db = std::make_unique<Database>(ds);
        Migrator(*db, clock).migrate();
    }

    // An instance: its own KeyRing over the shared store.
    struct Instance {
        std::unique_ptr<KeyRing> ring;
        std::unique_ptr<DatabaseKeys> keys;
    };
    Instance instance(const std::string& kek = std::string(32, 'k')) {
        KeyConfig kc;
        kc.external = true;
        Instance i;
        i.ring = std::make_unique<KeyRing>(kc);
        DatabaseKeySettings s;
        s.encryptionKey = kek;
        // period 10 s, key_poll 500 ms, jwks_max_age 2 s, access_ttl 5 s, leeway 1 s:
        // publication 3 s, retention 7 s.
        s.schedule = keyScheduleSettings(10 * kKeySecond, kKeySecond / 2, 2 * kKeySecond,
                                         5 * kKeySecond, kKeySecond);
        i.keys = std::make_unique<DatabaseKeys>(*db, repo, *i.ring, clock, s);
        return i;
    }
    std::vector<SigningKeyRow> rows() {
        return db->read([&](Connection& c) { return repo.list(c); });
    }
    std::string states() {
        std::string out;
        for (const auto& r : rows()) out += (out.empty() ? "" : " ") + r.state;
        return out;
    }

    TempDir dir;
    ManualClock clock;
    std::unique_ptr<Database> db;
    SigningKeyRepository repo;
};

TEST_F(DatabaseKeysTest, TheFirstSyncCreatesACurrentKeyThatSignsAndIsPublished) {
    Instance a = instance();
    EXPECT_EQ(a.ring->signingKey(), nullptr);
    const KeySync done = a.keys->sync();
    ASSERT_FALSE(done.currentKid.empty());
    EXPECT_TRUE(done.changed);
    ASSERT_NE(a.ring->signingKey(), nullptr);
    EXPECT_EQ(a.ring->signingKey()->kid(), done.currentKid);
    EXPECT_NE(a.ring->jwks()->find(done.currentKid), std::string::npos);
    const auto stored = rows();
    ASSERT_EQ(stored.size(), 1u);
    EXPECT_EQ(stored[0].state, "current");
    EXPECT_EQ(stored[0].algorithm, "ES256");
    // Never in clear: the PEM's armour is not in the row.
    EXPECT_EQ(stored[0].sealedKey.find("PRIVATE"), std::string::npos);
    EXPECT_EQ(stored[0].publicJwk.find("\"d\""), std::string::npos);
    // A second sync at the same time changes nothing.
    EXPECT_FALSE(a.keys->sync().changed);
}

TEST_F(DatabaseKeysTest, AWholeRotationOnTheSchedule) {
    Instance a = instance();
    const std::string first = a.keys->sync().currentKid;
    clock.advanceMs(10 * kKeySecond);
    KeySync s = a.keys->sync();  // period reached: a next key, published, not signing
    EXPECT_EQ(states(), "current next");
    EXPECT_EQ(a.ring->signingKey()->kid(), first);
    const std::string second = rows()[1].kid;
    EXPECT_NE(a.ring->jwks()->find(second), std::string::npos);
    clock.advanceMs(3 * kKeySecond - 1);
    a.keys->sync();
    EXPECT_EQ(states(), "current next");
    clock.advanceMs(1);
    s = a.keys->sync();  // 2 key_poll + jwks_max_age later: promoted
    EXPECT_EQ(s.currentKid, second);
    EXPECT_EQ(a.ring->signingKey()->kid(), second);
    EXPECT_EQ(states(), "retired current");
    EXPECT_NE(a.ring->jwks()->find(first), std::string::npos);  // still published
    clock.advanceMs(7 * kKeySecond - 1);
    a.keys->sync();
    EXPECT_EQ(rows()[0].kid, first);
    clock.advanceMs(1);
    a.keys->sync();  // 2 key_poll + access_ttl + leeway after retirement: deleted
    EXPECT_EQ(rows()[0].kid, second);
    EXPECT_EQ(a.ring->jwks()->find(first), std::string::npos);
}

TEST_F(DatabaseKeysTest, TwoInstancesCreateOneKeyAndAgree) {
    Instance a = instance();
    Instance b = instance();
    const std::string ka = a.keys->sync().currentKid;
    const std::string kb = b.keys->sync().currentKid;
    EXPECT_EQ(ka, kb);
    EXPECT_EQ(rows().size(), 1u);
    clock.advanceMs(10 * kKeySecond);
    a.keys->sync();
    b.keys->sync();
    EXPECT_EQ(states(), "current next");
    clock.advanceMs(3 * kKeySecond);
    const KeySync sa = a.keys->sync();
    const KeySync sb = b.keys->sync();
    EXPECT_EQ(sa.currentKid, sb.currentKid);
    EXPECT_EQ(states(), "retired current");
    EXPECT_EQ(*a.ring->jwks(), *b.ring->jwks());
}

TEST_F(DatabaseKeysTest, AConcurrentPromotionFindsTheStepTaken) {
    Instance a = instance();
    const std::string first = a.keys->sync().currentKid;
    clock.advanceMs(10 * kKeySecond);
    a.keys->sync();
    const std::string second = rows()[1].kid;
    // Another instance promoted meanwhile: this one's compare-and-set fails, nothing changes.
    EXPECT_TRUE(db->write([&](Connection& c) { return repo.promote(c, second, first, 1); }));
    EXPECT_FALSE(db->write([&](Connection& c) { return repo.promote(c, second, first, 2); }));
    EXPECT_EQ(states(), "retired current");
    // A second next key is refused by the slot.
    SigningKeyRow extra = rows()[1];
    extra.kid = "extra";
    extra.state = "current";
    EXPECT_FALSE(db->write([&](Connection& c) { return repo.insert(c, extra); }));
}

TEST_F(DatabaseKeysTest, AWrongEncryptionKeyIsRefusedAndNothingIsWritten) {
    Instance a = instance();
    a.keys->sync();
    clock.advanceMs(10 * kKeySecond);
    a.keys->sync();
    const auto before = rows();
    clock.advanceMs(100 * kKeySecond);  // every step is due now
    Instance wrong = instance(std::string(32, 'W'));
    try {
        wrong.keys->sync();
        FAIL() << "a wrong key_encryption_key opened the store";
    } catch (const KeyError& e) {
        EXPECT_NE(std::string(e.what()).find("jwt.key_encryption_key"), std::string::npos);
    }
    EXPECT_EQ(wrong.ring->signingKey(), nullptr);
    const auto after = rows();
    ASSERT_EQ(after.size(), before.size());
    for (size_t i = 0; i < after.size(); ++i) {
        EXPECT_EQ(after[i].kid, before[i].kid);
        EXPECT_EQ(after[i].state, before[i].state);
        EXPECT_EQ(after[i].sealedKey, before[i].sealedKey);
    }
    EXPECT_THROW(wrong.keys->rotate(), KeyError);
}

TEST_F(DatabaseKeysTest, ASealedKeyMovedToAnotherKidDoesNotOpen) {
    Instance a = instance();
    const std::string kid = a.keys->sync().currentKid;
    SigningKeyRow copy = rows()[0];
    copy.kid = "copied";
    copy.state = "retired";
    copy.retiredMs = clock.nowMs();
    db->write([&](Connection& c) { return repo.insert(c, copy); });
    Instance b = instance();
    EXPECT_THROW(b.keys->sync(), KeyError);  // the kid is the associated data
}

TEST_F(DatabaseKeysTest, RotateMakesANextKeyOnceAndTheFirstKeyCurrent) {
    Instance a = instance();
    EXPECT_NE(a.keys->rotate().find("current"), std::string::npos);
    EXPECT_EQ(states(), "current");
    clock.advanceMs(1);
    EXPECT_NE(a.keys->rotate().find("next"), std::string::npos);
    EXPECT_EQ(states(), "current next");
    EXPECT_THROW(a.keys->rotate(), KeyError);
    const auto listed = a.keys->list();
    ASSERT_EQ(listed.size(), 2u);
    // The current key retires when the next one is promoted: 2 key_poll + jwks_max_age.
    EXPECT_EQ(listed[0].nextStepMs, listed[1].row.createdMs + 3 * kKeySecond);
}

TEST_F(DatabaseKeysTest, ImportTakesTheSigningKeyAsCurrentAndTheOthersRetired) {
    const auto keysDir = dir.path() / "keys";
    ::mkdir(keysDir.c_str(), 0700);
    const std::string signing = generateKeyFile(keysDir.string(), "ES256", "old-signing", 0);
    generateKeyFile(keysDir.string(), "RS256", "older", 0);
    Instance a = instance();
    const auto lines = a.keys->importDir(keysDir.string(), signing);
    ASSERT_EQ(lines.size(), 2u);
    const auto stored = rows();
    ASSERT_EQ(stored.size(), 2u);
    for (const auto& r : stored) {
        EXPECT_EQ(r.state, r.kid == "old-signing" ? "current" : "retired") << r.kid;
    }
    EXPECT_EQ(a.keys->sync().currentKid, "old-signing");
    EXPECT_EQ(a.ring->signingKey()->algorithm(), authsvc::verify::Algorithm::ES256);
    // Again: every kid is there already.
    for (const auto& line : a.keys->importDir(keysDir.string(), signing)) {
        EXPECT_NE(line.find("skipped"), std::string::npos) << line;
    }
}

}  // namespace
