// The pure HTTP pieces: error mapping, JSON body fields, body checks (413 before 415),
// Bearer header parsing and RequireAuth, request ids, the declared Content-Length check.
#include <gtest/gtest.h>

#include <set>

#include "app/http/ProtocolHandler.h"
#include "controllers/ErrorMapper.h"
#include "controllers/JsonBody.h"
#include "middleware/BodyChecks.h"
#include "middleware/RequestId.h"
#include "middleware/RequireAuth.h"
#include "support/TestSupport.h"
#include "verify/Bearer.h"

namespace {

using authsvc::app::serializeResponse;
using authsvc::controllers::errorCodeName;
using authsvc::controllers::errorResponse;
using authsvc::controllers::HttpRequest;
using authsvc::controllers::HttpResponse;
using authsvc::controllers::jsonResponse;
using authsvc::controllers::parseObject;
using authsvc::controllers::requiredString;
using authsvc::controllers::statusOf;
using authsvc::middleware::checkBody;
using authsvc::middleware::RequestIds;
using authsvc::middleware::RequireAuth;
using authsvc::models::ErrorCode;
using authsvc::models::makeError;
using nlohmann::json;

std::optional<std::string> headerOf(const HttpResponse& r, const std::string& name) {
    std::optional<std::string> found;
    for (const auto& [n, v] : r.headers) {
        if (n == name) {
            EXPECT_FALSE(found) << "header " << name << " twice";
            found = v;
        }
    }
    return found;
}

// ---- ErrorMapper -------------------------------------------------------------------

struct Mapping {
    ErrorCode code;
    int status;
    const char* name;
};

TEST(ErrorMapperTest, EveryCodeHasTheStatusAndNameOfApiMd) {
    const Mapping table[] = {
        {ErrorCode::InvalidRequest, 400, "invalid_request"},
        {ErrorCode::MissingToken, 401, "missing_token"},
        {ErrorCode::InvalidToken, 401, "invalid_token"},
        {ErrorCode::InvalidCredentials, 401, "invalid_credentials"},
        {ErrorCode::InvalidGrant, 401, "invalid_grant"},
        {ErrorCode::RegistrationClosed, 403, "registration_closed"},
        {ErrorCode::NotFound, 404, "not_found"},
        {ErrorCode::EmailTaken, 409, "email_taken"},
        {ErrorCode::UnsupportedMediaType, 415, "unsupported_media_type"},
        {ErrorCode::TooManyRequests, 429, "too_many_requests"},
        {ErrorCode::Internal, 500, "internal_error"},
        {ErrorCode::Unavailable, 503, "unavailable"},
    };
    for (const auto& m : table) {
        EXPECT_EQ(statusOf(m.code), m.status) << m.name;
        EXPECT_STREQ(errorCodeName(m.code), m.name);
        HttpResponse r = errorResponse(makeError(m.code, "Some sentence."));
        EXPECT_EQ(r.status, m.status) << m.name;
        EXPECT_EQ(r.contentType, "application/json");
        json body = json::parse(r.body);
        EXPECT_EQ(body, (json{{"error", m.name}, {"message", "Some sentence."}})) << m.name;
    }
}

TEST(ErrorMapperTest, TheErrorsOnlyHttpHasHaveTheStatusAndNameOfApiMd) {
    using authsvc::controllers::HttpError;
    using authsvc::controllers::HttpErrorCode;
    using authsvc::controllers::Refusal;
    const HttpResponse r405 = errorResponse(HttpError{HttpErrorCode::MethodNotAllowed, "No."});
    EXPECT_EQ(r405.status, 405);
    EXPECT_EQ(json::parse(r405.body), (json{{"error", "method_not_allowed"}, {"message", "No."}}));
    const HttpResponse r413 =
        errorResponse(Refusal(HttpError{HttpErrorCode::PayloadTooLarge, "Big."}));
    EXPECT_EQ(r413.status, 413);
    EXPECT_EQ(json::parse(r413.body), (json{{"error", "payload_too_large"}, {"message", "Big."}}));
    // A service's error as a refusal maps as itself.
    EXPECT_EQ(errorResponse(Refusal(makeError(ErrorCode::NotFound, "x"))).status, 404);
}

TEST(ErrorMapperTest, MissingTokenGetsTheBareBearerChallenge) {
    HttpResponse r = errorResponse(makeError(ErrorCode::MissingToken, "Missing access token"));
    EXPECT_EQ(headerOf(r, "WWW-Authenticate"), "Bearer realm=\"authsvc\"");
}

TEST(ErrorMapperTest, MalformedBearerGetsInvalidRequestChallenge) {
    authsvc::models::Error e = makeError(ErrorCode::InvalidRequest, "bad header");
    e.tokenRefused = authsvc::verify::Reason::NotBearer;
    HttpResponse r = errorResponse(e);
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(headerOf(r, "WWW-Authenticate"),
              "Bearer realm=\"authsvc\", error=\"invalid_request\"");
}

TEST(ErrorMapperTest, InvalidTokenChallengeCarriesTheDescription) {
    HttpResponse r = errorResponse(makeError(ErrorCode::InvalidToken, "Access token has expired"));
    EXPECT_EQ(headerOf(r, "WWW-Authenticate"),
              "Bearer realm=\"authsvc\", error=\"invalid_token\", "
              "error_description=\"Access token has expired\"");
    EXPECT_EQ(json::parse(r.body)["message"], "Access token has expired");
}

TEST(ErrorMapperTest, ErrorDescriptionCannotBreakOutOfItsQuotedString) {
    HttpResponse r = errorResponse(
        makeError(ErrorCode::InvalidToken, "bad \"token\"\\ here\r\nX-Injected: 1\x7f\xc3\xa9"));
    auto h = headerOf(r, "WWW-Authenticate");
    ASSERT_TRUE(h);
    EXPECT_EQ(*h,
              "Bearer realm=\"authsvc\", error=\"invalid_token\", "
              "error_description=\"bad token here"
              "X-Injected: 1\"");
}

TEST(ErrorMapperTest, OtherErrorsHaveNoChallenge) {
    for (ErrorCode c : {ErrorCode::InvalidRequest, ErrorCode::InvalidCredentials,
                        ErrorCode::InvalidGrant, ErrorCode::Internal}) {
        EXPECT_FALSE(headerOf(errorResponse(makeError(c, "x")), "WWW-Authenticate"))
            << errorCodeName(c);
    }
}

TEST(ErrorMapperTest, RetryAfterOnTooManyRequestsAndUnavailable) {
    EXPECT_EQ(
        headerOf(errorResponse(makeError(ErrorCode::TooManyRequests, "x", 37)), "Retry-After"),
        "37");
    EXPECT_EQ(headerOf(errorResponse(makeError(ErrorCode::Unavailable, "x", 5)), "Retry-After"),
              "5");
    // Never 0 or negative.
    EXPECT_EQ(headerOf(errorResponse(makeError(ErrorCode::TooManyRequests, "x", 0)), "Retry-After"),
              "1");
    EXPECT_EQ(headerOf(errorResponse(makeError(ErrorCode::Unavailable, "x", -3)), "Retry-After"),
              "1");
    EXPECT_FALSE(
        headerOf(errorResponse(makeError(ErrorCode::InvalidGrant, "x", 9)), "Retry-After"));
}

TEST(ErrorMapperTest, MessageIsJsonEscaped) {
    HttpResponse r = errorResponse(makeError(ErrorCode::InvalidRequest, "quote \" and \\ and \n"));
    EXPECT_EQ(json::parse(r.body)["message"], "quote \" and \\ and \n");
}

TEST(ErrorMapperTest, JsonResponseSerialisesTheBody) {
    HttpResponse r = jsonResponse(201, {{"id", 1}});
    EXPECT_EQ(r.status, 201);
    EXPECT_EQ(json::parse(r.body), (json{{"id", 1}}));
    EXPECT_TRUE(r.headers.empty());
}

// ---- JsonBody ----------------------------------------------------------------------

TEST(JsonBodyTest, ParsesAnObject) {
    auto r = parseObject(R"({"email": "a@b", "n": 1})");
    ASSERT_TRUE(r);
    EXPECT_EQ((*r)["email"], "a@b");
}

TEST(JsonBodyTest, NotJson) {
    for (const char* bad : {"", "{", "{\"a\":}", "email=a", "{'a': 1}", "{\"a\": 1} trailing"}) {
        auto r = parseObject(bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error().code, ErrorCode::InvalidRequest);
        EXPECT_EQ(r.error().message, "Request body is not valid JSON") << bad;
    }
}

TEST(JsonBodyTest, InvalidUtf8IsNotJson) {
    auto r = parseObject("{\"email\": \"\xff\xfe@x\"}");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::InvalidRequest);
}

