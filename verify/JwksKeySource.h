// JwksKeySource: the keys a Verifier accepts, fetched from a JWKS URL (RFC 7517 §5), e.g.
// authsvc's GET /.well-known/jwks.json. The contract:
// - The set is fetched once in the constructor (blocking for at most one fetch). A failed
//   first fetch leaves an empty set (every token is refused: Reason::UnknownKid) and is
//   retried by the rules below: on the first token with an unknown kid, and on the next
//   keys()/version() call 30 s (minRefresh) later.
// - Refreshed when due: the first keys()/version() call after the refresh time starts a
//   fetch, on the source's own thread (refreshInBackground, the default), so that no
//   verification waits for the network; the set in force stays until the fetch is done.
//   With refreshInBackground false, that caller fetches in its own thread instead. At
//   most one fetch runs at a time; every other caller keeps the current set without
//   waiting. The refresh time is the response's Cache-Control max-age bounded to
//   [minRefresh, maxRefresh] (30 s .. 1 h), defaultRefresh (5 min) when the response has
//   none; after a failed fetch, minRefresh.
// - keysForUnknownKid(kid): starts a fetch at most once per unknownKidInterval (30 s), on
//   the source's own thread, or joins the fetch in progress, and waits for it at most
//   unknownKidWait (250 ms): a token with a made-up kid never holds a verifying thread
//   for the length of a slow fetch. It returns the new set when the fetch ended within
//   that wait and the set has `kid`, else nullptr (the token is refused: UnknownKid; the
//   fetch goes on and serves the next token). Inside the interval it returns at once.
//   Without refreshInBackground the caller fetches in its own thread, as for a refresh.
// - A failed fetch (transport error, timeout, a status other than 200, a body that is not
//   a JWKS object, or a JWKS without a single usable key) keeps the last good set. An
//   empty or all-unusable JWKS counts as a failure on purpose: a verifier with no key
//   refuses everything, and an empty answer is far likelier a broken deployment than a
//   decision to accept nothing; removing one key while publishing another takes effect.
// - Each JWK is parsed on its own (parseJwks): a bad or unsupported one (kty "oct" among
//   them: never a shared secret from the network) is skipped, the rest are used; of two
//   JWKs with the same kid the first is kept. The set never has an HS256 secret.
// - version() changes whenever keys() starts returning another set of keys; a refresh
//   that returns the same keys keeps the version (and the Verifier's cache).
// Thread-safe. The fetcher and the clock must outlive the source (the fetcher is shared).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "verify/Clock.h"
#include "verify/KeySource.h"

namespace authsvc::verify {

// The outcome of one HTTP GET.
struct FetchResult {
    bool ok = false;   // a complete response arrived (any status); false: see error
    long status = 0;   // the HTTP status when ok
    std::string body;  // when ok
    std::optional<int64_t> maxAgeSeconds;  // from Cache-Control: max-age, when present
    std::string error;                     // why not ok, for logs
};

// Fetches a URL. Implementations are thread-safe (fetch is called from any thread).
class Fetcher {
  public:
    virtual ~Fetcher() = default;
    virtual FetchResult fetch(const std::string& url) = 0;
};

struct CurlFetcherOptions {
    std::chrono::milliseconds connectTimeout{2000};
    std::chrono::milliseconds totalTimeout{5000};  // the whole fetch, connect included
    size_t maxBodyBytes = 1024 * 1024;             // a larger body fails the fetch
};

// Fetcher on libcurl: http and https only, never follows a redirect (a 3xx is returned as
// such, and JwksKeySource counts it as a failure), timeouts on every fetch, the body
// capped at maxBodyBytes, TLS peers verified against the system CAs. One easy handle per
// fetch: thread-safe.
class CurlFetcher final : public Fetcher {
  public:
    explicit CurlFetcher(CurlFetcherOptions options = {});
    FetchResult fetch(const std::string& url) override;

  private:
    CurlFetcherOptions options_;
};

// The max-age of a Cache-Control value, in seconds: nullopt when absent or malformed;
// 0 for no-cache or no-store.
std::optional<int64_t> maxAgeFromCacheControl(std::string_view value);

// A JWKS document (RFC 7517 §5) read into a key set, each JWK on its own (keyFromJwk).
// Pure: no network, no clock, no state; thread-safe.
struct ParsedJwks {
    std::optional<KeySet> keys;      // the usable keys; nullopt: see failure
    std::string canonical;           // keys->jwks() as text, to tell a changed set
    std::string failure;             // why there is no set: not a JWKS, no usable key
    std::vector<std::string> notes;  // the JWKs skipped, and why
};
ParsedJwks parseJwks(std::string_view body);

struct JwksOptions {
    std::chrono::seconds minRefresh{30};
    std::chrono::seconds maxRefresh{3600};
    std::chrono::seconds defaultRefresh{300};
    std::chrono::seconds unknownKidInterval{30};
    // How long a token with an unknown kid waits for the fetch it started or joined
    // (with refreshInBackground; without, it waits for its own fetch).
    std::chrono::milliseconds unknownKidWait{250};
    // A due refresh runs on a thread of the source's own (started with it, stopped by its
    // destructor, which waits for a fetch in progress); false: in the calling thread.
    bool refreshInBackground = true;
    // Told about each failed fetch and each skipped JWK, outside any lock; may be empty.
    std::function<void(const std::string&)> log;
};

class JwksKeySource final : public KeySource {
  public:
    JwksKeySource(std::string url, std::shared_ptr<Fetcher> fetcher, const Clock& clock,
                  JwksOptions options = {});
    // CurlFetcher with default options and the system clock.
    explicit JwksKeySource(std::string url, JwksOptions options = {});
    ~JwksKeySource() override;

    std::shared_ptr<const KeySet> keys() const override;
    uint64_t version() const override;
    std::shared_ptr<const KeySet> keysForUnknownKid(std::string_view kid) override;

    const std::string& url() const { return url_; }
    // Why the last fetch failed; empty after a good one.
    std::string lastError() const;

  private:
    void start();
    // When a refresh is due and none is running: starts one (on the refresher thread, or
    // in this thread without refreshInBackground).
    void refreshIfDue() const;
    // Fetches and installs the result; the caller has set fetching_, which this clears.
    void fetchAndInstall() const;
    // One GET of url_; an exception of the fetcher becomes a failed result.
    FetchResult fetch() const;
    // Swaps in `parsed` when it holds keys (or keeps the set, noting the failure), sets
    // the next refresh time, clears fetching_, wakes the callers waiting for the fetch.
    void install(const FetchResult& fetched, ParsedJwks parsed) const;
    // The background thread: runs the refreshes refreshIfDue() asks for until stop_.
    void runRefresher();

    std::string url_;
    std::shared_ptr<Fetcher> fetcher_;
    std::unique_ptr<Clock> ownClock_;
    const Clock& clock_;
    JwksOptions options_;

    mutable std::mutex mu_;
    mutable std::condition_variable fetched_;
    mutable std::shared_ptr<const KeySet> keys_;
    mutable std::string jwksText_;  // the canonical JWKS of keys_, to tell a change
    mutable std::string lastError_;
    mutable bool fetching_ = false;
    mutable uint64_t fetches_ = 0;  // completed fetches
    mutable std::optional<int64_t> lastUnknownKidFetchMs_;
    mutable std::atomic<int64_t> nextRefreshMs_{0};
    mutable std::atomic<uint64_t> version_{1};
    mutable bool refreshWanted_ = false;  // for the background thread
    bool stop_ = false;
    mutable std::condition_variable wake_;
    std::thread refresher_;
};

}  // namespace authsvc::verify
