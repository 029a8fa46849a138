// BodyChecks: the general body rules of API.md, in their order: a body over
// server.max_body_bytes is 413 (checked first), a POST body that is not
// application/json is 415. Pure; thread-safe.
#pragma once

#include <cstdint>
#include <optional>

#include "common/Error.h"
#include "controllers/HttpTypes.h"
#include "middleware/Admission.h"

namespace authsvc::middleware {

// anyMediaType: only the size rule (the OAuth routes, whose controller answers a body that
// is not a form with 400 invalid_request, RFC 6749 5.2).
std::optional<Refusal> checkBody(const HttpRequest& req, int64_t maxBodyBytes,
                                 bool anyMediaType = false);

// checkBody() as an admission check: the route table puts it first on every route.
class BodyRules final : public Admission {
  public:
    explicit BodyRules(int64_t maxBodyBytes, bool anyMediaType = false)
        : maxBodyBytes_(maxBodyBytes), anyMediaType_(anyMediaType) {}
    std::optional<Refusal> admit(const HttpRequest& req, Admitted& /*admitted*/) const override {
        return checkBody(req, maxBodyBytes_, anyMediaType_);
    }
    int64_t maxBodyBytes() const { return maxBodyBytes_; }

  private:
    int64_t maxBodyBytes_;
    bool anyMediaType_;
};

}  // namespace authsvc::middleware