TEST(JsonBodyTest, NotAnObject) {
    for (const char* bad : {"[]", "[{\"email\": \"a\"}]", "\"str\"", "42", "null", "true"}) {
        auto r = parseObject(bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error().code, ErrorCode::InvalidRequest);
        EXPECT_EQ(r.error().message, "Request body must be a JSON object") << bad;
    }
}

TEST(JsonBodyTest, RequiredStringMissingNamesTheField) {
    auto r = requiredString(json::object(), {"password"});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::InvalidRequest);
    EXPECT_EQ(r.error().message, "Field 'password' is required");
}

TEST(JsonBodyTest, RequiredStringMissingFromAllAliasesNamesTheFirst) {
    auto r = requiredString(json{{"other", "x"}}, {"refresh_token", "token"});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, "Field 'refresh_token' is required");
}

TEST(JsonBodyTest, RequiredStringWrongTypeNamesTheField) {
    for (const json& v : {json(5), json(nullptr), json::array({"a"}), json{{"a", 1}}, json(true)}) {
        auto r = requiredString(json{{"email", v}}, {"email"});
        ASSERT_FALSE(r) << v.dump();
        EXPECT_EQ(r.error().code, ErrorCode::InvalidRequest);
        EXPECT_EQ(r.error().message, "Field 'email' must be a string") << v.dump();
    }
}

