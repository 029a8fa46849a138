#include "extending/NotesExtension.h"

#include <memory>

#include "extending/NoteController.h"
#include "extending/NoteService.h"

namespace notes {

authsvc::app::Extension extension() {
    using namespace authsvc::app;
    Extension ext;
    ext.migrations = notesMigrations();
    ext.routes = [](authsvc::models::Database& db, const authsvc::verify::Clock& clock,
                    const RouteChecks& checks) {
        // Owned by the handler: they live as long as the route table.
        auto service = std::make_shared<NoteService>(db, clock);
        auto controller = std::make_shared<NoteController>(*service);
        BearerHandler add = [service, controller](const HttpRequest& r, const AuthContext& a) {
            return controller->add(r, a);
        };
        BearerHandler list = [service, controller](const HttpRequest& r, const AuthContext& a) {
            return controller->list(r, a);
        };
        // A row as in app/Routes.cpp: name (metrics, logs), method, paths, where it runs
        // (a database round trip: a database worker), and a Bearer handler with its role
        // (bearerHandler: the Bearer check, then the role in the token, then on the worker
        // the live session and the role as it is now).
        return std::vector<Route>{
            {"notes_add",
             "POST",
             {"/api/notes"},
             RunsOn::DatabasePool,
             bearerHandler(checks, std::move(add), Role{kWriteRole})},
            // Any valid token (no role): the caller's own notes.
            {"notes_list",
             "GET",
             {"/api/notes"},
             RunsOn::DatabasePool,
             bearerHandler(checks, std::move(list))},
        };
    };
    return ext;
}

}  // namespace notes
