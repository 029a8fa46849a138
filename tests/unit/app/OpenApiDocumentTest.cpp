// The YAML-to-JSON conversion behind GET /openapi.json (types kept as YAML 1.2 resolves
// them), and the embedded docs/openapi.yaml: it converts, and documents every route of the
// route table with its method.
#include "app/OpenApiDocument.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>

#include "app/Routes.h"
#include "controllers/AccountController.h"
#include "controllers/AdminController.h"
#include "controllers/DiscoveryController.h"
#include "controllers/KeysController.h"
#include "controllers/OAuthController.h"
#include "controllers/OpsController.h"
#include "controllers/RecoveryController.h"
#include "middleware/BodyChecks.h"
#include "services/AccountService.h"
#include "services/RecoveryService.h"
#include "services/UserAdminService.h"
#include "support/TestSupport.h"

namespace {

using authsvc::app::YamlConversionError;
using authsvc::app::yamlToJson;
using ojson = nlohmann::ordered_json;

TEST(YamlToJsonTest, PlainScalarsResolveAsYaml12CoreSchema) {
    const ojson j = yamlToJson(R"(
int: 42
negative: -7
plus: +3
hex: 0x1F
octal: 0o17
float: 1.5
exponent: 1e3
yes_true: true
capital: False
tilde: ~
null_word: null
empty:
version: 0.1.0
on: on
yes: yes
text: hello world
)");
    EXPECT_EQ(j["int"], 42);
    EXPECT_TRUE(j["int"].is_number_integer());
    EXPECT_EQ(j["negative"], -7);
    EXPECT_EQ(j["plus"], 3);
    EXPECT_EQ(j["hex"], 31);
    EXPECT_EQ(j["octal"], 15);
    EXPECT_TRUE(j["float"].is_number_float());
    EXPECT_DOUBLE_EQ(j["float"].get<double>(), 1.5);
    EXPECT_TRUE(j["exponent"].is_number_float());
    EXPECT_DOUBLE_EQ(j["exponent"].get<double>(), 1000.0);
    EXPECT_EQ(j["yes_true"], true);
    EXPECT_EQ(j["capital"], false);
    EXPECT_TRUE(j["tilde"].is_null());
    EXPECT_TRUE(j["null_word"].is_null());
    EXPECT_TRUE(j["empty"].is_null());
    // YAML 1.2: neither a number nor a boolean.
    EXPECT_EQ(j["version"], "0.1.0");
    EXPECT_EQ(j["on"], "on");
    EXPECT_EQ(j["yes"], "yes");
    EXPECT_EQ(j["text"], "hello world");
}

TEST(YamlToJsonTest, QuotedAndTaggedStringsStayStrings) {
    const ojson j = yamlToJson(R"(
double: "200"
single: '1.5'
bool_text: "true"
null_text: 'null'
tagged: !!str 12
block: |
  two
  lines
"404": quoted key
)");
    EXPECT_EQ(j["double"], "200");
    EXPECT_EQ(j["single"], "1.5");
    EXPECT_EQ(j["bool_text"], "true");
    EXPECT_EQ(j["null_text"], "null");
    EXPECT_EQ(j["tagged"], "12");
    EXPECT_EQ(j["block"], "two\nlines\n");
    EXPECT_EQ(j["404"], "quoted key");
}

TEST(YamlToJsonTest, CollectionsFlowStyleAndAliases) {
    const ojson j = yamlToJson(R"(
list: [1, "1", true, {a: b}]
nested:
  - x: &shared {k: 1}
  - y: *shared
empty_map: {}
empty_list: []
float_tag: !!float 2
)");
    EXPECT_EQ(j["list"], ojson::parse(R"([1, "1", true, {"a": "b"}])"));
    EXPECT_EQ(j["nested"][1]["y"], ojson({{"k", 1}}));
    EXPECT_TRUE(j["empty_map"].is_object() && j["empty_map"].empty());
    EXPECT_TRUE(j["empty_list"].is_array() && j["empty_list"].empty());
    EXPECT_TRUE(j["float_tag"].is_number_float());
}

TEST(YamlToJsonTest, RefusesWhatJsonCannotHold) {
    EXPECT_THROW(yamlToJson("a: 1\na: 2\n"), YamlConversionError);               // key twice
    EXPECT_THROW(yamlToJson("? [a, b]\n: 1\n"), YamlConversionError);            // sequence key
    EXPECT_THROW(yamlToJson("x: .inf\n"), YamlConversionError);                  // no JSON inf
    EXPECT_THROW(yamlToJson("x: 99999999999999999999\n"), YamlConversionError);  // > 64 bits
    EXPECT_THROW(yamlToJson("x: !!int abc\n"), YamlConversionError);
    EXPECT_THROW(yamlToJson("x: [unclosed\n"), YamlConversionError);  // malformed
}

TEST(OpenApiDocumentTest, EmbeddedDocumentConvertsWithItsTypes) {
    const ojson doc = ojson::parse(authsvc::app::openApiJson());
    EXPECT_EQ(doc["openapi"], "3.1.0");
    EXPECT_TRUE(doc["info"]["version"].is_string());
    const ojson& limit = doc["paths"]["/api/admin/users"]["get"]["parameters"][0]["schema"];
    EXPECT_TRUE(limit["maximum"].is_number_integer()) << limit;
    EXPECT_TRUE(doc["paths"]["/api/register"]["post"]["responses"].contains("201"));
}

std::string lowered(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
}

// The route table as the service builds it (default paths): every route is documented.
TEST(OpenApiDocumentTest, DocumentsEveryRouteOfTheRouteTable) {
    using namespace authsvc;
    authsvc::testing::TempDir dir;
    verify::ManualClock clock{1'800'000'000'000};
    models::DatabaseSettings ds;
    ds.sqlitePath = (dir.path() / "routes.db").string();
    models::Database db(ds);
    models::UserRepository users;
    models::RefreshTokenRepository tokens;
    models::PasswordHasher hasher{models::Argon2Params{1, 8}};
    authsvc::testing::TokenKit kit{clock};
    authsvc::testing::RecordingObserver observer;
    models::AuthSettings settings;
    settings.successorKey = authsvc::testing::kSecret;
    models::AuthService auth(db, users, tokens, hasher, kit.tokenService, clock, settings,
                             observer);
    models::LoginThrottle throttle{20, 3, clock};
    models::RegistrationLimit registrations{3, clock};
    controllers::AuthController authController(auth, throttle, registrations,
                                               [](controllers::Throttled) {});
    controllers::UserController userController(auth);
    controllers::OpsController ops([] { return true; }, [] { return std::string(); }, "{}");
    controllers::KeysController keys(kit.keys, 300);
    models::AccountService accountService(db, users, tokens, hasher, clock, 8, observer);
    controllers::AccountController accountController(auth, accountService, throttle, [] {});
    models::UserAdminService userAdmin(db, users, auth, accountService);
    controllers::AdminController adminController(userAdmin);

    models::MailOutboxRepository outbox;
    models::OneTimeTokenRepository oneTime;
    models::RecoveryService recovery(db, users, tokens, outbox, oneTime, hasher, clock, {},
                                     observer);
    models::EmailVerificationService verification(db, users, outbox, oneTime, hasher, clock, 3, 20);
    controllers::RecoveryController recoveryController(recovery, verification, auth, throttle,
                                                       [] {});

    const ojson doc = ojson::parse(app::openApiJson());
    middleware::RequireAuth requireAuth(kit.verifier);
    const app::RouteChecks checks{std::make_shared<middleware::BodyRules>(16384),
                                  std::make_shared<middleware::RequireBearer>(requireAuth), auth};
    auto routes = app::routeTable(app::RoutesConfig{}, checks, authController, userController,
                                  accountController, ops, keys, adminController);
    for (auto& r : app::recoveryRoutes(checks, recoveryController)) routes.push_back(std::move(r));
    controllers::PagesController pages;
    for (auto& r : app::pageRoutes(checks, pages)) routes.push_back(std::move(r));
    models::MfaRepository mfaRepo;
    models::MfaSettings mfaSettings;
    mfaSettings.encryptionKey = std::string(32, 'k');
    models::MfaService mfa(db, users, mfaRepo, hasher, auth, clock, mfaSettings);
    controllers::MfaController mfaController(mfa, auth, throttle, [] {});
    for (auto& r : app::mfaRoutes(checks, mfaController)) routes.push_back(std::move(r));
    const models::OAuthClients oauthClients({});
    controllers::OAuthController oauth(authController, auth, accountService, kit.verifier,
                                       oauthClients);
    for (auto& r : app::oauthRoutes(16384, oauth)) routes.push_back(std::move(r));
    controllers::DiscoveryController discovery("https://auth.example.com", 300);
    for (auto& r : app::discoveryRoutes(checks, discovery)) routes.push_back(std::move(r));
    ASSERT_FALSE(routes.empty());
    for (const auto& route : routes) {
        for (const auto& path : route.paths) {
            ASSERT_TRUE(doc["paths"].contains(path)) << "not in docs/openapi.yaml: " << path;
            const ojson& item = doc["paths"][path];
            ASSERT_TRUE(item.contains(lowered(route.method)))
                << "not in docs/openapi.yaml: " << route.method << " " << path;
            const ojson& op = item[lowered(route.method)];
            // A public operation says so with `security: []` (the linter wants it explicit).
            ASSERT_TRUE(op.contains("security") && op["security"].is_array())
                << route.method << " " << path << ": no `security` (public: `security: []`)";
            EXPECT_EQ(!op["security"].empty(),
                      std::holds_alternative<app::BearerHandler>(route.handler.handler()))
                << route.method << " " << path << ": Bearer in the route table and "
                << "`security` in the document disagree";
        }
    }
}

}  // namespace
