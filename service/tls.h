// TLS for graphrec serve: the server's credentials from PEM files, and the
// credentials the listener watchdog probes its own port with.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

namespace gr::service {

struct TlsFiles {
  std::string cert;       // PEM certificate chain; empty = no TLS
  std::string key;        // PEM private key
  std::string client_ca;  // PEM CAs that client certificates must chain to; empty = no client certificates
  bool enabled() const { return !cert.empty(); }
  // Both or neither of cert and key; a client CA only with them; every file readable.
  void Validate() const;  // throws kInvalidArgument naming the file
};

// Plaintext when `files` is empty, else TLS (with required, verified client
// certificates when client_ca is set). Throws kIo naming an unreadable file.
std::shared_ptr<grpc::ServerCredentials> ServerCredentialsFor(const TlsFiles& files);

// What the watchdog connects to its own port with: plaintext, or TLS that
// does not verify the server (it only asks whether the handshake is
// answered). Null when the server requires client certificates (the probe
// has none): the watchdog is then off.
std::shared_ptr<grpc::ChannelCredentials> ProbeCredentialsFor(const TlsFiles& files);

}  // namespace gr::service
