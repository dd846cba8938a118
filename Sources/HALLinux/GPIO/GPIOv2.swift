// The libgpiod v2 backend is specified in GPIOv2.md beside this file but not written yet: it
// cannot be compiled or tested on Debian 12 (libgpiod 1.6). Selecting it fails loudly here
// rather than with missing symbols.
#if SWIFTEVSE_GPIOD_V2
#error("SWIFTEVSE_GPIOD_V2: the libgpiod v2 backend is not written yet; see Sources/HALLinux/GPIO/GPIOv2.md")
#endif
