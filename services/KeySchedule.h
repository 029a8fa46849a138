// KeySchedule: the rules of signing keys kept in the database (jwt.key_store: database;
// docs/API.md, "Key rotation"), as pure functions of (now, keys, settings): no clock, no
// database, no crypto, so they are unit-tested with any time. Any thread may call them.
//
// A key's life: next (published in the JWKS, not yet signing) -> current (signs) -> retired
// (still published) -> deleted.
// - no key at all (or none current nor next): create one, current at once (nothing was
//   signed before it);
// - the current key was created `period` ago or more, and there is no next key: create one;
// - the next key was created `publish` ago or more (twice jwt.key_poll for every instance
//   to publish it, a late poll included, then jwt.jwks_max_age for every cached JWKS to
//   hold it): it becomes current, the current one retired;
// - a key retired `keepRetired` ago (twice jwt.key_poll for every instance to stop signing
//   with it, then access_ttl + leeway for its last token to expire): deleted.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "models/SigningKeyRepository.h"

namespace authsvc::models {

struct KeyScheduleSettings {
    int64_t periodMs = 30LL * 24 * 3600 * 1000;
    int64_t publishMs = 0;      // 2 key_poll + jwks_max_age
    int64_t keepRetiredMs = 0;  // 2 key_poll + access_ttl + leeway
};

KeyScheduleSettings keyScheduleSettings(int64_t periodMs, int64_t keyPollMs, int64_t jwksMaxAgeMs,
                                        int64_t accessTtlMs, int64_t leewayMs);

enum class KeyStepKind {
    CreateCurrent,  // no key signs and none is next: the first key
    CreateNext,     // the current key is due for rotation
    Promote,        // kid (next) becomes current, fromKid (current, may be empty) retired
    Delete,         // kid (retired) is past its last token
};

struct KeyStep {
    KeyStepKind kind;
    std::string kid;      // Promote, Delete
    std::string fromKid;  // Promote: the current key it retires ("" when there is none)
    bool operator==(const KeyStep&) const = default;
};

// The steps due at `nowMs`, in the order to take them (deletions first, then at most one of
// create or promote). Keys in a state this version does not know are left alone.
std::vector<KeyStep> dueKeySteps(int64_t nowMs, const std::vector<SigningKeyRow>& keys,
                                 const KeyScheduleSettings& settings);

// When the schedule will take the key's next step (promotion of a next key, retirement of
// the current one when its successor is created `period` after it and promoted `publish`
// later, deletion of a retired one); nullopt when it cannot be told.
std::optional<int64_t> nextStepAtMs(const SigningKeyRow& key, const KeyScheduleSettings& settings);

// The current key of `keys` (the one that signs); nullptr when there is none.
const SigningKeyRow* currentKey(const std::vector<SigningKeyRow>& keys);

}  // namespace authsvc::models
