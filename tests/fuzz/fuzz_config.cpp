// Fuzz target: the config loader, app::parseConfig, with YAML text and an injected
// environment. Input: the YAML document, then (after the first NUL byte, if any) the
// environment as lines NAME=VALUE; NAME may omit the AUTHSVC_ prefix.
// parseConfig promises to answer bad input with ConfigError only: any other exception
// escapes and is reported as a crash. A config it accepts must hold its invariants.
#include <cstdint>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>

#include "app/config/Config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string input(reinterpret_cast<const char*>(data), size);
    const size_t nul = input.find('\0');
    const std::string yaml = input.substr(0, nul);
    std::map<std::string, std::string> env;
    if (nul != std::string::npos) {
        size_t start = nul + 1;
        while (start <= input.size()) {
            size_t end = input.find('\n', start);
            if (end == std::string::npos) end = input.size();
            const std::string line = input.substr(start, end - start);
            if (const size_t eq = line.find('='); eq != std::string::npos) {
                std::string name = line.substr(0, eq);
                if (name.rfind("AUTHSVC_", 0) != 0) name = "AUTHSVC_" + name;
                env[name] = line.substr(eq + 1);
            }
            start = end + 1;
        }
    }
    const authsvc::app::EnvLookup lookup =
        [&env](const std::string& name) -> std::optional<std::string> {
        auto it = env.find(name);
        if (it == env.end()) return std::nullopt;
        return it->second;
    };
    try {
        const authsvc::app::Config c = authsvc::app::parseConfig(yaml, "fuzz.yaml", lookup);
        // The HS256 secret is empty only beside keys_dir (no HS256 then); the refresh
        // successor key is never empty and never jwt.secret, and random only when no
        // jwt.secret is configured; a signing kid needs a keys directory.
        const bool secretOk =
            c.jwt.secret.empty() ? !c.jwt.keysDir.empty() : c.jwt.secret.size() >= 32;
        const bool signingOk = c.jwt.signingKid.empty() || !c.jwt.keysDir.empty();
        const bool jwtSecretConfigured = !c.jwt.secret.empty() && !c.jwt.secretGenerated;
        const bool refreshOk = c.refresh.secret.size() >= 32 && c.refresh.secret != c.jwt.secret &&
                               !(c.refresh.secretGenerated && jwtSecretConfigured);
        if (!secretOk || !signingOk || !refreshOk || c.server.port < 0 || c.server.port > 65535 ||
            c.routes.login.empty() || c.routes.refresh.empty() || c.routes.protectedPaths.empty()) {
            std::abort();
        }
    } catch (const authsvc::app::ConfigError&) {
        // the promised answer to bad input
    }
    return 0;
}
