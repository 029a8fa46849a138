// The `authsvc keys` commands (generate, list, jwks) and the key helpers the server
// shares with them. They read the configuration only: no database. Main thread only.
#pragma once

#include <string>

#include "app/config/Config.h"
#include "services/KeyRing.h"

namespace authsvc::app {

models::KeyConfig keyConfig(const JwtConfig& jwt);
// "kid (ES256, signs), kid (RS256), HS256 secret (tokens without kid)" for log lines.
std::string describeKeys(const models::KeyRing& keys);

// Each prints its result on stdout and errors on stderr; returns the exit code.
int keysGenerate(const Config& config, const std::string& algorithm, const std::string& kid);
int keysList(const Config& config);
int keysJwks(const Config& config);

}  // namespace authsvc::app
