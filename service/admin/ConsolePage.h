#pragma once

#include <string_view>

namespace echod {

/// The web console's one page: HTML, CSS and JavaScript, built in (no
/// external fetch), English and French.
std::string_view consolePage();

}  // namespace echod
