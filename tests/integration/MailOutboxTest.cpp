// The mail outbox: the file transport of development; an SMTP outage, then the server
// back -> every mail delivered; kill -9 right after the 202 -> delivered after the restart;
// `authsvc mail status` and `mail retry`; the start-up rules of the mail settings.
#include <sys/stat.h>

#include <set>

#include "support/Harness.h"

namespace it {
namespace {

using namespace std::chrono_literals;

json smtpConfig(const SmtpSink& sink, json extra = json::object()) {
    json mail = {{"transport", "smtp"},
                 {"smtp_url", sink.url()},
                 {"starttls", "off"},
                 {"from", "no-reply@example.com"},
                 {"link_base_url", "myapp://account"},
                 {"retry_initial", "200ms"},
                 {"timeout", "5s"}};
    mail.merge_patch(extra);
    return {{"mail", mail}};
}

// GET /metrics until it contains `needle` (the sender updates its metrics a moment after
// the event a test sees); the last body.
std::string metricsWith(HttpClient& c, const std::string& needle) {
    std::string metrics = c.get("/metrics").body;
    for (int i = 0; i < 600 && metrics.find(needle) == std::string::npos; ++i) {
        std::this_thread::sleep_for(50ms);
        metrics = c.get("/metrics").body;
    }
    return metrics;
}

std::string registered(HttpClient& c) {
    const std::string email = uniqueEmail("mail");
    EXPECT_EQ(registerUser(c, email, kPassword).status, 201);
    return email;
}

TEST(MailOutboxTest, FileTransportWritesEmlFilesPrivatelyAndWarnsAtStart) {
    ServerProcess server;
    ASSERT_TRUE(server.start()) << server.logTail();
    HttpClient client(server.port());
    EXPECT_NE(server.log().find("mail is NOT delivered"), std::string::npos) << server.logTail();
    const std::string email = registered(client);
    ASSERT_EQ(client.postJson("/api/password/forgot", {{"email", email}}).status, 202);
    const fs::path dir = server.dir() / "data" / "mail";
    std::vector<fs::path> files;
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (files.empty() && std::chrono::steady_clock::now() < deadline) {
        std::error_code ec;
        for (const auto& e : fs::directory_iterator(dir, ec)) {
            if (e.path().extension() == ".eml") files.push_back(e.path());
        }
        if (files.empty()) std::this_thread::sleep_for(50ms);
    }
    ASSERT_EQ(files.size(), 1u) << server.logTail();
    struct stat st {};
    ASSERT_EQ(::stat(dir.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    ASSERT_EQ(::stat(files[0].c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    const std::string mail = readFileBytes(files[0]);
    EXPECT_NE(mail.find("To: " + email + "\r\n"), std::string::npos) << mail;
    // Without server.public_url the links point at the configured host and port.
    EXPECT_NE(mail.find("http://127.0.0.1:"), std::string::npos) << mail;
    const std::string token = linkTokenIn(mail);
    ASSERT_EQ(token.size(), 43u) << mail;
    EXPECT_EQ(server.log().find(token), std::string::npos) << "a token in the log";
    server.stop();
}

TEST(MailOutboxTest, SmtpDownThenUpDeliversEveryQueuedMail) {
    SmtpSink sink;  // not started: connections are refused
    ServerProcess server(smtpConfig(sink));
    ASSERT_TRUE(server.start()) << server.logTail();
    HttpClient client(server.port());
    std::vector<std::string> emails;
    for (int i = 0; i < 3; ++i) {
        emails.push_back(registered(client));
        ASSERT_EQ(client.postJson("/api/password/forgot", {{"email", emails.back()}}).status, 202);
    }
    // Failed attempts are logged (without tokens) and retried.
    EXPECT_NE(server.waitForLog("will retry", 30s).find("will retry"), std::string::npos)
        << server.logTail();
    ASSERT_TRUE(sink.start());
    for (const auto& email : emails) {
        EXPECT_EQ(sink.waitForMessages(1, 60s, "To: " + email).size(), 1u) << email << "\n"
                                                                           << server.logTail();
    }
    const std::string sent = "authsvc_mail_total{kind=\"password_reset\",result=\"sent\"} 3";
    const std::string metrics = metricsWith(client, sent);
    EXPECT_NE(metrics.find("authsvc_mail_total{kind=\"password_reset\",result=\"retry\"}"),
              std::string::npos)
        << metrics;
    EXPECT_NE(metrics.find(sent), std::string::npos) << metrics;
    // The links are where link_base_url says (an app's deep link).
    EXPECT_NE(sink.messages().at(0).find("myapp://account/reset?token="), std::string::npos);
    server.stop();
}

TEST(MailOutboxTest, KillNineRightAfterThe202LosesNoMail) {
    SmtpSink sink;  // down while the server dies: the mail cannot have left
    ServerProcess server(smtpConfig(sink));
    ASSERT_TRUE(server.start()) << server.logTail();
    HttpClient client(server.port());
    const std::string email = registered(client);
    ASSERT_EQ(client.postJson("/api/password/forgot", {{"email", email}}).status, 202);
    server.kill9();
    ASSERT_TRUE(sink.start());
    ASSERT_TRUE(server.restart()) << server.logTail();
    EXPECT_EQ(sink.waitForMessages(1, 90s, "To: " + email).size(), 1u) << server.logTail();
    server.stop();
}

TEST(MailOutboxTest, DeadMailsShowInStatusAndRetryQueuesThemAgain) {
    SmtpSink sink;
    ServerProcess server(smtpConfig(sink, {{"max_attempts", 1}}));
    ASSERT_TRUE(server.start()) << server.logTail();
    HttpClient client(server.port());
    const std::string email = registered(client);
    ASSERT_EQ(client.postJson("/api/password/forgot", {{"email", email}}).status, 202);
    server.waitForLog("giving up", 30s);
    const auto cli = [&](std::vector<std::string> args) {
        args.push_back("--config");
        args.push_back(server.configPath().string());
        return runAuthsvc(args, server.dir());
    };
    const CommandResult status = cli({"mail", "status"});
    ASSERT_EQ(status.exitCode, 0) << status.err;
    EXPECT_NE(status.out.find("queued 0\n"), std::string::npos) << status.out;
    EXPECT_NE(status.out.find("dead 1\n"), std::string::npos) << status.out;
    EXPECT_NE(status.out.find("password_reset: "), std::string::npos) << "the error is kept\n"
                                                                      << status.out;
    const std::string depth = "authsvc_mail_outbox_depth{status=\"dead\"} 1";
    EXPECT_NE(metricsWith(client, depth).find(depth), std::string::npos);
    ASSERT_TRUE(sink.start());
    const CommandResult retry = cli({"mail", "retry"});
    ASSERT_EQ(retry.exitCode, 0) << retry.err;
    EXPECT_NE(retry.out.find("queued 1 dead message(s) again"), std::string::npos) << retry.out;
    EXPECT_EQ(sink.waitForMessages(1, 60s, "To: " + email).size(), 1u) << server.logTail();
    const CommandResult after = cli({"mail", "status"});
    EXPECT_NE(after.out.find("dead 0\n"), std::string::npos) << after.out;
    server.stop();
}

// Two instances on one PostgreSQL database share the outbox: the rows queued while SMTP
// was down are claimed by both senders at once when it comes back, and each goes out once.
TEST(MailOutboxTest, TwoInstancesSharingOneOutboxSendEachMessageOnce) {
    if (!serverDbMode())
        GTEST_SKIP() << "PostgreSQL/MariaDB only: two instances need a shared server DB";
    SmtpSink sink;
    const json common = smtpConfig(sink, {{"retry_initial", "100ms"}, {"max_attempts", 100}});
    auto a = std::make_unique<ServerProcess>(common);
    json second = common;
    second.merge_patch(a->sharedDatabaseOverrides());
    auto b = std::make_unique<ServerProcess>(second);
    ASSERT_TRUE(a->start()) << a->logTail();
    ASSERT_TRUE(b->start()) << b->logTail();
    HttpClient ca(a->port()), cb(b->port());
    constexpr int kMails = 20;
    std::vector<std::string> emails;
    for (int i = 0; i < kMails; ++i) {
        HttpClient& c = i % 2 ? cb : ca;
        emails.push_back(registered(c));
        ASSERT_EQ(c.postJson("/api/password/forgot", {{"email", emails.back()}}).status, 202);
    }
    ASSERT_TRUE(sink.start());
    for (const auto& email : emails) {
        EXPECT_EQ(sink.waitForMessages(1, 60s, "To: " + email).size(), 1u) << email;
    }
    // Time for a duplicate to arrive, if one were sent.
    std::this_thread::sleep_for(1s);
    const auto mails = sink.messages();
    EXPECT_EQ(mails.size(), size_t(kMails));
    std::set<std::string> recipients;
    for (const auto& m : mails) {
        const auto at = m.find("\r\nTo: ");
        recipients.insert(m.substr(at, m.find("\r\n", at + 2) - at));
    }
    EXPECT_EQ(recipients.size(), size_t(kMails)) << "a message was sent twice";
    b.reset();  // B does not own the database: stop it before A drops it
    a.reset();
}

TEST(MailOutboxTest, SmtpTransportNeedsALinkBase) {
    ServerProcess server(
        json{{"mail", {{"transport", "smtp"}, {"smtp_url", "smtp://127.0.0.1:25"}}}});
    server.writeConfig();
    const CommandResult r =
        runAuthsvc({"migrate", "status", "--config", server.configPath().string()}, server.dir());
    EXPECT_EQ(r.exitCode, 2) << r.out << r.err;
    EXPECT_NE(r.err.find("mail.link_base_url"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace it
