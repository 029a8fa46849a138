// Fuzz target: the Bearer header and access-token verification, as a protected route
// sees them (middleware/RequireAuth over models/TokenService::verify, HS256, with its
// verified-token cache), under a fixed clock and secret so that the committed seeds
// (real tokens signed by TokenService, and mutations of them) stay valid.
// Input: the Authorization header's value. Self-contained on purpose: it needs only
// RequireAuth, TokenService and a clock.
// Beyond sanitizer findings it checks that a header is accepted only in the form
// "Bearer <b64token>", with a token that verifies and names a subject, and that the
// same header is judged the same way the second time (from the cache).
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>

#include "middleware/RequireAuth.h"
#include "models/Clock.h"
#include "models/TokenService.h"

namespace {

using namespace authsvc;

// Shared with the seeds in corpus/bearer (tests/fuzz/README.md says how they were made).
const std::string kSecret = "fuzz-secret-0123456789abcdef0123456789abcdef";
constexpr int64_t kNowMs = 1'800'000'000'000;

struct World {
    models::ManualClock clock{kNowMs};
    models::TokenService tokens{
        models::TokenSettings{kSecret, "authsvc", "authsvc-clients", 900'000, 30'000, 64}, clock};
    middleware::RequireAuth requireAuth{tokens};
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static World world;
    const std::string header(reinterpret_cast<const char*>(data), size);

    auto first = world.requireAuth.authenticate(header);
    auto second = world.requireAuth.authenticate(header);
    if (bool(first) != bool(second)) std::abort();
    if (first) {
        if (!middleware::bearerToken(header)) std::abort();
        if (first->claims().sub.empty() || first->claims().sub != second->claims().sub) {
            std::abort();
        }
    } else if (first.error().code != second.error().code) {
        std::abort();
    }
    // The token on its own, as TokenService::verify sees it.
    if (auto token = middleware::bearerToken(header)) {
        auto claims = world.tokens.verify(*token);
        if (bool(claims) != bool(first)) std::abort();
    }
    return 0;
}
