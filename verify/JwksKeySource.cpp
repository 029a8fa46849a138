#include "verify/JwksKeySource.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <nlohmann/json.hpp>
#include <vector>

namespace authsvc::verify {
namespace {

std::string lowered(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = char(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string_view trimmed(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() &&
           (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
        s.remove_suffix(1);
    }
    return s;
}

struct Transfer {
    size_t cap = 0;
    bool tooLarge = false;
    std::string body;
    std::optional<int64_t> maxAge;
};

size_t onBody(char* data, size_t size, size_t count, void* user) {
    auto* t = static_cast<Transfer*>(user);
    const size_t n = size * count;
    if (t->body.size() + n > t->cap) {
        t->tooLarge = true;
        return 0;  // aborts the transfer (CURLE_WRITE_ERROR)
    }
    t->body.append(data, n);
    return n;
}

size_t onHeader(char* data, size_t size, size_t count, void* user) {
    auto* t = static_cast<Transfer*>(user);
    const size_t n = size * count;
    std::string_view line(data, n);
    if (line.rfind("HTTP/", 0) == 0) t->maxAge.reset();  // a new response's headers begin
    const size_t colon = line.find(':');
    if (colon != std::string_view::npos &&
        lowered(trimmed(line.substr(0, colon))) == "cache-control") {
        if (auto age = maxAgeFromCacheControl(line.substr(colon + 1))) t->maxAge = age;
    }
    return n;
}

// libcurl's global state, set up once per process before the first handle.
void curlGlobalInit() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

std::optional<int64_t> maxAgeFromCacheControl(std::string_view value) {
    std::optional<int64_t> maxAge;
    bool noCache = false;
    while (!value.empty()) {
        const size_t comma = value.find(',');
        std::string_view directive = trimmed(value.substr(0, comma));
        value = comma == std::string_view::npos ? std::string_view{} : value.substr(comma + 1);
        const size_t eq = directive.find('=');
        const std::string name = lowered(trimmed(directive.substr(0, eq)));
        if (name == "no-cache" || name == "no-store") noCache = true;
        if (name != "max-age" || eq == std::string_view::npos) continue;
        std::string_view arg = trimmed(directive.substr(eq + 1));
        if (arg.size() >= 2 && arg.front() == '"' && arg.back() == '"') {
            arg = arg.substr(1, arg.size() - 2);
        }
        int64_t seconds = 0;
        auto [end, ec] = std::from_chars(arg.data(), arg.data() + arg.size(), seconds);
        if (ec == std::errc::result_out_of_range && !arg.empty() && arg.front() != '-') {
            seconds = INT64_MAX;  // a huge max-age: as long as allowed
        } else if (ec != std::errc() || end != arg.data() + arg.size() || seconds < 0) {
            continue;  // malformed: ignored
        }
        maxAge = seconds;
    }
    if (noCache) return 0;
    return maxAge;
}

CurlFetcher::CurlFetcher(CurlFetcherOptions options) : options_(options) {
    curlGlobalInit();
}

FetchResult CurlFetcher::fetch(const std::string& url) {
    FetchResult result;
    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
    if (!curl) {
        result.error = "curl_easy_init failed";
        return result;
    }
    Transfer t;
    t.cap = options_.maxBodyBytes;
    char errorText[CURL_ERROR_SIZE] = {0};
    CURL* h = curl.get();
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);  // timeouts without SIGALRM: thread-safe
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, long(options_.connectTimeout.count()));
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, long(options_.totalTimeout.count()));
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(options_.maxBodyBytes));
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "authsvc-verify");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, onBody);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, onHeader);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errorText);
    const CURLcode rc = curl_easy_perform(h);
    if (t.tooLarge || rc == CURLE_FILESIZE_EXCEEDED) {
        result.error = "response larger than " + std::to_string(options_.maxBodyBytes) + " bytes";
        return result;
    }
    if (rc != CURLE_OK) {
        result.error = errorText[0] ? errorText : curl_easy_strerror(rc);
        return result;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &result.status);
    result.ok = true;
    result.body = std::move(t.body);
    result.maxAgeSeconds = t.maxAge;
    return result;
}

JwksKeySource::JwksKeySource(std::string url, std::shared_ptr<Fetcher> fetcher, const Clock& clock,
                             JwksOptions options)
    : url_(std::move(url)),
      fetcher_(std::move(fetcher)),
      clock_(clock),
      options_(std::move(options)),
      keys_(std::make_shared<const KeySet>()) {
    start();
}

JwksKeySource::JwksKeySource(std::string url, JwksOptions options)
    : url_(std::move(url)),
      fetcher_(std::make_shared<CurlFetcher>()),
      ownClock_(std::make_unique<SystemClock>()),
      clock_(*ownClock_),
      options_(std::move(options)),
      keys_(std::make_shared<const KeySet>()) {
    start();
}

JwksKeySource::~JwksKeySource() {
    {
        std::lock_guard<std::mutex> lock(mu_);
        stop_ = true;
    }
    wake_.notify_all();
    if (refresher_.joinable()) refresher_.join();
}

void JwksKeySource::start() {
    {
        std::lock_guard<std::mutex> lock(mu_);
        fetching_ = true;
    }
    fetchAndInstall();
    if (options_.refreshInBackground) refresher_ = std::thread([this] { runRefresher(); });
}

void JwksKeySource::runRefresher() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
        wake_.wait(lock, [&] { return stop_ || refreshWanted_; });
        if (stop_) return;
        refreshWanted_ = false;
        lock.unlock();
        try {
            fetchAndInstall();
        } catch (...) {
            // Out of memory while installing: keep the set in force, try again later.
            std::lock_guard<std::mutex> relock(mu_);
            nextRefreshMs_.store(
                clock_.nowMs() + std::chrono::milliseconds(options_.minRefresh).count(),
                std::memory_order_relaxed);
            fetching_ = false;
            ++fetches_;
            fetched_.notify_all();
        }
        lock.lock();
    }
}

