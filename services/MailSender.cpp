#include "services/MailSender.h"

#include <unistd.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "common/Crypto.h"
#include "services/MailMessage.h"
#include "services/OneTimeToken.h"

namespace authsvc::models {
namespace {

const std::map<std::string, std::string>& builtInTemplates() {
    static const std::map<std::string, std::string> templates = {
        {kMailPasswordReset,
         "Reset your password\n"
         "\n"
         "Someone, hopefully you, asked to reset the password of the account {{email}}.\n"
         "\n"
         "Open this link within {{ttl_minutes}} minutes to choose a new password:\n"
         "\n"
         "{{link}}\n"
         "\n"
         "The link works once. If you did not ask for this, ignore this mail: your password\n"
         "stays as it is.\n"},
        {kMailVerifyEmail,
         "Confirm your email address\n"
         "\n"
         "Please confirm that {{email}} is your address by opening this link within\n"
         "{{ttl_hours}} hours:\n"
         "\n"
         "{{link}}\n"
         "\n"
         "If you did not create an account, ignore this mail.\n"},
        {kMailChangeEmail,
         "Confirm your new email address\n"
         "\n"
         "Someone, hopefully you, asked to use {{email}} for the account {{account_email}}.\n"
         "Open this link within {{ttl_hours}} hours to confirm the change:\n"
         "\n"
         "{{link}}\n"
         "\n"
         "If you did not ask for this, ignore this mail: nothing changes.\n"},
        {kMailEmailChanged,
         "Your email address was changed\n"
         "\n"
         "The account that used {{email}} now uses {{account_email}}.\n"
         "\n"
         "If this was not you, tell the operator of this service at once.\n"},
        {kMailPasswordChanged,
         "Your password was changed\n"
         "\n"
         "The password of the account {{email}} was just changed, and every session of the\n"
         "account was signed out.\n"
         "\n"
         "If this was not you, reset your password now and tell the operator of this service.\n"},
    };
    return templates;
}

std::string readFile(const std::string& path) {
    std::ifstream in(path);
    if (!in) return "";
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace

std::chrono::milliseconds mailBackoff(int failedAttempts, std::chrono::milliseconds initial,
                                      std::chrono::milliseconds max) {
    int64_t delay = std::max<int64_t>(initial.count(), 1);
    for (int i = 1; i < failedAttempts && delay < max.count(); ++i) delay *= 2;
    return std::chrono::milliseconds(std::min<int64_t>(delay, max.count()));
}

MailSender::MailSender(Database& db, const UserRepository& users,
                       const MailOutboxRepository& outbox, const OneTimeTokenRepository& tokens,
                       MailTransport& transport, const verify::Clock& clock, MailSettings settings,
                       MailEvents events)
    : db_(db),
      users_(users),
      outbox_(outbox),
      tokens_(tokens),
      transport_(transport),
      clock_(clock),
      settings_(std::move(settings)),
      events_(std::move(events)) {
    crypto::init();
    char host[256] = {0};
    ::gethostname(host, sizeof host - 1);
    owner_ = std::string(host) + ":" + std::to_string(::getpid()) + ":" +
             crypto::hex(crypto::randomBytes(6));
    templates_ = builtInTemplates();
    if (!settings_.templatesDir.empty()) {
        for (auto& [kind, text] : templates_) {
            std::string custom = readFile(settings_.templatesDir + "/" + kind + ".txt");
            if (!custom.empty()) text = std::move(custom);
        }
    }
}

MailSender::~MailSender() {
    stop();
}

const std::string& MailSender::templateFor(const std::string& kind) const {
    auto it = templates_.find(kind);
    if (it == templates_.end()) throw std::runtime_error("no template for mail kind " + kind);
    return it->second;
}

MailSender::Composed MailSender::compose(const OutboxRow& row) {
    Composed out;
    std::map<std::string, std::string> vars;
    std::optional<User> user;
    if (row.userId) {
        user = db_.read([&](Connection& s) { return users_.findById(s, *row.userId); });
    } else if (row.address) {
        user = db_.read([&](Connection& s) { return users_.findByEmail(s, *row.address); });
    }
    const bool reset = row.kind == kMailPasswordReset;
    const bool change = row.kind == kMailChangeEmail;
    // Who gets it: the user, but for an address change the new (or, for the notice, the
    // old) address the row names.
    std::string to = user ? user->email : std::string();
    if (row.kind == kMailChangeEmail || row.kind == kMailEmailChanged)
        to = row.address.value_or("");
    if (reset || change || row.kind == kMailVerifyEmail) {
        // Nothing to send: an unknown address, a deleted user, an address verified already.
        if (!user || to.empty() || (row.kind == kMailVerifyEmail && user->emailVerified)) {
            out.skip = true;
            return out;
        }
        const int64_t ttl = reset ? settings_.recoveryTtlMs : settings_.verifyTtlMs;
        const char* purpose = reset    ? kPurposePasswordReset
                              : change ? kPurposeChangeEmail
                                       : kPurposeVerifyEmail;
        const std::optional<std::string> data =
            change ? std::optional<std::string>(to) : std::nullopt;
        const MintedToken token = mintOneTimeToken();
        const int64_t now = clock_.nowMs();
        const bool held = db_.write([&](Connection& s) {
            if (!outbox_.holds(s, row.id, owner_, now)) return false;
            tokens_.replace(s, token.hashHex, purpose, user->id, data, now, now + ttl);
            return true;
        });
        if (!held) throw std::runtime_error("the lease expired before the message was composed");
        vars["link"] =
            settings_.linkBaseUrl + (reset ? "/reset" : "/verify") + "?token=" + token.token;
        vars["token"] = token.token;
        vars["ttl_minutes"] = std::to_string(std::max<int64_t>(1, ttl / 60000));
        vars["ttl_hours"] = std::to_string(std::max<int64_t>(1, ttl / 3600000));
    } else if (row.kind == kMailPasswordChanged || row.kind == kMailEmailChanged) {
        if (!user || to.empty()) {
            out.skip = true;
            return out;
        }
    } else {
        throw std::runtime_error("unknown mail kind " + row.kind);
    }
    vars["email"] = to;
    vars["account_email"] = user->email;
    const RenderedTemplate text = renderTemplate(templateFor(row.kind), vars);
    out.to = to;
    const std::string localId = crypto::hex(crypto::randomBytes(12)) + "." + std::to_string(row.id);
    out.message =
        buildMessage({settings_.from, out.to, text.subject, text.body}, clock_.nowMs(), localId);
    return out;
}

void MailSender::handle(const OutboxRow& row) {
    Composed mail;
    std::optional<std::string> error;
    try {
        mail = compose(row);
    } catch (const DatabaseUnavailable&) {
        throw;  // the lease expires; a later round tries again
    } catch (const std::exception& e) {
        error = e.what();
    }
    const int64_t now = clock_.nowMs();
    if (!error && mail.skip) {
        db_.write([&](Connection& s) { outbox_.finish(s, row.id, owner_, "skipped", now); });
        if (events_.onResult) events_.onResult(row.kind, "skipped", "");
        return;
    }
    if (!error) error = transport_.send(mailboxAddress(settings_.from), mail.to, mail.message);
    const int64_t after = clock_.nowMs();
    if (!error) {
        db_.write([&](Connection& s) { outbox_.finish(s, row.id, owner_, "sent", after); });
        if (events_.onResult) events_.onResult(row.kind, "sent", "");
        return;
    }
    const int failed = row.attempts + 1;
    const bool dead = failed >= settings_.maxAttempts;
    const int64_t next =
        after + mailBackoff(failed, settings_.retryInitial, settings_.retryMax).count();
    db_.write([&](Connection& s) { outbox_.fail(s, row.id, owner_, *error, next, dead, after); });
    if (events_.onResult) events_.onResult(row.kind, dead ? "dead" : "retry", *error);
}

int MailSender::runOnce() {
    const int64_t now = clock_.nowMs();
    auto ids = db_.read([&](Connection& s) { return outbox_.due(s, now, settings_.batch); });
    int handled = 0;
    for (int64_t id : ids) {
        const int64_t at = clock_.nowMs();
        auto row = db_.autocommit([&](Connection& s) {
            return outbox_.claim(s, id, owner_, at, at + settings_.lease.count());
        });
        if (!row) continue;  // another sender took it
        handle(*row);
        ++handled;
    }
    const int64_t end = clock_.nowMs();
    if (end >= nextPurgeMs_) {
        db_.autocommit([&](Connection& s) {
            outbox_.purgeDone(s, end - settings_.keepDoneMs, 500);
            tokens_.purgeExpired(s, end);
        });
        nextPurgeMs_ = end + kPurgeIntervalMs;
    }
    if (events_.onDepth) {
        events_.onDepth(db_.read([&](Connection& s) { return outbox_.status(s); }));
    }
    return handled;
}

void MailSender::start() {
    std::lock_guard<std::mutex> lock(mu_);
    if (thread_.joinable()) return;
    stop_ = false;
    thread_ = std::thread([this] { loop(); });
}

void MailSender::stop() {
    {
        std::lock_guard<std::mutex> lock(mu_);
        stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void MailSender::wake() {
    {
        std::lock_guard<std::mutex> lock(mu_);
        woken_ = true;
    }
    cv_.notify_all();
}

void MailSender::loop() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop_) {
        woken_ = false;
        lock.unlock();
        int handled = 0;
        try {
            handled = runOnce();
        } catch (const std::exception& e) {
            if (events_.onResult) events_.onResult("", "error", e.what());
        }
        lock.lock();
        // A full batch: more may be due at once.
        if (handled >= settings_.batch) continue;
        cv_.wait_for(lock, settings_.pollInterval, [this] { return stop_ || woken_; });
    }
}

}  // namespace authsvc::models
