#include "controllers/AdminController.h"

#include <charconv>

#include "controllers/AuthController.h"
#include "controllers/ErrorMapper.h"

namespace authsvc::controllers {

namespace {

// The integer query parameter `name`: `fallback` when absent; nullopt unless it is
// decimal digits only that fit an int64_t.
std::optional<int64_t> integerParam(const HttpRequest& req, const char* name, int64_t fallback) {
    const std::string* text = req.queryParam(name);
    if (!text) return fallback;
    int64_t value = 0;
    const char* end = text->data() + text->size();
    auto [p, ec] = std::from_chars(text->data(), end, value);
    if (text->empty() || ec != std::errc() || p != end || (*text)[0] == '-') return std::nullopt;
    return value;
}

HttpResponse badParam(const std::string& message) {
    return errorResponse(models::makeError(models::ErrorCode::InvalidRequest, message));
}

}  // namespace

HttpResponse AdminController::users(const HttpRequest& req, const AuthContext& /*ctx*/) {
    using models::UserAdminService;
    const auto limit = integerParam(req, "limit", UserAdminService::kDefaultPageSize);
    if (!limit) return badParam("limit must be an integer from 1 to 500");
    const auto after = integerParam(req, "after", 0);
    if (!after) return badParam("after must be a user id (an integer >= 0)");
    auto page = admin_.listUsers(*after, *limit);
    if (!page) return errorResponse(page.error());

    nlohmann::json users = nlohmann::json::array();
    for (const auto& listed : page->users) {
        nlohmann::json u = userJson(listed.user);
        u["roles"] = listed.roles;
        users.push_back(std::move(u));
    }
    nlohmann::json body = {{"users", std::move(users)}, {"next", nullptr}};
    if (page->next) body["next"] = *page->next;
    return jsonResponse(200, body);
}

}  // namespace authsvc::controllers
