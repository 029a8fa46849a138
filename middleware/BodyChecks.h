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

std::optional<Refusal> checkBody(const HttpRequest& req, int64_t maxBodyBytes);

// checkBody() as an admission check: the route table puts it first on every route.
class BodyRules final : public Admission {
  public:
    explicit BodyRules(int64_t maxBodyBytes) : maxBodyBytes_(maxBodyBytes) {}
    std::optional<Refusal> admit(const HttpRequest& req, Admitted& /*admitted*/) const override {
        return checkBody(req, maxBodyBytes_);
    }

  private:
    int64_t maxBodyBytes_;
};

}  // namespace authsvc::middleware
