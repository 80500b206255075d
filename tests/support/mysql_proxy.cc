#include "tests/support/mysql_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"

namespace testing_support {

namespace {

constexpr uint8_t kComQuery = 0x03;
constexpr uint8_t kComStmtPrepare = 0x16;
constexpr uint8_t kComStmtExecute = 0x17;

// One MySQL packet: 3 bytes of length, 1 of sequence, the payload.
struct Packet {
  uint8_t seq = 0;
  std::string payload;
  size_t wire_size = 0;
};

// Takes the first whole packet off `buf`, if there is one.
bool NextPacket(std::string* buf, Packet* out) {
  if (buf->size() < 4) return false;
  const auto* b = reinterpret_cast<const uint8_t*>(buf->data());
  const size_t len = b[0] | (b[1] << 8) | (b[2] << 16);
  if (buf->size() < 4 + len) return false;
  out->seq = b[3];
  out->payload = buf->substr(4, len);
  out->wire_size = 4 + len;
  return true;
}

uint32_t Le32(const std::string& s, size_t at) {
  const auto* b = reinterpret_cast<const uint8_t*>(s.data()) + at;
  return b[0] | (b[1] << 8) | (b[2] << 16) | (static_cast<uint32_t>(b[3]) << 24);
}

bool IsCommitText(absl::string_view text) {
  return absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(text), "COMMIT");
}

bool WriteAll(int fd, const char* data, size_t n) {
  while (n > 0) {
    const ssize_t w = send(fd, data, n, MSG_NOSIGNAL);
    if (w <= 0) return false;
    data += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

int ConnectTo(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

struct MysqlProxy::Link {
  int client = -1;
  int server = -1;
  std::thread thread;
};

MysqlProxy::MysqlProxy(int upstream_port) : upstream_port_(upstream_port) {
  listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      listen(listen_fd_, 64) != 0 ||
      getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0 || pipe(wake_) != 0) {
    perror("MysqlProxy");
    std::abort();
  }
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

MysqlProxy::~MysqlProxy() {
  close(wake_[1]);
  acceptor_.join();
  close(wake_[0]);
  close(listen_fd_);
  std::vector<std::unique_ptr<Link>> links;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    for (auto& l : links_) {
      if (l->client >= 0) shutdown(l->client, SHUT_RDWR);
      if (l->server >= 0) shutdown(l->server, SHUT_RDWR);
    }
    links.swap(links_);
  }
  for (auto& l : links) l->thread.join();
}

void MysqlProxy::CutNextCommit(Cut how) {
  absl::MutexLock lock(&mu_);
  armed_ = true;
  how_ = how;
}

void MysqlProxy::CutAll() {
  absl::MutexLock lock(&mu_);
  for (auto& l : links_) {
    if (l->client >= 0) shutdown(l->client, SHUT_RDWR);
    if (l->server >= 0) shutdown(l->server, SHUT_RDWR);
  }
}

int MysqlProxy::commits_cut() {
  absl::MutexLock lock(&mu_);
  return cuts_;
}

bool MysqlProxy::TakeCut(Cut* how) {
  absl::MutexLock lock(&mu_);
  if (!armed_) return false;
  armed_ = false;
  ++cuts_;
  *how = how_;
  return true;
}

void MysqlProxy::AcceptLoop() {
  for (;;) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) continue;
    if (fds[1].revents != 0) return;
    const int client = accept(listen_fd_, nullptr, nullptr);
    if (client < 0) continue;
    const int server = ConnectTo(upstream_port_);
    if (server < 0) {
      close(client);
      continue;
    }
    absl::MutexLock lock(&mu_);
    if (stopping_) {
      close(client);
      close(server);
      return;
    }
    auto link = std::make_unique<Link>();
    link->client = client;
    link->server = server;
    Link* raw = link.get();
    links_.push_back(std::move(link));
    raw->thread = std::thread([this, raw] { Pump(raw); });
  }
}

void MysqlProxy::Pump(Link* link) {
  const int client = link->client;
  const int server = link->server;
  std::string up, down;  // bytes not yet parsed, each direction
  std::set<uint32_t> commit_statements;
  bool awaiting_commit_id = false;
  // Closes both sides; `reset` makes the client see a reset connection
  // rather than an orderly close.
  const auto finish = [&](bool reset) {
    absl::MutexLock lock(&mu_);
    if (reset) {
      linger l{1, 0};
      setsockopt(client, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
    }
    close(client);
    close(server);
    link->client = link->server = -1;
  };
  char chunk[16384];
  for (;;) {
    pollfd fds[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) continue;
    if (fds[1].revents != 0) {
      const ssize_t n = recv(server, chunk, sizeof(chunk), 0);
      if (n <= 0 || !WriteAll(client, chunk, static_cast<size_t>(n))) return finish(false);
      down.append(chunk, static_cast<size_t>(n));
      Packet p;
      while (NextPacket(&down, &p)) {
        down.erase(0, p.wire_size);
        // The answer to a COM_STMT_PREPARE of "COMMIT" names its statement id.
        if (awaiting_commit_id && p.seq == 1) {
          if (p.payload.size() >= 5 && static_cast<uint8_t>(p.payload[0]) == 0) {
            commit_statements.insert(Le32(p.payload, 1));
          }
          awaiting_commit_id = false;
        }
      }
    }
    if (fds[0].revents != 0) {
      const ssize_t n = recv(client, chunk, sizeof(chunk), 0);
      if (n <= 0) return finish(false);
      up.append(chunk, static_cast<size_t>(n));
      Packet p;
      while (NextPacket(&up, &p)) {
        const std::string wire = up.substr(0, p.wire_size);
        up.erase(0, p.wire_size);
        bool commit = false;
        if (p.seq == 0 && !p.payload.empty()) {  // a command, not a handshake packet
          const uint8_t cmd = static_cast<uint8_t>(p.payload[0]);
          const absl::string_view text = absl::string_view(p.payload).substr(1);
          if (cmd == kComStmtPrepare && IsCommitText(text)) awaiting_commit_id = true;
          commit = (cmd == kComQuery && IsCommitText(text)) ||
                   (cmd == kComStmtExecute && p.payload.size() >= 5 &&
                    commit_statements.count(Le32(p.payload, 1)) > 0);
        }
        Cut how;
        if (commit && TakeCut(&how)) {
          if (how == Cut::kAfterForwarding) {
            // Forward COMMIT, wait for the server's whole answer, drop it.
            if (WriteAll(server, wire.data(), wire.size())) {
              std::string answer;
              Packet reply;
              while (!NextPacket(&answer, &reply)) {
                const ssize_t r = recv(server, chunk, sizeof(chunk), 0);
                if (r <= 0) break;
                answer.append(chunk, static_cast<size_t>(r));
              }
            }
          }
          return finish(true);
        }
        if (!WriteAll(server, wire.data(), wire.size())) return finish(false);
      }
    }
  }
}

}  // namespace testing_support
