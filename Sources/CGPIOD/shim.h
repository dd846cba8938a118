// libgpiod, the kernel's character-device GPIO API.
// Debian 12 ships the v1 API (1.6.x); newer distributions ship v2, whose API is
// different. The Swift backend that uses v1 lives in HALLinux/GPIOChipV1.swift;
// a v2 backend sits beside it and is selected by SWIFTEVSE_GPIOD_V2 (see
// HALLinux/README.md). The macro below lets Swift code tell the two apart.
#include <gpiod.h>
#ifdef GPIOD_LINE_BULK_MAX_LINES
#define SWIFTEVSE_GPIOD_API_V1 1
#endif
