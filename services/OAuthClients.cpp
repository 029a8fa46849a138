#include "services/OAuthClients.h"

#include "common/Crypto.h"

namespace authsvc::models {

const OAuthClient* OAuthClients::find(std::string_view clientId) const {
    for (const auto& c : clients_) {
        if (c.id == clientId) return &c;
    }
    return nullptr;
}

std::optional<std::string> OAuthClients::refuse(std::string_view clientId,
                                                const std::optional<std::string>& secret) const {
    if (clients_.empty()) return std::nullopt;
    const bool presented = secret && !secret->empty();
    const OAuthClient* client = clientId.empty() ? nullptr : find(clientId);
    if (!client) return "Unknown client";
    if (client->secretSha256.empty()) {
        if (presented) return "A public client has no secret";
        return std::nullopt;
    }
    if (!presented) return "Client authentication failed";
    // Both sides are 64 hex characters: the comparison's time does not depend on the secret.
    if (!crypto::constantTimeEquals(crypto::sha256Hex(*secret), client->secretSha256)) {
        return "Client authentication failed";
    }
    return std::nullopt;
}

const OAuthClient* OAuthClients::introspector(std::string_view clientId,
                                              const std::optional<std::string>& secret) const {
    const OAuthClient* client = find(clientId);
    if (!client || !client->introspect || client->secretSha256.empty()) return nullptr;
    if (refuse(clientId, secret)) return nullptr;
    return client;
}

}  // namespace authsvc::models
