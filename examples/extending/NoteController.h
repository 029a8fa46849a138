// NoteController (the controllers layer of examples/extending): POST and GET /api/notes. Parses the
// request, calls NoteService, answers JSON; errors go through controllers::errorResponse,
// the one place that maps errors to HTTP. No SQL, no crypto. Thread-safe; runs on a
// database worker (the route row says so).
#pragma once

#include "controllers/HttpTypes.h"
#include "extending/NoteService.h"

namespace notes {

class NoteController {
  public:
    explicit NoteController(NoteService& notes) : notes_(notes) {}
    // {"body": "..."} -> 201 {"id", "body", "created_at"}; 400 invalid_request for a body
    // that is not a JSON object with a string "body" of 1 to 500 bytes.
    authsvc::controllers::HttpResponse add(const authsvc::controllers::HttpRequest& req,
                                           const authsvc::controllers::AuthContext& ctx);

    // -> 200 {"notes": [{"id", "body", "created_at"}]}: the caller's notes, oldest first.
    authsvc::controllers::HttpResponse list(const authsvc::controllers::HttpRequest& req,
                                            const authsvc::controllers::AuthContext& ctx);

  private:
    NoteService& notes_;
};

}  // namespace notes
