// The one way to include SOCI. Debian's soci-config.h claims Boost support, but
// libsoci-dev does not depend on Boost; the guarded code is Boost-type templates only.
#pragma once

#include <soci/soci-config.h>
#undef SOCI_HAVE_BOOST
#undef SOCI_HAVE_BOOST_DATE_TIME
#include <soci/soci.h>
