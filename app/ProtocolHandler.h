// ProtocolHandler: the HTTP/1.1 layer under every authsvc server (the service, and the
// bench's ceiling, so that the ceiling measures the same input path). Its onInput() is
// our own version of Pistache's (private there, but virtual in Tcp::Handler), so that:
// - requests the parser refuses reach onProtocolError() (400, 413, 415, ...) instead of
//   Pistache's plain-text answers ("basic_string::_M_create" for a negative
//   Content-Length);
// - a declared Content-Length beyond the request limit is refused before Pistache
//   reserves it (it would allocate the declared size up front);
// - HTTP/1.1 without a Connection header stays keep-alive (RFC 9112 9.3): Pistache
//   0.0.5 answers "Connection: Close" yet keeps the socket open, so clients reconnect
//   for every request.
// Called on Pistache's reactor threads.
#pragma once

#include <pistache/endpoint.h>
#include <pistache/http.h>

#include <cstdint>
#include <memory>
#include <string_view>

namespace authsvc::app {

class ProtocolHandler : public Pistache::Http::Handler {
  protected:
    // Answers a request the parser refused; `status` is an HTTP error status.
    virtual void onProtocolError(Pistache::Http::ResponseWriter writer, int status) = 0;

  private:
    void onInput(const char* buffer, size_t len,
                 const std::shared_ptr<Pistache::Tcp::Peer>& peer) override;
};

// The endpoint options of every authsvc server: timeouts, limits (room for the request
// line and headers on top of the largest body, so an oversized body reaches our own
// JSON 413 rather than Pistache's), backlog.
Pistache::Http::Endpoint::Options endpointOptions(int threads, int64_t maxBodyBytes);

// 0, or the status for a chunk of input whose header block declares a Content-Length
// that is not a plain number (400) or exceeds `limit` (413).
int declaredLengthProblem(std::string_view input, size_t limit);

}  // namespace authsvc::app
