// OAuthClients: the OAuth 2.0 clients of `oauth.clients` (RFC 6749 2): a public client has
// an id only; a confidential one also the SHA-256 of its secret (at least 32 random bytes,
// so a plain hash is the right one: no per-request argon2 an attacker could make us
// compute), and may introspect. Immutable after construction; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace authsvc::models {

struct OAuthClient {
    std::string id;
    std::string secretSha256;  // 64 lower-case hex characters; empty: a public client
    bool introspect = false;
};

class OAuthClients {
  public:
    explicit OAuthClients(std::vector<OAuthClient> clients) : clients_(std::move(clients)) {}

    // Whether `clientId` (empty: none given) with `secret` (nullopt or empty: none
    // presented) is admitted; nullopt when it is, else why not (for error_description).
    // No clients listed: every request is admitted (public clients, ids unchecked). Else
    // the id must name a listed client; a confidential client must present its secret
    // (compared as SHA-256 in constant time); a public one must present none.
    std::optional<std::string> refuse(std::string_view clientId,
                                      const std::optional<std::string>& secret) const;
    // The listed client with `clientId` that presents `secret` and may introspect; nullopt
    // when there is none (then the caller answers 401 invalid_client).
    const OAuthClient* introspector(std::string_view clientId,
                                    const std::optional<std::string>& secret) const;
    bool listed() const { return !clients_.empty(); }

  private:
    const OAuthClient* find(std::string_view clientId) const;

    std::vector<OAuthClient> clients_;
};

}  // namespace authsvc::models
