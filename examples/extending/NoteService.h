// NoteService (the services layer of examples/extending): the rules of a note (1 to 500
// bytes of text, by an existing user) and the transaction around the repository. Returns
// errors as values (models::Result); a database failure throws DatabaseUnavailable, which
// the dispatcher answers with 503. Thread-safe.
#pragma once

#include <string>
#include <vector>

#include "common/Error.h"
#include "extending/NoteRepository.h"
#include "models/Database.h"
#include "verify/Clock.h"

namespace notes {

class NoteService {
  public:
    static constexpr size_t kMaxBytes = 500;

    NoteService(authsvc::models::Database& db, const authsvc::verify::Clock& clock)
        : db_(db), clock_(clock) {}
    // `subject`: the access token's sub (the user's id). InvalidRequest for an empty or
    // too long body.
    authsvc::models::Result<Note> add(const std::string& subject, const std::string& body);
    // The notes of the user `subject` names, oldest first.
    authsvc::models::Result<std::vector<Note>> list(const std::string& subject);

  private:
    authsvc::models::Database& db_;
    const authsvc::verify::Clock& clock_;
    NoteRepository repo_;
};

}  // namespace notes