std::shared_ptr<const KeySet> JwksKeySource::keys() const {
    refreshIfDue();
    std::lock_guard<std::mutex> lock(mu_);
    return keys_;
}

uint64_t JwksKeySource::version() const {
    // The Verifier asks for the version before anything else, also for a token it has
    // cached: refreshing here keeps a cached token from outliving its key's removal.
    refreshIfDue();
    return version_.load(std::memory_order_acquire);
}

std::string JwksKeySource::lastError() const {
    std::lock_guard<std::mutex> lock(mu_);
    return lastError_;
}

void JwksKeySource::refreshIfDue() const {
    if (clock_.nowMs() < nextRefreshMs_.load(std::memory_order_relaxed)) return;  // fast path
    {
        std::lock_guard<std::mutex> lock(mu_);
        if (fetching_ || clock_.nowMs() < nextRefreshMs_.load(std::memory_order_relaxed)) return;
        fetching_ = true;
        if (options_.refreshInBackground) {
            refreshWanted_ = true;
            wake_.notify_one();
            return;
        }
    }
    fetchAndInstall();
}

std::shared_ptr<const KeySet> JwksKeySource::keysForUnknownKid(std::string_view kid) {
    std::unique_lock<std::mutex> lock(mu_);
    if (keys_->find(kid)) return keys_;  // another caller's fetch brought it meanwhile
    if (!fetching_) {
        const int64_t now = clock_.nowMs();
        const int64_t interval = std::chrono::milliseconds(options_.unknownKidInterval).count();
        if (lastUnknownKidFetchMs_ && now - *lastUnknownKidFetchMs_ < interval) return nullptr;
        lastUnknownKidFetchMs_ = now;
        fetching_ = true;
        if (!options_.refreshInBackground) {
            lock.unlock();
            fetchAndInstall();
            lock.lock();
            return keys_->find(kid) ? keys_ : nullptr;
        }
        refreshWanted_ = true;
        wake_.notify_one();
    }
    // The fetch in progress (started here or by another caller), for a short while only.
    const uint64_t seen = fetches_;
    fetched_.wait_for(lock, options_.unknownKidWait, [&] { return fetches_ != seen; });
    return keys_->find(kid) ? keys_ : nullptr;
}

ParsedJwks parseJwks(std::string_view body) {
    ParsedJwks out;
    auto doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
    auto list = doc.is_object() ? doc.find("keys") : doc.end();
    if (!doc.is_object() || list == doc.end() || !list->is_array()) {
        out.failure = "not a JWKS (an object with a \"keys\" array)";
        return out;
    }
    KeySet set;
    for (const auto& jwk : *list) {
        try {
            AsymmetricKey key = keyFromJwk(jwk);
            if (set.find(key.kid)) {
                out.notes.push_back("JWK skipped: a second key with kid " + key.kid);
                continue;
            }
            set.add(std::move(key));
        } catch (const std::exception& e) {
            out.notes.push_back(std::string("JWK skipped: ") + e.what());
        }
    }
    if (set.keys().empty()) {
        out.failure = "JWKS without a usable key";
        return out;
    }
    try {
        out.canonical = set.jwks().dump();
    } catch (const std::exception& e) {
        out.failure = e.what();
        return out;
    }
    out.keys = std::move(set);
    return out;
}

FetchResult JwksKeySource::fetch() const {
    try {
        return fetcher_->fetch(url_);
    } catch (const std::exception& e) {
        FetchResult failed;
        failed.error = e.what();
        return failed;
    }
}

void JwksKeySource::fetchAndInstall() const {
    const FetchResult fetched = fetch();
    ParsedJwks parsed;
    if (!fetched.ok) {
        parsed.failure = fetched.error.empty() ? "fetch failed" : fetched.error;
    } else if (fetched.status != 200) {
        parsed.failure = "HTTP status " + std::to_string(fetched.status);
    } else {
        parsed = parseJwks(fetched.body);
    }
    install(fetched, std::move(parsed));
}

void JwksKeySource::install(const FetchResult& fetched, ParsedJwks parsed) const {
    const int64_t now = clock_.nowMs();
    int64_t refreshSeconds = options_.minRefresh.count();
    if (parsed.keys) {
        refreshSeconds = fetched.maxAgeSeconds.value_or(options_.defaultRefresh.count());
        refreshSeconds = std::clamp<int64_t>(refreshSeconds, options_.minRefresh.count(),
                                             options_.maxRefresh.count());
    }
    {
        std::lock_guard<std::mutex> lock(mu_);
        if (parsed.keys) {
            if (parsed.canonical != jwksText_) {
                keys_ = std::make_shared<const KeySet>(std::move(*parsed.keys));
                jwksText_ = std::move(parsed.canonical);
                version_.fetch_add(1, std::memory_order_acq_rel);
            }
            lastError_.clear();
        } else {
            lastError_ = parsed.failure;
        }
        nextRefreshMs_.store(now + refreshSeconds * 1000, std::memory_order_relaxed);
        fetching_ = false;
        ++fetches_;
    }
    fetched_.notify_all();
    if (!options_.log) return;
    try {
        for (const auto& n : parsed.notes) options_.log(url_ + ": " + n);
        if (!parsed.keys) {
            options_.log(url_ + ": JWKS fetch failed, keeping the current keys: " + parsed.failure);
        }
    } catch (...) {
        // A logger that throws must not break verification.
    }
}

}  // namespace authsvc::verify
