#include "services/KeySchedule.h"

#include <algorithm>

namespace authsvc::models {

KeyScheduleSettings keyScheduleSettings(int64_t periodMs, int64_t keyPollMs, int64_t jwksMaxAgeMs,
                                        int64_t accessTtlMs, int64_t leewayMs) {
    KeyScheduleSettings s;
    s.periodMs = periodMs;
    // One key_poll for every instance to poll, and one more for a poll that came late (a
    // slow sync, a busy machine): "within key_poll" is a period, not a promise to the ms.
    s.publishMs = 2 * keyPollMs + jwksMaxAgeMs;
    s.keepRetiredMs = 2 * keyPollMs + accessTtlMs + leewayMs;
    return s;
}

const SigningKeyRow* currentKey(const std::vector<SigningKeyRow>& keys) {
    for (const auto& k : keys) {
        if (k.state == "current") return &k;
    }
    return nullptr;
}

namespace {
const SigningKeyRow* nextKey(const std::vector<SigningKeyRow>& keys) {
    for (const auto& k : keys) {
        if (k.state == "next") return &k;
    }
    return nullptr;
}
}  // namespace

std::vector<KeyStep> dueKeySteps(int64_t nowMs, const std::vector<SigningKeyRow>& keys,
                                 const KeyScheduleSettings& settings) {
    std::vector<KeyStep> steps;
    for (const auto& k : keys) {
        if (k.state == "retired" && nowMs - k.retiredMs.value_or(nowMs) >= settings.keepRetiredMs) {
            steps.push_back({KeyStepKind::Delete, k.kid, ""});
        }
    }
    const SigningKeyRow* current = currentKey(keys);
    const SigningKeyRow* next = nextKey(keys);
    if (!current && !next) {
        steps.push_back({KeyStepKind::CreateCurrent, "", ""});
    } else if (!current) {
        // A next key without a current one (only an operator's edit gets here): nothing
        // signs, so it is promoted at once rather than after publication.
        steps.push_back({KeyStepKind::Promote, next->kid, ""});
    } else if (!next) {
        if (nowMs - current->createdMs >= settings.periodMs) {
            steps.push_back({KeyStepKind::CreateNext, "", ""});
        }
    } else if (nowMs - next->createdMs >= settings.publishMs) {
        steps.push_back({KeyStepKind::Promote, next->kid, current->kid});
    }
    return steps;
}

std::optional<int64_t> nextStepAtMs(const SigningKeyRow& key, const KeyScheduleSettings& settings) {
    if (key.state == "next") return key.createdMs + settings.publishMs;
    if (key.state == "current") {
        return std::max(key.createdMs + settings.periodMs, key.promotedMs.value_or(key.createdMs)) +
               settings.publishMs;
    }
    if (key.state == "retired" && key.retiredMs) return *key.retiredMs + settings.keepRetiredMs;
    return std::nullopt;
}

}  // namespace authsvc::models