TEST(JsonBodyTest, AliasIsUsedWhenTheFirstNameIsAbsent) {
    auto r = requiredString(json{{"username", "u@x"}}, {"email", "username"});
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, "u@x");
}

TEST(JsonBodyTest, FirstNameWinsWhenBothAreGiven) {
    auto r = requiredString(json{{"username", "u@x"}, {"email", "e@x"}}, {"email", "username"});
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, "e@x");
}

TEST(JsonBodyTest, FirstNameOfTheWrongTypeIsAnErrorEvenWithAValidAlias) {
    auto r = requiredString(json{{"email", 1}, {"username", "u@x"}}, {"email", "username"});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, "Field 'email' must be a string");
}

TEST(JsonBodyTest, AliasOfTheWrongTypeNamesTheAlias) {
    auto r = requiredString(json{{"token", 1}}, {"refresh_token", "token"});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, "Field 'token' must be a string");
}

TEST(JsonBodyTest, EmptyStringIsAString) {
    auto r = requiredString(json{{"email", ""}}, {"email"});
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, "");
}

// ---- BodyChecks ----------------------------------------------------------------------

HttpRequest post(std::string body, bool json) {
    HttpRequest r;
    r.method = "POST";
    r.path = "/api/login";
    r.body = std::move(body);
    r.jsonContentType = json;
    return r;
}

TEST(BodyChecksTest, BodyAtTheLimitPasses) {
    EXPECT_EQ(checkBody(post(std::string(1000, 'x'), true), 1000), std::nullopt);
}

TEST(BodyChecksTest, BodyOverTheLimitIs413) {
    auto e = checkBody(post(std::string(1001, 'x'), true), 1000);
    ASSERT_TRUE(e);
    ASSERT_TRUE(std::holds_alternative<authsvc::controllers::HttpError>(*e));
    EXPECT_EQ(std::get<authsvc::controllers::HttpError>(*e).code,
              authsvc::controllers::HttpErrorCode::PayloadTooLarge);
    EXPECT_EQ(errorResponse(*e).status, 413);
}

TEST(BodyChecksTest, TooLargeIsCheckedBeforeTheMediaType) {
    auto e = checkBody(post(std::string(1001, 'x'), false), 1000);
    ASSERT_TRUE(e);
    EXPECT_EQ(errorResponse(*e).status, 413);
}

TEST(BodyChecksTest, BodyWithoutJsonContentTypeIs415) {
    auto e = checkBody(post("{}", false), 1000);
    ASSERT_TRUE(e);
    ASSERT_TRUE(std::holds_alternative<authsvc::models::Error>(*e));
    EXPECT_EQ(std::get<authsvc::models::Error>(*e).code, ErrorCode::UnsupportedMediaType);
}

TEST(BodyChecksTest, EmptyBodyNeedsNoContentType) {
    EXPECT_EQ(checkBody(post("", false), 1000), std::nullopt);
    HttpRequest get;
    get.method = "GET";
    EXPECT_EQ(checkBody(get, 1000), std::nullopt);
}

