// The helpers are inline in include/CCrypto.h; a C target needs one source file.
#include "CCrypto.h"
