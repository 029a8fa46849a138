// authsvc: serve | migrate [status] | user add|revoke|delete|set-password EMAIL | user list
// | user role add|remove EMAIL ROLE | user reset-link EMAIL | mail status|retry
// | keys generate|list|jwks|rotate|import DIR.
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "app/Application.h"
#include "app/KeysCommand.h"
#include "app/config/Config.h"

namespace {

std::string readPassword() {
    std::string password;
    if (isatty(STDIN_FILENO)) std::cerr << "Password: " << std::flush;
    std::getline(std::cin, password);
    if (!password.empty() && password.back() == '\r') password.pop_back();
    return password;
}

}  // namespace

int main(int argc, char** argv) {
    // Block the stop and reload signals before any thread starts, so that every thread
    // inherits the mask and serve() receives them with sigwait().
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGHUP);

    CLI::App cli{"authsvc: email/password login, JWT access tokens, rotating refresh tokens"};
    cli.set_version_flag("--version", std::string("authsvc ") + AUTHSVC_VERSION);
    std::string configPath;
    cli.add_option("--config", configPath, "config file (default: ./config.yaml if present)")
        ->check(CLI::ExistingFile);
    cli.fallthrough();

    auto* serve = cli.add_subcommand("serve", "run the service (the default command)");
    auto* migrate = cli.add_subcommand("migrate", "apply pending migrations, or list them");
    std::string migrateWhat;
    migrate->add_option("action", migrateWhat, "'status' lists migrations without applying")
        ->check(CLI::IsMember({"status"}));
    auto* user = cli.add_subcommand("user", "operator tasks on users");
    user->require_subcommand(1);
    std::string email;
    auto* userAdd = user->add_subcommand("add", "create a user; the password is read from stdin");
    userAdd->add_option("email", email, "the user's email")->required();
    auto* userRevoke = user->add_subcommand("revoke", "revoke every session of a user");
    userRevoke->add_option("email", email, "the user's email")->required();
    auto* userDelete =
        user->add_subcommand("delete", "delete a user with all their sessions (cannot be undone)");
    userDelete->add_option("email", email, "the user's email")->required();
    auto* userSetPassword = user->add_subcommand(
        "set-password", "set a user's password (read from stdin); revokes every session");
    userSetPassword->add_option("email", email, "the user's email")->required();
    int listLimit = 100;
    auto* userList = user->add_subcommand("list", "one line a user, by id: id email created_at");
    userList->add_option("--limit", listLimit, "at most this many users (default 100)")
        ->check(CLI::Range(1, 1000000));
    auto* userRole = user->add_subcommand("role", "grant or remove a role (next refresh on)");
    userRole->require_subcommand(1);
    std::string role;
    auto* roleAdd = userRole->add_subcommand("add", "grant ROLE to the user");
    auto* roleRemove = userRole->add_subcommand("remove", "remove ROLE from the user");
    for (auto* sub : {roleAdd, roleRemove}) {
        sub->add_option("email", email, "the user's email")->required();
        sub->add_option("role", role, "the role: [a-z0-9_:.-]{1,64}")->required();
    }
    auto* userResetLink = user->add_subcommand(
        "reset-link", "print a fresh password reset link for the user (older links stop working)");
    userResetLink->add_option("email", email, "the user's email")->required();
    auto* userMfa = user->add_subcommand("mfa", "the user's second factor");
    userMfa->require_subcommand(1);
    auto* userMfaReset = userMfa->add_subcommand(
        "reset", "remove the user's TOTP and recovery codes (a lost authenticator)");
    userMfaReset->add_option("email", email, "the user's email")->required();
    auto* mail = cli.add_subcommand("mail", "the mail outbox");
    mail->require_subcommand(1);
    auto* mailStatus =
        mail->add_subcommand("status", "queued and dead messages, the oldest queued");
    auto* mailRetry = mail->add_subcommand("retry", "queue every dead message again");
    auto* keys = cli.add_subcommand("keys", "signing keys (jwt.keys_dir, or the key store)");
    keys->require_subcommand(1);
    std::string algorithm = "ES256";
    std::string kid;
    auto* keysGenerate = keys->add_subcommand(
        "generate", "write a new private key <keys_dir>/<kid>.pem (0600); prints the kid");
    keysGenerate->add_option("--algorithm", algorithm, "ES256 (default) or RS256")
        ->check(CLI::IsMember({"ES256", "RS256"}));
    keysGenerate->add_option("--kid", kid, "the key id (default: unique, sorts by creation time)");
    auto* keysList = keys->add_subcommand("list",
                                          "one line a key: kid, algorithm, "
                                          "private/public, RFC 7638 thumbprint, signing");
    auto* keysJwks = keys->add_subcommand("jwks", "print the JWKS (public keys) on stdout");
    auto* keysRotate = keys->add_subcommand(
        "rotate", "jwt.key_store database: a next key now, current on the schedule");
    std::string importDir;
    std::string importSigningKid;
    auto* keysImport = keys->add_subcommand(
        "import", "jwt.key_store database: the private keys of a keys_dir into the store");
    keysImport->add_option("dir", importDir, "the directory of <kid>.pem files")->required();
    keysImport->add_option("--signing-kid", importSigningKid,
                           "the kid that becomes current (default: jwt.signing_kid)");
    cli.require_subcommand(0, 1);

    try {
        cli.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return cli.exit(e);
    }

    try {
        authsvc::app::Config config = authsvc::app::loadConfig(configPath);
        const bool serving = *serve || cli.get_subcommands().empty();
        if (*keysGenerate) return authsvc::app::keysGenerate(config, algorithm, kid);
        const bool keyStore = config.jwt.keyStore == "database";
        if (*keysList && !keyStore) return authsvc::app::keysList(config);
        if (*keysJwks && !keyStore) return authsvc::app::keysJwks(config);
        if (importSigningKid.empty()) importSigningKid = config.jwt.signingKid;
        if (serving) pthread_sigmask(SIG_BLOCK, &signals, nullptr);
        authsvc::app::Application app(std::move(config), serving);
        if (serving) return app.serve(signals);
        if (*migrate) return app.migrate(migrateWhat == "status");
        if (*userAdd) return app.addUser(email, readPassword());
        if (*userRevoke) return app.revokeUser(email);
        if (*userDelete) return app.deleteUser(email);
        if (*userSetPassword) return app.setPassword(email, readPassword());
        if (*userList) return app.listUsers(listLimit);
        if (*roleAdd) return app.changeRole(email, role, true);
        if (*roleRemove) return app.changeRole(email, role, false);
        if (*userResetLink) return app.resetLink(email);
        if (*userMfaReset) return app.mfaReset(email);
        if (*mailStatus) return app.mailStatus();
        if (*mailRetry) return app.mailRetry();
        if (*keysList) return app.keysList();
        if (*keysJwks) return app.keysJwks();
        if (*keysRotate) return app.keysRotate();
        if (*keysImport) return app.keysImport(importDir, importSigningKid);
    } catch (const authsvc::app::ConfigError& e) {
        std::cerr << "authsvc: config error: " << e.what() << "\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "authsvc: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
