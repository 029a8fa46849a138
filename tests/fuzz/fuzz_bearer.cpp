// Fuzz target: the Bearer header and access-token verification, as a protected route
// sees them (middleware/RequireAuth over verify::Verifier, HS256, with its verified-token
// cache), under a fixed clock and secret so that the committed seeds
// (real tokens signed by TokenService, and mutations of them) stay valid.
// Input: the Authorization header's value. Self-contained on purpose: it needs only
// RequireAuth, the verifier, the keys and a clock.
// Beyond sanitizer findings it checks that a header is accepted only in the form
// "Bearer <b64token>", with a token that verifies and names a subject, and that the
// same header is judged the same way the second time (from the cache).
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>

#include "../unit/support/ManualClock.h"
#include "middleware/RequireAuth.h"
#include "services/KeyRing.h"
#include "verify/Bearer.h"
#include "verify/Clock.h"
#include "verify/Verifier.h"

namespace {

using namespace authsvc;

// Shared with the seeds in corpus/bearer (tests/fuzz/README.md says how they were made).
const std::string kSecret = "fuzz-secret-0123456789abcdef0123456789abcdef";
constexpr int64_t kNowMs = 1'800'000'000'000;

struct World {
    verify::ManualClock clock{kNowMs};
    models::KeyRing keys{models::KeyConfig{kSecret, "", ""}};
    // A small cache, so that inputs also evict each other.
    verify::Verifier verifier{
        verify::VerifierOptions{"authsvc", "authsvc-clients", std::chrono::seconds(30), 64},
        keys.source(), clock};
    middleware::RequireAuth requireAuth{verifier};
};

// "Bearer <b64token>": the only form a header is accepted in.
std::optional<std::string_view> bearerToken(std::string_view header) {
    auto token = verify::bearerCredentials(header);
    if (!token || !verify::isB64Token(*token)) return std::nullopt;
    return token;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static World world;
    const std::string header(reinterpret_cast<const char*>(data), size);

    auto first = world.requireAuth.authenticate(header);
    auto second = world.requireAuth.authenticate(header);
    if (bool(first) != bool(second)) std::abort();
    if (first) {
        if (!bearerToken(header)) std::abort();
        if (first->claims().sub.empty() || first->claims().sub != second->claims().sub) {
            std::abort();
        }
    } else if (first.error().code != second.error().code) {
        std::abort();
    }
    // The token on its own, as Verifier::verifyToken sees it.
    if (auto token = bearerToken(header)) {
        auto verified = world.verifier.verifyToken(*token);
        if (bool(verified) != bool(first)) std::abort();
    }
    return 0;
}
