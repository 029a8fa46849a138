// MailTransport: hands one finished message (services/MailMessage.h) to where it goes.
// - FileMailTransport (mail.transport: file, for development): writes each message as an
//   .eml file into a directory created 0700; the files are 0600. Nothing is delivered.
// - SmtpMailTransport (mail.transport: smtp): libcurl's SMTP client (smtp:// with STARTTLS
//   required, opportunistic or off; smtps://), with AUTH when a username is set.
// send() blocks (network, disk); it is called by the mail sender thread only, one call at
// a time per object. An error text never holds the password or the message.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace authsvc::models {

class MailTransport {
  public:
    virtual ~MailTransport() = default;
    // Delivers `message` (RFC 5322 text, CRLF line ends) from `from` to `to` (addresses);
    // nullopt on success, else why it failed.
    virtual std::optional<std::string> send(const std::string& from, const std::string& to,
                                            const std::string& message) = 0;
};

class FileMailTransport final : public MailTransport {
  public:
    explicit FileMailTransport(std::string dir);
    std::optional<std::string> send(const std::string& from, const std::string& to,
                                    const std::string& message) override;

  private:
    std::string dir_;
};

enum class StartTls { Required, Opportunistic, Off };

struct SmtpSettings {
    std::string url;  // smtp://host:port or smtps://host:port
    std::string username;
    std::string password;
    StartTls startTls = StartTls::Required;
    std::chrono::milliseconds timeout{30000};  // the whole transaction
};

class SmtpMailTransport final : public MailTransport {
  public:
    explicit SmtpMailTransport(SmtpSettings settings);
    std::optional<std::string> send(const std::string& from, const std::string& to,
                                    const std::string& message) override;

  private:
    SmtpSettings settings_;
};

}  // namespace authsvc::models
