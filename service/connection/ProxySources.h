#pragma once

#include <Poco/Net/IPAddress.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace echod {

/// Who may send a PROXY header (echo.proxyFrom): any address, or the peers
/// inside a list of CIDR ranges. Checked at admission, on the acceptor
/// thread, before a worker is spent on the connection.
class ProxySources {
 public:
  /// "any", or a comma-separated list of CIDRs such as "10.0.0.0/8,
  /// fd00::/8"; a bare address is one host. Throws std::invalid_argument
  /// naming the first entry that is not one.
  static ProxySources parse(const std::string& text);

  bool any() const noexcept { return _ranges.empty(); }
  /// Whether `peer` may send a header. An IPv4-mapped IPv6 peer (an IPv6
  /// listener's IPv4 client) is matched as the IPv4 address it is.
  bool allows(const Poco::Net::IPAddress& peer) const;

 private:
  struct Range {
    bool v6 = false;
    std::array<std::uint8_t, 16> bytes{};
    unsigned prefix = 0;
  };
  std::vector<Range> _ranges;  ///< empty: any
};

}  // namespace echod