TEST(BodyChecksTest, JsonBodyPasses) {
    EXPECT_EQ(checkBody(post("{\"a\":1}", true), 1000), std::nullopt);
}

// ---- Bearer parsing --------------------------------------------------------------------

// The token of "Bearer <token>" as RequireAuth accepts it: the credentials, in b64token
// syntax.
std::optional<std::string_view> bearerToken(std::string_view header) {
    auto token = authsvc::verify::bearerCredentials(header);
    if (!token || !authsvc::verify::isB64Token(*token)) return std::nullopt;
    return token;
}

TEST(BearerTokenTest, AcceptsTheRfc6750Form) {
    EXPECT_EQ(bearerToken("Bearer abc.DEF-_~+/"), "abc.DEF-_~+/");
    EXPECT_EQ(bearerToken("Bearer abc=="), "abc==");
}

TEST(BearerTokenTest, SchemeIsCaseInsensitive) {
    EXPECT_EQ(bearerToken("bearer abc"), "abc");
    EXPECT_EQ(bearerToken("BEARER abc"), "abc");
    EXPECT_EQ(bearerToken("bEaReR abc"), "abc");
}

TEST(BearerTokenTest, SeveralSpacesAfterTheScheme) {
    EXPECT_EQ(bearerToken("Bearer   abc"), "abc");
}

TEST(BearerTokenTest, EveryB64tokenCharacterAndNoOther) {
    std::string all;
    for (int c = 1; c < 256; ++c) {
        const std::string token(1, char(c));
        const bool allowed =
            c < 0x80 &&
            (std::isalnum(c) || std::string_view("-._~+/").find(char(c)) != std::string_view::npos);
        EXPECT_EQ(bearerToken("Bearer " + token).has_value(), allowed) << c;
        if (allowed) all += token;
    }
    EXPECT_EQ(all.size(), 26u * 2 + 10 + 6);
    EXPECT_EQ(bearerToken("Bearer " + all + "=="), all + "==");
}

TEST(BearerTokenTest, RefusesOtherShapes) {
    for (const char* bad : {"", "Bearer", "Bearer ", "Bearer    ", "Bearerabc", "Basic abc",
                            "Bearer\tabc", "Bearer abc def", "Bearer abc ", " Bearer abc",
                            "Bearer =abc", "Bearer ab=c", "Bearer a,b", "Bearer \"abc\"",
                            "Bearer a\xc3\xa9", "Token abc", "Bearers abc", "Bear abc"}) {
        EXPECT_EQ(bearerToken(bad), std::nullopt) << "[" << bad << "]";
    }
}

class RequireAuthTest : public ::testing::Test {
  protected:
    authsvc::verify::ManualClock clock;
    authsvc::testing::TokenKit tokens{clock};
    RequireAuth auth{tokens.verifier};
};

TEST_F(RequireAuthTest, NoHeaderIsMissingToken) {
    auto r = auth.authenticate(std::nullopt);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::MissingToken);
    EXPECT_EQ(errorResponse(r.error()).status, 401);
}

TEST_F(RequireAuthTest, OtherSchemeIsAMalformedRequest) {
    for (const char* h : {"Basic dXNlcjpwYXNz", "", "Bearer", "Bearer a b"}) {
        auto r = auth.authenticate(std::string(h));
        ASSERT_FALSE(r) << h;
        EXPECT_EQ(r.error().code, ErrorCode::InvalidRequest) << h;
        EXPECT_EQ(r.error().tokenRefused, authsvc::verify::Reason::NotBearer) << h;
        EXPECT_EQ(errorResponse(r.error()).status, 400);
    }
}

TEST_F(RequireAuthTest, BadTokenIsInvalidToken) {
    auto r = auth.authenticate(std::string("Bearer not.a.token"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::InvalidToken);
}

TEST_F(RequireAuthTest, ExpiredTokenIsInvalidTokenWithTheApiMessage) {
    const std::string t = tokens.issue("7", "s");
    clock.advanceMs(900'000 + 30'000 + 1);
    auto r = auth.authenticate("Bearer " + t);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::InvalidToken);
    EXPECT_EQ(r.error().message, "Access token has expired");
}

TEST_F(RequireAuthTest, ValidTokenGivesTheClaims) {
    const std::string t = tokens.issue("7", "fam");
    auto r = auth.authenticate("bearer " + t);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->claims().sub, "7");
    EXPECT_EQ(r->claims().sid, "fam");
}

