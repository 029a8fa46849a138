#include "services/MailTransport.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>

#include "common/Crypto.h"

namespace authsvc::models {

FileMailTransport::FileMailTransport(std::string dir) : dir_(std::move(dir)) {}

std::optional<std::string> FileMailTransport::send(const std::string& /*from*/,
                                                   const std::string& /*to*/,
                                                   const std::string& message) {
    std::error_code ec;
    const std::filesystem::path dir(dir_);
    if (!std::filesystem::exists(dir, ec)) {
        std::filesystem::create_directories(dir, ec);
        if (ec) return "cannot create " + dir_ + ": " + ec.message();
    }
    ::chmod(dir_.c_str(), 0700);
    // Sorts by time; unique by the random part.
    const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    const std::string name =
        std::to_string(now) + "-" + crypto::hex(crypto::randomBytes(6)) + ".eml";
    const std::string tmp = (dir / ("." + name + ".tmp")).string();
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return "cannot write " + tmp + ": " + std::strerror(errno);
    size_t off = 0;
    while (off < message.size()) {
        const ssize_t n = ::write(fd, message.data() + off, message.size() - off);
        if (n < 0) {
            if (errno == EINTR) continue;
            const std::string why = std::strerror(errno);
            ::close(fd);
            ::unlink(tmp.c_str());
            return "cannot write " + tmp + ": " + why;
        }
        off += size_t(n);
    }
    ::fsync(fd);
    ::close(fd);
    // Complete files only: a reader never sees half a message.
    if (::rename(tmp.c_str(), (dir / name).c_str()) != 0) {
        const std::string why = std::strerror(errno);
        ::unlink(tmp.c_str());
        return "cannot rename " + tmp + ": " + why;
    }
    return std::nullopt;
}

namespace {

struct Upload {
    const std::string& text;
    size_t offset = 0;
};

size_t readUpload(char* buffer, size_t size, size_t count, void* user) {
    auto* up = static_cast<Upload*>(user);
    const size_t n = std::min(size * count, up->text.size() - up->offset);
    std::memcpy(buffer, up->text.data() + up->offset, n);
    up->offset += n;
    return n;
}

}  // namespace

SmtpMailTransport::SmtpMailTransport(SmtpSettings settings) : settings_(std::move(settings)) {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::optional<std::string> SmtpMailTransport::send(const std::string& from, const std::string& to,
                                                   const std::string& message) {
    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
    if (!curl) return "curl_easy_init failed";
    CURL* c = curl.get();
    char errorBuffer[CURL_ERROR_SIZE] = {0};
    curl_slist* recipients = curl_slist_append(nullptr, ("<" + to + ">").c_str());
    std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> rcpt(recipients,
                                                                     curl_slist_free_all);
    Upload upload{message};
    const std::string mailFrom = "<" + from + ">";
    curl_easy_setopt(c, CURLOPT_URL, settings_.url.c_str());
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, mailFrom.c_str());
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, recipients);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, readUpload);
    curl_easy_setopt(c, CURLOPT_READDATA, &upload);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(message.size()));
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errorBuffer);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(settings_.timeout.count()));
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(std::min<int64_t>(settings_.timeout.count(), 10000)));
    long useSsl = CURLUSESSL_ALL;
    if (settings_.startTls == StartTls::Opportunistic) useSsl = CURLUSESSL_TRY;
    if (settings_.startTls == StartTls::Off) useSsl = CURLUSESSL_NONE;
    if (settings_.url.rfind("smtps://", 0) == 0) useSsl = CURLUSESSL_ALL;
    curl_easy_setopt(c, CURLOPT_USE_SSL, useSsl);
    if (!settings_.username.empty()) {
        curl_easy_setopt(c, CURLOPT_USERNAME, settings_.username.c_str());
        curl_easy_setopt(c, CURLOPT_PASSWORD, settings_.password.c_str());
    }
    const CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK) return std::nullopt;
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    std::string why = errorBuffer[0] ? errorBuffer : curl_easy_strerror(rc);
    if (code != 0) why += " (SMTP " + std::to_string(code) + ")";
    return why;
}

}  // namespace authsvc::models
