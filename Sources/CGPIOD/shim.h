// libgpiod, the kernel's character-device GPIO API.
// Debian 12 ships the v1 API (1.6.x); newer distributions ship v2, whose API is different.
// The Swift side that uses v1 is Sources/HALLinux/GPIO/GPIOv1.swift; a v2 implementation
// sits beside it (see Sources/HALLinux/GPIO/GPIOv2.md) and is selected at build time with the
// Swift condition SWIFTEVSE_GPIOD_V2 (Swift cannot test C macros in `#if`). The shim also
// exposes the API generation as a constant, which the backend reports (`gpioAPI`).
#include <gpiod.h>
#ifdef GPIOD_LINE_BULK_MAX_LINES
#define SWIFTEVSE_GPIOD_API_V1 1
static const int swiftevse_gpiod_api = 1;
#else
#define SWIFTEVSE_GPIOD_API_V2 1
static const int swiftevse_gpiod_api = 2;
#endif