TEST_F(RequireAuthTest, ASecondPresentationGivesTheSameClaimsAndSyntaxStillCounts) {
    const std::string t = tokens.issue("7", "fam");
    ASSERT_TRUE(auth.authenticate("Bearer " + t));
    EXPECT_TRUE(tokens.verifiedBefore(t));
    auto again = auth.authenticate("Bearer   " + t);  // served from the verified tokens
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_EQ(again->claims().sub, "7");
    EXPECT_EQ(again->claims().sid, "fam");
    // Other bytes around the same token are judged by their own syntax: 400, not 401.
    for (const std::string& h : {"Bearer " + t + " x", "Bearer " + t + "=x", "Bearer " + t + "!"}) {
        auto r = auth.authenticate(h);
        ASSERT_FALSE(r) << h;
        EXPECT_EQ(r.error().code, ErrorCode::InvalidRequest) << h;
        EXPECT_TRUE(r.error().tokenRefused) << h;
    }
    // An expired token is not served from the verified tokens.
    clock.advanceMs(900'000 + 30'000 + 1);
    EXPECT_FALSE(tokens.verifiedBefore(t));
    auto late = auth.authenticate("Bearer " + t);
    ASSERT_FALSE(late);
    EXPECT_EQ(late.error().message, "Access token has expired");
}

// ---- serializeResponse ----------------------------------------------------------------

TEST(SerializeResponseTest, StatusLineTypedHeadersLengthAndBody) {
    Pistache::Http::Header::Collection headers;
    headers.add<Pistache::Http::Header::Connection>(Pistache::Http::ConnectionControl::Close);
    const std::string wire = serializeResponse(
        headers, {{"X-Request-Id", "r1"}}, Pistache::Http::Code::Unauthorized, R"({"error":"x"})");
    EXPECT_EQ(wire,
              "HTTP/1.1 401 Unauthorized\r\nConnection: Close\r\nX-Request-Id: r1\r\n"
              "Content-Length: 13\r\n\r\n"
              R"({"error":"x"})");
}

TEST(SerializeResponseTest, AnEmptyBodyStillSaysItsLength) {
    Pistache::Http::Header::Collection headers;
    EXPECT_EQ(serializeResponse(headers, {}, Pistache::Http::Code::Ok, ""),
              "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
}

TEST(SerializeResponseTest, AHeadAnswerHasTheLengthButNotTheBody) {  // RFC 9110 9.3.2
    Pistache::Http::Header::Collection headers;
    EXPECT_EQ(serializeResponse(headers, {}, Pistache::Http::Code::Ok, "12345", true),
              "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n");
}

TEST(SerializeResponseTest, A204HasNeitherLengthNorBody) {  // RFC 9110 8.6
    Pistache::Http::Header::Collection headers;
    EXPECT_EQ(serializeResponse(headers, {}, Pistache::Http::Code::No_Content, "ignored"),
              "HTTP/1.1 204 No Content\r\n\r\n");
}

// ---- RequestIds ------------------------------------------------------------------------

TEST(RequestIdTest, KeepsAShortPlainClientId) {
    RequestIds ids;
    EXPECT_EQ(ids.next(std::string("abc-123_x.Y")), "abc-123_x.Y");
    const std::string max(64, 'a');
    EXPECT_EQ(ids.next(max), max);
}

TEST(RequestIdTest, ReplacesLongOrUnsafeIds) {
    RequestIds ids;
    for (const std::string& bad : {std::string(65, 'a'), std::string("a b"), std::string("a\nb"),
                                   std::string("a\"b"), std::string(""), std::string("a/b")}) {
        const std::string id = ids.next(bad);
        EXPECT_NE(id, bad);
        EXPECT_FALSE(id.empty());
        EXPECT_EQ(id.find_first_of(" \n\"/"), std::string::npos) << id;
    }
}

TEST(RequestIdTest, GeneratedIdsAreUnique) {
    RequestIds ids;
    std::set<std::string> seen;
    for (int i = 0; i < 1000; ++i) seen.insert(ids.next(std::nullopt));
    EXPECT_EQ(seen.size(), 1000u);
    RequestIds other;  // another process would have another prefix
    EXPECT_EQ(seen.count(other.next(std::nullopt)), 0u);
}

}  // namespace
