// Fuzz target: the JSON request bodies of every route that has one (register, login,
// refresh, logout), through the real AuthController methods: JSON parsing, the fields
// each route reads, and the validation behind them (email, password, refresh-token
// shape), over a real AuthService (ServiceWorld: SQLite in a temporary directory). No
// network. Input: one byte choosing the route, then the request body.
// Beyond sanitizer findings it checks the contract of every answer: a known status, never
// 500, and a body that is JSON (or empty for 204).
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "ServiceWorld.h"

namespace {

bool knownStatus(int s) {
    return s == 200 || s == 201 || s == 204 || s == 400 || s == 401 || s == 403 || s == 409 ||
           s == 429 || s == 503;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static authsvc::fuzz::ServiceWorld world(20, 5);
    if (size == 0) return 0;
    // A new login-throttle window for every input: each is judged on its own.
    world.clock.advanceMs(authsvc::models::LoginThrottle::kWindowMs + 1000);
    authsvc::controllers::HttpRequest req;
    req.method = "POST";
    req.jsonContentType = true;
    req.clientIp = "192.0.2.1";
    req.body.assign(reinterpret_cast<const char*>(data) + 1, size - 1);

    auto& c = *world.authController;
    authsvc::controllers::HttpResponse r;
    switch (data[0] % 4) {
        case 0:
            r = c.registerUser(req);
            break;
        case 1:
            r = c.login(req);
            break;
        case 2:
            r = c.refresh(req);
            break;
        default:
            r = c.logout(req);
            break;
    }
    if (!knownStatus(r.status)) std::abort();
    if (r.status == 204 ? !r.body.empty() : !nlohmann::json::accept(r.body)) std::abort();
    return 0;
}
