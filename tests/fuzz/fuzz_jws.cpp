// Fuzz target: verification of correctly signed tokens (verify::Verifier over authsvc's
// KeyRing: an ES256 key "ec1", an RS256 key "rsa1" and the HS256 secret), under a fixed
// clock. Random bytes almost never carry a valid signature, so fuzz_bearer rarely gets
// past the signature check; here the target signs whatever header and payload the input
// holds, and checks that the verifier's verdict is exactly the one docs/API.md's rules
// give ("The access token": its Verification item).
// Input: byte 0 picks the signer (0 ES256 "ec1", 1 RS256 "rsa1", 2 HS256 secret, 3 a
// signature of 64 random bytes); the rest is the header's JSON text, a newline, and the
// payload's JSON text. Each part is base64url-encoded as it is, so any bytes, JSON or
// not, reach the verifier.
// Beyond sanitizer findings it checks: accepted if and only if the rules say so (the
// header's alg is the signer's, its kid names the signing key and no kid for HS256,
// no crit, typ JWT if present, no member named twice; iss, aud, exp, nbf, iat, sub and
// roles as documented), and a refusal for the reason (verify::Reason) of the first rule
// the token breaks; the same verdict from the verified-token cache; a token with one
// signature bit flipped is refused (bad_signature when the token was good).
#include <stdlib.h>  // mkdtemp

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "../unit/support/ManualClock.h"
#include "common/Crypto.h"
#include "services/KeyRing.h"
#include "verify/Base64Url.h"
#include "verify/Clock.h"
#include "verify/Verifier.h"

