#include "extending/NoteController.h"

#include "common/JsonText.h"
#include "controllers/ErrorMapper.h"
#include "controllers/JsonBody.h"

namespace notes {

using authsvc::controllers::errorResponse;
using authsvc::controllers::jsonResponse;

namespace {
nlohmann::json noteJson(const Note& n) {
    return {
        {"id", n.id}, {"body", n.body}, {"created_at", authsvc::models::rfc3339Utc(n.createdAt)}};
}
}  // namespace

authsvc::controllers::HttpResponse NoteController::add(
    const authsvc::controllers::HttpRequest& req, const authsvc::controllers::AuthContext& ctx) {
    auto obj = authsvc::controllers::parseObject(req.body);
    if (!obj) return errorResponse(obj.error());
    auto body = authsvc::controllers::requiredString(*obj, {"body"});
    if (!body) return errorResponse(body.error());
    auto note = notes_.add(ctx.claims().sub, *body);
    if (!note) return errorResponse(note.error());
    return jsonResponse(201, noteJson(*note));
}

authsvc::controllers::HttpResponse NoteController::list(
    const authsvc::controllers::HttpRequest& /*req*/,
    const authsvc::controllers::AuthContext& ctx) {
    auto notes = notes_.list(ctx.claims().sub);
    if (!notes) return errorResponse(notes.error());
    nlohmann::json out = nlohmann::json::array();
    for (const auto& n : *notes) out.push_back(noteJson(n));
    return jsonResponse(200, {{"notes", std::move(out)}});
}

}  // namespace notes
