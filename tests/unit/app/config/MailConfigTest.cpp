// The mail:, server.public_url and auth.recovery settings: defaults, the start-up rules of
// an SMTP transport, the password from AUTHSVC_MAIL_PASSWORD, where links point.
#include <gtest/gtest.h>

#include <map>

#include "app/config/Config.h"

namespace {

using authsvc::app::Config;
using authsvc::app::ConfigError;
using authsvc::app::parseConfig;

Config mailConfig(const std::string& yaml, std::map<std::string, std::string> vars = {}) {
    return parseConfig(yaml, "mail.yaml",
                       [vars](const std::string& name) -> std::optional<std::string> {
                           auto it = vars.find(name);
                           if (it == vars.end()) return std::nullopt;
                           return it->second;
                       });
}

std::string mailConfigError(const std::string& yaml) {
    try {
        mailConfig(yaml);
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "";
}

TEST(MailConfigTest, DefaultsWriteFilesAndLinkToTheConfiguredAddress) {
    const Config c = mailConfig("");
    EXPECT_EQ(c.mail.transport, "file");
    EXPECT_EQ(c.mail.fileDir, "data/mail");
    EXPECT_EQ(c.mail.startTls, "required");
    EXPECT_EQ(c.mail.maxAttempts, 15);
    EXPECT_EQ(c.auth.recovery.ttl.count(), 30 * 60 * 1000);
    EXPECT_EQ(c.auth.recovery.perEmailPerHour, 3);
    EXPECT_EQ(c.auth.recovery.perIpPerHour, 20);
    EXPECT_EQ(c.auth.emailVerification, "off");
    EXPECT_EQ(mailConfig("auth: {email_verification: required}").auth.emailVerification,
              "required");
    EXPECT_NE(mailConfigError("auth: {email_verification: maybe}").find("auth.email_verification"),
              std::string::npos);
    // Never 0.0.0.0 in a link.
    EXPECT_EQ(c.mail.linkBaseUrl, "http://localhost:8080/account");
    EXPECT_EQ(mailConfig("server: {host: 127.0.0.1, port: 9000}").mail.linkBaseUrl,
              "http://127.0.0.1:9000/account");
    EXPECT_EQ(mailConfig("server: {host: '::1'}").mail.linkBaseUrl, "http://[::1]:8080/account");
}

TEST(MailConfigTest, PublicUrlIsTheBaseOfLinks) {
    EXPECT_EQ(mailConfig("server: {public_url: 'https://auth.example.com/'}").mail.linkBaseUrl,
              "https://auth.example.com/account");
    EXPECT_EQ(mailConfig("server: {public_url: 'https://auth.example.com'}\n"
                         "mail: {link_base_url: 'myapp://account/'}")
                  .mail.linkBaseUrl,
              "myapp://account");
    EXPECT_NE(mailConfigError("server: {public_url: 'auth.example.com'}").find("server.public_url"),
              std::string::npos);
}

TEST(MailConfigTest, SmtpNeedsAUrlAndALinkBase) {
    EXPECT_NE(mailConfigError("mail: {transport: smtp, link_base_url: 'https://x'}")
                  .find("mail.smtp_url"),
              std::string::npos);
    EXPECT_NE(mailConfigError("mail: {transport: smtp, smtp_url: 'smtp://mail:587'}")
                  .find("mail.link_base_url"),
              std::string::npos);
    EXPECT_EQ(mailConfigError("mail: {transport: smtp, smtp_url: 'smtps://mail:465'}\n"
                              "server: {public_url: 'https://auth.example.com'}"),
              "");
    EXPECT_NE(mailConfigError("mail: {starttls: sometimes}").find("mail.starttls"),
              std::string::npos);
    EXPECT_NE(mailConfigError("mail: {from: 'nobody'}").find("mail.from"), std::string::npos);
    EXPECT_NE(mailConfigError("mail: {transport: sendmail}").find("mail.transport"),
              std::string::npos);
}

TEST(MailConfigTest, PasswordFromTheEnvironment) {
    const Config c = mailConfig("mail: {username: app}", {{"AUTHSVC_MAIL_PASSWORD", "s3cret"}});
    EXPECT_EQ(c.mail.username, "app");
    EXPECT_EQ(c.mail.password, "s3cret");
}

}  // namespace