namespace {

using namespace authsvc;
using nlohmann::json;

const std::string kSecret = "fuzz-jws-secret-0123456789abcdef0123456789abcdef";
const std::string kIssuer = "authsvc";
const std::string kAudience = "authsvc-clients";
constexpr int64_t kNowMs = 1'800'000'000'000;  // the seeds' claims are around this time
constexpr int64_t kLeewayMs = 30'000;
constexpr size_t kMaxTokenBytes = 8192;  // verify::Verifier's limit

std::string readFile(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

struct World {
    World() {
        // Keys are made per process (never committed); they live in memory only.
        char tmpl[] = "/tmp/fuzz-jws-XXXXXX";
        if (!mkdtemp(tmpl)) std::abort();
        const std::string dir = tmpl;
        models::generateKeyFile(dir, "ES256", "ec1", kNowMs);
        models::generateKeyFile(dir, "RS256", "rsa1", kNowMs);
        ring = std::make_unique<models::KeyRing>(models::KeyConfig{kSecret, dir, "ec1"});
        es256 = std::make_unique<models::SigningKey>(
            verify::keyFromPem(readFile(std::filesystem::path(dir) / "ec1.pem"), "ec1"));
        rs256 = std::make_unique<models::SigningKey>(
            verify::keyFromPem(readFile(std::filesystem::path(dir) / "rsa1.pem"), "rsa1"));
        hs256 = std::make_unique<models::SigningKey>(kSecret);
        std::filesystem::remove_all(dir);
        verifier = std::make_unique<verify::Verifier>(
            verify::VerifierOptions{kIssuer, kAudience, std::chrono::milliseconds(kLeewayMs), 64},
            ring->source(), clock);
    }
    verify::ManualClock clock{kNowMs};
    std::unique_ptr<models::KeyRing> ring;
    std::unique_ptr<models::SigningKey> es256, rs256, hs256;
    std::unique_ptr<verify::Verifier> verifier;
};

// A claim read as the rules read it: a positive integer (seconds), capped where it would
// overflow milliseconds; 0 for anything else.
int64_t seconds(const json& v) {
    constexpr int64_t kCap = 900'000'000'000LL;
    if (v.is_number_unsigned()) return int64_t(std::min<uint64_t>(v.get<uint64_t>(), kCap));
    if (v.is_number_integer()) return std::clamp<int64_t>(v.get<int64_t>(), 0, kCap);
    return 0;
}

// True when some object in `text` (valid JSON) names a member twice. A SAX pass of its own,
// apart from the verifier's parser callback.
struct RepeatedNames : nlohmann::json_sax<json> {
    std::vector<std::set<std::string>> open;
    bool found = false;
    bool start_object(std::size_t) override {
        open.emplace_back();
        return true;
    }
    bool key(string_t& name) override {
        if (!open.empty() && !open.back().insert(name).second) found = true;
        return true;
    }
    bool end_object() override {
        if (!open.empty()) open.pop_back();
        return true;
    }
    bool null() override { return true; }
    bool boolean(bool) override { return true; }
    bool number_integer(number_integer_t) override { return true; }
    bool number_unsigned(number_unsigned_t) override { return true; }
    bool number_float(number_float_t, const string_t&) override { return true; }
    bool string(string_t&) override { return true; }
    bool binary(binary_t&) override { return true; }
    bool start_array(std::size_t) override { return true; }
    bool end_array() override { return true; }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
        return false;
    }
};
bool namesAMemberTwice(const std::string& text) {
    RepeatedNames sax;
    json::sax_parse(text, &sax);
    return sax.found;
}

bool isString(const json& obj, const char* name) {
    return obj.contains(name) && obj[name].is_string();
}

// docs/API.md's rules, stated once more independently of verify/Verifier.cpp, in the
// order the verifier applies them: nullopt when the token must be accepted, else the
// reason it must be refused for (the first rule it breaks).
std::optional<verify::Reason> expectedRefusal(const std::string& headerText,
                                              const std::string& payloadText,
                                              const models::SigningKey* signer, size_t tokenSize) {
    using verify::Reason;
    if (tokenSize > kMaxTokenBytes) return Reason::TooLarge;
    // The header: a JSON object naming no member twice, a string alg, no crit, typ JWT.
    const json header = json::parse(headerText, nullptr, false);
    if (!header.is_object()) return Reason::Malformed;
    if (namesAMemberTwice(headerText)) return Reason::RepeatedMember;
    if (!isString(header, "alg")) return Reason::Malformed;
    if (header.contains("crit")) return Reason::Crit;
    if (header.contains("typ") && header["typ"] != "JWT") return Reason::Typ;
    if (header.contains("kid") && !isString(header, "kid")) return Reason::Malformed;
    // The key: a kid names one of the ring's keys, no kid the HS256 secret; the alg is
    // that key's; the signature is that key's.
    const std::string alg = header["alg"];
    if (header.contains("kid")) {
        const std::string kid = header["kid"];
        const char* keyAlg = kid == "ec1" ? "ES256" : kid == "rsa1" ? "RS256" : nullptr;
        if (!keyAlg) return Reason::UnknownKid;
        if (alg != keyAlg) return Reason::AlgorithmNotKeys;
        if (!signer || signer->kid() != kid) return Reason::BadSignature;
    } else {
        if (alg != "HS256") return Reason::AlgorithmNotKeys;
        if (!signer || !signer->kid().empty()) return Reason::BadSignature;
    }
    // The claims.
    const json payload = json::parse(payloadText, nullptr, false);
    if (!payload.is_object()) return Reason::Malformed;
    if (namesAMemberTwice(payloadText)) return Reason::RepeatedMember;
    if (!isString(payload, "iss") || payload["iss"] != kIssuer) return Reason::Issuer;
    if (!payload.contains("aud")) return Reason::Audience;
    const json& aud = payload["aud"];
    bool audOk = aud.is_string() && aud == kAudience;
    if (aud.is_array()) {
        for (const auto& a : aud) audOk = audOk || (a.is_string() && a == kAudience);
    }
    if (!audOk) return Reason::Audience;
    if (!payload.contains("exp")) return Reason::MissingExp;
    const int64_t exp = seconds(payload["exp"]);
    if (exp <= 0) return Reason::MissingExp;
    if (kNowMs > exp * 1000 + kLeewayMs) return Reason::Expired;
    for (const auto& [name, reason] :
         {std::pair{"nbf", Reason::NotYetValid}, std::pair{"iat", Reason::IssuedInFuture}}) {
        if (!payload.contains(name)) continue;
        const int64_t t = seconds(payload[name]);
        if (t <= 0 || t * 1000 > kNowMs + kLeewayMs) return reason;
    }
    if (!isString(payload, "sub") || payload["sub"].get<std::string>().empty()) {
        return Reason::MissingSubject;
    }
    if (payload.contains("roles")) {
        if (!payload["roles"].is_array()) return Reason::BadRoles;
        for (const auto& r : payload["roles"]) {
            if (!r.is_string()) return Reason::BadRoles;
        }
    }
    return std::nullopt;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static World world;
    if (size == 0) return 0;
    const std::string rest(reinterpret_cast<const char*>(data) + 1, size - 1);
    const size_t nl = rest.find('\n');
    const std::string headerText = rest.substr(0, nl);
    const std::string payloadText = nl == std::string::npos ? "" : rest.substr(nl + 1);

    const models::SigningKey* signers[] = {world.es256.get(), world.rs256.get(), world.hs256.get(),
                                           nullptr};
    const models::SigningKey* signer = signers[data[0] % 4];
    const std::string input = authsvc::verify::base64UrlEncode(headerText) + "." +
                              authsvc::verify::base64UrlEncode(payloadText);
    const std::string signature = signer ? signer->sign(input) : models::crypto::randomBytes(64);
    const std::string token = input + "." + authsvc::verify::base64UrlEncode(signature);

    const auto expected = expectedRefusal(headerText, payloadText, signer, token.size());
    // The verdict, and for a refusal its reason, exactly as the rules say.
    auto matches = [&](const verify::Verified& v) {
        return expected ? !v && v.reason == *expected : bool(v);
    };
    const verify::Verified first = world.verifier->verifyToken(token);
    if (!matches(first)) std::abort();
    const verify::Verified second = world.verifier->verifyToken(token);  // the cache's turn
    if (!matches(second)) std::abort();
    if (first && (first.claims->sub != second.claims->sub || first.claims->sub.empty())) {
        std::abort();
    }

    std::string flipped = signature;
    if (!flipped.empty()) {
        flipped[flipped.size() / 2] = char(flipped[flipped.size() / 2] ^ 0x01);
        const std::string tampered = input + "." + authsvc::verify::base64UrlEncode(flipped);
        const verify::Verified v = world.verifier->verifyToken(tampered);
        if (v || (!expected && v.reason != verify::Reason::BadSignature)) std::abort();
    }
    return 0;
}
