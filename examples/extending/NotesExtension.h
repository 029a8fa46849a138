// The app layer of examples/extending: what it adds to authsvc through app::Extension (its
// migrations and its route) and nothing else; main.cpp passes it to app::Application.
#pragma once

#include <vector>

#include "app/Application.h"
#include "models/Migrator.h"

namespace notes {

// migrations/<dialect>/1001_notes.sql, embedded at build time (migrations/embed.cmake).
const std::vector<authsvc::models::EmbeddedMigration>& notesMigrations();

// The role POST /api/notes requires (`authsvc user role add EMAIL notes:write`).
inline constexpr const char* kWriteRole = "notes:write";

authsvc::app::Extension extension();

}  // namespace notes
