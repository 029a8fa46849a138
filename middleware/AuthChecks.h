// The admission checks (middleware/Admission.h) of Bearer routes:
// - RequireBearer: the RFC 6750 Bearer check (RequireAuth: 401 missing_token, 400
//   invalid_request, 401 invalid_token); it gives the handler its AuthContext, and the
//   route table puts it first on every Bearer route. On the reactor; no database.
// - RequireRole: the token's `roles` list the role, else 403 insufficient_scope. On the
//   reactor, from the token alone.
// - LiveSession: on the route's worker, the token's session (sid) is live and its user's
//   (else 401 invalid_token: logged out, revoked, expired, user deleted), and, with a
//   role, the user holds it now (else 403 insufficient_scope): a role removed or a session
//   ended counts at once, not at the token's exp. One database statement.
// Thread-safe.
#pragma once

#include <string>

#include "middleware/Admission.h"
#include "middleware/RequireAuth.h"
#include "services/AuthService.h"

namespace authsvc::middleware {

class RequireBearer final : public Admission {
  public:
    explicit RequireBearer(const RequireAuth& auth) : auth_(auth) {}
    std::optional<Refusal> admit(const HttpRequest& req, Admitted& admitted) const override;

  private:
    const RequireAuth& auth_;
};

class RequireRole final : public Admission {
  public:
    explicit RequireRole(std::string role) : role_(std::move(role)) {}
    std::optional<Refusal> admit(const HttpRequest& req, Admitted& admitted) const override;

  private:
    std::string role_;
};

class LiveSession final : public Admission {
  public:
    // `role` empty: the session only.
    LiveSession(models::AuthService& sessions, std::string role)
        : Admission(Runs::OnWorker), sessions_(sessions), role_(std::move(role)) {}
    std::optional<Refusal> admit(const HttpRequest& req, Admitted& admitted) const override;

  private:
    models::AuthService& sessions_;
    std::string role_;
};

}  // namespace authsvc::middleware
