// AuthEvents: what AuthService reports as it works (outcomes of refreshes, logins, reuse
// detections, revocations), for metrics and logs in app/. No dependencies, so an observer
// does not pull in the service.
#pragma once

#include <cstdint>
#include <string>

namespace authsvc::models {

// Renewed: an access token (not a refresh token) was traded for a new access token.
enum class RefreshOutcome { Rotated, Retried, Reused, Invalid, Renewed };

// Notified of security-relevant events (metrics and logs live in app/).
class AuthObserver {
  public:
    virtual ~AuthObserver() = default;
    virtual void onLogin(bool /*success*/) {}
    virtual void onRefresh(RefreshOutcome /*outcome*/) {}
    // A refresh token was presented again outside its grace: the family is revoked.
    virtual void onReuseDetected(const std::string& /*familyId*/, int64_t /*userId*/) {}
    virtual void onFamiliesRevoked(int64_t /*count*/, const std::string& /*reason*/) {}
};

}  // namespace authsvc::models
