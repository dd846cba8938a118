// Placeholder until the HALLinux work lands.
