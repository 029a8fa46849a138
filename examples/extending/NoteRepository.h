// NoteRepository (the models layer of examples/extending): the example_notes table. SQL
// lives here and only here, always bound. Methods run on a session the caller leased from
// models::Database (inside read() or write()). Stateless: any thread may call it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "models/Soci.h"

namespace notes {

struct Note {
    int64_t id = 0;
    int64_t userId = 0;
    std::string body;
    int64_t createdAt = 0;  // epoch seconds
};

class NoteRepository {
  public:
    // The new note's id; nullopt when there is no such user (deleted since the token).
    std::optional<int64_t> insert(soci::session& s, int64_t userId, const std::string& body,
                                  int64_t createdAt) const;
    // The user's notes, oldest first.
    std::vector<Note> byUser(soci::session& s, int64_t userId) const;
};

}  // namespace notes
