// Verifies authsvc access tokens in a Node service from the issuer alone: the RFC 8414
// metadata at <issuer>/.well-known/oauth-authorization-server names the jwks_uri; jose
// fetches the keys from it (cached, refetched on an unknown kid) and checks the signature,
// iss, aud, exp and nbf of each token locally (no call to authsvc per request).
// authsvc serves the metadata only when jwt.issuer equals server.public_url.
import { createRemoteJWKSet, jwtVerify } from "jose";

// Returns an async function token => claims that throws (a jose error, e.g. code
// ERR_JWS_SIGNATURE_VERIFICATION_FAILED or ERR_JWT_CLAIM_VALIDATION_FAILED) on a token it
// refuses. `issuer`: authsvc's jwt.issuer (= server.public_url, no trailing slash);
// `audience`: its jwt.audience.
export async function createVerifier(issuer, audience) {
  const response = await fetch(`${issuer}/.well-known/oauth-authorization-server`);
  if (!response.ok) {
    throw new Error(`discovery: ${response.status} from ${issuer} (is jwt.issuer server.public_url?)`);
  }
  const metadata = await response.json();
  // RFC 8414 3.3: the document must name the issuer it was fetched for.
  if (metadata.issuer !== issuer) {
    throw new Error(`discovery: the metadata names issuer ${metadata.issuer}, not ${issuer}`);
  }
  const keys = createRemoteJWKSet(new URL(metadata.jwks_uri));
  return async (token) => {
    const { payload } = await jwtVerify(token, keys, {
      issuer,
      audience,
      algorithms: ["ES256", "RS256"],
    });
    return payload;
  };
}
