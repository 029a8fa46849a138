// SigningKeyRepository: the rows of signing_keys (migration 0007), for jwt.key_store:
// database (services/DatabaseKeys). Stores what the caller sealed; no crypto here. Every
// change is conditional on the state it expects (a unique slot, or UPDATE ... WHERE state
// = ...), so that of several instances taking the same step at once exactly one does it,
// without a lock that only one node of a multi-primary cluster would see. Methods run on a
// caller's session (see UserRepository); times in epoch ms.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "models/Soci.h"

namespace authsvc::models {

struct SigningKeyRow {
    std::string kid;
    std::string algorithm;  // "ES256" or "RS256"
    std::string state;      // "next", "current" or "retired"
    std::string sealedKey;  // as stored (hex of nonce and ciphertext)
    std::string publicJwk;  // JSON text
    std::string thumbprint;
    int64_t createdMs = 0;
    std::optional<int64_t> promotedMs;
    std::optional<int64_t> retiredMs;
};

class SigningKeyRepository {
  public:
    // Every key, oldest first.
    std::vector<SigningKeyRow> list(soci::session& s) const;
    // Inserts `row` (state next or current: it takes that slot; retired: no slot) unless a
    // key already holds its slot. True if this call did; false when the slot was taken.
    // PostgreSQL/SQLite: may throw a unique-constraint error when another instance inserted
    // meanwhile; MySQL: false then (its 1062 leaves the transaction usable).
    bool insert(soci::session& s, const SigningKeyRow& row) const;
    // Compare-and-set, in the caller's transaction: `currentKid` (state current) becomes
    // retired and `nextKid` (state next) current at `nowMs`. `currentKid` empty: there is no
    // current key. False (and nothing changed) unless both were as expected; the caller
    // rolls back then.
    bool promote(soci::session& s, const std::string& nextKid, const std::string& currentKid,
                 int64_t nowMs) const;
    // Deletes the key if it is retired; true if this call did.
    bool deleteRetired(soci::session& s, const std::string& kid) const;
};

}  // namespace authsvc::models
